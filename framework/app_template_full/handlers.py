"""The $app app's routes: a text response and a rendered template."""

from framework.response import HTML, Text
from framework.router import Routes
from framework.templating import Template

routes = Routes()


@routes.get("$prefix/hello-world")
async def hello_world(request):
    """Answer with a plain-text greeting."""
    return Text("Hello World!")


@routes.get("$prefix/home")
async def home(request):
    """Render templates/home.html."""
    context = {"message": "Hello World!"}
    return HTML(await Template("home.html").render(context))
