"""The ported docs project served by every server command of Backendpy's docs, prefix changed:
the same answers under each, startup hooks before the first request, shutdown hooks on stop."""

from __future__ import annotations

import pytest
import requests

from .helpers import LIFESPAN, SERVERS, copy_project, hook_lines, serve, wait_until

#: (method, path, request keyword arguments) -> (status, body) every server must give
EXPECTED = [
    (("GET", "/hello-world", {}), (200, "Hello World!")),
    (("GET", "/v4/hello-world", {}), (200, "Hello World!")),
    (("POST", "/v4/login", {}), (200, "login")),
    (("PATCH", "/int-users/41", {}), (200, "42")),
    (("GET", "/json/hello-world", {}), (200, {"message": "Hello World!"})),
    (("GET", "/html/hello-world", {}), (200, "<html><body>Hello World!</body></html>")),
    (("POST", "/success/login", {}), (200, {"status": "success", "data": "Successful login!"})),
    (("POST", "/bad/login", {}), (400, {"message": "Login failed!"})),
    (("GET", "/example-error", {}),
     (401, {"status": "error", "code": 1100, "message": "Authorization error"})),
    (("POST", "/error/login", {}),
     (400, {"status": "error", "code": 1101, "message": "User 'jalil' does not exists"})),
    (("POST", "/users", {"json": {"username": "jalil"}}), (400, {"error": "Invalid auth token"})),
    (("POST", "/users", {"json": {"username": "jalil"}, "headers": {"Authorization": "Bearer good"}}),
     (200, {"username": "jalil", "auth": {"user_id": 7, "user_roles": ["admin"]}})),
    (("POST", "/users", {"json": {}, "headers": {"Authorization": "Bearer good"}}),
     (400, {"status": "error", "code": 1002, "message": "Unexpected data",
            "data": {"username": ["Required"]}})),
    (("GET", "/nowhere", {}), (404, {"status": "error", "code": 1001, "message": "Not found"})),
]


def answer(base: str, method: str, path: str, kwargs: dict) -> tuple[int, object]:
    response = requests.request(method, base + path, timeout=30, **kwargs)
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return response.status_code, response.json()
    return response.status_code, response.text


@pytest.mark.parametrize("server", list(SERVERS))
def test_the_docs_project_under_each_server(server, tmp_path):
    project = copy_project(tmp_path)
    hooks = tmp_path / "hooks.log"
    with serve(server, project, env={"HOOK_LOG": str(hooks)}) as (base, proc):
        if server in LIFESPAN:  # the lifespan fires startup at boot, before any request
            assert wait_until(lambda: hook_lines(hooks)), (tmp_path / f"{server}.log").read_text()
        # under every server the startup hooks have run before the first request's handler
        assert answer(base, "GET", "/started", {}) == (200, {"started": True})
        got = [answer(base, *request) for request, _ in EXPECTED]
        home = requests.get(base + "/home", timeout=30)
        assert home.status_code == 200 and "<h1>Hello World!</h1>" in home.text
    assert got == [expected for _, expected in EXPECTED]
    log = (tmp_path / f"{server}.log").read_text()
    assert "Traceback" not in log, log
    # each process that ran startup (once) ran shutdown (once) when it was stopped
    def balanced():
        lines = hook_lines(hooks)
        starts = sorted(pid for event, pid in lines if event == "startup")
        stops = sorted(pid for event, pid in lines if event == "shutdown")
        return starts and starts == stops and len(set(starts)) == len(starts)

    assert wait_until(balanced, timeout=10), (hook_lines(hooks), log)
