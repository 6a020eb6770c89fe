from framework.app import App
from .controllers.handlers import routes
from .controllers.init import init_data

app = App(
    routes=routes,
    models=['project.apps.hello.db.models'],
    init_func=init_data)
