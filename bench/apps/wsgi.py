"""WSGI entry points of the benchmark: ``gunicorn 'bench.apps.wsgi:make("def")'``."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable

from flask import Flask

HERE = os.path.dirname(os.path.abspath(__file__))

VARIANTS = {
    "def": {"apps": {"active": ["bench.apps.hello_def"]}},
    "async": {"apps": {"active": ["bench.apps.hello_async"]}},
    "full": {"apps": {"active": ["bench.apps.hello_full"]},
             "middlewares": {"active": ["bench.apps.noop.NoopMiddleware"]}},
    # the two halves of "full", for finding where its time goes
    "hooks": {"apps": {"active": ["bench.apps.hello_full"]}},
    "middleware": {"apps": {"active": ["bench.apps.hello_async"]},
                   "middlewares": {"active": ["bench.apps.noop.NoopMiddleware"]}},
}


def make(variant: str) -> Flask:
    """The app for ``variant``: ``flask`` (plain Flask) or one of ``VARIANTS``."""
    if variant == "flask":
        app = Flask(__name__)

        @app.get("/hello-world")
        def hello_world():
            return "Hello World!", 200, {"Content-Type": "text/plain; charset=utf-8"}

        return app
    from framework import create_app

    # a serving app needs a secret key (framework.security); a throw-away one for the bench
    config = {**VARIANTS[variant], "flask": {"secret_key": secrets.token_hex(32)}}
    return create_app(HERE, config=config)


def in_process(variant: str, path: str = "/hello-world") -> Callable[[], None]:
    """One WSGI request to ``variant``'s app per call, no server: for profiles and counts."""
    from werkzeug.test import EnvironBuilder

    app = make(variant)
    environ = EnvironBuilder(path=path).get_environ()

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        pass

    def one() -> None:
        body = app(dict(environ), start_response)
        if b"".join(body) != b"Hello World!":
            raise RuntimeError(f"{variant} answered something else than the hello body")
        body.close()

    return one
