from framework.app import App

app = App(models=["tests.db.dbapps.authors.models"])
