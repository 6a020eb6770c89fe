from framework.app import App

from .errors import errors
from .handlers import routes
from .hooks import hooks
from .init import init_data

app = App(
    routes=[routes],
    hooks=[hooks],
    errors=[errors],
    models=["blueprints.accounts.models"],
    init_func=init_data,
    needs_secret_key=True,
)
