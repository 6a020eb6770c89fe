"""The hello route as an ``async def`` handler (as in blueprints/hello)."""

from framework.app import App
from framework.response import Text
from framework.router import Routes

routes = Routes()


@routes.get("/hello-world")
async def hello_world(request):
    return Text("Hello World!")


app = App(routes=[routes])
