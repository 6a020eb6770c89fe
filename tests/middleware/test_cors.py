"""CORSMiddleware: preflights, headers on every response (errors too), origin rules."""

from __future__ import annotations

import pytest

from framework.config import ImproperlyConfigured

CORS = "framework.middleware.defaults.cors.CORSMiddleware"

HANDLERS = """
    from framework.exception import BadRequest
    from framework.response import JSON, Text
    from framework.router import Routes

    CALLS = []
    routes = Routes()


    @routes.get('/items')
    async def items(request):
        CALLS.append('items')
        return JSON([1, 2], headers={'X-Total-Count': '2'}, compress=True)


    @routes.post('/items')
    def create(request):
        CALLS.append('create')
        raise BadRequest({'message': 'name is required'})


    @routes.get('/boom')
    def boom(request):
        raise RuntimeError('bug')
"""


@pytest.fixture
def cors_app(project):
    name = project.app_module(
        "web",
        {
            "handlers.py": HANDLERS,
            "main.py": "from framework.app import App\nfrom .handlers import routes\n"
            "app = App(routes=[routes])\n",
        },
    )

    def build(cors: str):
        project.config(f"[apps]\nactive = {name}\n[middlewares]\nactive = {CORS}\n[cors]\n{cors}")
        return project.create_app().test_client()

    return build


LISTED = """allowed_origins =
    https://app.example.com
    http://localhost:3000
allowed_methods =
    GET
    POST
    DELETE
allowed_headers =
    Authorization
    Content-Type
expose_headers = X-Total-Count
max_age = 120
"""

ALLOWED = "https://app.example.com"
EVIL = "https://evil.example.net"


def preflight(client, origin, method="DELETE", headers="authorization, content-type", path="/items"):
    environ = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
    if headers:
        environ["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return client.options(path, environ_base=environ)


def test_preflight_from_an_allowed_origin(cors_app):
    client = cors_app(LISTED)
    response = preflight(client, ALLOWED)
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, DELETE"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert response.headers["Access-Control-Max-Age"] == "120"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Vary"] == "Origin"
    # answered before routing: works on any path, never reaches a handler
    assert preflight(client, ALLOWED, path="/no/such/route").status_code == 204


@pytest.mark.parametrize(
    "origin, method, headers",
    [
        (EVIL, "GET", ""),  # origin not listed
        ("https://app.example.com.evil.net", "GET", ""),  # no prefix or suffix matching
        ("null", "GET", ""),
        (ALLOWED, "PATCH", ""),  # method not allowed
        (ALLOWED, "GET", "x-secret"),  # header not allowed
    ],
)
def test_refused_preflight_reflects_nothing(cors_app, origin, method, headers):
    response = preflight(cors_app(LISTED), origin, method, headers)
    assert response.status_code == 403
    assert response.json["code"] == 1007
    assert not [h for h, _ in response.headers.items() if h.lower().startswith("access-control-")]
    assert response.headers["Vary"] == "Origin"


def test_actual_response_from_an_allowed_origin(cors_app):
    client = cors_app(LISTED)
    response = client.get("/items", headers={"Origin": "http://localhost:3000", "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert response.headers["Access-Control-Expose-Headers"] == "X-Total-Count"
    assert response.headers["Vary"] == "Accept-Encoding, Origin"  # merged, not duplicated
    assert response.headers.getlist("Vary") == ["Accept-Encoding, Origin"]


def test_actual_response_to_a_disallowed_origin_has_no_cors_headers(cors_app):
    response = cors_app(LISTED).get("/items", headers={"Origin": EVIL})
    assert response.status_code == 200
    assert response.json == [1, 2]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Expose-Headers" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_same_origin_request_without_origin_header(cors_app):
    response = cors_app(LISTED).get("/items")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("POST", "/items", 400),
        ("GET", "/boom", 500),
        ("GET", "/missing", 404),
        ("PUT", "/items", 405),
    ],
)
def test_error_envelopes_carry_the_headers(cors_app, method, path, status):
    response = cors_app(LISTED).open(path, method=method, headers={"Origin": ALLOWED})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Vary"].endswith("Origin")


def test_wildcard_without_credentials_sends_a_star(cors_app):
    client = cors_app("allowed_origins = *\nallowed_methods = *\nallowed_headers = *\n")
    response = client.get("/items", headers={"Origin": EVIL})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    pre = preflight(client, EVIL, method="PATCH", headers="x-anything")
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert pre.headers["Access-Control-Allow-Methods"] == "PATCH"
    assert pre.headers["Access-Control-Allow-Headers"] == "x-anything"
    assert pre.headers["Access-Control-Max-Age"] == "600"  # the default


@pytest.mark.parametrize("credentials", ["true", "yes", "1"])
def test_wildcard_with_credentials_stops_start_up_naming_the_setting(cors_app, credentials):
    with pytest.raises(ImproperlyConfigured) as caught:
        cors_app(f"allowed_origins = *\nallow_credentials = {credentials}\n")
    message = str(caught.value)
    assert "[cors] allowed_origins" in message and "allow_credentials" in message


def test_listed_origins_with_credentials(cors_app):
    client = cors_app(LISTED + "allow_credentials = yes\n")
    response = client.get("/items", headers={"Origin": ALLOWED})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    refused = client.get("/items", headers={"Origin": EVIL})
    assert "Access-Control-Allow-Credentials" not in refused.headers
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_no_cors_section_allows_no_origin(cors_app):
    client = cors_app("")
    assert "Access-Control-Allow-Origin" not in client.get("/items", headers={"Origin": ALLOWED}).headers
    assert preflight(client, ALLOWED, method="GET", headers="").status_code == 403


def test_a_plain_options_request_is_not_a_preflight(cors_app):
    response = cors_app(LISTED).options("/items", headers={"Origin": ALLOWED})
    assert response.status_code == 200  # Flask's automatic OPTIONS answer
    assert "GET" in response.headers["Allow"]
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize(
    "setting, culprit",
    [
        ("allowed_origins = app.example.com", "allowed_origins"),
        ("allowed_origins = *\nallow_credentials = sometimes", "allow_credentials"),
        ("allowed_origins = *\nmax_age = soon", "max_age"),
        ("allowed_origins = *\nallowed_headers = bad header:", "allowed_headers"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_key(cors_app, setting, culprit):
    with pytest.raises(ImproperlyConfigured, match=rf"\[cors\] {culprit}"):
        cors_app(setting + "\n")


def test_used_by_hand_around_any_wsgi_app():
    from flask import Flask

    from framework.middleware.defaults.cors import CORSMiddleware

    flask_app = Flask(__name__)
    flask_app.add_url_rule("/", "index", lambda: "hi")
    middleware = CORSMiddleware({"allowed_origins": ["https://a.example"]})
    flask_app.wsgi_app = middleware.process_application(flask_app.wsgi_app)
    response = flask_app.test_client().get("/", headers={"Origin": "https://a.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"
