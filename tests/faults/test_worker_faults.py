"""gunicorn worker faults: a worker killed mid-request, and a graceful SIGTERM."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests.liveserver import LiveServer, parse_response, raw_request

from .conftest import Background, child_pids, create_tables, get_json, wait_until, write_project


def started_pids(events_file: Path, kind: str = "startup") -> list[int]:
    if not events_file.exists():
        return []
    return [
        int(line.split()[1]) for line in events_file.read_text().splitlines() if line.startswith(kind + " ")
    ]


def slow_request(port: int, marker: Path, seconds: float, release: Path | None = None) -> bytes:
    """GET /slow: it writes its worker's pid to ``marker``, then waits for ``release``."""
    query = f"marker={marker}&seconds={seconds}" + (f"&release={release}" if release else "")
    request = (f"GET /slow?{query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").encode()
    return raw_request(port, request, timeout=90)


def test_killed_worker_is_replaced_and_the_others_keep_serving(tmp_path):
    events = tmp_path / "events.log"
    root = write_project(tmp_path / "project")
    create_tables(root)
    with LiveServer(str(root), workers=2, env={"FAULTS_EVENTS_FILE": str(events)}) as server:
        wait_until(lambda: len(set(started_pids(events))) == 2)
        workers = child_pids(server.pid)
        assert workers == set(started_pids(events))

        marker = tmp_path / "marker"
        inflight = Background(lambda: slow_request(server.port, marker, 20))
        inflight.start()
        victim = int(wait_until(lambda: marker.exists() and marker.read_text()))
        assert victim in workers
        os.kill(victim, signal.SIGKILL)
        inflight.join(60)
        # the killed request's connection closes without an answer: no partial body, no 200
        assert inflight.error is None and not inflight.result.startswith(b"HTTP/1.1 200")

        survivor = (workers - {victim}).pop()
        for _ in range(10):  # the other worker (or already its replacement) goes on serving
            status, body = get_json(server.port, "/ok")
            assert status == 200 and body["pid"] != victim

        replaced = wait_until(
            lambda: (lambda now: len(now) == 2 and victim not in now and now)(child_pids(server.pid))
        )
        newcomer = (replaced - {survivor}).pop()
        wait_until(lambda: newcomer in started_pids(events))  # its startup hook fired
        wait_until(lambda: get_json(server.port, "/ok")[1]["pid"] == newcomer, timeout=60, interval=0.0)
        assert server.proc is not None and server.proc.poll() is None  # the master lives on
        assert "Traceback" not in server.log_text().split("SIGKILL")[0]


def test_sigterm_finishes_inflight_requests_and_fires_shutdown_once(tmp_path):
    events = tmp_path / "events.log"
    root = write_project(tmp_path / "project")
    create_tables(root)
    server = LiveServer(str(root), workers=2, env={"FAULTS_EVENTS_FILE": str(events)})
    try:
        server.start()
        wait_until(lambda: len(set(started_pids(events))) == 2)
        workers = child_pids(server.pid)

        marker, release = tmp_path / "marker", tmp_path / "release"
        inflight = Background(lambda: slow_request(server.port, marker, 60, release))
        inflight.start()
        busy = int(wait_until(lambda: marker.exists() and marker.read_text()))
        server.signal(signal.SIGTERM)
        # the request is still in flight when gunicorn starts its graceful shutdown
        wait_until(lambda: "Handling signal: term" in server.log_text())
        assert inflight.is_alive()
        release.touch()
        inflight.join(60)
        assert inflight.error is None, inflight.error
        status, _, body = parse_response(inflight.result)
        assert status == 200
        payload = json.loads(body)
        assert payload["done"] is True and payload["pid"] == busy and len(payload["padding"]) == 100000

        assert server.proc is not None and server.proc.wait(60) == 0
        shutdowns = started_pids(events, "shutdown")
        assert sorted(shutdowns) == sorted(workers)  # each worker once, none twice
        assert sorted(started_pids(events)) == sorted(workers)
    finally:
        server.stop()
        server.close()
