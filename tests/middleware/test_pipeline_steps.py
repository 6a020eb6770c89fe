"""The request's way (framework.pipeline): each step once, in order, whoever answers.

A refusal (host or size check), an error in a handler, an async or a sync route, or a URL
that is no framework route's: the response layer sees the answer exactly once, and
``request_start``/``request_end`` fire at most once each.
"""

from __future__ import annotations

import importlib

import pytest

MODULE = """
    from framework.app import App
    from framework.hook import Hooks
    from framework.middleware import Middleware
    from framework.response import Text
    from framework.router import Routes

    TRAIL = []
    routes = Routes()
    hooks = Hooks()


    class Seen(Middleware):
        def process_request(self, request):
            TRAIL.append('request layer')
            return request, None

        def process_response(self, request, response):
            TRAIL.append(('response layer', response.status_code))
            response.headers['X-Seen'] = response.headers.get('X-Seen', '') + 'once;'
            return response


    class AsyncSeen(Middleware):
        async def process_response(self, request, response):
            TRAIL.append(('async response layer', response.status_code))
            response.headers['X-Seen'] = response.headers.get('X-Seen', '') + 'async;'
            return response


    @routes.route('/sync', methods=['GET', 'POST'])
    def sync_route(request):
        TRAIL.append('handler')
        return Text('sync')


    @routes.route('/async', methods=['GET', 'POST'])
    async def async_route(request):
        TRAIL.append('handler')
        return Text('async')


    @routes.get('/broken')
    async def broken(request):
        TRAIL.append('handler')
        raise RuntimeError('handler bug')


    @routes.get('/https-only', only_ssl=True)
    async def https_only(request):
        TRAIL.append('handler')
        return Text('secret')


    @hooks.event('request_start')
    async def started():
        TRAIL.append('request_start')


    @hooks.event('request_end')
    def ended():
        TRAIL.append('request_end')


    app = App(routes=[routes], hooks=[hooks])
"""


@pytest.fixture(params=["Seen", "Seen AsyncSeen"])
def steps_app(project, request):
    name = project.app_module("steps", {"main.py": MODULE})
    active = "".join(f"\n    {name}.main.{m}" for m in request.param.split())
    project.config(
        f"[apps]\nactive = {name}\n[middlewares]\nactive ={active}\n"
        "[networking]\nallowed_hosts = good.example\n"
        "[flask]\nsecret_key = pipeline-tests-only\nmax_content_length = 16\n"
    )
    app = project.create_app()
    app.trail = importlib.import_module(f"{name}.main").TRAIL
    app.layers = len(request.param.split())
    return app


def _get(app, path, method="GET", host="good.example", **kwargs):
    app.trail.clear()
    response = app.test_client().open(path, method=method, headers={"Host": host}, **kwargs)
    response.close()
    return response


def _responses_seen(app):
    return [step for step in app.trail if isinstance(step, tuple)]


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_a_route_takes_each_step_once_in_order(steps_app, path):
    response = _get(steps_app, path)
    assert response.status_code == 200
    assert steps_app.trail[:3] == ["request_start", "request layer", "handler"]
    assert len(_responses_seen(steps_app)) == steps_app.layers
    assert steps_app.trail[-1] == "request_end"
    assert response.headers["X-Seen"].count(";") == steps_app.layers


@pytest.mark.parametrize("path", ["/sync", "/async", "/nowhere"])
def test_a_refused_host_is_answered_once_through_the_response_layer(steps_app, path):
    response = _get(steps_app, path, host="evil.example")
    assert response.status_code == 400
    assert response.json["code"] == 1003
    assert "request_start" not in steps_app.trail and "handler" not in steps_app.trail
    assert len(_responses_seen(steps_app)) == steps_app.layers
    assert steps_app.trail.count("request_end") == 1


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_a_body_over_the_limit_is_refused_before_the_handler(steps_app, path):
    response = _get(steps_app, path, method="POST", data=b"x" * 64)
    assert response.status_code == 413
    assert "handler" not in steps_app.trail
    assert len(_responses_seen(steps_app)) == steps_app.layers


@pytest.mark.parametrize(("path", "status"), [("/broken", 500), ("/https-only", 403), ("/nowhere", 404)])
def test_an_error_answer_goes_through_the_response_layer_once(steps_app, path, status):
    response = _get(steps_app, path)
    assert response.status_code == status
    assert response.json["status"] == "error"
    assert steps_app.trail.count("request_start") == 1
    assert [code for _, code in _responses_seen(steps_app)] == [status] * steps_app.layers
    assert response.headers["X-Seen"].count(";") == steps_app.layers
    assert steps_app.trail[-1] == "request_end"
