"""Helpers for the data handler tests: a Flask app with framework routes, built through the
extension (``Framework(flask_app, config=...)``) from an in-memory app package."""

from __future__ import annotations

import itertools
import json
import sys
import types
from collections.abc import Callable
from typing import Any

from flask import Flask

from framework import Framework
from framework.app import App
from framework.router import Routes

_counter = itertools.count()


def build_app(
    routes: Routes,
    setup: Callable[[Flask], Any] | None = None,
    config: dict[str, dict[str, Any]] | None = None,
) -> Flask:
    """A Flask app serving ``routes`` as one framework app; ``setup(flask_app)`` runs
    first, ``config`` adds sections (the database is an in-memory SQLite by default)."""
    name = f"dh_test_app_{next(_counter)}"
    package = types.ModuleType(name)
    package.__file__ = __file__
    package.__path__ = []
    main = types.ModuleType(f"{name}.main")
    main.app = App(routes=[routes])
    sys.modules[name] = package
    sys.modules[f"{name}.main"] = main
    flask_app = Flask(name)
    if setup is not None:
        setup(flask_app)
    Framework(
        flask_app, config={"database": {"uri": "sqlite://"}, **(config or {}), "apps": {"active": [name]}}
    )
    return flask_app


def echo_routes(
    data_class: type, path: str = "/x", methods: tuple[str, ...] = ("POST",), asynchronous: bool = False
) -> Routes:
    """Routes with one handler answering its cleaned data as JSON (``repr`` for values
    JSON cannot carry)."""
    routes = Routes()

    def jsonable(data: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in data.items():
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                value = repr(value)
            out[key] = value
        return out

    if asynchronous:

        @routes.route(path, methods, data_handler=data_class)
        async def handler(request):
            return jsonable(await request.get_cleaned_data())
    else:

        @routes.route(path, methods, data_handler=data_class)
        def handler(request):
            return jsonable(request.get_cleaned_data())

    return routes
