"""One request per call through uvicorn's own HTTP/1.1 protocol on a real loopback socket,
in this process: for callgrind counts of the served ASGI path (bench/instructions.py).

Unlike ``asgi_driver``, the request goes through what ``uvicorn APP`` does with it: the
event loop's socket transport reads the bytes, uvicorn's protocol (h11, the default when
httptools is not installed, as in the bench) parses them and builds the scope, the
``ProxyHeadersMiddleware`` uvicorn puts around every app looks at the client, the app's
answer is serialised by the protocol and written to the socket. One keep-alive connection
carries every request, as wrk's do. What is not uvicorn's per-request work is left out:
accepting connections, the server's tick once a second, signal handling.

Imports nothing of the framework or Flask, so the same driver also runs Backendpy in the
bench's Backendpy venv.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from email.utils import formatdate
from typing import Any


def uvicorn_driver(
    app: Any,
    path: str = "/hello-world",
    method: str = "GET",
    body: bytes = b"",
    expect: bytes = b"Hello World!",
    wrap: Callable[[Any], Any] | None = None,
) -> Callable[[], None]:
    """A function that sends one request to ``app`` through uvicorn's protocol on a
    loopback connection served by this thread's own event loop, and checks the answer.
    ``wrap`` is given the app as uvicorn wraps it and returns what to serve instead
    (bench/asgi_breakdown.py's counting regions)."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # the options of bench/run.py's servers: --no-access-log --log-level warning
    config = Config(app, http="h11", lifespan="off", access_log=False, log_level="warning")
    config.load()
    if wrap is not None:
        config.loaded_app = wrap(config.loaded_app)
    state = ServerState()
    state.default_headers = [(b"date", formatdate(usegmt=True).encode())] + config.encoded_headers
    done: list[asyncio.Future[None]] = []
    protocol_class = config.http_protocol_class

    class Protocol(protocol_class):  # type: ignore[valid-type, misc]
        """uvicorn's protocol, telling the driver when an answer is complete."""

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if done and not done[0].done():
                done[0].set_result(None)

    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server_side, _ = listener.accept()
    listener.close()
    server_side.setblocking(False)
    # as on a socket asyncio's own server accepts (socket.create_server's carry protocol 0,
    # so the transport does not set it): no Nagle delay between the answer's writes
    for end in (server_side, client):
        end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.settimeout(10)
    loop.run_until_complete(
        loop.connect_accepted_socket(
            lambda: Protocol(config=config, server_state=state, app_state={}, _loop=loop), server_side
        )
    )
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    raw = head.encode() + b"\r\n" + body

    def one() -> None:
        future = loop.create_future()
        done[:] = [future]
        client.sendall(raw)
        loop.run_until_complete(future)
        answer = client.recv(65536)
        while expect not in answer:  # the whole answer is written by now: a miss is a wrong one
            more = client.recv(65536)
            if not more:
                raise RuntimeError(f"{method} {path} answered {answer[:300]!r}")
            answer += more

    one.keep = (client, server_side)  # type: ignore[attr-defined]
    return one


def plain_asgi_app() -> Any:
    """The smallest ASGI hello: uvicorn's and the driver's own cost when subtracted."""

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
