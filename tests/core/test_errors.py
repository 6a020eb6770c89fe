"""Exception responses, error codes, the JSON envelope and unexpected failures."""

from __future__ import annotations

import logging

import pytest

from framework.error import Error, ErrorCode, ErrorList
from framework.response import Status

HANDLERS = """
    from framework.router import Routes
    from framework.exception import BadRequest, Unauthorized, Forbidden, NotFound, ServerError
    from framework.error import Error
    from framework.response import JSON
    from flask import abort
    routes = Routes()

    @routes.post('/login')
    async def login(request):
        raise BadRequest({'message': 'Login failed!'})
    @routes.get('/returned')
    def returned(request):
        return Unauthorized('no entry')
    @routes.get('/forbidden')
    def forbidden(request): raise Forbidden({'why': 'no'})
    @routes.get('/notfound')
    def notfound(request): raise NotFound()
    @routes.get('/servererror')
    def servererror(request): raise ServerError({'message': 'public message'})

    @routes.get('/example-error')
    async def example_error(request):
        raise Error(1100)
    @routes.post('/error-with-data')
    async def error_with_data(request):
        raise Error(1101, 'jalil', data={'field': ['bad']})
    @routes.get('/named')
    def named(request): return Error(1102, {'name': 'x', 'count': 3})

    @routes.get('/boom')
    def boom(request):
        raise RuntimeError('database password is hunter2')
    @routes.get('/boom-async')
    async def boom_async(request):
        raise KeyError('internal-detail')
    @routes.get('/abort')
    def aborted(request): abort(415)
    @routes.get('/teapot')
    def teapot(request): abort(418)
    @routes.post('/upload')
    def upload(request): return JSON({'size': len(request.body.content)})
    @routes.get('/flask-json')
    def flask_json(request): return JSON(request.get_json())
"""

ERRORS = """
    from framework.response import Status
    from framework.error import ErrorCode, ErrorList
    errors = ErrorList(
        ErrorCode(1100, "Authorization error", Status.UNAUTHORIZED),
        ErrorCode(1101, "User '{}' does not exists", Status.BAD_REQUEST),
        ErrorCode(1102, "{name} has {count} items", Status.CONFLICT),
    )
"""


@pytest.fixture
def app(project):
    name = project.app_module(
        "errs",
        {
            "handlers.py": HANDLERS,
            "errors.py": ERRORS,
            "main.py": "from framework.app import App\nfrom .handlers import routes\n"
            "from .errors import errors\napp = App(routes=[routes], errors=[errors])\n",
        },
    )
    project.config(
        f"[apps]\nactive = {name}\n[flask]\nmax_content_length = 100\n"
        "[networking]\nallowed_hosts =\n    localhost\n    api.example.com:8000\n"
    )
    return project.create_app()


@pytest.fixture
def client(app):
    return app.test_client()


def test_raised_exception_response(client):
    response = client.post("/login")
    assert response.status_code == 400
    assert response.json == {"message": "Login failed!"}


def test_returned_exception_response_with_text_body(client):
    response = client.get("/returned")
    assert response.status_code == 401
    assert response.text == "no entry"
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("path,status", [("/forbidden", 403), ("/notfound", 404), ("/servererror", 500)])
def test_exception_classes_carry_their_status(client, path, status):
    assert client.get(path).status_code == status


def test_app_error_codes(client):
    response = client.get("/example-error")
    assert response.status_code == 401
    assert response.json == {"status": "error", "code": 1100, "message": "Authorization error"}
    response = client.post("/error-with-data")
    assert response.status_code == 400
    assert response.json == {
        "status": "error",
        "code": 1101,
        "message": "User 'jalil' does not exists",
        "data": {"field": ["bad"]},
    }
    response = client.get("/named")
    assert response.status_code == 409
    assert response.json["message"] == "x has 3 items"


def test_message_formatting():
    code = ErrorCode(1200, "{} and {}")
    assert code.format(["a", "b"]) == "a and b"
    assert ErrorCode(1201, "hi {who}").format({"who": "you"}) == "hi you"
    assert ErrorCode(1202, "one {}").format(5) == "one 5"
    assert ErrorCode(1203, "needs {} {}").format(["only one"]) == "needs {} {}"
    assert list(ErrorList(code)) == [code]


def test_base_codes_without_an_app():
    assert (Error(1000).status_code, Error(1001).status_code) == (500, 404)
    assert (Error(1002).status_code, Error(1003).status_code) == (400, 400)
    assert Error(1003).json == {"status": "error", "code": 1003, "message": "Disallowed host"}
    with pytest.raises(LookupError):
        Error(4242)


@pytest.mark.parametrize(
    "method,path,kwargs,status,code",
    [
        ("get", "/no/such/route", {}, 404, 1001),
        ("delete", "/login", {}, 405, 1004),
        ("post", "/upload", {"data": b"x" * 1000}, 413, 1005),
        ("get", "/abort", {}, 415, 1006),
        ("get", "/flask-json", {"data": "x", "content_type": "text/plain"}, 415, 1006),
    ],
)
def test_http_errors_use_the_envelope(client, method, path, kwargs, status, code):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json["status"] == "error"
    assert response.json["code"] == code


def test_405_keeps_the_allow_header(client):
    assert "POST" in client.get("/login").headers["Allow"]


def test_other_http_errors_keep_their_status(client):
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.json["status"] == "error"


@pytest.mark.parametrize("path", ["/boom", "/boom-async"])
def test_unexpected_exception_is_a_1000_without_internals(client, caplog, path):
    with caplog.at_level(logging.ERROR):
        response = client.get(path)
    assert response.status_code == 500
    assert response.json == {"status": "error", "code": 1000, "message": "Server error"}
    assert b"hunter2" not in response.data and b"internal-detail" not in response.data
    assert b"Traceback" not in response.data
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert path in tracebacks[0].getMessage()


def test_allowed_hosts(client):
    assert client.get("/example-error").status_code == 401  # localhost allowed
    response = client.get("/example-error", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json["code"] == 1003
    assert client.get("/example-error", headers={"Host": "api.example.com:8000"}).status_code == 401
    assert client.get("/example-error", headers={"Host": "api.example.com:9999"}).status_code == 400


def test_status_enum_is_usable_as_int():
    assert Status.BAD_REQUEST == 400 and Status.UNAUTHORIZED.phrase == "Unauthorized"
