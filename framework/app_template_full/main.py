"""The $app app: everything the framework needs to know about it."""

from framework.app import App

from .errors import errors
from .handlers import routes
from .hooks import hooks
from .init import init_data
from .posts import routes as post_routes

app = App(
    routes=[routes, post_routes],
    hooks=[hooks],
    errors=[errors],
    models=[f"{__package__}.models"],
    template_dirs=["templates"],
    init_func=init_data,
)
