"""Backendpy's documentation listings of sections 4.8 (hooks) and 4.9 (middlewares), run with
the import prefix ``backendpy`` replaced by ``framework``.

The listings elide code with ``...``; where the elided part is needed to run (an argument
list, a token check, a return value) it is filled in and marked ``# filled in``. Nothing
else in a listing is changed.
"""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap

import pytest
from werkzeug.test import Client

from framework import signals

COMMON = {
    # Listing 24: project/main.py (LOGGER is used by the listing without being defined)
    "project/main.py": """
        from framework import Backendpy
        from framework.logging import get_logger  # filled in
        LOGGER = get_logger(__name__)  # filled in

        bp = Backendpy()

        @bp.event('startup')
        async def on_startup():
            LOGGER.debug("Server starting")
    """,
    # Listing 27: project/config.ini (plus the app and the log level)
    "project/config.ini": """
        [apps]
        active =
            project.apps.hello

        [middlewares]
        active =
            project.apps.hello.middlewares.example.MyMiddleware
            project.apps.hello.middlewares.auth.AuthMiddleware

        [logging]
        level = DEBUG
    """,
    "project/__init__.py": "",
    "project/apps/__init__.py": "",
    "project/apps/hello/__init__.py": "",
    "project/apps/hello/controllers/__init__.py": "",
    "project/apps/hello/middlewares/__init__.py": "",
    # Listing 23: project/apps/hello/main.py
    "project/apps/hello/main.py": """
        from framework.app import App
        from .controllers.hooks import hooks
        from .controllers.handlers import routes  # filled in

        app = App(
            routes=[routes],  # filled in
            hooks=[hooks],
            )
    """,
    # Listing 22: project/apps/hello/controllers/hooks.py
    "project/apps/hello/controllers/hooks.py": """
        from framework.hook import Hooks
        from framework.logging import get_logger

        LOGGER = get_logger(__name__)
        hooks = Hooks()

        @hooks.event('startup')
        async def example():
            LOGGER.debug("Server starting")

        @hooks.event('user_created')
        async def example2(username):
            LOGGER.debug(f"User '{username}' creation")
    """,
    # Listing 25: project/apps/hello/middlewares/example.py
    "project/apps/hello/middlewares/example.py": """
        from framework.middleware import Middleware

        class MyMiddleware(Middleware):

            @staticmethod
            def process_application(application):
                ...
                return application

            @staticmethod
            async def process_request(request):
                ...
                return request, None

            @staticmethod
            async def process_handler(request, handler):
                ...
                return handler

            @staticmethod
            async def process_response(request, response):
                ...
                return response
    """,
    # Listing 26: project/apps/hello/middlewares/auth.py
    "project/apps/hello/middlewares/auth.py": """
        from framework.middleware import Middleware
        from framework.exception import BadRequest
        from types import SimpleNamespace  # filled in
        def is_invalid_token(token): return token != 'Bearer good'  # filled in
        def get_user(token): return SimpleNamespace(id=7, roles=['admin'])  # filled in

        class AuthMiddleware(Middleware):

            @staticmethod
            async def process_request(request):
                auth_token = request.headers.get('authorization')

                if is_invalid_token(auth_token):
                    raise BadRequest({'error': 'Invalid auth token'})

                user = get_user(auth_token)

                request.context["auth"] = {
                    'user_id': user.id,
                    'user_roles': user.roles}

                return request, None
    """,
}

# Section 4.8.1: the two event-definition listings (they share a route, so one at a time)
HANDLERS = {
    "no-args": """
        from framework.router import Routes
        from framework.response import JSON  # filled in
        UserCreationData = None  # filled in (data handlers are section 4.7's subject)
        routes = Routes()

        @routes.post('/users', data_handler=UserCreationData)
        async def user_creation(request):
            ...
            await request.app.execute_event('user_created')
            return JSON(request.context['auth'])  # filled in
    """,
    "with-args": """
        from framework.router import Routes
        from framework.response import JSON  # filled in
        UserCreationData = None  # filled in (data handlers are section 4.7's subject)
        routes = Routes()

        @routes.post('/users', data_handler=UserCreationData)
        async def user_creation(request):
            username = request.body.json['username']  # filled in
            await request.app.execute_event('user_created', {'username': username})
            return JSON(request.context['auth'])  # filled in
    """,
}


@pytest.fixture(params=list(HANDLERS))
def listing_bp(request, tmp_path, monkeypatch):
    files = dict(COMMON, **{"project/apps/hello/controllers/handlers.py": HANDLERS[request.param]})
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    (tmp_path / "project" / "config.ini").chmod(0o600)
    monkeypatch.syspath_prepend(str(tmp_path))
    main = importlib.import_module("project.main")
    try:
        yield request.param, main.bp
    finally:
        for name in [m for m in sys.modules if m == "project" or m.startswith("project.")]:
            del sys.modules[name]
        from framework.logging import set_level

        set_level("INFO")


def test_startup_hooks_of_the_app_and_the_project(listing_bp, caplog):
    _, bp = listing_bp
    with caplog.at_level(logging.DEBUG):
        bp.startup()
        bp.startup()
    starting = [r.name for r in caplog.records if r.getMessage() == "Server starting"]
    assert sorted(starting) == ["project.apps.hello.controllers.hooks", "project.main"]


def test_event_definition_and_the_middlewares(listing_bp, caplog):
    variant, bp = listing_bp
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    signals.event("user_created").connect(receiver, sender=bp)
    client = Client(bp)
    try:
        with caplog.at_level(logging.DEBUG):
            refused = client.post("/users", json={"username": "jalil"})
            response = client.post(
                "/users", json={"username": "jalil"}, headers={"Authorization": "Bearer good"}
            )
    finally:
        signals.event("user_created").disconnect(receiver)
    # Listing 26: no valid token, no handler
    assert refused.status_code == 400
    assert refused.json == {"error": "Invalid auth token"}
    # the auth middleware's context reached the handler, through MyMiddleware's layers
    assert response.status_code == 200
    assert response.json == {"user_id": 7, "user_roles": ["admin"]}
    messages = [r.getMessage() for r in caplog.records]
    if variant == "with-args":
        assert heard == [{"username": "jalil"}]
        assert "User 'jalil' creation" in messages
    else:
        # fired without arguments: example2(username) cannot take it; that is logged
        assert heard == [{}]
        assert any("example2" in m and "'user_created'" in m for m in messages)
