"""The ASGI adapter driven in-process: environ, streaming, body limit, disconnects, lifespan."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request, send_file, stream_with_context

from framework import Framework
from framework.asgi import (
    DEFAULT_QUEUE_SIZE,
    DEFAULT_QUEUE_TIMEOUT,
    DEFAULT_THREADS,
    FILE_BLOCK,
    AsgiAdapter,
    build_environ,
    to_asgi,
)
from framework.config import ImproperlyConfigured
from tests.asgi.asgi_harness import STEP, Conversation, call, http_scope, run_async
from tests.liveserver import wait_until


@pytest.fixture
def adapters() -> Iterator[Callable[..., AsgiAdapter]]:
    """``adapters(app, **kw)``: a ``to_asgi`` adapter whose threads stop after the test."""
    made: list[AsgiAdapter] = []

    def make(app: Any, **kwargs: Any) -> AsgiAdapter:
        adapter = to_asgi(app, **kwargs)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.pool.shutdown(timeout=STEP)


def environ_app(captured: dict[str, Any]) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        captured.update(environ)
        captured["body"] = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    return app


def hello_app() -> Flask:
    app = Flask("hello")

    @app.get("/hello-world")
    def hello() -> Any:
        return {"message": "Hello World!"}

    @app.post("/echo")
    def echo() -> Any:
        return {"size": len(request.get_data())}

    return app


# ----------------------------------------------------------------- environ
def test_environ_from_scope(adapters: Any) -> None:
    captured: dict[str, Any] = {}
    scope = http_scope(
        "POST",
        "/api/caf\u00e9/items",
        root_path="/api",
        query_string=b"a=1&b=%C3%A9&c=\xe9",
        raw_path=b"/api/caf%C3%A9/items",
        scheme="https",
        client=("10.0.0.7", 41000),
        server=("example.org", 8443),
        headers=[
            (b"host", b"example.org:8443"),
            (b"content-type", b"text/plain"),
            (b"content-length", b"5"),
            (b"x-custom", b"one"),
            (b"x-custom", b"two"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x_forwarded_for", b"6.6.6.6"),
        ],
    )
    conv = call(adapters(environ_app(captured)), scope, Conversation([b"he", b"llo"]))
    assert conv.status == 200 and conv.body == b"ok"
    assert captured["REQUEST_METHOD"] == "POST"
    assert captured["SCRIPT_NAME"] == "/api"
    assert captured["PATH_INFO"] == "/caf\u00c3\u00a9/items"  # UTF-8 bytes read as latin-1
    assert captured["QUERY_STRING"] == "a=1&b=%C3%A9&c=\u00e9"
    assert captured["REQUEST_URI"] == "/api/caf%C3%A9/items?a=1&b=%C3%A9&c=\u00e9"
    assert captured["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert captured["SERVER_NAME"] == "example.org" and captured["SERVER_PORT"] == "8443"
    assert captured["REMOTE_ADDR"] == "10.0.0.7" and captured["REMOTE_PORT"] == "41000"
    assert captured["wsgi.url_scheme"] == "https"
    assert captured["wsgi.version"] == (1, 0)
    assert captured["wsgi.multithread"] is True and captured["wsgi.run_once"] is False
    assert captured["CONTENT_TYPE"] == "text/plain" and captured["CONTENT_LENGTH"] == "5"
    assert "HTTP_CONTENT_TYPE" not in captured and "HTTP_CONTENT_LENGTH" not in captured
    assert captured["HTTP_HOST"] == "example.org:8443"
    assert captured["HTTP_X_CUSTOM"] == "one,two"
    assert captured["HTTP_COOKIE"] == "a=1; b=2"
    assert "HTTP_X_FORWARDED_FOR" not in captured  # underscore names are dropped
    assert captured["body"] == b"hello"


def test_environ_path_when_server_leaves_root_path_out() -> None:
    environ = build_environ(http_scope(path="/items", root_path="/api"))
    assert environ["SCRIPT_NAME"] == "/api" and environ["PATH_INFO"] == "/items"
    environ = build_environ(http_scope(path="/apiary", root_path="/api"))
    assert environ["PATH_INFO"] == "/apiary"


def test_environ_without_server_uses_host_header() -> None:
    environ = build_environ(http_scope(headers=[(b"host", b"example.com:81")], server=None, client=None))
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.com", "81")
    assert "REMOTE_ADDR" not in environ
    environ = build_environ(http_scope(server=None, scheme="https"))
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("localhost", "443")


def test_flask_sees_the_request(adapters: Any) -> None:
    app = Flask("see")

    @app.route("/sub/<name>", methods=["POST"])
    def sub(name: str) -> Any:
        return {
            "name": name,
            "url": request.url,
            "script": request.script_root,
            "args": request.args.to_dict(),
            "json": request.get_json(),
            "remote": request.remote_addr,
        }

    scope = http_scope(
        "POST",
        "/mount/sub/b\u00e9",
        root_path="/mount",
        query_string=b"q=%C3%A9",
        headers=[(b"host", b"h.test"), (b"content-type", b"application/json")],
    )
    conv = call(adapters(app), scope, Conversation([b'{"x":', b" 1}"]))
    assert conv.status == 200
    assert conv.json() == {
        "name": "b\u00e9",
        "url": "http://h.test/mount/sub/b\u00e9?q=\u00e9",
        "script": "/mount",
        "args": {"q": "\u00e9"},
        "json": {"x": 1},
        "remote": "127.0.0.1",
    }


def test_chunked_request_body_without_length_reaches_flask(adapters: Any) -> None:
    scope = http_scope("POST", "/echo", headers=[(b"transfer-encoding", b"chunked")])
    conv = call(adapters(hello_app()), scope, Conversation([b"a" * 10, b"b" * 10, b""]))
    assert conv.json() == {"size": 20}


# ------------------------------------------------------------------ responses
def test_small_response_is_sent_in_one_body_message(adapters: Any) -> None:
    conv = call(adapters(hello_app()), http_scope(path="/hello-world"))
    assert conv.status == 200
    assert conv.headers["content-type"] == "application/json"
    assert conv.json() == {"message": "Hello World!"}
    assert len(conv.body_messages) == 1 and conv.complete


def test_head_sends_headers_and_no_body(adapters: Any) -> None:
    conv = call(adapters(hello_app()), http_scope("HEAD", "/hello-world"))
    assert conv.status == 200 and conv.body == b"" and conv.complete
    assert int(conv.headers["content-length"]) > 0


def test_streamed_chunks_arrive_one_by_one(adapters: Any) -> None:
    may_continue = threading.Event()
    closed = threading.Event()

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            try:
                yield b"first"
                assert may_continue.wait(STEP)
                yield b"second"
            finally:
                closed.set()

        return body()

    adapter = adapters(app)

    async def main() -> Conversation:
        conv = Conversation()
        task = asyncio.ensure_future(adapter(http_scope(), conv.receive, conv.send))
        # "first" reaches the client while the app cannot yet produce "second".
        await conv.wait_for(lambda: conv.body == b"first")
        assert not conv.complete
        may_continue.set()
        await asyncio.wait_for(task, STEP)
        return conv

    conv = run_async(main)
    assert conv.status == 200 and conv.body == b"firstsecond" and conv.complete
    assert [m["body"] for m in conv.body_messages if m["body"]] == [b"first", b"second"]
    assert closed.wait(STEP)


def test_flask_streamed_response(adapters: Any) -> None:
    app = Flask("streaming")

    @app.get("/stream")
    def stream() -> Any:
        def body() -> Iterator[str]:
            for i in range(5):
                yield f"line {i} of {request.path}\n"

        return Response(stream_with_context(body()), mimetype="text/plain")

    conv = call(adapters(app), http_scope(path="/stream"))
    assert conv.body.decode().splitlines() == [f"line {i} of /stream" for i in range(5)]
    assert len([m for m in conv.body_messages if m["body"]]) == 5


def test_large_sized_response_is_streamed_not_buffered(adapters: Any) -> None:
    size = AsgiAdapter.buffer_limit * 4

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Length", str(size))])
        return (b"x" * 8192 for _ in range(size // 8192))

    conv = call(adapters(app), http_scope())
    assert len(conv.body) == size and conv.complete
    assert len(conv.body_messages) == size // 8192  # the last chunk closes the body


def test_files_are_sent_in_large_blocks(adapters: Any, tmp_path: Any) -> None:
    data = bytes(range(256)) * 1200  # 300 KiB
    (tmp_path / "blob.bin").write_bytes(data)
    app = Flask("files")

    @app.get("/blob")
    def blob() -> Any:
        return send_file(tmp_path / "blob.bin")

    conv = call(adapters(app), http_scope(path="/blob"))
    assert conv.status == 200 and conv.body == data
    assert int(conv.headers["content-length"]) == len(data)
    sizes = [len(m["body"]) for m in conv.body_messages]
    assert sizes == [FILE_BLOCK] * 4 + [len(data) - 4 * FILE_BLOCK]

    ranged = call(adapters(app), http_scope(path="/blob", headers=[(b"range", b"bytes=1000-1099")]))
    assert ranged.status == 206 and ranged.body == data[1000:1100]


def test_start_response_called_lazily_and_write_callable(adapters: Any) -> None:
    def lazy(environ: Any, start_response: Any) -> Any:
        yield b""
        start_response("201 Created", [("X-Lazy", "yes")])
        yield b"made"

    conv = call(adapters(lazy), http_scope())
    assert conv.status == 201 and conv.headers["x-lazy"] == "yes" and conv.body == b"made"

    def legacy(environ: Any, start_response: Any) -> Any:
        write = start_response("200 OK", [])
        write(b"written, ")
        return [b"then returned"]

    conv = call(adapters(legacy), http_scope())
    assert conv.body == b"written, then returned" and conv.complete


def test_app_error_answers_the_500_envelope(adapters: Any) -> None:
    def broken(environ: Any, start_response: Any) -> Any:
        raise RuntimeError("boom")

    conv = call(adapters(broken), http_scope())
    assert conv.status == 500
    assert conv.json() == {"status": "error", "code": 1000, "message": "Server error"}


# ----------------------------------------------------------------- body limit
ENVELOPE_413 = {"status": "error", "code": 1005, "message": "Request body too large"}


def test_declared_body_over_limit_is_refused_unread(adapters: Any) -> None:
    called = []

    def app(environ: Any, start_response: Any) -> Any:
        called.append(1)
        start_response("200 OK", [])
        return [b""]

    app_obj = Flask("limited")
    app_obj.config["MAX_CONTENT_LENGTH"] = 10
    app_obj.wsgi_app = app  # type: ignore[method-assign]
    adapter = adapters(app_obj)
    conv = Conversation([b"x" * 100])
    call(adapter, http_scope("POST", headers=[(b"content-length", b"100")]), conv)
    assert conv.status == 413 and conv.json() == ENVELOPE_413
    assert conv.headers["connection"] == "close"
    assert conv.receive_calls == 0 and not called


def test_streamed_body_over_limit_stops_reading(adapters: Any) -> None:
    app = hello_app()
    app.config["MAX_CONTENT_LENGTH"] = 10
    conv = Conversation([b"x" * 6, b"x" * 6, b"x" * 6, b""])
    call(adapters(app), http_scope("POST", "/echo"), conv)
    assert conv.status == 413 and conv.json() == ENVELOPE_413
    assert conv.receive_calls == 2

    conv = call(adapters(app), http_scope("POST", "/echo"), Conversation([b"x" * 11]))
    assert conv.status == 413


def test_body_within_limit_is_read_whole(adapters: Any) -> None:
    app = hello_app()
    app.config["MAX_CONTENT_LENGTH"] = 10
    conv = Conversation([b"x" * 4, b"x" * 6])
    call(adapters(app), http_scope("POST", "/echo", headers=[(b"content-length", b"10")]), conv)
    assert conv.status == 200 and conv.json() == {"size": 10}


def test_large_body_without_limit_is_spooled(adapters: Any) -> None:
    app = hello_app()
    adapter = adapters(app)
    adapter.spool_limit = 1000
    conv = call(adapter, http_scope("POST", "/echo"), Conversation([b"y" * 700] * 3))
    assert conv.json() == {"size": 2100}


# ---------------------------------------------------------------- disconnects
def endless_app(closed: threading.Event, produced: list[int]) -> Callable[..., Any]:
    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            try:
                while True:
                    produced.append(1)
                    yield b"tick\n"
                    time.sleep(0.005)
            finally:
                closed.set()

        return body()

    return app


def test_disconnect_mid_stream_closes_the_iterable_and_frees_the_thread(adapters: Any) -> None:
    closed = threading.Event()
    produced: list[int] = []
    endless = endless_app(closed, produced)

    def app(environ: Any, start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/endless":
            return endless(environ, start_response)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    adapter = adapters(app, threads=1)

    async def main() -> Conversation:
        conv = Conversation()
        task = asyncio.ensure_future(adapter(http_scope(path="/endless"), conv.receive, conv.send))
        await conv.wait_for(lambda: conv.body.count(b"tick") >= 3)
        conv.disconnect()
        await asyncio.wait_for(task, STEP)  # returns, raises nothing
        # The only thread is free again: the next request is served.
        again = Conversation()
        await asyncio.wait_for(adapter(http_scope(), again.receive, again.send), STEP)
        return again

    again = run_async(main)
    assert again.body == b"ok"
    assert closed.wait(STEP)


def test_many_clients_leaving_leave_no_thread_behind(adapters: Any) -> None:
    closed: list[str] = []
    lock = threading.Lock()

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [])

        def body() -> Iterator[bytes]:
            try:
                while True:
                    yield b"tick"
                    time.sleep(0.005)
            finally:
                with lock:
                    closed.append(environ["PATH_INFO"])

        return body()

    adapter = adapters(app, threads=2)

    async def main() -> None:
        convs = [Conversation() for _ in range(8)]
        tasks = [
            asyncio.ensure_future(adapter(http_scope(path=f"/{i}"), c.receive, c.send))
            for i, c in enumerate(convs)
        ]
        # Two streams run; the other six wait for a thread.
        await asyncio.to_thread(
            wait_until, lambda: sum(b"tick" in c.body for c in convs) >= 2, STEP, what="two streams to run"
        )
        assert adapter.pool.waiting == 6
        for conv in convs:
            conv.disconnect()
        await asyncio.wait_for(asyncio.gather(*tasks), STEP)

    run_async(main)
    wait_until(lambda: adapter.pool.busy == 0, STEP, what="every thread to be free")
    # The two streams were closed; the six whose clients left while waiting never ran.
    assert sorted(closed) == ["/0", "/1"]


def test_slow_client_holds_the_producer_back(adapters: Any) -> None:
    closed = threading.Event()
    produced: list[int] = []
    sent: list[int] = []
    ahead: list[int] = []  # how far production ran ahead of what the client took, each time

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            try:
                for _ in range(60):
                    ahead.append(len(produced) - len(sent))
                    produced.append(1)
                    yield b"tick\n"
            finally:
                closed.set()

        return body()

    adapter = adapters(app)
    bound = adapter.chunk_slots + 2  # the queue's slots, the chunk being sent, the one pushed

    async def main() -> Conversation:
        conv = Conversation()
        conv.hold_body = True  # the client reads nothing for now
        original_send = conv.send

        async def send(message: dict[str, Any]) -> None:
            await original_send(message)
            if message["type"] == "http.response.body":
                sent.append(1)

        task = asyncio.ensure_future(adapter(http_scope(), conv.receive, send))
        # The producer fills its slots, then stops: it never runs further ahead than that.
        await asyncio.to_thread(
            wait_until, lambda: len(produced) >= bound - 1, STEP, what="the producer to fill its slots"
        )
        conv.hold_body = False
        conv.body_released.set()
        await asyncio.wait_for(task, STEP)
        return conv

    conv = run_async(main)
    assert conv.body == b"tick\n" * 60 and conv.complete
    assert max(ahead) <= bound, ahead
    assert closed.wait(STEP)


def test_disconnect_before_a_buffered_response_raises_nothing(adapters: Any) -> None:
    closed = threading.Event()
    started = threading.Event()
    may_answer = threading.Event()

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"late"

        def close(self) -> None:
            closed.set()

    def slow(environ: Any, start_response: Any) -> Any:
        started.set()
        assert may_answer.wait(STEP)
        start_response("200 OK", [("Content-Length", "4")])
        return Body()

    adapter = adapters(slow)

    async def main() -> Conversation:
        conv = Conversation()
        task = asyncio.ensure_future(adapter(http_scope(), conv.receive, conv.send))
        assert await asyncio.to_thread(started.wait, STEP)
        conv.disconnect()  # while the handler runs
        may_answer.set()
        await asyncio.wait_for(task, STEP)
        return conv

    conv = run_async(main)
    assert conv.sent == []
    assert closed.wait(STEP)


def test_cancelled_request_stops_the_stream(adapters: Any) -> None:
    closed = threading.Event()
    produced: list[int] = []
    adapter = adapters(endless_app(closed, produced))

    async def main() -> None:
        conv = Conversation()
        task = asyncio.ensure_future(adapter(http_scope(), conv.receive, conv.send))
        await conv.wait_for(lambda: b"tick" in conv.body)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_async(main)
    assert closed.wait(STEP)


# ---------------------------------------------------------------- thread pool
def test_the_pool_bounds_concurrent_wsgi_calls(adapters: Any) -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def app(environ: Any, start_response: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        start_response("200 OK", [("Content-Length", "0")])
        return []

    adapter = adapters(app, threads=3)

    async def main() -> list[Conversation]:
        convs = [Conversation() for _ in range(12)]
        await asyncio.gather(*(adapter(http_scope(), c.receive, c.send) for c in convs))
        return convs

    convs = run_async(main)
    assert all(c.status == 200 for c in convs)
    assert peak[0] == 3 and adapter.pool.started <= 3


def test_stopping_the_pool_closes_the_async_shim_loops(adapters: Any) -> None:
    from framework import _async

    loops: list[asyncio.AbstractEventLoop] = []

    async def answer() -> bytes:
        loops.append(asyncio.get_running_loop())
        return b"async"

    def app(environ: Any, start_response: Any) -> Any:
        body = _async.run(answer())
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    adapter = adapters(app, threads=1)
    assert call(adapter, http_scope()).body == b"async"
    assert len(loops) == 1 and not loops[0].is_closed()
    adapter.pool.shutdown(timeout=STEP)
    assert loops[0].is_closed()


def test_thread_count_from_argument_config_or_default(adapters: Any) -> None:
    app = Flask("threads")
    assert adapters(app).threads == DEFAULT_THREADS
    app.config["ASGI_THREADS"] = "5"
    assert adapters(app).threads == 5
    assert adapters(app, threads=2).threads == 2
    with pytest.raises(ValueError):
        to_asgi(app, threads=0)


# ------------------------------------------------------------------- lifespan
class FakeFramework:
    def __init__(self, fail: bool = False) -> None:
        self.events: list[str] = []
        self.fail = fail

    def startup(self) -> None:
        self.events.append("startup")
        if self.fail:
            raise RuntimeError("database unreachable")

    def shutdown(self) -> None:
        self.events.append("shutdown")


def lifespan(adapter: Any, *messages: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def main() -> None:
        incoming = [{"type": m} for m in messages]

        async def receive() -> dict[str, Any]:
            return incoming.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await adapter({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    run_async(main)
    return sent


def test_lifespan_fires_startup_and_shutdown(adapters: Any) -> None:
    app = Flask("life")
    fake = app.extensions["framework"] = FakeFramework()
    sent = lifespan(adapters(app), "lifespan.startup", "lifespan.shutdown")
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert fake.events == ["startup", "shutdown"]


def test_lifespan_startup_failure_is_reported(adapters: Any) -> None:
    app = Flask("life")
    app.extensions["framework"] = FakeFramework(fail=True)
    sent = lifespan(adapters(app), "lifespan.startup", "lifespan.shutdown")
    assert sent == [{"type": "lifespan.startup.failed", "message": "RuntimeError: database unreachable"}]


def test_lifespan_without_the_extension_completes(adapters: Any) -> None:
    sent = lifespan(adapters(hello_app()), "lifespan.startup", "lifespan.shutdown")
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_lifespan_fires_the_framework_hooks(adapters: Any) -> None:
    app = Flask("hooked")
    fw = Framework(app, config={})
    fired: list[str] = []
    fw.event("startup")(lambda **kwargs: fired.append("startup"))
    fw.event("shutdown")(lambda **kwargs: fired.append("shutdown"))
    adapter = adapters(app)
    sent = lifespan(adapter, "lifespan.startup", "lifespan.shutdown")
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert fired == ["startup", "shutdown"]


def test_requests_are_served_after_a_lifespan_cycle(adapters: Any) -> None:
    adapter = adapters(hello_app())
    lifespan(adapter, "lifespan.startup", "lifespan.shutdown")
    assert call(adapter, http_scope(path="/hello-world")).status == 200


# ------------------------------------------------------------------ websocket
def test_websocket_is_refused_cleanly(adapters: Any) -> None:
    sent: list[dict[str, Any]] = []

    async def main() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
        await adapters(hello_app())(scope, receive, send)

    run_async(main)
    assert [m["type"] for m in sent] == ["websocket.close"]


def test_wsgi_input_is_a_file(adapters: Any) -> None:
    captured: dict[str, Any] = {}
    call(adapters(environ_app(captured)), http_scope("PUT"), Conversation([b"abc"]))
    stream = captured["wsgi.input"]
    assert isinstance(stream, io.IOBase) and captured["body"] == b"abc"


# ------------------------------------------------------------ the sample project
def test_the_sample_project_through_the_adapter(adapters: Any, tmp_path: Path) -> None:
    from framework import create_app, signals
    from tests.helpers import ROOT

    app = create_app(str(ROOT), config={"database": {"uri": f"sqlite:///{tmp_path / 'sample.sqlite3'}"}})
    fw = app.extensions["framework"]
    fired: list[str] = []

    def record(sender: Any, **kwargs: Any) -> None:
        fired.append("event")

    adapter = adapters(app)

    async def main() -> tuple[list[dict[str, Any]], Conversation, Conversation]:
        incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        life = asyncio.ensure_future(adapter({"type": "lifespan"}, incoming.get, send))
        await incoming.put({"type": "lifespan.startup"})
        await asyncio.to_thread(wait_until, lambda: sent, STEP, what="the startup answer")
        assert fired == ["event"]  # startup fired before any request
        hello, missing = Conversation(), Conversation()
        await adapter(http_scope(path="/hello-world"), hello.receive, hello.send)
        await adapter(http_scope(path="/missing"), missing.receive, missing.send)
        await incoming.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(life, STEP)
        return sent, hello, missing

    signals.startup.connect(record, sender=fw)
    signals.shutdown.connect(record, sender=fw)
    try:
        sent, hello, missing = run_async(main)
    finally:
        signals.startup.disconnect(record, sender=fw)
        signals.shutdown.disconnect(record, sender=fw)
        fw.shutdown()
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert fired == ["event", "event"]
    assert (hello.status, hello.body) == (200, b"Hello World!")
    assert missing.status == 404
    assert missing.json() == {"status": "error", "code": 1001, "message": "Not found"}


# ------------------------------------------------------- waiting for a thread
ENVELOPE_503 = {"status": "error", "code": 1009, "message": "Service unavailable"}


def gated_app(gate: threading.Event, ran: list[str]) -> Callable[..., Any]:
    """Records each call's path; ``/hold`` keeps its thread until ``gate`` is set."""

    def app(environ: Any, start_response: Any) -> Any:
        ran.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/hold":
            gate.wait(STEP)
        body = environ["wsgi.input"].read()
        answer = str(len(body)).encode()
        start_response("200 OK", [("Content-Length", str(len(answer)))])
        return [answer]

    return app


async def hold_the_thread(adapter: AsgiAdapter) -> asyncio.Future[None]:
    conv = Conversation()
    task = asyncio.ensure_future(adapter(http_scope(path="/hold"), conv.receive, conv.send))
    await asyncio.to_thread(wait_until, lambda: adapter.pool.busy >= 1, STEP, what="the thread to be held")
    return task


def test_a_full_queue_answers_503_at_once(adapters: Any) -> None:
    gate = threading.Event()
    ran: list[str] = []
    adapter = adapters(gated_app(gate, ran), threads=1, queue_size=2)

    async def main() -> tuple[list[Conversation], Conversation]:
        holder = await hold_the_thread(adapter)
        waiting = [Conversation() for _ in range(2)]
        tasks = [
            asyncio.ensure_future(adapter(http_scope(path=f"/w{i}"), c.receive, c.send))
            for i, c in enumerate(waiting)
        ]
        await asyncio.to_thread(
            wait_until, lambda: adapter.pool.waiting >= 2, STEP, what="two requests to wait"
        )
        refused = Conversation()
        await asyncio.wait_for(adapter(http_scope(path="/refused"), refused.receive, refused.send), STEP)
        gate.set()
        await asyncio.wait_for(asyncio.gather(holder, *tasks), STEP)
        return waiting, refused

    waiting, refused = run_async(main)
    assert refused.status == 503 and refused.json() == ENVELOPE_503
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/json"
    assert [c.status for c in waiting] == [200, 200]
    assert "/refused" not in ran


def test_zero_queue_size_refuses_when_every_thread_is_busy(adapters: Any) -> None:
    gate = threading.Event()
    adapter = adapters(gated_app(gate, []), threads=1, queue_size=0)

    async def main() -> Conversation:
        holder = await hold_the_thread(adapter)
        refused = Conversation()
        await asyncio.wait_for(adapter(http_scope(), refused.receive, refused.send), STEP)
        gate.set()
        await asyncio.wait_for(holder, STEP)
        return refused

    assert run_async(main).status == 503


def test_a_request_waiting_past_its_deadline_gets_503_and_never_runs(adapters: Any) -> None:
    gate = threading.Event()
    ran: list[str] = []
    adapter = adapters(gated_app(gate, ran), threads=1, queue_timeout=0.05)

    async def main() -> Conversation:
        holder = await hold_the_thread(adapter)
        late = Conversation()
        await asyncio.wait_for(adapter(http_scope(path="/late"), late.receive, late.send), STEP)
        gate.set()
        await asyncio.wait_for(holder, STEP)
        return late

    late = run_async(main)
    assert late.status == 503 and late.json() == ENVELOPE_503
    assert late.headers["retry-after"] == "1"
    wait_until(lambda: adapter.pool.busy == 0, STEP, what="every thread to be free")
    assert ran == ["/hold"]


def test_a_waiting_request_reads_no_body_until_a_thread_takes_it(adapters: Any) -> None:
    gate = threading.Event()
    adapter = adapters(gated_app(gate, []), threads=1)
    adapter.spool_limit = 10

    async def main() -> Conversation:
        holder = await hold_the_thread(adapter)
        upload = Conversation([b"a" * 100, b"b" * 100, b"c" * 100])
        task = asyncio.ensure_future(adapter(http_scope("POST", "/upload"), upload.receive, upload.send))
        await asyncio.to_thread(
            wait_until, lambda: adapter.pool.waiting >= 1, STEP, what="the upload to wait"
        )
        assert upload.receive_calls == 1  # only what the server already held
        gate.set()
        await asyncio.wait_for(asyncio.gather(holder, task), STEP)
        return upload

    upload = run_async(main)
    assert upload.status == 200 and upload.body == b"300"
    assert upload.receive_calls == 3


def test_a_request_whose_client_left_while_waiting_never_runs(adapters: Any) -> None:
    gate = threading.Event()
    ran: list[str] = []
    adapter = adapters(gated_app(gate, ran), threads=1)

    async def main() -> tuple[Conversation, Conversation]:
        holder = await hold_the_thread(adapter)
        get = Conversation()
        post = Conversation([b"x" * 10, b"y" * 10])  # its body is not all there yet
        tasks = [
            asyncio.ensure_future(adapter(http_scope(path="/get"), get.receive, get.send)),
            asyncio.ensure_future(adapter(http_scope("POST", "/post"), post.receive, post.send)),
        ]
        await asyncio.to_thread(
            wait_until, lambda: adapter.pool.waiting >= 2, STEP, what="two requests to wait"
        )
        post.incoming.clear()  # the client went away mid-body
        get.disconnect()
        post.disconnect()
        await asyncio.wait_for(asyncio.gather(*tasks), STEP)  # the GET is dropped at once
        gate.set()
        await asyncio.wait_for(holder, STEP)
        return get, post

    get, post = run_async(main)
    wait_until(lambda: adapter.pool.busy == 0, STEP, what="every thread to be free")
    assert ran == ["/hold"]
    assert get.sent == [] and post.sent == []


def test_a_body_that_does_not_arrive_in_time_gets_408(adapters: Any) -> None:
    ran: list[str] = []
    adapter = adapters(gated_app(threading.Event(), ran), body_timeout=0.05)

    async def main() -> Conversation:
        conv = Conversation([b"x" * 10, b"never sent"])
        conv.incoming.pop()  # the second part never comes: receive() waits
        await asyncio.wait_for(adapter(http_scope("POST", "/slow"), conv.receive, conv.send), STEP)
        conv.disconnect()
        return conv

    conv = run_async(main)
    assert conv.status == 408 and conv.json()["code"] == 1010
    assert conv.headers["connection"] == "close"
    assert ran == []


def test_a_body_over_the_limit_found_by_the_thread_gets_413(adapters: Any) -> None:
    ran: list[str] = []
    app = Flask("limited")
    app.config["MAX_CONTENT_LENGTH"] = 15
    app.wsgi_app = gated_app(threading.Event(), ran)  # type: ignore[method-assign]
    conv = call(adapters(app), http_scope("POST", "/big"), Conversation([b"x" * 10] * 3))
    assert conv.status == 413 and conv.json() == ENVELOPE_413
    assert ran == []


def test_queue_settings_from_the_asgi_section(adapters: Any) -> None:
    app = Flask("configured")
    Framework(
        app, config={"asgi": {"threads": "3", "queue_size": "5", "queue_timeout": "2.5", "body_timeout": "7"}}
    )
    adapter = adapters(app)
    assert (adapter.threads, adapter.queue_size, adapter.queue_timeout, adapter.body_timeout) == (
        3,
        5,
        2.5,
        7.0,
    )
    assert adapter.pool.backlog == 5
    assert adapters(app, queue_size=1).queue_size == 1
    plain = adapters(Flask("plain"))
    assert (plain.queue_size, plain.queue_timeout) == (DEFAULT_QUEUE_SIZE, DEFAULT_QUEUE_TIMEOUT)


@pytest.mark.parametrize(
    "key, value",
    [("queue_size", "many"), ("queue_size", "-1"), ("queue_timeout", "-2"), ("body_timeout", "soon")],
)
def test_a_bad_queue_setting_stops_start_up_naming_it(key: str, value: str) -> None:
    app = Flask("misconfigured")
    Framework(app, config={"asgi": {key: value}})
    with pytest.raises(ImproperlyConfigured, match=rf"\[asgi\] {key}"):
        to_asgi(app)


# ------------------------------------------------------------- proxy headers
def proxy_app(trusted: int) -> Flask:
    app = Flask("proxied")
    Framework(app, config={"networking": {"trusted_proxies": trusted}})

    @app.get("/who")
    def who() -> Any:
        return {"scheme": request.scheme, "remote": request.remote_addr}

    return app


#: The scope uvicorn hands on after applying a local client's own X-Forwarded-* headers.
REWRITTEN = dict(
    scheme="https",
    client=("203.0.113.9", 0),
    headers=[(b"x-forwarded-proto", b"https"), (b"x-forwarded-for", b"203.0.113.9")],
)


def test_without_trusted_proxies_a_server_rewrite_is_undone(
    adapters: Any, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = adapters(proxy_app(0))
    with caplog.at_level(logging.WARNING, logger="framework.asgi"):
        conv = call(adapter, http_scope(path="/who", **REWRITTEN))
        call(adapter, http_scope(path="/who", **REWRITTEN))
    assert conv.json() == {"scheme": "http", "remote": None}
    assert caplog.text.count("--no-proxy-headers") == 1  # said once, not per request
    # A real https request (no forwarding header) and a real peer stay as they are.
    conv = call(
        adapter,
        http_scope(
            path="/who", scheme="https", client=("10.1.1.1", 5000), headers=[(b"x-forwarded-for", b"6.6.6.6")]
        ),
    )
    assert conv.json() == {"scheme": "https", "remote": "10.1.1.1"}


def test_with_trusted_proxies_the_proxy_headers_count(adapters: Any) -> None:
    conv = call(adapters(proxy_app(1)), http_scope(path="/who", **REWRITTEN))
    assert conv.json() == {"scheme": "https", "remote": "203.0.113.9"}
