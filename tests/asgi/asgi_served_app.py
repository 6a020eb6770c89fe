"""The application the server tests start uvicorn on (``--factory asgi_served_app:create``).

``ASGI_TEST_EVENTS`` names a file that the ``startup`` and ``shutdown`` hooks append to.
"""

from __future__ import annotations

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
#: Tokens of endless streams whose iterable has been closed.
_closed: set[str] = set()


def _gate(token: str) -> threading.Event:
    with _gates_lock:
        return _gates.setdefault(token, threading.Event())


def create() -> AsgiAdapter:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1000
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

    @app.get("/release/<token>")
    def release(token: str) -> Any:
        _gate(token).set()
        return {"released": token}

    @app.get("/endless/<token>")
    def endless(token: str) -> Any:
        def body() -> Iterator[bytes]:
            try:
                while True:
                    yield b"tick\n"
                    time.sleep(0.01)
            finally:
                _closed.add(token)

        return Response(body(), mimetype="text/plain")

    @app.get("/closed/<token>")
    def closed(token: str) -> Any:
        deadline = time.monotonic() + 5
        while token not in _closed and time.monotonic() < deadline:
            time.sleep(0.01)
        return {"closed": token in _closed}

    return to_asgi(app, threads=4)
