"""X-Request-ID (framework.request_id): accepted when sane, else made; on every answer,
in the handler and in the request's log lines, under WSGI and the ASGI adapter."""

from __future__ import annotations

import asyncio
import logging
import re
import threading

import pytest

from framework.asgi import to_asgi
from framework.request_id import ENVIRON_KEY, RequestIdMiddleware
from tests.asgi.asgi_harness import Conversation, call, http_scope, run_async

HANDLERS = """
from framework.router import Routes
from framework.response import JSON, Text
from framework.logging import get_logger

routes = Routes()
LOG = get_logger('framework.tests.request_id')

@routes.get('/id')
def show_id(request):
    LOG.info('handling %s', request.path)
    return JSON({'id': request.request_id})

@routes.get('/async-id')
async def show_id_async(request):
    LOG.info('handling %s', request.path)
    return JSON({'id': request.request_id})

@routes.get('/boom')
def boom(request):
    raise RuntimeError('boom')

@routes.get('/bad-header')
def bad_header(request):
    return Text('x', headers={'X-Bad': 'split\\r\\nSet-Cookie: a=b'})

@routes.get('/own-id')
def own_id(request):
    return Text('x', headers={'X-Request-ID': 'chosen-by-the-handler'})

@routes.post('/big')
def big(request):
    return Text('read')
"""

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(params=["one layer", "metrics between"])
def app(make_route_app, request):
    """Without metrics the request id layer also checks the headers (one WSGI layer); with
    metrics measuring in between, the two layers stay apart: the same answers either way."""
    metrics = "[metrics]\npath = /metrics\n" if request.param == "metrics between" else ""
    return make_route_app(HANDLERS, config_extra="[flask]\nmax_content_length = 10\n" + metrics)


def _fresh(value: str) -> bool:
    return bool(HEX32.fullmatch(value))


def test_a_fresh_id_is_made_for_each_request_and_seen_by_the_handler(app):
    client = app.test_client()
    first, second = client.get("/id"), client.get("/async-id")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(_fresh(i) for i in ids) and ids[0] != ids[1]
    assert [first.get_json()["id"], second.get_json()["id"]] == ids


@pytest.mark.parametrize("sent", ["abc-123", "Root=1-5f84c7a1", "a" * 128, "trace:7/b+c=d@e.f_g"])
def test_a_sane_client_id_is_kept(app, sent):
    response = app.test_client().get("/id", headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] == sent
    assert response.get_json()["id"] == sent


@pytest.mark.parametrize(
    "sent",
    ["", "a" * 129, "has space", 'quote"d', "semi;colon", "<script>", "caf\u00e9", "tab\tbed", "nul\x00"],
)
def test_a_hostile_client_id_is_replaced_never_echoed(app, sent):
    response = app.test_client().get("/id", headers={"X-Request-ID": sent})
    assert _fresh(response.headers["X-Request-ID"])
    assert response.headers.getlist("X-Request-ID") == [response.get_json()["id"]]


def test_error_answers_carry_the_id(app):
    client = app.test_client()
    for path, status in [("/missing", 404), ("/boom", 500), ("/bad-header", 500)]:
        response = client.get(path, headers={"X-Request-ID": f"req{status}"})
        assert response.status_code == status
        assert response.get_json()["status"] == "error"
        assert response.headers["X-Request-ID"] == f"req{status}"
    assert client.post("/id", headers={"X-Request-ID": "r405"}).headers["X-Request-ID"] == "r405"


def test_an_id_the_handler_set_is_kept_alone(app):
    response = app.test_client().get("/own-id", headers={"X-Request-ID": "from-client"})
    assert response.headers.getlist("X-Request-ID") == ["chosen-by-the-handler"]


def test_every_log_line_of_the_request_carries_its_id(app, caplog):
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        client.get("/id", headers={"X-Request-ID": "line-1"})
        client.get("/async-id", headers={"X-Request-ID": "line-2"})
        client.get("/boom", headers={"X-Request-ID": "line-3"})
    ours = [r for r in caplog.records if r.name.startswith("framework")]
    assert [(r.getMessage().split(" in ")[0], r.request_id) for r in ours] == [
        ("handling /id", "line-1"),
        ("handling /async-id", "line-2"),
        ("unhandled RuntimeError", "line-3"),
    ]
    handler = next(h for h in logging.getLogger("framework").handlers if h.filters)
    assert "] [line-3] unhandled RuntimeError" in handler.format(ours[-1])
    outside = logging.LogRecord("framework", logging.INFO, __file__, 1, "outside", None, None)
    handler.filter(outside)
    assert outside.request_id is None and "[None]" not in handler.format(outside)


def _asgi_get(adapter, path, headers=()):
    return call(adapter, http_scope("GET", path, headers=list(headers)))


def test_the_asgi_adapter_answers_with_the_id_too(app):
    adapter = to_asgi(app, threads=2)
    try:
        answer = _asgi_get(adapter, "/id", [(b"x-request-id", b"via-asgi")])
        assert answer.headers["x-request-id"] == "via-asgi" and answer.json()["id"] == "via-asgi"
        fresh = _asgi_get(adapter, "/id", [(b"x-request-id", b"bad id")])
        assert _fresh(fresh.headers["x-request-id"])
        assert fresh.json()["id"] == fresh.headers["x-request-id"]
        # the adapter's own answers: 413 before any thread, 503 with every thread busy
        big = Conversation([b"x" * 50])
        scope = http_scope("POST", "/big", headers=[(b"content-length", b"50"), (b"x-request-id", b"big-1")])
        answer = call(adapter, scope, big)
        assert answer.status == 413 and answer.headers["x-request-id"] == "big-1"
    finally:
        adapter.pool.shutdown(timeout=5)


def test_the_asgi_adapters_busy_answer_carries_the_id():
    entered, release = threading.Event(), threading.Event()

    def holding(environ, start_response):  # occupies the adapter's only thread
        entered.set()
        release.wait(5)
        start_response("204 No Content", [])
        return [b""]

    adapter = to_asgi(holding, threads=1, queue_size=0)

    async def busy() -> Conversation:
        holder = Conversation()
        held = asyncio.ensure_future(adapter(http_scope("GET", "/hold"), holder.receive, holder.send))
        while not entered.is_set():
            await asyncio.sleep(0.01)
        refused = Conversation()
        scope = http_scope("GET", "/next", headers=[(b"x-request-id", b"busy-1")])
        await adapter(scope, refused.receive, refused.send)
        release.set()
        await held
        return refused

    try:
        refused = run_async(busy)
    finally:
        release.set()
        adapter.pool.shutdown(timeout=5)
    assert refused.status == 503 and refused.headers["x-request-id"] == "busy-1"


def test_the_asgi_adapters_500_carries_the_id_the_middleware_chose(caplog):
    """The adapter picks no id of its own for a request the WSGI call has seen: its 500
    for an application that raised, and its log line, carry the id the middleware made."""
    seen: list[str] = []

    def raising(environ, start_response):
        seen.append(environ[ENVIRON_KEY])
        raise RuntimeError("boom")

    adapter = to_asgi(RequestIdMiddleware(raising), threads=1)
    try:
        with caplog.at_level(logging.ERROR):
            answer = _asgi_get(adapter, "/")
    finally:
        adapter.pool.shutdown(timeout=5)
    assert answer.status == 500 and _fresh(seen[0])
    assert answer.headers["x-request-id"] == seen[0]
    assert [r.request_id for r in caplog.records if "error in the WSGI application" in r.getMessage()] == [
        seen[0]
    ]
