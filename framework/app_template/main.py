"""The $app app: everything the framework needs to know about it."""

from framework.app import App

from .handlers import routes
from .hooks import hooks

app = App(routes=[routes], hooks=[hooks], template_dirs=["templates"])
