"""The socket-level cases again, through ``to_asgi`` under uvicorn: same answers, and the
process serves on."""

from __future__ import annotations

import json

import pytest

from tests.liveserver import http_get, parse_response, raw_request

from .conftest import MAX_BODY, assert_raw_envelope


@pytest.fixture(autouse=True)
def serves_on(asgi_server):
    yield
    status, _, body = http_get(asgi_server.port, "/ok")
    assert status == 200 and "pid" in json.loads(body)


@pytest.fixture(scope="module", autouse=True)
def no_traceback_in_log(asgi_server):
    yield
    log = asgi_server.log_text()
    assert "Traceback" not in log, log[-3000:]


def send(server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    return parse_response(raw_request(server.port, data))


@pytest.mark.parametrize("route", ["/echo", "/raw", "/ignore"])
def test_declared_body_over_the_limit_is_refused_without_reading_it(asgi_server, route):
    head = (
        f"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
    ).encode()
    assert_raw_envelope(*send(asgi_server, head + b"x" * 1024), 413, 1005)


def test_chunked_body_over_the_limit_is_413(asgi_server):
    chunk = b"x" * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY // 1024 + 2))
    head = (
        b"POST /raw HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    assert_raw_envelope(*send(asgi_server, head + body + b"0\r\n\r\n"), 413, 1005)


def test_malformed_json(asgi_server):
    head = (
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5\r\nConnection: close\r\n\r\n{'a':"
    )
    assert_raw_envelope(*send(asgi_server, head), 400, 1002)


def test_disallowed_host(asgi_server):
    assert_raw_envelope(
        *send(asgi_server, b"GET /ok HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n"), 400, 1003
    )


def test_traversal_in_file(asgi_server):
    assert_raw_envelope(
        *send(
            asgi_server,
            b"GET /file?path=..%2Fsecret.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ),
        404,
        1001,
    )


def test_crlf_in_redirect_target(asgi_server):
    raw = raw_request(
        asgi_server.port,
        b"GET /go?to=/next%0D%0ASet-Cookie:%20a=b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    head = raw.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 307")
    assert not any(line.lower().startswith(b"set-cookie") for line in head.split(b"\r\n"))


@pytest.mark.parametrize(
    "route,content_type",
    [
        ("/echo", "application/json"),
        ("/form", "multipart/form-data; boundary=xyz"),
        ("/items/1", "application/json"),
    ],
)
def test_client_that_stops_sending_mid_body(asgi_server, route, content_type):
    head = (
        f"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {MAX_BODY - 10}\r\n\r\n"
    ).encode()
    raw_request(asgi_server.port, head + b'{"name": "' + b"y" * 200, close_early=True)


def test_client_that_hangs_up_before_reading_the_answer(asgi_server):
    raw_request(
        asgi_server.port, b"GET /file?path=hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", close_early=True
    )
