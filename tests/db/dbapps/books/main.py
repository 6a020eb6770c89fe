from framework.app import App

from .handlers import routes

app = App(routes=[routes], models=["tests.db.dbapps.books.models"])
