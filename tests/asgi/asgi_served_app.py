"""The application the server tests start uvicorn on (``--factory asgi_served_app:create``).

``ASGI_TEST_EVENTS`` names a file that the ``startup`` and ``shutdown`` hooks (and the
``/stuck`` handler) append to. ``ASGI_TEST_THREADS``, ``ASGI_TEST_QUEUE_SIZE``,
``ASGI_TEST_QUEUE_TIMEOUT`` and ``ASGI_TEST_MAX_BODY`` set the adapter
(``ASGI_TEST_SELFCALL_TOGETHER``: see ``/selfcall``); ``ASGI_TEST_PORT`` is the port the
server listens on (for handlers that call their own server). ``GET /_pool`` and
``GET /release/<token>`` are answered on the event loop, without a thread.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request

from framework import Framework
from framework.asgi import AsgiAdapter, to_asgi

#: Streams waiting for the client to say it has the first part, by token.
_gates: dict[str, threading.Event] = {}
_gates_lock = threading.Lock()
#: Set once an endless stream's iterable has been closed, by token.
_closed: dict[str, threading.Event] = {}


def _gate(token: str) -> threading.Event:
    with _gates_lock:
        return _gates.setdefault(token, threading.Event())


def _closed_event(token: str) -> threading.Event:
    with _gates_lock:
        return _closed.setdefault(token, threading.Event())


def create() -> Any:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("ASGI_TEST_MAX_BODY", "1000"))
    fw = Framework(app, config={})
    events_file = os.environ.get("ASGI_TEST_EVENTS")

    def record(event: str) -> None:
        if events_file:
            with open(events_file, "a", encoding="utf-8") as f:
                f.write(event + "\n")

    fw.event("startup")(lambda **kwargs: record("startup"))
    fw.event("shutdown")(lambda **kwargs: record("shutdown"))

    @app.get("/hello-world")
    def hello() -> Any:
        return {"message": "Hello World!"}

    @app.post("/upload")
    def upload() -> Any:
        return {"size": len(request.get_data())}

    @app.get("/stream/<token>")
    def stream(token: str) -> Any:
        gate = _gate(token)

        def body() -> Iterator[bytes]:
            yield b"part1;"
            # The second part exists only once the client has confirmed it has the first.
            yield b"part2;" if gate.wait(10) else b"timeout;"

        return Response(body(), mimetype="text/plain")

    @app.get("/endless/<token>")
    def endless(token: str) -> Any:
        def body() -> Iterator[bytes]:
            try:
                while True:
                    yield b"tick\n"
                    time.sleep(0.01)
            finally:
                _closed_event(token).set()

        return Response(body(), mimetype="text/plain")

    @app.get("/closed/<token>")
    def closed(token: str) -> Any:
        """Whether that stream's iterable was closed, waiting up to 5 s for it."""
        return {"closed": _closed_event(token).wait(5)}

    @app.get("/hold/<token>")
    def hold(token: str) -> Any:
        """Holds its thread until ``/release/<token>`` (answered on the loop) or 60 s."""
        return {"released": _gate(token).wait(60)}

    # ASGI_TEST_SELFCALL_TOGETHER=N: the first N /selfcall handlers make their inner call only
    # once all N run (or after 60 s), so a pile-up forms however slowly the clients connect;
    # later ones call at once (waiting for partners that never come would hold a shutdown).
    together = int(os.environ.get("ASGI_TEST_SELFCALL_TOGETHER", "0"))
    arrived = itertools.count(1)
    all_in = threading.Event()

    @app.get("/selfcall")
    def selfcall() -> Any:
        """Calls this same server, as a handler using its own API would."""
        if together:
            place = next(arrived)
            if place == together:
                all_in.set()
            elif place < together:
                all_in.wait(60)
        conn = http.client.HTTPConnection("127.0.0.1", int(os.environ["ASGI_TEST_PORT"]), timeout=60)
        try:
            conn.request("GET", "/hello-world")
            response = conn.getresponse()
            response.read()
            return {"inner": response.status}
        finally:
            conn.close()

    @app.get("/stuck")
    def stuck() -> Any:
        record("stuck")
        time.sleep(3600)
        return {"woke": True}

    adapter = to_asgi(
        app,
        threads=int(os.environ.get("ASGI_TEST_THREADS", "4")),
        queue_size=int(os.environ.get("ASGI_TEST_QUEUE_SIZE", "64")),
        queue_timeout=float(os.environ.get("ASGI_TEST_QUEUE_TIMEOUT", "10")),
    )
    return _Introspect(adapter)


class _Introspect:
    """Answers ``GET /_pool`` (how many requests run and wait) and ``GET /release/<token>``
    on the loop; the rest goes to the adapter."""

    def __init__(self, adapter: AsgiAdapter) -> None:
        self.adapter = adapter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/_pool" or path.startswith("/release/")):
            if path == "/_pool":
                pool = self.adapter.pool
                payload: dict[str, Any] = {"busy": pool.busy, "waiting": pool.waiting}
            else:
                token = path.rpartition("/")[2]
                _gate(token).set()
                payload = {"released": token}
            body = json.dumps(payload).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.adapter(scope, receive, send)
