"""The ASGI adapter under a real uvicorn: load, streaming, lifespan events."""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.asgi.asgi_harness import events, served_app
from tests.liveserver import LiveServer

pytest.importorskip("uvicorn")

CLIENTS = 16
REQUESTS_EACH = 50


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


#: uvicorn's fastest stack when uvloop and httptools are installed, and its pure-Python one.
STACKS = {"auto": (), "asyncio-h11": ("--loop", "asyncio", "--http", "h11")}


@pytest.fixture(scope="module", params=sorted(STACKS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = served_app(tmp_path_factory.mktemp("uvicorn") / "events.txt", STACKS[request.param])
    try:
        yield srv.start()
    finally:
        srv.stop()
        output = srv.log_text()
        srv.close()
    assert "Traceback" not in output, output


def test_lifespan_startup_fired_before_serving(server: LiveServer) -> None:
    # Read before any request: only the lifespan protocol can have fired it.
    assert events(server) == ["startup"]


def client_run(port: int) -> list[int]:
    statuses = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(REQUESTS_EACH):
            try:
                conn.request("GET", "/hello-world")
                response = conn.getresponse()
                body = response.read()
                statuses.append(response.status if json.loads(body) else 0)
            except (OSError, http.client.HTTPException, ValueError):
                statuses.append(0)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    finally:
        conn.close()
    return statuses


def test_every_request_is_answered_under_concurrent_load(server: LiveServer) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client_run, [server.port] * CLIENTS))
    statuses = [s for run in results for s in run]
    assert len(statuses) == CLIENTS * REQUESTS_EACH
    assert statuses.count(200) == len(statuses), {s: statuses.count(s) for s in set(statuses)}


def test_streamed_response_arrives_in_pieces(server: LiveServer) -> None:
    token = uuid.uuid4().hex
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET /stream/{token} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while b"part1;" not in received:
            data = sock.recv(65536)
            assert data, received
            received += data
        # The server cannot make part 2 until we release it: part 1 came on its own.
        assert b"part2;" not in received
        assert get(server.port, f"/release/{token}")[0] == 200
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"part1;" in body and b"part2;" in body and b"timeout" not in body


def test_client_leaving_mid_stream_closes_the_iterable(server: LiveServer) -> None:
    token = uuid.uuid4().hex
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET /endless/{token} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        received = b""
        while received.count(b"tick") < 3:
            data = sock.recv(65536)
            assert data
            received += data
    # The socket is closed: the server stops the stream and closes the WSGI iterable.
    status, body = get(server.port, f"/closed/{token}")
    assert status == 200 and json.loads(body) == {"closed": True}
    assert get(server.port, "/hello-world")[0] == 200


def post(port: int, body: bytes | list[bytes]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if isinstance(body, list):  # sent chunked, with no Content-Length
            conn.request(
                "POST",
                "/upload",
                body=iter(body),
                encode_chunked=True,
                headers={"Transfer-Encoding": "chunked"},
            )
        else:
            conn.request("POST", "/upload", body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_request_body_limit(server: LiveServer) -> None:
    envelope = {"status": "error", "code": 1005, "message": "Request body too large"}
    assert post(server.port, b"x" * 1000) == (200, b'{"size":1000}\n')
    status, body = post(server.port, b"x" * 5000)
    assert status == 413 and json.loads(body) == envelope
    status, body = post(server.port, [b"x" * 600, b"x" * 600])
    assert status == 413 and json.loads(body) == envelope
    assert post(server.port, [b"x" * 300, b"x" * 300]) == (200, b'{"size":600}\n')


def test_shutdown_fires_on_stop(tmp_path: Path) -> None:
    srv = served_app(tmp_path / "events.txt")
    try:
        srv.start()
        assert get(srv.port, "/hello-world")[0] == 200
        srv.stop()
        assert events(srv) == ["startup", "shutdown"], srv.log_text()
    finally:
        srv.stop()
        srv.close()
