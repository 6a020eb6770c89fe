"""The project's entry point: ``gunicorn wsgi:app``, ``framework migrate|worker|beat``."""

import os

from framework import create_app

app = create_app(os.path.dirname(os.path.abspath(__file__)))
