"""One in-process request to any ASGI application per call, as a server makes it but
without sockets: for callgrind counts of the ASGI path (bench/instructions.py).

Imports nothing of the framework or Flask, so the same driver also runs Backendpy in the
bench's Backendpy venv.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def asgi_driver(
    app: Any,
    path: str = "/hello-world",
    method: str = "GET",
    body: bytes = b"",
    expect: bytes = b"Hello World!",
) -> Callable[[], None]:
    """A function that sends one request to ``app`` on this thread's own event loop and
    checks that the answer's body holds ``expect``."""
    loop = asyncio.new_event_loop()
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }

    async def request() -> bytes:
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await loop.create_future()  # no disconnect: waits until cancelled
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(dict(scope), receive, send)
        return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    def one() -> None:
        answer = loop.run_until_complete(request())
        if expect not in answer:
            raise RuntimeError(f"{method} {path} answered {answer[:200]!r}")

    return one


def plain_asgi_app() -> Any:
    """The smallest ASGI hello: the driver's own cost when subtracted."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"12")],
            }
        )
        await send({"type": "http.response.body", "body": b"Hello World!"})

    return app
