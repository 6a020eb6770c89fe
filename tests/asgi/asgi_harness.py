"""An in-process ASGI harness: build a scope, feed ``receive``, record ``send``; and
``served_app``, the test app of ``asgi_served_app`` under a real uvicorn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.liveserver import REPO, LiveServer, free_port

#: No single step of these tests may take longer than this many seconds.
STEP = 5.0
HERE = Path(__file__).resolve().parent


def served_app(
    events_file: Path,
    options: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    graceful: str | None = "5",
) -> LiveServer:
    """A (not yet started) uvicorn serving ``asgi_served_app:create`` with lifespan on.

    The app's hooks write to ``events_file`` (read it with ``events``); ``env`` sets the
    adapter (see ``asgi_served_app``); ``graceful`` is ``--timeout-graceful-shutdown``
    (``None``: uvicorn waits for every open request); ``options`` go to uvicorn.
    """
    port = free_port()  # chosen now: the app is told its own port, for handlers calling it
    return LiveServer(
        REPO,
        "asgi_served_app:create",
        kind="uvicorn",
        port=port,
        env={"ASGI_TEST_EVENTS": str(events_file), "ASGI_TEST_PORT": str(port), **(env or {})},
        extra_args=[
            "--factory",
            "--app-dir",
            str(HERE),
            "--lifespan",
            "on",
            *(("--timeout-graceful-shutdown", graceful) if graceful else ()),
            *options,
        ],
    )


def events(server: LiveServer) -> list[str]:
    """What the app of ``served_app`` recorded so far: startup, shutdown, stuck."""
    path = Path(server.env["ASGI_TEST_EVENTS"])
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def http_scope(
    method: str = "GET",
    path: str = "/",
    *,
    query_string: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    root_path: str = "",
    scheme: str = "http",
    client: Any = ("127.0.0.1", 50123),
    server: Any = ("testserver", 8000),
    raw_path: bytes | None = None,
) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "query_string": query_string,
        "root_path": root_path,
        "headers": [(k.lower(), v) for k, v in headers],
        "client": client,
        "server": server,
    }
    if raw_path is not None:
        scope["raw_path"] = raw_path
    return scope


class Conversation:
    """One connection as the adapter sees it.

    ``body`` is what the client sends, one ``http.request`` message per item. Once it is all
    read, ``receive`` waits until ``disconnect()``. After a disconnect ``send`` raises
    OSError, as servers following ASGI 2.4 do. ``hold_body`` makes body sends wait until
    ``release_body()`` (a client that stopped reading).
    """

    def __init__(self, body: Iterable[bytes] = (b"",)) -> None:
        chunks = list(body) or [b""]
        self.incoming = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        self.sent: list[dict[str, Any]] = []
        self.receive_calls = 0
        self.gone = asyncio.Event()
        self.changed = asyncio.Event()
        self.hold_body = False
        self.body_released = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        self.receive_calls += 1
        if self.incoming:
            return self.incoming.pop(0)
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.gone.is_set():
            raise OSError("client disconnected")
        if self.hold_body and message["type"] == "http.response.body":
            waiter = asyncio.ensure_future(self.body_released.wait())
            gone = asyncio.ensure_future(self.gone.wait())
            await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            gone.cancel()
            if self.gone.is_set():
                raise OSError("client disconnected")
        self.sent.append(message)
        self.changed.set()

    def disconnect(self) -> None:
        self.gone.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = STEP) -> None:
        async def poll() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(poll(), timeout)

    # ------------------------------------------------------------- results
    @property
    def start(self) -> dict[str, Any]:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.sent
        return starts[0]

    @property
    def status(self) -> int:
        return int(self.start["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in self.start["headers"]}

    @property
    def body_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.body_messages)

    @property
    def complete(self) -> bool:
        messages = self.body_messages
        return bool(messages) and not messages[-1].get("more_body", False)

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: Any, scope: dict[str, Any], conversation: Conversation | None = None, timeout: float = STEP
) -> Conversation:
    """Run one request through ``app`` to the end and return its conversation."""

    async def main() -> Conversation:
        conv = conversation or Conversation()
        await asyncio.wait_for(app(scope, conv.receive, conv.send), timeout)
        return conv

    return asyncio.run(main())


def run_async(fn: Callable[[], Any], timeout: float = 4 * STEP) -> Any:
    """Run the coroutine function ``fn`` on a fresh loop, bounded in time."""

    async def main() -> Any:
        return await asyncio.wait_for(fn(), timeout)

    return asyncio.run(main())
