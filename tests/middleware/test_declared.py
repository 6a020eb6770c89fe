"""Middlewares declare their layers; a misspelt layer method stops start-up."""

from __future__ import annotations

import importlib

import pytest

from framework.config import ImproperlyConfigured
from framework.middleware import LAYERS, Middleware, declared_layers

HANDLERS = """
    from framework.response import JSON
    from framework.router import Routes

    routes = Routes()


    @routes.get('/who')
    async def who(request):
        return JSON({'auth': request.context.get('auth'), 'trail': request.context.get('trail', [])})
"""

# Written the way Backendpy's documentation shows middlewares: static methods, the
# request-path ones async, importing Middleware and the exception responses by their
# Backendpy module names (framework.* here). Nothing in them knows about declared layers.
PORTED = """
    from framework.exception import BadRequest
    from framework.middleware import Middleware

    APPLIED = []


    class MyMiddleware(Middleware):

        @staticmethod
        def process_application(application):
            APPLIED.append(application)
            return application

        @staticmethod
        async def process_request(request):
            request.context.setdefault('trail', []).append('request')
            return request, None

        @staticmethod
        async def process_handler(request, handler):
            request.context.setdefault('trail', []).append('handler')
            return handler

        @staticmethod
        async def process_response(request, response):
            response.headers['X-Ported'] = 'yes'
            return response


    class AuthMiddleware(Middleware):

        @staticmethod
        async def process_request(request):
            auth_token = request.headers.get('authorization')
            if auth_token != 'token-7':
                raise BadRequest({'error': 'Invalid auth token'})
            request.context['auth'] = {'user_id': 7, 'user_roles': ['admin']}
            return request, None
"""

DECLARED = """
    from framework.middleware import Middleware

    SETUP = []


    class Stamp(Middleware):
        def process_response(self, request, response):
            response.headers['X-Stamp'] = self._process_stamp()
            return response

        def _process_stamp(self):  # a private helper may use the prefix
            return 'stamped'

        def process_request(self, request):
            request.context.setdefault('trail', []).append('stamp')
            return request, None


    class QuietStamp(Stamp):
        process_request = None  # drops the request layer it inherits


    class Duck:
        # not a Middleware: its layers are found at start-up, by the same rule
        def setup(self, fw):
            SETUP.append('duck')

        async def process_request(self, request):
            request.context.setdefault('trail', []).append('duck')
            return request, None


    class MisspeltDuck:
        def setup(self, fw):
            SETUP.append('misspelt duck')

        def process_respone(self, request, response):
            return response


    duck_instance = Duck()
"""

MISSPELT = """
    from framework.middleware import Middleware


    class Typo(Middleware):
        def process_requests(self, request):
            return request, None
"""


@pytest.fixture
def build(project):
    modules = {
        name: project.module(f"{name.lower()}.py", text)
        for name, text in (("Ported", PORTED), ("Declared", DECLARED), ("Misspelt", MISSPELT))
    }
    app_name = project.app_module(
        "web",
        {
            "handlers.py": HANDLERS,
            "main.py": "from framework.app import App\nfrom .handlers import routes\n"
            "app = App(routes=[routes])\n",
        },
    )

    def make(*paths: str):
        active = "".join(f"\n    {modules[p.split('.')[0]]}.{p.split('.', 1)[1]}" for p in paths)
        project.config(f"[apps]\nactive = {app_name}\n[middlewares]\nactive ={active}\n")
        return project.create_app()

    make.module = lambda name: importlib.import_module(modules[name])
    return make


def test_a_misspelt_layer_method_stops_start_up_with_one_message(build):
    with pytest.raises(ImproperlyConfigured) as caught:
        build("Declared.Stamp", "Misspelt.Typo")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("[middlewares] active: ")
    assert "misspelt.Typo" in message and "'process_requests' is not a middleware layer" in message
    assert all(name in message for name in LAYERS)


def test_a_misspelt_method_of_an_object_that_is_no_middleware_class_stops_start_up(build):
    with pytest.raises(ImproperlyConfigured) as caught:
        build("Declared.MisspeltDuck")
    message = str(caught.value)
    assert "MisspeltDuck" in message and "process_respone" in message
    assert "process_response" in message
    # checked before the middleware's setup(fw) ran
    assert "misspelt duck" not in build.module("Declared").SETUP


def test_the_error_comes_at_class_creation_for_a_middleware_subclass():
    with pytest.raises(ImproperlyConfigured, match="'process_reponse' is not a middleware layer"):

        class Bad(Middleware):
            def process_reponse(self, request, response):
                return response

    with pytest.raises(ImproperlyConfigured, match="'layers' is computed"):

        class Declares(Middleware):
            layers = frozenset({"process_request"})

    with pytest.raises(ImproperlyConfigured, match="process_request must be a method"):

        class NotAMethod(Middleware):
            process_request = "yes"


def test_a_middleware_class_records_the_layers_it_defines(build):
    declared = build.module("Declared")
    ported = build.module("Ported")
    assert declared.Stamp.layers == {"process_request", "process_response"}
    assert declared.QuietStamp.layers == {"process_response"}
    assert ported.MyMiddleware.layers == set(LAYERS)
    assert ported.AuthMiddleware.layers == {"process_request"}
    assert declared_layers(declared.Duck()) == {"process_request"}
    assert Middleware.layers == frozenset()


def test_declared_layers_run_and_dropped_ones_do_not(build):
    client = build("Declared.Stamp").test_client()
    reply = client.get("/who")
    assert reply.headers["X-Stamp"] == "stamped" and reply.json["trail"] == ["stamp"]

    client = build("Declared.QuietStamp").test_client()
    reply = client.get("/who")
    assert reply.headers["X-Stamp"] == "stamped" and reply.json["trail"] == []


def test_an_object_that_is_no_middleware_class_still_runs(build):
    client = build("Declared.duck_instance", "Declared.Stamp").test_client()
    assert client.get("/who").json["trail"] == ["duck", "stamp"]
    assert "duck" in build.module("Declared").SETUP


def test_a_middleware_ported_from_the_backendpy_docs_runs_unchanged(build):
    app = build("Ported.MyMiddleware", "Ported.AuthMiddleware")
    client = app.test_client()
    assert build.module("Ported").APPLIED  # the application layer ran at start-up
    reply = client.get("/who", headers={"Authorization": "token-7"})
    assert reply.status_code == 200
    assert reply.json == {"auth": {"user_id": 7, "user_roles": ["admin"]}, "trail": ["request", "handler"]}
    assert reply.headers["X-Ported"] == "yes"
    refused = client.get("/who", headers={"Authorization": "wrong"})
    assert refused.status_code == 400
    assert refused.json == {"error": "Invalid auth token"}
    assert refused.headers["X-Ported"] == "yes"


def test_layer_methods_set_on_an_instance_only_are_an_error():
    class Sneaky(Middleware):
        def __init__(self):
            self.process_request = lambda request: (request, None)

    with pytest.raises(ImproperlyConfigured, match="define layer methods in the class"):
        declared_layers(Sneaky())
