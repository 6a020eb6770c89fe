"""PostgreSQL restarted under load: requests in the gap get 503 (code 1009), the pool
recovers by itself, and no committed row is lost.

The PostgreSQL that is stopped and restarted here is the tests' own (``pgcluster``): a
throw-away cluster in a temporary folder on a free port, started and stopped by this
process. The machine's PostgreSQL is never touched.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.liveserver import LiveServer

from .conftest import child_pids, create_tables, wait_until, write_project
from .pgcluster import PrivateCluster, private_cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """The module's own PostgreSQL, removed after its last test."""
    with private_cluster() as pg:
        yield pg


@pytest.fixture
def database(cluster: PrivateCluster) -> str:
    """A fresh database on the private cluster; its URL."""
    if not cluster.running:  # a failed test may have left it stopped
        cluster.start()
    return cluster.create_database(f"faults_{uuid.uuid4().hex[:12]}")


def post_row(port: int, value: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST", "/rows", body=json.dumps({"value": value}), headers={"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


class Writers:
    """Threads posting unique rows until stopped; every answer is kept."""

    def __init__(self, port: int, count: int = 3) -> None:
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[tuple[float, str, int, dict]] = []
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(count)]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            value = f"w{n}-{i}"
            i += 1
            status, body = post_row(self.port, value)
            with self.lock:
                self.answers.append((time.monotonic(), value, status, body))

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def successes_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for t, _, status, _ in self.answers if status == 201 and t > moment)


def test_postgres_restart_under_load(tmp_path, cluster, database):
    root = write_project(tmp_path / "project", database)
    create_tables(root)
    try:
        with LiveServer(str(root), workers=2) as server:
            workers = wait_until(lambda: (lambda pids: len(pids) == 2 and pids)(child_pids(server.pid)))
            with Writers(server.port) as writers:
                wait_until(lambda: writers.successes_since(0) >= 20)
                cluster.restart()  # under load; returns once it accepts connections again
                restarted = time.monotonic()
                # the pool recovers by itself: the same workers write again
                wait_until(lambda: writers.successes_since(restarted) >= 20, timeout=60)

            # a gap that requests are sure to hit: the server down for a moment
            cluster.stop()
            try:
                gap = [post_row(server.port, f"gap-{i}") for i in range(3)]
            finally:
                cluster.start()
            recovery: list[tuple[int, dict]] = []

            def recovered_answer() -> tuple[int, dict] | None:
                recovery.append(post_row(server.port, f"after-{len(recovery)}"))
                return recovery[-1] if recovery[-1][0] == 201 else None

            recovered = wait_until(recovered_answer, timeout=60)
            assert child_pids(server.pid) == workers  # no worker was restarted to recover
            log = server.log_text()
    finally:
        if not cluster.running:
            cluster.start()

    for status, body in gap:
        assert status == 503 and body == {"status": "error", "code": 1009, "message": "Service unavailable"}
    answers = writers.answers + [
        (0.0, f"after-{i}", status, body) for i, (status, body) in enumerate(recovery)
    ]
    assert {status for _, _, status, _ in answers} <= {201, 503}, log[-4000:]
    for _, _, status, body in answers:
        if status == 503:
            assert body["code"] == 1009
    assert recovered[1]["status"] == "success"
    assert "Traceback" not in log, log[log.index("Traceback") - 300 :][:4000]

    committed = {value for _, value, status, _ in answers if status == 201}
    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(sa.text("SELECT value FROM fault_rows")).scalars())
    finally:
        engine.dispose()
    assert committed <= stored  # no row answered 201 is missing


def test_connection_dropped_before_teardown_keeps_the_answer(tmp_path, database):
    """The server drops the request's connection after the handler answered: the answer
    stands (no error from closing the session) and the next request gets a fresh one."""
    from framework import create_app

    root = write_project(tmp_path / "project", database)
    create_tables(root)
    sys.path.insert(0, str(root))
    try:
        app = create_app(root, config={"flask": {"testing": True}})
        client = app.test_client()
        for _ in range(3):
            response = client.get("/rows/cut")
            assert response.status_code == 200 and response.get_json()["terminated"] > 0
            assert client.get("/rows/count").get_json()["count"] == 0
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()
    finally:
        sys.path.remove(str(root))
