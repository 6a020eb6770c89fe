"""The project's entry point: ``gunicorn wsgi:app``, ``uvicorn wsgi:asgi_app``,
``flask --app wsgi ...``."""

import os

from framework import create_app
from framework.asgi import to_asgi

app = create_app(os.path.dirname(os.path.abspath(__file__)))
asgi_app = to_asgi(app)
