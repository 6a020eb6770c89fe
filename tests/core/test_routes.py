"""Apps and routes: decorators, the list form, URL variables, priority, only_ssl."""

from __future__ import annotations

import uuid

import pytest

from framework.router import Route, Routes

HANDLERS = """
    from framework.router import Routes, Route
    from framework.response import Text, JSON
    routes = Routes()

    @routes.get('/m/get')
    def m_get(request): return Text(request.method)
    @routes.post('/m/post')
    def m_post(request): return Text(request.method)
    @routes.put('/m/put')
    def m_put(request): return Text(request.method)
    @routes.patch('/m/patch')
    def m_patch(request): return Text(request.method)
    @routes.delete('/m/delete')
    def m_delete(request): return Text(request.method)
    @routes.head('/m/head')
    def m_head(request): return Text('')
    @routes.options('/m/options')
    def m_options(request): return Text('options here')
    @routes.route('/m/multi', ('GET', 'POST'))
    async def m_multi(request): return Text(request.method)

    def listed(request): return Text('listed')
    routes.append(Route('/listed', ('GET',), listed))

    @routes.get('/vars/<name>/<n:int>/<x:float>/<u:uuid>')
    def typed(request): return JSON({k: [v, type(v).__name__] for k, v in request.url_vars.items()})

    @routes.get('/users/<id>')
    def by_id(request): return Text('variable ' + request.url_vars['id'])
    @routes.get('/users/posts')
    def posts(request): return Text('literal')

    @routes.get('/first/<a>')
    def first(request): return Text('first')
    @routes.get('/first/<b>')
    def second(request): return Text('second')

    @routes.get('/secure', only_ssl=True)
    def secure(request): return Text('secret')

    @routes.get('/plain/str')
    def plain_str(request): return 'a plain string'
    @routes.get('/plain/dict')
    def plain_dict(request): return {'a': 1}
    @routes.get('/plain/tuple')
    def plain_tuple(request): return 'created', 201

    @routes.get('/plain/awaitable')
    def plain_awaitable(request):
        async def later(): return Text('awaited')
        return later()
    @routes.get('/plain/raises')
    def plain_raises(request): raise RuntimeError('boom')
"""


@pytest.fixture
def client(make_route_app):
    return make_route_app(HANDLERS).test_client()


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_decorators(client, method):
    response = getattr(client, method)(f"/m/{method}")
    assert response.status_code == 200
    assert response.text == method.upper()
    other = "post" if method != "post" else "get"
    assert getattr(client, other)(f"/m/{method}").status_code == 405


def test_head_and_options_decorators(client):
    assert client.head("/m/head").status_code == 200
    assert client.options("/m/options").text == "options here"


def test_route_decorator_with_several_methods(client):
    assert client.get("/m/multi").text == "GET"
    assert client.post("/m/multi").text == "POST"


def test_list_form(client):
    assert client.get("/listed").text == "listed"


def test_url_variables_match_by_type_and_arrive_as_strings(client):
    u = str(uuid.uuid4())
    body = client.get(f"/vars/bob/42/1.50/{u}").json
    assert body == {"name": ["bob", "str"], "n": ["42", "str"], "x": ["1.50", "str"], "u": [u, "str"]}
    assert client.get(f"/vars/bob/4x2/1.5/{u}").status_code == 404
    assert client.get(f"/vars/bob/42/abc/{u}").status_code == 404
    assert client.get("/vars/bob/42/1.5/not-a-uuid").status_code == 404


def test_literal_route_wins_whatever_the_order(client):
    assert client.get("/users/posts").text == "literal"
    assert client.get("/users/7").text == "variable 7"


def test_definition_order_between_equal_routes(client):
    assert client.get("/first/x").text == "first"


def test_only_ssl(client):
    response = client.get("/secure")
    assert response.status_code == 403
    assert response.json["status"] == "error"
    assert client.get("/secure", base_url="https://localhost").text == "secret"


def test_only_ssl_ignores_forwarded_proto_unless_proxies_are_trusted(make_route_app):
    untrusted = make_route_app(HANDLERS).test_client()
    assert untrusted.get("/secure", headers={"X-Forwarded-Proto": "https"}).status_code == 403


def test_only_ssl_trusts_configured_proxy(make_route_app):
    client = make_route_app(HANDLERS, config_extra="[networking]\ntrusted_proxies = 1\n").test_client()
    assert client.get("/secure", headers={"X-Forwarded-Proto": "https"}).text == "secret"


def test_plain_flask_return_values(client):
    assert client.get("/plain/str").text == "a plain string"
    assert client.get("/plain/dict").json == {"a": 1}
    response = client.get("/plain/tuple")
    assert (response.status_code, response.text) == (201, "created")


def test_routes_collection_operations():
    def h(request):
        return "x"

    a = Routes(Route("/a", ("GET",), h))
    b = Routes()
    b.get("/b")(h)
    merged = a + b
    assert [r.path for r in merged] == ["/a", "/b"]
    assert [r.path for r in a.merge(b)] == ["/a", "/b"]
    a.extend(b)
    assert len(a) == 2 and [r.methods for r in a] == [("GET",), ("GET",)]


def test_several_routes_objects_in_one_app(project):
    name = project.app_module(
        "multi",
        {
            "v1.py": "from framework.router import Routes\nroutes = Routes()\n"
            "@routes.get('/v1')\ndef v(request): return 'one'\n",
            "v2.py": "from framework.router import Routes\nroutes = Routes()\n"
            "@routes.get('/v2')\ndef v(request): return 'two'\n",
            "main.py": "from framework.app import App\nfrom .v1 import routes as r1\n"
            "from .v2 import routes as r2\napp = App(routes=[r1, r2])\n",
        },
    )
    project.config(f"[apps]\nactive = {name}\n")
    client = project.create_app().test_client()
    assert client.get("/v1").text == "one"
    assert client.get("/v2").text == "two"


def test_def_handler_returning_an_awaitable_is_answered_with_its_result(client):
    response = client.get("/plain/awaitable")
    assert (response.status_code, response.text) == (200, "awaited")


def test_def_handler_raising_answers_the_500_envelope(client):
    response = client.get("/plain/raises")
    assert response.status_code == 500
    assert response.json["status"] == "error"
    assert "boom" not in response.text


PLAIN_AND_ASYNC = """
    from framework.router import Routes
    from framework.response import Text
    routes = Routes()

    @routes.post('/plain')
    def plain(request): return Text('plain ran')
    @routes.post('/async')
    async def in_async(request): return Text('async ran')
"""


@pytest.mark.parametrize("path", ["/plain", "/async"])
def test_host_and_size_refusals_without_middlewares(make_route_app, path):
    """A ``def`` route with no middleware runs its steps as plain calls, an ``async def``
    one through the step driver: both refuse a host off the list and a body over the limit
    before the handler runs."""
    app = make_route_app(
        PLAIN_AND_ASYNC,
        config_extra="[networking]\nallowed_hosts = example.com\n[flask]\nmax_content_length = 8\n",
    )
    client = app.test_client()
    host = {"HTTP_HOST": "example.com"}
    assert client.post(path, data=b"small", environ_overrides=host).status_code == 200
    refused = client.post(path, data=b"small", environ_overrides={"HTTP_HOST": "evil.com"})
    assert (refused.status_code, refused.json["code"]) == (400, 1003)
    too_large = client.post(path, data=b"x" * 9, environ_overrides=host)
    assert (too_large.status_code, too_large.json["code"]) == (413, 1005)
