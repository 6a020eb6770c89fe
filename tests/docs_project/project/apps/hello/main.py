from framework.app import App
from .controllers.handlers import routes
from .controllers.urls import routes as url_routes  # filled in: the separate form of routes
from .controllers.hooks import hooks
from .controllers.errors import errors
from .controllers.init import init_data

app = App(
    routes=[routes, url_routes],
    hooks=[hooks],
    errors=[errors],
    models=['project.apps.hello.db.models'],
    template_dirs=['templates'],
    init_func=init_data)
