"""A handler that blocks, ``def`` or ``async def``, never holds up the other requests served
through the ASGI adapter: each request runs on a pool thread, never on the server's loop.

The blocking handlers wait on an event the test sets (the shape of a ``time.sleep`` or a
slow query inside a handler); the other requests must be answered while they wait.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framework import create_app
from framework.asgi import AsgiAdapter, to_asgi
from tests.asgi.asgi_harness import STEP, Conversation, http_scope, run_async
from tests.liveserver import wait_until

CONFIG = """\
[apps]
active = asgiblockapp

[flask]
secret_key = asgi-blocking-tests-only-0123456789abcdef

[logging]
level = WARNING
"""

MAIN = """\
import threading

from framework.app import App
from framework.response import Text
from framework.router import Routes

routes = Routes()
#: Set by a blocking handler once it runs; the test sets GATE to let it finish.
ENTERED = {"async": threading.Event(), "def": threading.Event()}
GATE = threading.Event()


@routes.get("/block-async")
async def block_async(request):
    ENTERED["async"].set()
    GATE.wait(30)  # blocking inside a coroutine, as time.sleep or a sync query would
    return Text("async released" if GATE.is_set() else "async timed out")


@routes.get("/block-def")
def block_def(request):
    ENTERED["def"].set()
    GATE.wait(30)
    return Text("def released" if GATE.is_set() else "def timed out")


@routes.get("/hello-async")
async def hello_async(request):
    return Text("Hello World!")


@routes.get("/hello-def")
def hello_def(request):
    return Text("Hello World!")


app = App(routes=[routes])
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AsgiAdapter, Any]]:
    root: Path = tmp_path_factory.mktemp("asgiblockproject")
    (root / "config.ini").write_text(CONFIG)
    os.chmod(root / "config.ini", 0o600)
    (root / "asgiblockapp").mkdir()
    (root / "asgiblockapp" / "__init__.py").write_text("")
    (root / "asgiblockapp" / "main.py").write_text(MAIN)
    sys.path.insert(0, str(root))
    try:
        app = create_app(str(root))
        handlers = importlib.import_module("asgiblockapp.main")
    finally:
        sys.path.remove(str(root))
    adapter = to_asgi(app, threads=4)
    yield adapter, handlers
    handlers.GATE.set()
    adapter.pool.shutdown(timeout=STEP)
    app.extensions["framework"].shutdown()


async def _get(adapter: AsgiAdapter, path: str) -> Conversation:
    conv = Conversation()
    await asyncio.wait_for(adapter(http_scope(path=path), conv.receive, conv.send), STEP)
    return conv


def test_a_blocking_handler_does_not_hold_up_other_requests(served: tuple[AsgiAdapter, Any]) -> None:
    adapter, handlers = served

    async def main() -> None:
        blocked = {kind: asyncio.ensure_future(_get(adapter, f"/block-{kind}")) for kind in ("async", "def")}
        for kind in blocked:
            event = handlers.ENTERED[kind]
            await asyncio.to_thread(wait_until, event.is_set, STEP, what=f"the {kind} handler to block")
        # Both blocking handlers are running and stuck: the others are answered meanwhile.
        for _ in range(3):
            for path in ("/hello-async", "/hello-def"):
                conv = await _get(adapter, path)
                assert (conv.status, conv.body) == (200, b"Hello World!")
        assert not any(task.done() for task in blocked.values())
        handlers.GATE.set()
        for kind, task in blocked.items():
            conv = await asyncio.wait_for(task, STEP)
            assert (conv.status, conv.body) == (200, f"{kind} released".encode())

    run_async(main)
