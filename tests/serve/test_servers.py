"""The ported docs project (``tests/docs_project``: every chapter of Backendpy's docs, prefix
changed) served by every server command of the docs: the same answers under each, database
reads and writes included, startup hooks before the first request, shutdown hooks on stop;
and the project's own tests (the docs' TestCase listings) pass against it."""

from __future__ import annotations

import subprocess

import pytest
import requests

from tests.helpers import pytest_command
from tests.liveserver import LiveServer, wait_until

from .helpers import (
    LIFESPAN,
    SERVERS,
    base_env,
    copy_project,
    hook_lines,
    point_api_tests,
    prepared_project,
    serve,
    server_env,
    tool,
)

LOGO = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
TOKEN = {"Authorization": "Bearer good"}
NEW_USER = {
    "first_name": "Jalil",
    "last_name": "Hamdollahi Oskouei",
    "username": "my_user",
    "password": "my_pass",
}
ENVELOPE_404 = {"status": "error", "code": 1001, "message": "Not found"}
STRONG = "Str0ng-Passw0rd"


def invalid(data: dict) -> dict:
    """The envelope of input a data handler rejects."""
    return {"status": "error", "code": 1002, "message": "Unexpected data", "data": data}


#: (method, path, request keyword arguments) -> (status, body) every server must give, in
#: this order (the POST /users writes the row the requests after it read)
EXPECTED = [
    # 4.2 routes: decorators, route() with two methods, url variables, the separate form
    (("GET", "/hello-world", {}), (200, "Hello World!")),
    (("POST", "/any/hello-world", {}), (200, "Hello World!")),
    (("GET", "/any/hello-world", {}), (200, "Hello World!")),
    (("PATCH", "/str-users/jalil", {}), (200, "jalil")),
    (("PATCH", "/int-users/41", {}), (200, "42")),
    (("PATCH", "/int-users/x", {}), (404, ENVELOPE_404)),
    (("GET", "/v4/hello-world", {}), (200, "Hello World!")),
    (("POST", "/v4/login", {}), (200, "login")),
    # 4.4 responses
    (("GET", "/json/hello-world", {}), (200, {"message": "Hello World!"})),
    (("GET", "/html/hello-world", {}), (200, "<html><body>Hello World!</body></html>")),
    (("GET", "/file/hello-world", {}), (200, LOGO)),
    (("GET", "/binary/hello-world", {}), (200, b"\x00Hello World!\xff")),
    (("GET", "/redirect/hello-world", {"allow_redirects": False}), (307, "/hello-world")),
    (("GET", "/success/hello-world", {}), (200, {"status": "success"})),
    (("HEAD", "/hello-world", {}), (200, "")),
    (("POST", "/login", {}), (200, {"status": "success", "data": "Successful login!"})),
    # 4.5 exceptions, 4.6 predefined errors
    (("POST", "/bad/login", {}), (400, {"message": "Login failed!"})),
    (
        ("GET", "/example-error", {}),
        (401, {"status": "error", "code": 1100, "message": "Authorization error"}),
    ),
    (
        ("POST", "/error/login", {}),
        (400, {"status": "error", "code": 1101, "message": "User 'jalil' does not exists"}),
    ),
    (("GET", "/nowhere", {}), (404, ENVELOPE_404)),
    # 4.9 middlewares: the request layer (AuthMiddleware), all four layers (MyMiddleware)
    (("GET", "/private/profile", {}), (400, {"error": "Invalid auth token"})),
    (("GET", "/private/profile", {"headers": TOKEN}), (200, {"user_id": 7, "user_roles": ["admin"]})),
    (("GET", "/layers", {}), (200, {"layers": ["request", "handler"]})),
    # 4.11 templates
    (
        ("GET", "/home", {}),
        (
            200,
            "<!DOCTYPE html>\n<html>\n<head>\n<title>Backendpy</title>\n"
            "</head>\n<body>\n  <h1>Hello World!</h1>\n</body>\n</html>",
        ),
    ),
    # 4.10 database: the row init_project wrote, then a row written by a request (4.7 data
    # handler, 4.8 the user_created event)
    (
        ("GET", "/users/1", {}),
        (200, {"status": "success", "data": {"id": 1, "first_name": "Ada", "last_name": "Lovelace"}}),
    ),
    (("GET", "/db/hello-world", {}), (200, {"status": "success", "data": {"users": 1}})),
    (("POST", "/users", {"json": {"first_name": "Jalil"}}), (400, invalid({"username": ["Required"]}))),
    (("POST", "/users", {"json": NEW_USER}), (200, {"status": "success", "data": {"username": "my_user"}})),
    (
        ("GET", "/users/2", {}),
        (
            200,
            {
                "status": "success",
                "data": {"id": 2, "first_name": "Jalil", "last_name": "Hamdollahi Oskouei"},
            },
        ),
    ),
    (("GET", "/db/hello-world", {}), (200, {"status": "success", "data": {"users": 2}})),
    # 4.7 the whole data handler listing: a url variable, Unique against the model,
    # PasswordStrength, EmailAddress
    (
        ("POST", "/groups/admins/users", {"json": {"username": "ada", "password": STRONG}}),
        (400, invalid({"username": ["Unique value error"]})),
    ),
    (
        ("POST", "/groups/admins/users", {"json": {"username": "bob", "password": "weak"}}),
        (400, invalid({"password": ["Weak password"]})),
    ),
    (
        ("POST", "/groups/admins/users", {"json": {"username": "bob", "password": STRONG, "email": "bob"}}),
        (400, invalid({"email": ["Invalid email address"]})),
    ),
    (
        (
            "POST",
            "/groups/admins/users",
            {"json": {"username": "bob", "password": STRONG, "email": "bob@example.com"}},
        ),
        (200, {"status": "success", "data": {"group": "admins", "username": "bob"}}),
    ),
    (("GET", "/db/hello-world", {}), (200, {"status": "success", "data": {"users": 3}})),
]


def answer(base: str, method: str, path: str, kwargs: dict) -> tuple[int, object]:
    response = requests.request(method, base + path, timeout=30, **kwargs)
    content_type = response.headers.get("Content-Type", "")
    if 300 <= response.status_code < 400:
        return response.status_code, response.headers["Location"].removeprefix(base)
    if content_type.startswith("application/json"):
        return response.status_code, response.json()
    if content_type.startswith("text/"):
        return response.status_code, response.text
    return response.status_code, response.content


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The docs project with its database made by ``framework create_db`` and filled by
    ``framework init_project`` once; each server gets a copy of it."""
    return prepared_project(tmp_path_factory.mktemp("prepared"))


@pytest.mark.parametrize("server", list(SERVERS))
def test_the_docs_project_under_each_server(server, prepared, tmp_path):
    project = copy_project(tmp_path, source=prepared)
    hooks = tmp_path / "hooks.log"
    with serve(server, project, env={"HOOK_LOG": str(hooks)}) as (base, live):
        if server in LIFESPAN:  # the lifespan fires startup at boot, before any request
            wait_until(lambda: hook_lines(hooks), what=f"{server}: startup hooks at boot")
        # under every server the startup hooks have run before the first request's handler
        assert answer(base, "GET", "/started", {}) == (200, {"started": True})
        got = [answer(base, *request) for request, _ in EXPECTED]
        # MyMiddleware's application and response layers mark every answer
        marked = requests.get(base + "/hello-world", timeout=30).headers
    assert got == [expected for _, expected in EXPECTED]
    assert marked["X-Application-Layer"] == "MyMiddleware"
    assert marked["X-Layers"] == "request,handler,response"
    log = (tmp_path / f"{server}.log").read_text()
    assert "Traceback" not in log, log
    lines = hook_lines(hooks)
    assert [event for event, _ in lines if event.startswith("user_created")] == ["user_created:my_user"]

    # each process that ran startup (once) ran shutdown (once) when it was stopped
    def balanced():
        lines = hook_lines(hooks)
        starts = sorted(pid for event, pid in lines if event == "startup")
        stops = sorted(pid for event, pid in lines if event == "shutdown")
        return starts and starts == stops and len(set(starts)) == len(starts)

    wait_until(balanced, timeout=10, what=f"{server}: a shutdown for each startup")


def test_the_docs_projects_own_tests_pass(prepared, tmp_path):
    """4.13: the docs' test_db.py (AsyncTestCase on the database) and test_api.py (TestCase
    with ``http.Client`` against the running server), run by pytest in their own process."""
    project = copy_project(tmp_path, source=prepared)
    with serve("uvicorn", project) as (base, live):
        point_api_tests(project, base.rsplit(":", 1)[1])
        result = subprocess.run(
            pytest_command("apps/hello/tests"),
            cwd=project,
            env=base_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2 passed" in result.stdout, result.stdout
        # the API test wrote its user through the server
        assert answer(base, "GET", "/db/hello-world", {}) == (
            200,
            {"status": "success", "data": {"users": 2}},
        )


def test_the_custom_database_listing_under_uvicorn(prepared, tmp_path):
    """4.10.1: ``main_custom.py`` makes its own engine and request-scoped session in
    startup/request_end/shutdown hooks; under uvicorn its sessions are removed after each
    request (more requests than the pool holds) and its writes are read back."""
    project = copy_project(tmp_path, source=prepared)
    argv = [tool("uvicorn"), "main_custom:bp", "--host", "127.0.0.1", "--port", "{port}"]
    with LiveServer(project, argv=argv, env=server_env()) as live:
        for _ in range(25):
            assert answer(live.url, "GET", "/users/1", {})[1]["data"]["first_name"] == "Ada"
        assert answer(live.url, "POST", "/users", {"json": NEW_USER})[0] == 200
        assert answer(live.url, "GET", "/db/hello-world", {}) == (
            200,
            {"status": "success", "data": {"users": 2}},
        )
        assert live.stop() == 0
        assert "Traceback" not in live.log_text(), live.log_text()
