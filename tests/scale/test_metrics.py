"""Prometheus metrics at ``[metrics] path`` (framework.metrics): what a scrape reads."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from framework.asgi import to_asgi
from framework.config import ImproperlyConfigured
from tests.asgi.asgi_harness import Conversation, http_scope, run_async
from tests.liveserver import REPO, LiveServer, http_get, wait_until

HANDLERS = """
import os
import threading

from framework.db import db
from framework.response import JSON, Text
from framework.router import Routes
from sqlalchemy import text

routes = Routes()
HOLD = threading.Event()
ENTERED = threading.Event()

@routes.get('/items/<item:int>')
def item(request):
    return Text('item')

@routes.get('/pid')
def pid(request):
    db.session.execute(text('SELECT 1'))
    return JSON({'pid': os.getpid(), 'folder': os.environ.get('PROMETHEUS_MULTIPROC_DIR')})

@routes.get('/hold')
def hold(request):
    ENTERED.set()
    HOLD.wait(10)
    return Text('held')
"""


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text answer, keyed by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def _scrape(client, **kwargs) -> dict:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return samples(response.get_data(as_text=True))


@pytest.fixture
def metered(make_route_app):
    return make_route_app(HANDLERS, config_extra="[metrics]\npath = /metrics\n")


def test_off_unless_a_path_is_set(make_route_app):
    from framework.metrics import MetricsMiddleware

    app = make_route_app(HANDLERS)
    assert app.test_client().get("/metrics").status_code == 404
    layer, layers = app.wsgi_app, []
    while layer is not None:
        layers.append(type(layer))
        layer = getattr(layer, "app", None)
    assert MetricsMiddleware not in layers  # nothing measured, nothing paid


def test_requests_are_counted_by_url_rule_method_and_status(metered):
    client = metered.test_client()
    for path in ("/items/1", "/items/2", "/items/3"):
        assert client.get(path).status_code == 200
    client.get("/no/such/1")
    client.get("/no/such/2")
    client.open("/items/1", method="BREW")
    client.post("/items/1")
    found = _scrape(client)
    total = "framework_http_requests_total"
    assert value(found, total, method="GET", route="/items/<item:int>", status="200") == 3
    assert value(found, total, method="GET", route="<unmatched>", status="404") == 2
    assert value(found, total, method="other", route="<unmatched>", status="405") == 1
    assert value(found, total, method="POST", route="<unmatched>", status="405") == 1
    count = "framework_http_request_duration_seconds_count"
    assert value(found, count, method="GET", route="/items/<item:int>") == 3
    text = client.get("/metrics").get_data(as_text=True)
    assert "/items/1" not in text and "/no/such" not in text and "BREW" not in text
    assert metered.view_functions["framework_metrics"].framework_operational is True


def test_the_database_pool_is_measured(metered):
    client = metered.test_client()
    assert client.get("/pid").status_code == 200
    found = _scrape(client)
    assert value(found, "framework_db_pool_size", database="default") == 5
    assert value(found, "framework_db_pool_checked_out", database="default") == 0
    assert value(found, "framework_db_pool_overflow", database="default") == 0


def test_allowed_ips_limit_who_reads_them(make_route_app):
    app = make_route_app(
        HANDLERS,
        config_extra="[metrics]\npath = /ops/metrics\nallowed_ips =\n    10.0.0.0/8\n    192.0.2.7\n",
    )
    client = app.test_client()
    refused = client.get("/ops/metrics")  # from 127.0.0.1
    assert refused.status_code == 403 and refused.get_json()["code"] == 1007
    for address in ("10.1.2.3", "192.0.2.7", "::ffff:10.9.9.9"):
        assert client.get("/ops/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200
    assert client.get("/ops/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 403


def test_a_bad_allowed_ip_stops_start_up(make_route_app):
    with pytest.raises(ImproperlyConfigured, match=r"\[metrics\] allowed_ips: 'nowhere' is not an IP"):
        make_route_app(HANDLERS, config_extra="[metrics]\npath = /metrics\nallowed_ips = nowhere\n")


def test_the_asgi_adapters_queue_is_measured(metered):
    fw = metered.extensions["framework"]
    handlers = sys.modules[next(iter(fw.apps)) + ".handlers"]
    metrics = fw.context["framework.metrics"]
    adapter = to_asgi(metered, threads=1)

    def gauges() -> tuple[float | None, float | None]:
        found = samples(metrics.exposition()[0].decode())
        return value(found, "framework_asgi_queue_depth"), value(found, "framework_asgi_busy_threads")

    async def two_requests() -> tuple[float | None, float | None]:
        first, second = Conversation(), Conversation()
        held = asyncio.ensure_future(adapter(http_scope("GET", "/hold"), first.receive, first.send))
        while not handlers.ENTERED.is_set():
            await asyncio.sleep(0.01)
        waiting = asyncio.ensure_future(adapter(http_scope("GET", "/items/1"), second.receive, second.send))
        while gauges()[0] != 1:  # the second request waits behind the first
            await asyncio.sleep(0.01)
        during = gauges()
        handlers.HOLD.set()
        await asyncio.gather(held, waiting)
        assert (first.status, second.status) == (200, 200)
        return during

    try:
        assert run_async(two_requests) == (1, 1)
        wait_until(lambda: gauges() == (0, 0), what="the adapter's gauges to fall back to 0")
    finally:
        handlers.HOLD.set()
        adapter.pool.shutdown(timeout=5)


# ------------------------------------------------------------ gunicorn, 2 workers
WSGI = """
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from framework import create_app

app = create_app(os.path.dirname(os.path.abspath(__file__)))
"""


def test_two_gunicorn_workers_add_up(project):
    web = project.app_module(
        "web",
        {"handlers.py": HANDLERS, "main.py": "from framework.app import App\nfrom .handlers import routes\n"
         "app = App(routes=[routes])\n"},
    )  # fmt: skip
    project.config(
        f"[apps]\nactive = {web}\n[metrics]\npath = /metrics\n[networking]\nallowed_hosts = example.com\n"
    )
    (project.root / "wsgi.py").write_text(textwrap.dedent(WSGI))
    server = LiveServer(
        project.root,
        "wsgi:app",
        workers=2,
        threads=2,
        env={"PROMETHEUS_MULTIPROC_DIR": None, "PYTHONPATH": os.pathsep.join([REPO, str(project.base)])},
        ready_path="/healthz",
    )
    sent = 0
    pids: set[int] = set()
    folder = None

    def pid_request() -> int:
        nonlocal sent, folder
        status, _headers, body = http_get(server.port, "/pid", host="example.com")
        assert status == 200
        sent += 1
        answer = json.loads(body)
        folder = answer["folder"]
        return answer["pid"]

    def scrape() -> dict:
        status, headers, body = http_get(server.port, "/metrics", host="10.0.0.1")  # by address
        assert status == 200 and headers["x-request-id"]
        return samples(body.decode())

    def requests_seen(found: dict) -> float | None:
        return value(found, "framework_http_requests_total", method="GET", route="/pid", status="200")

    with server:
        # a probe by address passes the host check
        assert http_get(server.port, "/readyz", host="10.0.0.1")[0] == 200
        wait_until(lambda: pids.add(pid_request()) or len(pids) == 2, what="both workers to answer")
        assert folder and Path(folder).is_dir()
        # whichever worker answers the scrape, it reports both workers' requests
        for _ in range(4):
            found = scrape()
            assert requests_seen(found) == sent
            assert value(found, "framework_db_pool_size", database="default") == 2 * 5
        # a worker that dies is replaced; its counts stay, its gauges go
        victim = pids.pop()
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: pid_request() not in pids | {victim}, what="the replacement worker to answer")
        for _ in range(4):
            found = scrape()
            assert requests_seen(found) == sent
            assert value(found, "framework_db_pool_size", database="default") == 2 * 5
    assert not Path(folder).exists()  # gunicorn's temporary folder is removed on exit
