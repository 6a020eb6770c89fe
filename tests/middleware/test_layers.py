"""The four middleware layers: order, chaining, sync/async, static/instance, short-circuits."""

from __future__ import annotations

import importlib

import pytest

from framework.config import ImproperlyConfigured

MIDDLEWARES = """
    import asyncio

    from framework.exception import Unauthorized
    from framework.middleware import Middleware
    from framework.response import JSON, Text

    SEEN = []


    class WrapApp:
        def __init__(self, application, label):
            self.application, self.label = application, label

        def __call__(self, environ, start_response):
            environ.setdefault('test.apps', []).append(self.label)
            return self.application(environ, start_response)


    class First(Middleware):
        # instance methods, sync
        def setup(self, fw):
            SEEN.append(('setup', fw.config['custom']['flag']))

        def process_application(self, application):
            SEEN.append(('app first', application))
            self.wrapped = WrapApp(application, 'first')
            return self.wrapped

        def process_request(self, request):
            request.context.setdefault('trail', []).append('first')
            if request.headers.get('X-Stop') == 'first':
                return request, Text('stopped by first', status=403)
            if request.headers.get('X-Deny'):
                raise Unauthorized({'message': 'token missing'})
            if request.headers.get('X-Crash'):
                raise RuntimeError('middleware bug')
            return request, None

        def process_handler(self, request, handler):
            async def wrapped(request):
                if asyncio.iscoroutinefunction(handler):
                    response = await handler(request)
                else:
                    response = handler(request)
                response.headers['X-Handler'] = 'first(' + response.headers.get('X-Handler', 'h') + ')'
                return response
            return wrapped

        def process_response(self, request, response):
            response.headers['X-Response'] = response.headers.get('X-Response', '') + 'first;'
            return response


    class Second(Middleware):
        # static methods, async (Backendpy's style)
        @staticmethod
        def process_application(application):
            SEEN.append(('app second', application))
            return WrapApp(application, 'second')

        @staticmethod
        async def process_request(request):
            await asyncio.sleep(0)
            request.context.setdefault('trail', []).append('second')
            if request.headers.get('X-Stop') == 'second':
                return request, Text('stopped by second', status=409)
            return request, None

        @staticmethod
        async def process_handler(request, handler):
            if request.headers.get('X-Replace-Handler'):
                async def replacement(request):
                    return Text('from the replacement handler')
                return replacement
            return handler

        @staticmethod
        async def process_response(request, response):
            response.headers['X-Response'] = response.headers.get('X-Response', '') + 'second;'
            if request.headers.get('X-Replace-Response'):
                replaced = JSON({'replaced': response.status_code})
                replaced.headers['X-Response'] = 'replaced;'
                return replaced
            return response


    class Third(Middleware):
        # class methods, mixed sync/async
        @classmethod
        def process_request(cls, request):
            request.context.setdefault('trail', []).append('third')
            return request, None

        @classmethod
        async def process_response(cls, request, response):
            response.headers['X-Response'] = response.headers.get('X-Response', '') + 'third;'
            return response
"""

HANDLERS = """
    import flask

    from framework.exception import BadRequest
    from framework.response import JSON, Text
    from framework.router import Routes

    CALLS = []
    routes = Routes()


    @routes.get('/trail')
    async def trail(request):
        CALLS.append('trail')
        return JSON({'trail': request.context['trail'],
                     'apps': flask.request.environ.get('test.apps')})


    @routes.get('/sync')
    def sync(request):
        CALLS.append('sync')
        return Text('sync handler')


    @routes.get('/boom')
    def boom(request):
        raise RuntimeError('handler bug')


    @routes.get('/bad')
    async def bad(request):
        raise BadRequest({'message': 'bad input'})
"""


@pytest.fixture
def mw_app(project):
    module = project.module("mw.py", MIDDLEWARES)
    app_name = project.app_module(
        "web",
        {
            "handlers.py": HANDLERS,
            "main.py": "from framework.app import App\nfrom .handlers import routes\n"
            "app = App(routes=[routes])\n",
        },
    )

    def build(*names: str):
        active = "".join(f"\n    {module}.{n}" for n in names)
        project.config(f"[apps]\nactive = {app_name}\n[middlewares]\nactive ={active}\n[custom]\nflag = on\n")
        app = project.create_app()
        app.mw = importlib.import_module(module)
        app.handlers = importlib.import_module(f"{app_name}.handlers")
        return app

    return build


def test_request_layer_runs_in_list_order_feeding_the_context(mw_app):
    app = mw_app("First", "Second", "Third")
    response = app.test_client().get("/trail")
    assert response.status_code == 200
    assert response.json["trail"] == ["first", "second", "third"]
    app = mw_app("Third", "First", "Second")
    assert app.test_client().get("/trail").json["trail"] == ["third", "first", "second"]


def test_application_layer_wraps_in_list_order_each_output_feeding_the_next(mw_app):
    app = mw_app("First", "Second")
    seen = app.mw.SEEN
    assert seen[0] == ("setup", "on")  # setup(fw) ran once, before any layer
    (label1, given1), (label2, given2) = seen[1], seen[2]
    assert (label1, label2) == ("app first", "app second")
    assert isinstance(given2, app.mw.WrapApp) and given2.label == "first"  # first's output fed second
    assert given2.application is given1
    # the request meets the outermost (last applied) wrapper first
    assert app.test_client().get("/trail").json["apps"] == ["second", "first"]


def test_response_layer_runs_in_list_order(mw_app):
    app = mw_app("First", "Second", "Third")
    response = app.test_client().get("/sync")
    assert response.data == b"sync handler"
    assert response.headers["X-Response"] == "first;second;third;"


def test_handler_layer_wraps_and_replaces_the_handler(mw_app):
    app = mw_app("First", "Second")
    client = app.test_client()
    response = client.get("/sync")
    assert response.data == b"sync handler"
    assert response.headers["X-Handler"] == "first(h)"
    replaced = client.get("/sync", headers={"X-Replace-Handler": "1"})
    assert replaced.data == b"from the replacement handler"
    assert "X-Handler" not in replaced.headers  # second replaced what first had wrapped
    assert app.handlers.CALLS == ["sync"]


def test_short_circuit_with_a_response_skips_later_layers_and_the_handler(mw_app):
    app = mw_app("First", "Second", "Third")
    client = app.test_client()
    response = client.get("/trail", headers={"X-Stop": "second"})
    assert response.status_code == 409
    assert response.data == b"stopped by second"
    response = client.get("/trail", headers={"X-Stop": "first"})
    assert (response.status_code, response.data) == (403, b"stopped by first")
    assert app.handlers.CALLS == []
    # the response layer still sees a short-circuited response
    assert response.headers["X-Response"] == "first;second;third;"


def test_raising_an_exception_response_in_a_request_middleware(mw_app):
    app = mw_app("First", "Second")
    response = app.test_client().get("/trail", headers={"X-Deny": "1"})
    assert response.status_code == 401
    assert response.json == {"message": "token missing"}
    assert app.handlers.CALLS == []


def test_a_middleware_bug_is_a_500_envelope_without_internals(mw_app):
    app = mw_app("First")
    response = app.test_client().get("/trail", headers={"X-Crash": "1"})
    assert response.status_code == 500
    assert response.json["code"] == 1000
    assert b"middleware bug" not in response.data


@pytest.mark.parametrize("path, status", [("/boom", 500), ("/bad", 400), ("/nowhere", 404)])
def test_response_layer_sees_and_may_replace_error_responses(mw_app, path, status):
    app = mw_app("First", "Second", "Third")
    client = app.test_client()
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["X-Response"] == "first;second;third;"
    replaced = client.get(path, headers={"X-Replace-Response": "1"})
    assert replaced.status_code == 200
    assert replaced.json == {"replaced": status}
    assert replaced.headers["X-Response"] == "replaced;third;"


def test_async_request_middlewares_with_a_sync_handler(mw_app):
    app = mw_app("Second")
    client = app.test_client()
    for _ in range(3):  # the loop is reused, nothing stays pending
        assert client.get("/sync").data == b"sync handler"
    assert app.handlers.CALLS == ["sync"] * 3


def test_a_middleware_path_that_does_not_resolve_stops_start_up(project):
    project.config("[middlewares]\nactive = nowhere.to.be.Found\n")
    with pytest.raises(ImproperlyConfigured, match="nowhere.to.be.Found"):
        project.create_app()
