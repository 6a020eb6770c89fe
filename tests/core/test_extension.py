"""Extension mode: the framework added to an existing Flask app."""

from __future__ import annotations

import flask
import pytest
from flask.json.provider import DefaultJSONProvider

from framework import Framework, ImproperlyConfigured
from framework.signals import request_start

HANDLERS = """
    import flask
    from framework.router import Routes
    from framework.response import JSON
    routes = Routes()

    @routes.get('/fw/hello')
    async def hello(request):
        return JSON({'hello': request.app.config['custom']['name'],
                     'host_g': getattr(flask.g, 'host_marker', None)})

    @routes.get('/fw/boom')
    def boom(request):
        raise RuntimeError('secret detail')
"""


class ShoutingJSON(DefaultJSONProvider):
    def dumps(self, obj, **kwargs):
        return super().dumps(obj, **kwargs).upper()


def make_host() -> flask.Flask:
    host = flask.Flask("host_app")
    host.json = ShoutingJSON(host)
    calls = host.config.setdefault("CALLS", [])

    @host.before_request
    def mark():
        flask.g.host_marker = "set"
        calls.append(("before", flask.request.path))

    @host.after_request
    def after(response):
        response.headers["X-Host-After"] = "yes"
        return response

    @host.errorhandler(404)
    def host_404(exc):
        return "host says not found", 404

    @host.errorhandler(500)
    def host_500(exc):
        return "host says server error", 500

    @host.get("/own")
    def own():
        return {"own": "route"}

    @host.get("/own-boom")
    def own_boom():
        raise RuntimeError("host failure")

    return host


@pytest.fixture
def app_name(project):
    return project.app_module(
        "ext",
        {
            "handlers.py": HANDLERS,
            "main.py": (
                "from framework.app import App\nfrom .handlers import routes\napp = App(routes=[routes])\n"
            ),
        },
    )


def test_constructor_form_and_host_behaviour_kept(app_name):
    host = make_host()
    fw = Framework(host, config={"apps": {"active": [app_name]}, "custom": {"name": "ext"}})
    assert host.extensions["framework"] is fw
    client = host.test_client()

    own = client.get("/own")
    assert own.data == b'{"OWN":"ROUTE"}\n'  # the host's JSON provider
    assert own.headers["X-Host-After"] == "yes"
    assert client.get("/nowhere").text == "host says not found"  # the host's 404 handler
    assert client.get("/own-boom").text == "host says server error"

    hello = client.get("/fw/hello")
    assert hello.json == {"hello": "ext", "host_g": "set"}  # host before_request still runs
    assert hello.headers["X-Host-After"] == "yes"

    boom = client.get("/fw/boom")  # the framework's envelope on its own routes
    assert boom.status_code == 500
    assert boom.json == {"status": "error", "code": 1000, "message": "Server error"}


def test_init_app_form_with_host_config(app_name):
    host = make_host()
    host.config["FRAMEWORK"] = {"apps": {"active": [app_name]}, "custom": {"name": "from-host"}}
    fw = Framework()
    fw.init_app(host)
    assert host.test_client().get("/fw/hello").json["hello"] == "from-host"
    with pytest.raises(RuntimeError, match="already bound"):
        fw.init_app(make_host())


def test_config_from_an_ini_folder(app_name, project):
    project.config(f"[apps]\nactive = {app_name}\n[custom]\nname = from-ini\n")
    host = make_host()
    Framework(host, root_path=str(project.root))
    assert host.test_client().get("/fw/hello").json["hello"] == "from-ini"


def test_two_apps_in_one_process_keep_separate_state(app_name):
    first, second = make_host(), make_host()
    fw1 = Framework(first, config={"apps": {"active": [app_name]}, "custom": {"name": "one"}})
    fw2 = Framework(second, config={"apps": {"active": [app_name]}, "custom": {"name": "two"}})
    assert first.test_client().get("/fw/hello").json["hello"] == "one"
    assert second.test_client().get("/fw/hello").json["hello"] == "two"
    fw1.context["x"] = 1
    assert "x" not in fw2.context

    heard = []

    def listener(sender, **kwargs):
        heard.append(sender)

    request_start.connect(listener, sender=fw1)
    try:
        second.test_client().get("/fw/hello")
        first.test_client().get("/fw/hello")
    finally:
        request_start.disconnect(listener, sender=fw1)
    assert heard == [fw1]


def test_framework_events_only_for_framework_routes(app_name):
    host = make_host()
    fw = Framework(host, config={"apps": {"active": [app_name]}, "custom": {"name": "x"}})
    heard = []

    def listener(sender, **kwargs):
        heard.append(flask.request.path)

    request_start.connect(listener, sender=fw)
    try:
        client = host.test_client()
        client.get("/own")
        client.get("/fw/hello")
    finally:
        request_start.disconnect(listener, sender=fw)
    assert heard == ["/fw/hello"]


def test_a_second_framework_on_one_app_is_refused(app_name):
    host = make_host()
    Framework(host, config={})
    with pytest.raises(ImproperlyConfigured, match="already has a Framework"):
        Framework(host, config={})
