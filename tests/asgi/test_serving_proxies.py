"""The shipped server settings against hostile clients: gunicorn with the project's
``gunicorn.conf.py`` and uvicorn with the flags docs/deployment.md gives.

- slow clients trickling request bodies do not stop other clients being served;
- a client talking to the server directly cannot make its request look https or change
  its address with ``X-Forwarded-Proto`` / ``X-Forwarded-For`` unless the project trusts
  proxies (``[networking] trusted_proxies``), in which case a proxy's headers count.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from framework.serving import forwarded_allow_ips
from tests.liveserver import REPO, LiveServer, parse_response, raw_request

pytest.importorskip("uvicorn")

#: A deadline for any one step, never a sleep.
STEP = 20.0

CONFIG = """\
[networking]
allowed_hosts = *
trusted_proxies = 0

[apps]
active = proxyapp

[flask]
secret_key = proxy-tests-only-0123456789abcdef
max_content_length = 1048576

[logging]
level = WARNING
"""

MAIN = """\
from framework.app import App
from framework.response import JSON
from framework.router import Routes

routes = Routes()


@routes.get("/hello-world")
def hello(request):
    return JSON({"message": "Hello World!"})


@routes.get("/secure", only_ssl=True)
def secure(request):
    return JSON({"secure": True})


@routes.get("/client")
def client(request):
    host, port = request.client
    return JSON({"host": host, "scheme": request.scheme})


@routes.post("/upload")
def upload(request):
    return JSON({"size": len(request.body.content)})


app = App(routes=[routes])
"""

WSGI = """\
import os

from framework import create_app
from framework.asgi import to_asgi

app = create_app(os.path.dirname(os.path.abspath(__file__)))
asgi_app = to_asgi(app)
"""

#: The uvicorn flags docs/deployment.md gives, by whether the project trusts a proxy.
UVICORN_FLAGS: dict[int, tuple[str, ...]] = {
    0: ("--no-proxy-headers",),
    1: ("--forwarded-allow-ips", "127.0.0.1"),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proxyproject")
    (root / "config.ini").write_text(CONFIG)
    os.chmod(root / "config.ini", 0o600)
    (root / "wsgi.py").write_text(WSGI)
    (root / "proxyapp").mkdir()
    (root / "proxyapp" / "__init__.py").write_text("")
    (root / "proxyapp" / "main.py").write_text(MAIN)
    return root


def get(srv: LiveServer, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    raw = raw_request(
        srv.port,
        (f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n").encode(),
        timeout=STEP,
    )
    status, _, body = parse_response(raw)
    return status, json.loads(body)


def gunicorn(project: Path, trusted: int) -> LiveServer:
    """gunicorn with nothing but the shipped conf and a bind address."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        os.path.join(REPO, "gunicorn.conf.py"),
        "--bind",
        "127.0.0.1:{port}",
    ]
    from gunicorn.config import KNOWN_SETTINGS

    if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
        command.append("--no-control-socket")
    return LiveServer(
        project,
        argv=[*command, "wsgi:app"],
        env={"WEB_CONCURRENCY": "1", "FRAMEWORK__NETWORKING__TRUSTED_PROXIES": str(trusted)},
    )


def uvicorn(project: Path, trusted: int, flags: tuple[str, ...] | None = None) -> LiveServer:
    return LiveServer(
        project,
        "wsgi:asgi_app",
        kind="uvicorn",
        extra_args=[
            "--timeout-graceful-shutdown",
            "5",
            *(UVICORN_FLAGS[trusted] if flags is None else flags),
        ],
        env={"FRAMEWORK__NETWORKING__TRUSTED_PROXIES": str(trusted)},
    )


def uvicorn_default_flags(project: Path, trusted: int) -> LiveServer:
    """uvicorn as plain ``uvicorn wsgi:asgi_app``: it trusts proxy headers from 127.0.0.1."""
    return uvicorn(project, trusted, flags=())


SERVERS = {"gunicorn": gunicorn, "uvicorn": uvicorn, "uvicorn-default-flags": uvicorn_default_flags}


@pytest.fixture(params=["gunicorn", "uvicorn"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def serve(project: Path) -> Iterator[Any]:
    started: list[LiveServer] = []

    def make(kind: str, trusted: int = 0) -> LiveServer:
        srv = SERVERS[kind](project, trusted)
        started.append(srv)
        return srv.start(STEP)

    yield make
    for srv in started:
        srv.stop(STEP)
        srv.close()


FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def test_a_direct_client_cannot_pass_for_https_or_another_address(serve: Any, kind: str) -> None:
    srv = serve(kind, trusted=0)
    status, body = get(srv, "/secure", FORGED)
    assert status == 403 and body["code"] == 1007
    assert get(srv, "/client", FORGED) == (200, {"host": "127.0.0.1", "scheme": "http"})


def test_a_direct_client_cannot_pass_for_https_under_plain_uvicorn(serve: Any) -> None:
    # Without --no-proxy-headers uvicorn rewrites the scope from the headers; with no trusted
    # proxy the adapter undoes it: not https, and not the forged address.
    srv = serve("uvicorn-default-flags", trusted=0)
    status, body = get(srv, "/secure", FORGED)
    assert status == 403 and body["code"] == 1007
    assert get(srv, "/client", FORGED) == (200, {"host": None, "scheme": "http"})
    assert get(srv, "/client") == (200, {"host": "127.0.0.1", "scheme": "http"})


def test_a_trusted_proxy_s_headers_count(serve: Any, kind: str) -> None:
    srv = serve(kind, trusted=1)
    assert get(srv, "/secure", FORGED) == (200, {"secure": True})
    assert get(srv, "/client", FORGED) == (200, {"host": "203.0.113.9", "scheme": "https"})
    assert get(srv, "/secure")[0] == 403  # without the proxy's word it is plain http


def test_the_shipped_conf_trusts_no_proxy_unless_the_project_does(project: Path) -> None:
    assert forwarded_allow_ips(str(project), {}) == ""
    env = {"FRAMEWORK__NETWORKING__TRUSTED_PROXIES": "1"}
    assert forwarded_allow_ips(str(project), env) == "127.0.0.1,::1"
    env["FORWARDED_ALLOW_IPS"] = "10.0.0.5"
    assert forwarded_allow_ips(str(project), env) == "10.0.0.5"
    assert forwarded_allow_ips(str(project / "proxyapp"), {}) == ""  # no config file there


def open_slow_upload(port: int, size: int = 100) -> socket.socket:
    """A POST whose headers and first bytes are sent; the rest of the body is held back."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=STEP)
    sock.sendall(
        (
            f"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
        ).encode()
        + b"x" * 10
    )
    return sock


def unanswered(sock: socket.socket) -> bool:
    """True when the server has neither answered nor closed ``sock``."""
    sock.setblocking(False)
    try:
        return not sock.recv(1, socket.MSG_PEEK) and False
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
        sock.settimeout(STEP)


def finish_upload(sock: socket.socket, size: int = 100) -> tuple[int, Any]:
    with sock:
        sock.sendall(b"y" * (size - 10))
        raw = b""
        while data := sock.recv(65536):
            raw += data
    status, _, body = parse_response(raw)
    return status, json.loads(body)


def test_slow_uploads_do_not_hold_gunicorn(serve: Any) -> None:
    srv = serve("gunicorn")
    slow = [open_slow_upload(srv.port) for _ in range(2)]
    try:
        assert get(srv, "/hello-world") == (200, {"message": "Hello World!"})
        # Answered while both slow uploads were still open and waiting for their bodies.
        assert all(unanswered(sock) for sock in slow)
    finally:
        results = [finish_upload(sock) for sock in slow]
    assert results == [(200, {"size": 100})] * 2
