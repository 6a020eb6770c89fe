from framework.response import HTML, Text
from framework.router import Routes
from framework.templating import Template

routes = Routes()


@routes.get("/hello-world")
async def hello_world(request):
    """Answer with a plain-text greeting."""
    return Text("Hello World!")


@routes.get("/home")
async def home(request):
    """Render the home page template."""
    context = {"message": "Hello World!"}
    return HTML(await Template("home.html").render(context))
