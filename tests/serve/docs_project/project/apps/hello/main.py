from framework.app import App
from .controllers.handlers import routes
from .controllers.urls import routes as url_routes  # filled in: the list form of routes
from .controllers.hooks import hooks
from .controllers.errors import errors

app = App(
    routes=[routes, url_routes],
    hooks=[hooks],
    errors=[errors],
    template_dirs=['templates'])
