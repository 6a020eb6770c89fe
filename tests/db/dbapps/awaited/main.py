from framework.app import App

from .handlers import routes

app = App(routes=[routes])
