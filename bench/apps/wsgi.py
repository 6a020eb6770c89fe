"""WSGI entry points of the benchmark: ``gunicorn 'bench.apps.wsgi:make("def")'``."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask

HERE = os.path.dirname(os.path.abspath(__file__))

VARIANTS = {
    "def": {"apps": {"active": ["bench.apps.hello_def"]}},
    "async": {"apps": {"active": ["bench.apps.hello_async"]}},
    "full": {
        "apps": {"active": ["bench.apps.hello_full"]},
        "middlewares": {"active": ["bench.apps.noop.NoopMiddleware"]},
    },
    # the two halves of "full", for finding where its time goes
    "hooks": {"apps": {"active": ["bench.apps.hello_full"]}},
    "middleware": {
        "apps": {"active": ["bench.apps.hello_async"]},
        "middlewares": {"active": ["bench.apps.noop.NoopMiddleware"]},
    },
    # the def hello with Prometheus metrics on (framework.metrics measures every request)
    "metrics": {"apps": {"active": ["bench.apps.hello_def"]}, "metrics": {"path": "/metrics"}},
    # the routes of the Backendpy comparison: async hello and the validated POST
    "validated": {"apps": {"active": ["bench.apps.validated"]}},
    # the def hello under a ``[ratelimit] default`` limit counted in memory (a limit high
    # enough never to refuse the bench's requests)
    "limited": {
        "apps": {"active": ["bench.apps.hello_def"]},
        "ratelimit": {"default": "1000000000/hour"},
    },
    # the same counted in the Redis at ``$BENCH_REDIS_URL`` (bench/instructions.py starts a
    # private one)
    "limited-redis": {
        "apps": {"active": ["bench.apps.hello_def"]},
        "ratelimit": {"default": "1000000000/hour", "key_prefix": "bench"},
    },
}

#: The variants that count in Redis: ``make`` points them at ``$BENCH_REDIS_URL``.
REDIS_VARIANTS = ("limited-redis",)

#: The validated POST's request body (the same as bench/run.py sends).
SIGNUP_BODY = b'{"name": "Ann Smith", "email": "ann@example.com"}'
SIGNUP_ANSWER = b'"email":"ann@example.com"'


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
    if variant in REDIS_VARIANTS:
        config["redis"] = {"url": os.environ["BENCH_REDIS_URL"]}
    return create_app(HERE, config=config)


def direct(
    app: Callable[..., Any],
    path: str = "/hello-world",
    method: str = "GET",
    body: bytes = b"",
    expect: bytes = b"Hello World!",
) -> Callable[[], None]:
    """One request to the WSGI ``app`` per call, no server: for profiles and counts."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=path, method=method, data=body or None, content_type="application/json" if body else None
    )
    environ = builder.get_environ()

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        pass

    def one() -> None:
        call = dict(environ)
        if body:
            call["wsgi.input"] = io.BytesIO(body)
        answer = app(call, start_response)
        try:
            if expect not in b"".join(answer):
                raise RuntimeError(f"{method} {path} answered something else")
        finally:
            if hasattr(answer, "close"):
                answer.close()

    return one


def in_process(
    variant: str,
    path: str = "/hello-world",
    method: str = "GET",
    body: bytes = b"",
    expect: bytes = b"Hello World!",
) -> Callable[[], None]:
    """One WSGI request to ``variant``'s app per call, no server (``direct``)."""
    return direct(make(variant), path, method, body, expect)


def in_process_asgi(
    variant: str,
    path: str = "/hello-world",
    method: str = "GET",
    body: bytes = b"",
    expect: bytes = b"Hello World!",
) -> Callable[[], None]:
    """One request to ``to_asgi(app)`` per call, on an event loop of this thread, as a
    server would make it (the WSGI call on the adapter's pool thread), without sockets.
    ``variant`` ``wsgi-noop`` is a bare WSGI hello: the adapter's own cost."""
    from framework.asgi import to_asgi

    from .asgi_driver import asgi_driver

    if variant == "wsgi-noop":

        def app(environ: dict, start_response: Callable) -> list[bytes]:
            start_response(
                "200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "12")]
            )
            return [b"Hello World!"]

        return asgi_driver(to_asgi(app), path, method, body, expect)
    if variant == "wsgi-noop-inline":
        return asgi_driver(inline_asgi(_noop_app), path, method, body, expect)
    return asgi_driver(to_asgi(make(variant)), path, method, body, expect)


def _noop_app(environ: dict, start_response: Callable) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "12")])
    return [b"Hello World!"]


#: The bare WSGI hello: ``to_asgi`` around it costs only the adapter.
noop_wsgi_app = _noop_app


def inline_asgi(app: Callable) -> Callable:
    """The WSGI call made on the event loop itself, with ``to_asgi``'s environ: what an
    adapter without the thread hop would cost (a measuring stick only: a blocking handler
    would stall every other request, so the framework never serves this way)."""
    from framework.asgi import build_environ

    async def inline(scope: dict, receive: Callable, send: Callable) -> None:
        environ = build_environ(scope)
        message = await receive()
        environ["wsgi.input"] = io.BytesIO(message.get("body", b""))
        started: list = []

        def start_response(status: str, headers: list, exc_info: object = None) -> None:
            encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
            started.append((int(status[:3]), encoded))

        answer = b"".join(app(environ, start_response))
        status, headers = started[0]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer, "more_body": False})

    return inline
