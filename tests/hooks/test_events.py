"""Hooks and events in one process: signals, Hooks, fw.event, execute_event, request events."""

from __future__ import annotations

import logging

import pytest
from werkzeug.test import EnvironBuilder

from framework import signals
from framework.hook import Hooks


def run_wsgi(app, path, method="GET"):
    """Call the WSGI app by hand; returns (status, headers, body iterator)."""
    environ = EnvironBuilder(path=path, method=method).get_environ()
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, headers

    body = app(environ, start_response)
    return started, body


def test_event_signals_are_named_once():
    assert signals.event("startup") is signals.startup
    assert signals.event("request_end") is signals.request_end
    assert signals.event("user_created") is signals.event("user_created")
    assert signals.event("user_created").name == "user_created"


def test_startup_fires_once_across_many_requests(events_app):
    client = events_app.app.test_client()
    for _ in range(25):
        assert client.get("/plain").status_code == 200
    assert events_app.events.count("startup") == 1
    assert events_app.events.index("startup") < events_app.events.index("handler")
    events_app.fw.startup()
    assert events_app.events.count("startup") == 1


def test_shutdown_fires_once_and_only_after_startup(events_app):
    events_app.fw.shutdown()
    assert "shutdown" not in events_app.events  # never started: nothing to shut down
    events_app.app.test_client().get("/plain")
    events_app.fw.shutdown()
    events_app.fw.shutdown()
    assert events_app.events.count("shutdown") == 1


def test_request_start_runs_before_the_handler_and_end_after(events_app):
    client = events_app.app.test_client()
    response = client.get("/plain")
    assert response.data == b"plain body"
    response.close()  # what a server does once the body is sent
    events = [e for e in events_app.events if e != "startup"]
    assert events == [("request_start", "/plain"), "handler", ("request_end", "/plain")]


def test_request_start_fires_once_when_an_async_view_refuses_early(events_app):
    response = events_app.app.test_client().get("/secure")  # plain HTTP on an only_ssl route
    assert response.status_code == 403
    response.close()
    events = [e for e in events_app.events if e != "startup"]
    assert events == [("request_start", "/secure"), ("request_end", "/secure")]


def test_request_end_fires_after_a_streamed_body_is_sent(events_app):
    started, body = run_wsgi(events_app.app, "/stream")
    assert started["status"] == "200 OK"
    chunks = []
    for chunk in body:
        chunks.append(chunk)
        assert ("request_end", "/stream") not in events_app.events  # still sending
    assert b"".join(chunks) == b"part0;part1;part2;"
    assert ("request_end", "/stream") not in events_app.events  # sent, not yet closed
    body.close()
    events = [e for e in events_app.events if e != "startup"]
    assert events == [
        ("request_start", "/stream"),
        "chunk 0",
        "chunk 1",
        "chunk 2",
        ("request_end", "/stream"),
    ]


def test_request_end_fires_for_a_file_sent_by_the_servers_file_wrapper(events_app):
    started, body = run_wsgi(events_app.app, "/file")
    assert started["status"] == "200 OK"
    assert b"".join(body) == b"file body"
    assert ("request_end", "/file") not in events_app.events
    body.close()
    assert events_app.events.count(("request_end", "/file")) == 1


@pytest.mark.parametrize("path, status", [("/boom", 500), ("/bad", 400), ("/missing", 404)])
def test_request_events_fire_for_error_responses(events_app, path, status):
    started, body = run_wsgi(events_app.app, path)
    assert started["status"].startswith(str(status))
    b"".join(body)
    body.close()
    assert events_app.events.count(("request_end", path)) == 1
    if path != "/missing":  # no route: Flask answers before any request hook of a view
        assert ("request_start", path) in events_app.events


@pytest.mark.parametrize("path", ["/users", "/users-sync", "/users-helper", "/users-awaited-helper"])
def test_custom_event_with_args_awaited_or_called_plainly(events_app, path):
    response = events_app.app.test_client().post(path, json={"username": "ann"})
    assert response.status_code == 200, response.data
    fired = [e for e in events_app.events if isinstance(e, tuple) and e[0].startswith("user_created")]
    assert fired == [("user_created", "ann"), ("user_created second", "ann")]


def test_execute_event_outside_a_request_both_ways(events_app):
    import asyncio

    fw = events_app.fw
    fired = fw.execute_event("user_created", {"username": "plain"})
    assert repr(fired) == "<event fired>"

    async def main():
        await fw.execute_event("user_created", {"username": "awaited"})

    asyncio.run(main())
    fired = [e[1] for e in events_app.events if isinstance(e, tuple) and e[0] == "user_created"]
    assert fired == ["plain", "awaited"]


def test_project_level_hooks_and_plain_receivers(events_app):
    fw = events_app.fw
    heard = []

    @fw.event("user_created")
    async def project_hook(username):
        heard.append(("project", username))

    def plain_receiver(sender, **kwargs):
        heard.append(("plain", sender is fw, kwargs))

    async def async_receiver(sender, **kwargs):
        heard.append(("async plain", kwargs))

    def start_receiver(sender):
        heard.append(("request_start", sender is fw))

    signals.event("user_created").connect(plain_receiver, sender=fw)
    signals.event("user_created").connect(async_receiver, sender=fw)
    signals.request_start.connect(start_receiver, sender=fw)
    try:
        events_app.app.test_client().post("/users", json={"username": "bo"})
        fw.execute_event("user_created", {"username": "cy"})
    finally:
        signals.event("user_created").disconnect(plain_receiver)
        signals.event("user_created").disconnect(async_receiver)
        signals.request_start.disconnect(start_receiver)
    assert heard == [
        ("request_start", True),
        ("project", "bo"),
        ("plain", True, {"username": "bo"}),
        ("async plain", {"username": "bo"}),
        ("project", "cy"),
        ("plain", True, {"username": "cy"}),
        ("async plain", {"username": "cy"}),
    ]


def test_hooks_of_another_project_are_not_called(events_app, project):
    other = project.create_app()  # same config, same app package, a second project
    other_fw = other.extensions["framework"]
    assert other_fw is not events_app.fw
    other_fw.execute_event("user_created", {"username": "x"})
    # the hooks run once per project that installed the app: only other_fw's fired
    assert events_app.events.count(("user_created", "x")) == 1


def test_a_failing_hook_is_logged_and_the_response_is_unchanged(project, caplog):
    name = project.app_module(
        "failing",
        {
            "main.py": """
            from framework.app import App
            from framework.hook import Hooks
            from framework.response import Text
            from framework.router import Routes

            routes = Routes()
            hooks = Hooks()
            ran = []

            @routes.get('/ok')
            def ok(request):
                return Text('still fine', headers={'X-Kept': 'yes'})

            @hooks.event('request_start')
            async def broken_start():
                raise ValueError('start hook bug')

            @hooks.event('request_start')
            def after_broken():
                ran.append('second hook ran')

            @hooks.event('request_end')
            def broken_end():
                raise KeyError('end hook bug')

            app = App(routes=[routes], hooks=[hooks])
        """
        },
    )
    project.config(f"[apps]\nactive = {name}\n")
    app = project.create_app()
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/ok")
        assert response.status_code == 200
        assert response.data == b"still fine"
        assert response.headers["X-Kept"] == "yes"
        response.close()
    import sys

    assert sys.modules[f"{name}.main"].ran == ["second hook ran"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("broken_start" in m and "'request_start'" in m for m in messages), messages
    assert any("broken_end" in m and "'request_end'" in m for m in messages), messages
    assert any(r.exc_info and "start hook bug" in str(r.exc_info[1]) for r in caplog.records)


def test_a_failing_startup_hook_raises_and_names_the_hook(project):
    name = project.app_module(
        "badstart",
        {
            "main.py": """
            from framework.app import App
            from framework.hook import Hooks

            hooks = Hooks()

            @hooks.event('startup')
            def connect_database():
                raise ConnectionError('database unreachable')

            app = App(hooks=[hooks])
        """
        },
    )
    project.config(f"[apps]\nactive = {name}\n")
    fw = project.create_app().extensions["framework"]
    with pytest.raises(ConnectionError, match="database unreachable") as info:
        fw.startup()
    assert any("connect_database" in note for note in info.value.__notes__)


def test_hooks_collects_in_order():
    hooks = Hooks()

    @hooks.event("a")
    def first():
        pass

    @hooks.event("b")
    async def second(x):
        pass

    assert list(hooks) == [("a", first), ("b", second)]
    assert len(hooks) == 2


def test_receivers_connected_or_dropped_between_requests_are_heard_or_not(events_app):
    """The request events reuse their receiver list between requests: a receiver connected
    after the first request is heard from the next one on, a disconnected one no longer, and
    a weakly connected one that was garbage collected is never called."""
    import gc

    client = events_app.app.test_client()
    heard: list[str] = []
    client.get("/sync").close()

    def strong(sender, **kwargs):
        heard.append("strong")

    signals.request_end.connect(strong, sender=events_app.fw, weak=False)
    client.get("/sync").close()
    assert heard == ["strong"]

    def weak(sender, **kwargs):
        heard.append("weak")

    signals.request_end.connect(weak)
    client.get("/sync").close()
    assert heard == ["strong", "weak", "strong"]  # receivers for any sender come first
    del weak
    gc.collect()
    client.get("/sync").close()
    assert heard == ["strong", "weak", "strong", "strong"]
    signals.request_end.disconnect(strong)
    client.get("/sync").close()
    assert heard == ["strong", "weak", "strong", "strong"]


def test_worker_init_fires_startup_then_freezes_the_loaded_heap(events_app):
    """gunicorn's post_worker_init: startup fires, then the worker's objects are frozen
    out of the cyclic collector (a plain Flask app is left alone)."""
    import gc
    from types import SimpleNamespace

    import flask

    from framework.serving import on_worker_init

    gc.unfreeze()
    try:
        on_worker_init(SimpleNamespace(wsgi=flask.Flask("plain"), log=logging.getLogger("test")))
        assert gc.get_freeze_count() == 0
        on_worker_init(SimpleNamespace(wsgi=events_app.app, log=logging.getLogger("test")))
        assert events_app.events.count("startup") == 1
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    events_app.fw.shutdown()


# ------------------------------------------------- the test client, as Flask users write tests
def test_request_end_fires_for_a_test_client_request_without_closing(events_app):
    response = events_app.app.test_client().get("/plain")
    assert response.status_code == 200
    events = [e for e in events_app.events if e != "startup"]
    assert events == [("request_start", "/plain"), "handler", ("request_end", "/plain")]
    assert response.data == b"plain body"  # the body is still there to read
    response.close()
    assert events_app.events.count(("request_end", "/plain")) == 1


def test_request_end_fires_for_a_test_client_head_request(events_app):
    events_app.app.test_client().head("/plain")
    assert events_app.events.count(("request_end", "/plain")) == 1


def test_request_end_fires_for_a_test_client_stream_once_it_is_read(events_app):
    response = events_app.app.test_client().get("/stream")
    assert ("request_end", "/stream") not in events_app.events  # not read yet
    assert response.data == b"part0;part1;part2;"
    assert events_app.events.count(("request_end", "/stream")) == 1
    response.close()
    assert events_app.events.count(("request_end", "/stream")) == 1


def test_request_end_fires_for_a_test_client_stream_closed_unread(events_app):
    with events_app.app.test_client().get("/stream") as response:
        assert response.status_code == 200
    assert events_app.events.count(("request_end", "/stream")) == 1


@pytest.mark.parametrize("path", ["/file", "/boom", "/bad"])
def test_request_end_fires_once_for_other_test_client_responses(events_app, path):
    response = events_app.app.test_client().get(path)
    assert events_app.events.count(("request_end", path)) == 1
    response.get_data()
    response.close()
    assert events_app.events.count(("request_end", path)) == 1


def test_a_host_apps_test_client_gets_request_end_too(project):
    from flask import Flask

    from framework import Framework

    name = project.app_module(
        "hosted",
        {
            "main.py": (
                "from framework.app import App\nfrom framework.router import Routes\n"
                "routes = Routes()\nroutes.get('/hosted')(lambda request: 'hosted')\n"
                "app = App(routes=[routes])\n"
            )
        },
    )
    project.config(f"[apps]\nactive = {name}\n")
    host = Flask("host")
    fw = Framework(host, root_path=str(project.root))
    seen = []
    fw.event("request_end")(lambda: seen.append("end"))
    assert host.test_client().get("/hosted").status_code == 200
    assert seen == ["end"]


def test_request_end_hooks_of_every_kind_run_in_order_and_a_failure_stops_none(project, caplog):
    """``request_end`` fires from plain code when the body closes: sync hooks, async ones
    (one waiting on the loop first), a hook returning an awaitable object, a plain blinker
    receiver and a failing async hook all run in order, the failure logged; a body closed
    twice fires the event once."""
    name = project.app_module(
        "ending",
        {
            "main.py": """
            import asyncio

            import flask

            from framework import signals
            from framework.app import App
            from framework.hook import Hooks
            from framework.response import Text
            from framework.router import Routes

            routes = Routes()
            hooks = Hooks()
            ran = []

            class Later:
                def __await__(self):
                    yield from asyncio.sleep(0).__await__()
                    ran.append('awaitable object')

            @routes.get('/end')
            def end(request):
                return Text('ended')

            @hooks.event('request_end')
            def first():
                ran.append(('sync', flask.request.path))

            @hooks.event('request_end')
            async def waits():
                await asyncio.sleep(0)
                ran.append(('async', flask.request.path, asyncio.current_task() is not None))

            @hooks.event('request_end')
            async def broken():
                await asyncio.sleep(0)
                raise LookupError('end hook bug')

            @hooks.event('request_end')
            def gives_an_awaitable():
                return Later()

            @hooks.event('request_end')
            def returns_none():
                ran.append('none')
                return None

            def plain(sender, **kwargs):
                ran.append(('plain', kwargs))

            app = App(routes=[routes], hooks=[hooks])
            """
        },
    )
    project.config(f"[apps]\nactive = {name}\n")
    app = project.create_app()
    import sys

    module = sys.modules[f"{name}.main"]
    fw = app.extensions["framework"]
    signals.request_end.connect(module.plain, sender=fw)
    try:
        with caplog.at_level(logging.ERROR):
            started, body = run_wsgi(app, "/end")
            assert b"".join(body) == b"ended" and module.ran == []
            body.close()
            body.close()
    finally:
        signals.request_end.disconnect(module.plain)
    assert module.ran == [
        ("sync", "/end"),
        ("async", "/end", True),
        "awaitable object",
        "none",
        ("plain", {}),
    ]
    failures = [r for r in caplog.records if r.exc_info]
    assert len(failures) == 1 and "broken" in failures[0].getMessage()
    assert isinstance(failures[0].exc_info[1], LookupError)
