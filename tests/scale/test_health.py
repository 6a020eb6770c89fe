"""Liveness and readiness (framework.health): what a load balancer probing an instance sees."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from flask import Flask

from framework import Framework
from framework.config import ImproperlyConfigured
from tests.liveserver import free_port, wait_until

HANDLERS = """
from framework.router import Routes
from framework.response import Text

routes = Routes()

@routes.get('/hello')
def hello(request):
    return Text('hello')
"""

REFUSING_MIDDLEWARE = """
from framework.exception import Unauthorized

class RefuseAll:
    def process_request(self, request):
        return request, Unauthorized({'message': 'no'})
"""

HOOKS = """
from framework.hook import Hooks

hooks = Hooks()
SEEN = []

@hooks.event('request_start')
def started():
    SEEN.append('start')

@hooks.event('request_end')
def ended():
    SEEN.append('end')
"""


def _checks_failed(response) -> dict:
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["code"] == 1009
    assert "Traceback" not in response.get_data(as_text=True)
    return body["data"]["checks"]


def test_live_and_ready_answer_ok_with_their_checks(make_route_app):
    app = make_route_app(HANDLERS)
    client = app.test_client()
    live = client.get("/healthz")
    assert live.status_code == 200
    assert live.get_json() == {"status": "ok", "checks": {}}
    assert live.headers["Cache-Control"] == "no-store"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "checks": {"database": "ok"}}
    assert client.head("/readyz").status_code == 200
    for endpoint in ("framework_health_live", "framework_health_ready"):
        assert app.view_functions[endpoint].framework_operational is True


def test_probes_pass_the_host_check_middlewares_and_hooks_by(project):
    project.module("refuse.py", REFUSING_MIDDLEWARE)
    web = project.app_module(
        "web",
        {
            "handlers.py": HANDLERS,
            "hooks.py": HOOKS,
            "main.py": "from framework.app import App\nfrom .handlers import routes\n"
            "from .hooks import hooks\napp = App(routes=[routes], hooks=[hooks])\n",
        },
    )
    project.config(
        f"[apps]\nactive = {web}\n[middlewares]\nactive = {project.package}.refuse.RefuseAll\n"
        "[networking]\nallowed_hosts = example.com\n"
    )
    app = project.create_app()
    client = app.test_client()
    seen = __import__(f"{web}.hooks", fromlist=["SEEN"]).SEEN
    # a load balancer probes by address: a Host the list does not name
    for path in ("/healthz", "/readyz"):
        assert client.get(path, headers={"Host": "10.0.0.7:8000"}).status_code == 200
    assert seen == []  # no request_start, no request_end for probes
    assert client.get("/hello", headers={"Host": "example.com"}).status_code == 401
    assert seen == ["start", "end"]
    assert client.get("/hello", headers={"Host": "10.0.0.7:8000"}).get_json()["code"] == 1003


def test_paths_are_configurable_and_an_empty_one_is_off(make_route_app):
    app = make_route_app(HANDLERS, config_extra="[health]\nlive_path = /ops/live\nready_path =\n")
    client = app.test_client()
    assert client.get("/ops/live").status_code == 200
    assert client.get("/healthz").status_code == 404
    assert client.get("/readyz").status_code == 404


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[health]\nlive_path = healthz\n", r"\[health\] live_path must be a plain URL path"),
        ("[health]\nready_path = /ready/<name>\n", r"\[health\] ready_path must be a plain URL path"),
        ("[health]\nlive_path = /hello\n", r"\[health\] live_path '/hello' is also the route 'web.hello'"),
        (
            "[health]\nlive_path = /probe\nready_path = /probe\n",
            r"\[health\] ready_path '/probe' is also the setting \[health\] live_path",
        ),
        ("[health]\ntimeout = soon\n", r"\[health\] timeout must be a number of seconds"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(make_route_app, config, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        make_route_app(HANDLERS, config_extra=config)


def test_a_host_application_gets_the_probes_only_when_it_names_them():
    plain = Flask("host_without_probes")
    Framework(plain, config={})
    assert plain.test_client().get("/healthz").status_code == 404
    host = Flask("host_with_probes")

    @host.before_request
    def host_check() -> None:  # a host's own gate can let operational views through
        from flask import current_app, request

        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, "framework_operational", False):
            return "host gate", 401  # type: ignore[return-value]
        return None

    Framework(host, config={"health": {"live_path": "/live", "ready_path": "/ready"}})
    client = host.test_client()
    assert client.get("/live").status_code == 200
    assert client.get("/ready").get_json()["checks"] == {"database": "ok"}


def test_ready_fails_when_the_database_is_unreachable(make_route_app, caplog):
    caplog.set_level(logging.INFO, logger="framework.health")
    closed = free_port()
    app = make_route_app(
        HANDLERS,
        config_extra=f"[database]\nuri = postgresql+psycopg://nobody:secret@127.0.0.1:{closed}/none\n",
    )
    client = app.test_client()
    response = client.get("/readyz")
    assert _checks_failed(response) == {"database": "failed"}
    assert "secret" not in response.get_data(as_text=True)
    warned = [m for m in caplog.messages if m.startswith("readiness check 'database': ")]
    assert len(warned) == 1 and warned[0].startswith(
        "readiness check 'database': the database cannot be reached ("
    )
    assert "secret" not in warned[0]
    assert client.get("/healthz").status_code == 200  # alive all the same


def test_ready_fails_when_the_sqlite_file_cannot_open(make_route_app, tmp_path):
    missing = tmp_path / "no-such-folder" / "db.sqlite3"
    app = make_route_app(
        HANDLERS, config_extra=f"[database]\nuri = sqlite:///{missing}\nauto_create = false\n"
    )
    assert _checks_failed(app.test_client().get("/readyz")) == {"database": "failed"}


def test_a_database_that_never_answers_fails_in_bounded_time(make_route_app):
    # accepts connections (the kernel does) and never says a word
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    try:
        app = make_route_app(
            HANDLERS,
            config_extra=f"[database]\nuri = postgresql+psycopg://u:p@127.0.0.1:{port}/x\n"
            "[health]\ntimeout = 0.3\n",
        )
        client = app.test_client()
        for _ in range(3):  # each probe answers; the stuck check is not started again
            assert _checks_failed(client.get("/readyz")) == {"database": "timeout"}
        checks = [t for t in threading.enumerate() if t.name == "framework-check-database"]
        assert len(checks) == 1
    finally:
        silent.close()  # the stuck check's connection ends
    wait_until(
        lambda: not any(t.name == "framework-check-database" for t in threading.enumerate()),
        what="the stuck check to end",
    )


def test_ready_follows_redis_going_away_and_coming_back(make_route_app, caplog):
    from tests.redisserver import private_redis, redis_available

    if not redis_available():
        pytest.skip("redis-server is not installed")
    caplog.set_level(logging.INFO, logger="framework.health")
    with private_redis() as redis:
        app = make_route_app(HANDLERS, config_extra=f"[redis]\nurl = {redis.url(5)}\n")
        client = app.test_client()
        assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "redis": "ok"}
        redis.stop()
        assert _checks_failed(client.get("/readyz")) == {"database": "ok", "redis": "failed"}
        assert any("readiness check 'redis': Redis cannot be reached (" in m for m in caplog.messages)
        redis.start()
        wait_until(lambda: client.get("/readyz").status_code == 200, what="readyz to pass again")
        assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "redis": "ok"}
        back = [m for m in caplog.messages if m.startswith("readiness check 'redis': Redis answers again")]
        assert len(back) == 1 and back[0].endswith("; the check passes")


def test_rate_limits_leave_the_probes_alone(make_route_app):
    app = make_route_app(HANDLERS, config_extra="[ratelimit]\ndefault = 1/minute\n")
    client = app.test_client()
    assert [client.get("/hello").status_code for _ in range(2)] == [200, 429]
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
    assert [client.get("/readyz").status_code for _ in range(3)] == [200, 200, 200]


def test_a_projects_own_route_at_a_default_path_is_left_alone(make_route_app):
    own = HANDLERS + "\n@routes.get('/healthz')\ndef own_health(request):\n    return Text('mine')\n"
    client = make_route_app(own).test_client()
    assert client.get("/healthz").data == b"mine"
    assert client.get("/readyz").status_code == 200
