"""The ``async def`` hello route with an ``async`` no-op hook on every default event."""

from framework.app import App
from framework.hook import Hooks
from framework.response import Text
from framework.router import Routes

routes = Routes()
hooks = Hooks()


@routes.get("/hello-world")
async def hello_world(request):
    return Text("Hello World!")


@hooks.event("startup")
async def on_startup():
    pass


@hooks.event("shutdown")
async def on_shutdown():
    pass


@hooks.event("request_start")
async def on_request_start():
    pass


@hooks.event("request_end")
async def on_request_end():
    pass


app = App(routes=[routes], hooks=[hooks])
