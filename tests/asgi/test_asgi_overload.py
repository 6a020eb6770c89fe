"""The ASGI adapter under a real uvicorn when it is overloaded or stopped: the bounded queue,
its deadline, bodies left unread while waiting, handlers calling their own server, SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.asgi.asgi_harness import events, served_app
from tests.liveserver import LiveServer, parse_response, wait_until

pytest.importorskip("uvicorn")

#: Generous bound for any one step (a deadline to poll against, never a sleep).
STEP = 30.0
ENVELOPE_503 = {"status": "error", "code": 1009, "message": "Service unavailable"}


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """``start(env=..., options=...)``: a uvicorn serving ``asgi_served_app``, stopped after."""
    servers: list[LiveServer] = []

    def make(
        env: dict[str, str] | None = None, options: tuple[str, ...] = (), graceful: str | None = "5"
    ) -> LiveServer:
        srv = served_app(tmp_path / f"events-{len(servers)}.txt", options, env, graceful)
        servers.append(srv)
        return srv.start()

    yield make
    for srv in servers:
        srv.stop()
        srv.close()


def get(port: int, path: str, timeout: float = STEP) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


def pool(srv: LiveServer) -> dict[str, int]:
    return json.loads(get(srv.port, "/_pool")[2])


def in_background(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # reported by the test through ``result``
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_full_queue_answers_503_with_retry_after_and_serving_resumes(start: Any) -> None:
    srv = start(env={"ASGI_TEST_THREADS": "1", "ASGI_TEST_QUEUE_SIZE": "2"})
    token = uuid.uuid4().hex
    holder = in_background(lambda: get(srv.port, f"/hold/{token}"))
    wait_until(lambda: pool(srv)["busy"] == 1, STEP, what="the only thread to be held")
    waiters = [in_background(lambda: get(srv.port, "/hello-world")) for _ in range(2)]
    wait_until(lambda: pool(srv)["waiting"] == 2, STEP, what="two requests to wait")
    status, headers, body = get(srv.port, "/hello-world")  # the queue is full
    assert status == 503 and json.loads(body) == ENVELOPE_503
    assert headers["retry-after"] == "1" and headers["content-type"] == "application/json"
    get(srv.port, f"/release/{token}")
    for thread, result in [holder, *waiters]:
        thread.join(STEP)
        assert result and result[0][0] == 200, result
    assert get(srv.port, "/hello-world")[0] == 200


def test_a_request_waiting_past_the_deadline_gets_503(start: Any) -> None:
    srv = start(env={"ASGI_TEST_THREADS": "1", "ASGI_TEST_QUEUE_TIMEOUT": "0.5"})
    token = uuid.uuid4().hex
    holder = in_background(lambda: get(srv.port, f"/hold/{token}"))
    wait_until(lambda: pool(srv)["busy"] == 1, STEP, what="the only thread to be held")
    status, headers, body = get(srv.port, "/hello-world")  # waits, then the deadline answers
    assert status == 503 and json.loads(body) == ENVELOPE_503 and headers["retry-after"] == "1"
    get(srv.port, f"/release/{token}")
    holder[0].join(STEP)
    assert holder[1][0][0] == 200
    # The thread, once free, finds the answered request and discards it.
    wait_until(lambda: pool(srv)["busy"] == 0, STEP, what="the queue to empty")
    assert get(srv.port, "/hello-world")[0] == 200


def temp_files(pid: int, folder: Path) -> list[str]:
    """The files under ``folder`` that process ``pid`` holds open (deleted ones too)."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


def post_big(port: int, size: int) -> int:
    """POST ``size`` bytes to an unknown path; the status (0 if the connection failed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=STEP) as sock:
        head = (
            f"POST /no-such-path HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            sock.sendall(head + b"x" * size)
        except OSError:
            pass
        raw = b""
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            raw += data
    try:
        return parse_response(raw)[0]
    except ValueError:
        return 0


def test_waiting_requests_hold_no_body(start: Any, tmp_path: Path) -> None:
    spool = tmp_path / "tmp"
    spool.mkdir()
    srv = start(env={"ASGI_TEST_THREADS": "1", "ASGI_TEST_MAX_BODY": str(16 * 2**20), "TMPDIR": str(spool)})
    token = uuid.uuid4().hex
    holder = in_background(lambda: get(srv.port, f"/hold/{token}"))
    wait_until(lambda: pool(srv)["busy"] == 1, STEP, what="the only thread to be held")
    size = 3 * 2**20  # over the adapter's 1 MiB in-memory limit: a body read would spool
    with ThreadPoolExecutor(6) as clients:
        posts = [clients.submit(post_big, srv.port, size) for _ in range(6)]
        wait_until(lambda: pool(srv)["waiting"] == 6, STEP, what="six uploads to wait")
        # Waiting, none of them has had its body read into a temporary file.
        assert temp_files(srv.pid, spool) == []
        get(srv.port, f"/release/{token}")
        assert [p.result(STEP) for p in posts] == [404] * 6
    holder[0].join(STEP)
    wait_until(lambda: not temp_files(srv.pid, spool), STEP, what="the spooled bodies to be closed")


def test_handlers_calling_their_own_server_get_answers(start: Any) -> None:
    srv = start(env={"ASGI_TEST_THREADS": "4", "ASGI_TEST_QUEUE_TIMEOUT": "1"})
    with ThreadPoolExecutor(10) as clients:
        results = list(clients.map(lambda _: get(srv.port, "/selfcall"), range(10)))
    # Every request is answered: run (with its inner call's answer), or refused after waiting.
    answered = [status for status, _, _ in results]
    assert set(answered) <= {200, 503}, results
    assert answered.count(200) >= 4  # the first four took the four threads
    for status, _, body in results:
        if status == 200:
            assert json.loads(body)["inner"] in (200, 503)
        else:
            assert json.loads(body) == ENVELOPE_503
    assert get(srv.port, "/hello-world")[0] == 200  # the server still serves


def test_sigterm_ends_the_server_whatever_the_handlers_do(start: Any) -> None:
    srv = start(env={"ASGI_TEST_THREADS": "3"}, options=("--timeout-graceful-shutdown", "1"))
    stuck = [in_background(lambda: get(srv.port, "/stuck")) for _ in range(2)]
    wait_until(lambda: events(srv).count("stuck") == 2, STEP, what="two threads to be stuck in time.sleep")
    # The third thread calls its own server; that inner request waits for a thread.
    selfcall = in_background(lambda: get(srv.port, "/selfcall"))
    wait_until(lambda: pool(srv) == {"busy": 4, "waiting": 1}, STEP, what="the inner request to wait")
    srv.signal(signal.SIGTERM)
    srv.wait(STEP)  # fails the test if uvicorn does not exit after SIGTERM
    for thread, _ in [*stuck, selfcall]:
        thread.join(STEP)


def test_sigterm_during_a_self_call_pile_up_needs_no_graceful_timeout(start: Any) -> None:
    # No --timeout-graceful-shutdown: uvicorn waits for every open request. Eight handlers
    # call their own server on four threads; the queue deadline answers their inner calls,
    # so the requests end and so does the server.
    env = {"ASGI_TEST_THREADS": "4", "ASGI_TEST_QUEUE_TIMEOUT": "15", "ASGI_TEST_SELFCALL_TOGETHER": "4"}
    srv = start(env=env, graceful=None)
    calls = [in_background(lambda: get(srv.port, "/selfcall")) for _ in range(8)]
    # Four handlers hold the four threads and only then call in (SELFCALL_TOGETHER: without
    # it, clients connecting slowly on a busy machine let each inner call take a free thread
    # and no pile-up formed); four more requests and the four inner calls wait. A waiting
    # request leaves the queue after 15 s: a pile-up of six or more is enough to show the point.
    wait_until(lambda: pool(srv)["waiting"] >= 6, STEP, what="the inner calls to wait")
    srv.signal(signal.SIGTERM)
    srv.wait(STEP)  # fails the test if uvicorn does not exit after SIGTERM
    for thread, _ in calls:
        thread.join(STEP)
