"""The corpus cases that only a real server shows: one gunicorn worker, raw sockets.

Each case checks the answer, then that the same worker (same pid) still serves, and at the
end that the server's log holds no traceback.
"""

from __future__ import annotations

import json

import pytest

from tests.liveserver import http_get, parse_response, raw_request

from .conftest import MAX_BODY, assert_raw_envelope


@pytest.fixture(scope="module")
def worker_pid(server) -> int:
    status, _, body = http_get(server.port, "/ok")
    assert status == 200
    return json.loads(body)["pid"]


@pytest.fixture(autouse=True)
def same_worker_serves(server, worker_pid):
    yield
    status, _, body = http_get(server.port, "/ok")
    assert status == 200 and json.loads(body)["pid"] == worker_pid


@pytest.fixture(scope="module", autouse=True)
def no_traceback_in_log(server):
    yield
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]


def send(server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    return parse_response(raw_request(server.port, data))


# ------------------------------------------------------------------------ body limits
@pytest.mark.parametrize("route", ["/echo", "/raw", "/ignore", "/form"])
def test_declared_body_over_the_limit_is_refused_without_reading_it(server, route):
    # 100 MB announced, 1 KB sent: an answer proves the server never waited for the rest
    head = (
        f"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
    ).encode()
    assert_raw_envelope(*send(server, head + b"x" * 1024), 413, 1005)


def test_chunked_body_over_the_limit_is_413(server):
    chunk = b"x" * 1024
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY // 1024 + 2))
    head = (
        b"POST /raw HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    assert_raw_envelope(*send(server, head + body + b"0\r\n\r\n"), 413, 1005)


def test_chunked_body_under_the_limit_is_read(server):
    head = (
        b"POST /raw HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    status, _, body = send(server, head + b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
    assert status == 200 and json.loads(body) == {"length": 8}


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: -1\r\n",
        b"Content-Length: abc\r\n",
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        b"Content-Length: 99999999999999999999999\r\n",
    ],
)
def test_malformed_body_framing_is_refused(server, framing):
    status, _, body = send(
        server, b"POST /raw HTTP/1.1\r\nHost: localhost\r\n" + framing + b"Connection: close\r\n\r\nhello"
    )
    assert 400 <= status < 500 and b"Traceback" not in body


# ------------------------------------------------------------------ oversized headers
@pytest.mark.parametrize(
    "extra",
    [
        b"X-Big: " + b"a" * 20000 + b"\r\n",
        b"".join(b"X-H%d: v\r\n" % i for i in range(300)),
        b"Cookie: " + b"c=" * 10000 + b"\r\n",
    ],
)
def test_oversized_headers_are_refused_by_gunicorn(server, extra):
    status, _, body = send(
        server, b"GET /ok HTTP/1.1\r\nHost: localhost\r\n" + extra + b"Connection: close\r\n\r\n"
    )
    assert 400 <= status < 500 and b"Traceback" not in body


def test_oversized_request_line_is_refused(server):
    status, _, body = send(
        server, b"GET /ok?" + b"a" * 10000 + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    assert 400 <= status < 500 and b"Traceback" not in body


# ---------------------------------------------------------------------- invalid UTF-8
@pytest.mark.parametrize("target", [b"/\xff\xfe", b"/media/\xc0\xaf", b"/%FF%FE", b"/media/%C0%AF%00"])
def test_invalid_utf8_in_the_path(server, target):
    status, headers, body = send(
        server, b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    assert 400 <= status < 500 and b"Traceback" not in body
    if status != 400:  # a 400 here is gunicorn refusing the request line itself
        assert_raw_envelope(status, headers, body, 404, 1001)


@pytest.mark.parametrize("query", [b"a=\xff\xfe", b"a=%FF%FE&%C0=1", b"\xff=\x00"])
def test_invalid_utf8_in_the_query(server, query):
    status, headers, body = send(
        server, b"GET /query?" + query + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    assert status < 500 and b"Traceback" not in body
    if status == 200:
        assert isinstance(json.loads(body), dict)


def test_invalid_utf8_in_a_header(server):
    status, headers, body = send(
        server,
        b"GET /header HTTP/1.1\r\nHost: localhost\r\nX-Probe: \xff\xfe\xc0\r\nConnection: close\r\n\r\n",
    )
    assert status < 500 and b"Traceback" not in body
    if status == 200:
        assert json.loads(body) == {"value": "\xff\xfe\xc0"}


# ------------------------------------------------------------------------ Host header
@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /ok HTTP/1.1\r\nHost: evil.com\r\n",
        b"GET http://localhost/ok HTTP/1.1\r\nHost: evil.com\r\n",
        b"GET /ok HTTP/1.1\r\nHost: \xff\xfe\r\n",
        b"GET /ok HTTP/1.1\r\nHost: localhost:80@evil.com\r\n",
    ],
)
def test_host_attacks_over_the_socket(server, request_head):
    status, headers, body = send(server, request_head + b"Connection: close\r\n\r\n")
    assert 400 <= status < 500 and b"Traceback" not in body
    if headers.get("content-type", "").startswith("application/json"):
        assert_raw_envelope(status, headers, body, 400, 1003)


def test_request_without_host_uses_the_servers_own_address(server):
    status, _, body = send(server, b"GET /host HTTP/1.0\r\n\r\n")
    assert status == 200 and body == f"127.0.0.1:{server.port}".encode()


# --------------------------------------------------------------------- header splitting
def test_crlf_in_redirect_target_over_the_socket(server):
    raw = raw_request(
        server.port,
        b"GET /go?to=/next%0D%0ASet-Cookie:%20a=b%0D%0A HTTP/1.1\r\n"
        b"Host: localhost\r\nConnection: close\r\n\r\n",
    )
    head = raw.partition(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 307")
    assert not any(line.lower().startswith(b"set-cookie") for line in head.split(b"\r\n"))


# ------------------------------------------------------------------- early hang-ups
@pytest.mark.parametrize(
    "route,content_type",
    [
        ("/echo", "application/json"),
        ("/raw", "application/octet-stream"),
        ("/form", "multipart/form-data; boundary=xyz"),
        ("/form", "application/x-www-form-urlencoded"),
    ],
)
def test_client_that_stops_sending_mid_body(server, route, content_type):
    head = (
        f"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {MAX_BODY - 10}\r\n\r\n"
    ).encode()
    partial = b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + b"y" * 200
    raw_request(server.port, head + partial, close_early=True)


def test_client_that_stops_mid_chunked_body(server):
    head = (
        b"POST /raw HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    raw_request(server.port, head + b"400\r\n" + b"z" * 100, close_early=True)


def test_client_that_hangs_up_before_reading_a_large_answer(server):
    raw_request(
        server.port, b"GET /file?path=hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", close_early=True
    )
