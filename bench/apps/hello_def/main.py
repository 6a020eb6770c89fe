"""The hello route as a ``def`` handler."""

from framework.app import App
from framework.response import Text
from framework.router import Routes

routes = Routes()


@routes.get("/hello-world")
def hello_world(request):
    return Text("Hello World!")


app = App(routes=[routes])
