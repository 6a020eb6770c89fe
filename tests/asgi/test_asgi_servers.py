"""The ASGI adapter under a real uvicorn: load, streaming, lifespan events."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.liveserver import free_port

pytest.importorskip("uvicorn")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CLIENTS = 16
REQUESTS_EACH = 50


class Server:
    """uvicorn serving ``asgi_served_app:create`` on a free loopback port."""

    def __init__(
        self,
        events_file: Path,
        options: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        graceful: str | None = "5",
    ) -> None:
        self.port = free_port()
        self.events_file = events_file
        env = dict(
            os.environ,
            ASGI_TEST_EVENTS=str(events_file),
            ASGI_TEST_PORT=str(self.port),
            **(env or {}),
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "asgi_served_app:create",
                "--app-dir",
                str(HERE),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "on",
                "--log-level",
                "warning",
                *(("--timeout-graceful-shutdown", graceful) if graceful else ()),
                *options,
            ],
            cwd=str(ROOT),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.communicate()[0].decode(errors="replace")
                raise AssertionError(f"uvicorn exited with {self.process.returncode}:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("uvicorn did not start listening in time")

    def stop(self) -> str:
        """Stop uvicorn by its pid (SIGTERM, then SIGKILL) and return what it printed."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            output = self.process.communicate(timeout=15)[0]
        except subprocess.TimeoutExpired:
            self.process.kill()
            output = self.process.communicate(timeout=5)[0]
        return output.decode(errors="replace")

    def events(self) -> list[str]:
        if not self.events_file.exists():
            return []
        return self.events_file.read_text(encoding="utf-8").split()

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


#: uvicorn's fastest stack when uvloop and httptools are installed, and its pure-Python one.
STACKS = {"auto": (), "asyncio-h11": ("--loop", "asyncio", "--http", "h11")}


@pytest.fixture(scope="module", params=sorted(STACKS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("uvicorn") / "events.txt", STACKS[request.param])
    try:
        srv.wait_ready()
        yield srv
    finally:
        output = srv.stop()
    assert "Traceback" not in output, output


def test_lifespan_startup_fired_before_serving(server: Server) -> None:
    # Read before any request: only the lifespan protocol can have fired it.
    assert server.events() == ["startup"]


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


def test_every_request_is_answered_under_concurrent_load(server: Server) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client_run, [server.port] * CLIENTS))
    statuses = [s for run in results for s in run]
    assert len(statuses) == CLIENTS * REQUESTS_EACH
    assert statuses.count(200) == len(statuses), {s: statuses.count(s) for s in set(statuses)}


def test_streamed_response_arrives_in_pieces(server: Server) -> None:
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
        assert server.get(f"/release/{token}")[0] == 200
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"part1;" in body and b"part2;" in body and b"timeout" not in body


def test_client_leaving_mid_stream_closes_the_iterable(server: Server) -> None:
    token = uuid.uuid4().hex
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET /endless/{token} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        received = b""
        while received.count(b"tick") < 3:
            data = sock.recv(65536)
            assert data
            received += data
    # The socket is closed: the server stops the stream and closes the WSGI iterable.
    status, body = server.get(f"/closed/{token}")
    assert status == 200 and json.loads(body) == {"closed": True}
    assert server.get("/hello-world")[0] == 200


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


def test_request_body_limit(server: Server) -> None:
    envelope = {"status": "error", "code": 1005, "message": "Request body too large"}
    assert post(server.port, b"x" * 1000) == (200, b'{"size":1000}\n')
    status, body = post(server.port, b"x" * 5000)
    assert status == 413 and json.loads(body) == envelope
    status, body = post(server.port, [b"x" * 600, b"x" * 600])
    assert status == 413 and json.loads(body) == envelope
    assert post(server.port, [b"x" * 300, b"x" * 300]) == (200, b'{"size":600}\n')


def test_shutdown_fires_on_stop(tmp_path: Path) -> None:
    srv = Server(tmp_path / "events.txt")
    try:
        srv.wait_ready()
        assert srv.get("/hello-world")[0] == 200
    finally:
        output = srv.stop()
    assert srv.events() == ["startup", "shutdown"], output
