"""Two instances of one project on shared PostgreSQL and Redis, with a worker and a beat.

The harness starts once for the module: a PostgreSQL database of its own (migrated by
``framework migrate``, as a deploy job would), a private Redis, two gunicorn instances of
tests/scale/two_instances_project on their own ports, one ``framework worker`` and one
``framework beat``; everything is stopped by its pid. Each test asserts one thing the
instances share, as a client or the database sees it.

The last tests take Redis away and kill an instance, so they run last (in file order).
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from framework.testing.postgres import require_postgres, temporary_database
from tests.liveserver import LiveServer, wait_until
from tests.scale.conftest import FRAMEWORK, copy_project, run_framework

PASSWORD = "Correct-Horse-9"
#: The seconds between two ticks of the project's schedule (scale_demo/hooks.py).
TICK_EVERY = 2


@dataclass
class Harness:
    """Everything the tests reach: the instances, the database, the Redis."""

    a: LiveServer
    b: LiveServer
    engine: sa.Engine
    redis: Any

    def call(self, server: LiveServer, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, server.url + path, timeout=15, **kwargs)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()


def _launch_background(project: Path, env: dict[str, str], *command: str) -> LiveServer:
    """``framework worker`` or ``framework beat`` in ``project``, started and left running
    (they listen on no port: the tests wait for what they do)."""
    process = LiveServer(project, argv=[FRAMEWORK, *command], env=env)
    return process.launch()


def _worker_ready(worker: LiveServer) -> bool:
    """True once Celery's worker says it is ready (its INFO line ``celery@host ready.``)."""
    if worker.returncode is not None:
        raise RuntimeError(f"framework worker exited with {worker.returncode}:\n{worker.log_text()}")
    return " ready." in worker.log_text()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    from tests.redisserver import private_redis, redis_available

    require_postgres()
    if not redis_available():
        pytest.skip("redis-server is not installed")
    project = copy_project(tmp_path_factory.mktemp("two_instances"))
    with temporary_database() as url, private_redis() as redis:
        env = {"FRAMEWORK__DATABASE__URI": url, "FRAMEWORK__REDIS__URL": redis.url(0)}
        migrated = run_framework(project, env, "migrate")  # the deploy job, once
        assert migrated.returncode == 0, migrated.stderr
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        servers: list[LiveServer] = []
        try:
            for _ in range(2):
                servers.append(LiveServer(project, workers=1, threads=2, env=env, ready_path="/scale/pid"))
            with ThreadPoolExecutor(2) as starting:  # both start at once: half the wait
                list(starting.map(lambda server: server.start(wait=60), servers))
            worker = _launch_background(project, env, "worker", "--loglevel=INFO")
            servers.append(worker)
            # beat starts once the worker takes jobs: no backlog of periods run all at once
            wait_until(lambda: _worker_ready(worker), timeout=60, what="framework worker ready")
            servers.append(_launch_background(project, env, "beat"))
            yield Harness(servers[0], servers[1], engine, redis)
        finally:
            # all four stop at once: each waits for its own graceful shutdown
            with ThreadPoolExecutor(max(len(servers), 1)) as stopping:
                list(stopping.map(LiveServer.stop, servers))
            for server in servers:
                server.close()
            engine.dispose()


def _signup_and_login(h: Harness, server: LiveServer) -> tuple[int, dict[str, str]]:
    username = f"u{uuid.uuid4().hex[:12]}"
    created = h.call(server, "POST", "/users", json={"username": username, "password": PASSWORD})
    assert created.status_code == 201, created.text
    login = h.call(server, "POST", "/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    data = login.json()["data"]
    return data["user"]["id"], {"Authorization": f"Bearer {data['token']}"}


def test_a_token_revoked_through_one_instance_is_refused_by_the_other(harness: Harness):
    h = harness
    user_id, auth = _signup_and_login(h, h.a)
    assert h.call(h.b, "GET", f"/users/{user_id}", headers=auth).status_code == 200
    assert h.call(h.a, "POST", "/logout", headers=auth).status_code == 200
    refused = h.call(h.b, "GET", f"/users/{user_id}", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["status"] == "error"


def test_a_rate_limit_is_counted_across_both_instances(harness: Harness):
    h = harness
    # "2/minute" for this client: one request on each instance spends it
    assert h.call(h.a, "GET", "/scale/limited").status_code == 200
    assert h.call(h.b, "GET", "/scale/limited").status_code == 200
    for server in (h.a, h.b):
        refused = h.call(server, "GET", "/scale/limited")
        assert refused.status_code == 429
        assert refused.json()["code"] == 1011
        assert int(refused.headers["Retry-After"]) > 0


def test_a_background_event_fired_by_one_instance_is_run_by_the_worker(harness: Harness):
    h = harness
    name = f"job-{uuid.uuid4().hex[:10]}"
    instance_pids = {h.call(server, "GET", "/scale/pid").json()["data"]["pid"] for server in (h.a, h.b)}
    queued = h.call(h.a, "POST", f"/scale/jobs?name={name}")
    assert queued.status_code == 202, queued.text
    sql = "SELECT count(*) FROM scale_demo_jobs WHERE name = :name"
    wait_until(lambda: h.scalar(sql, name=name) == 1, timeout=60, what="the worker to run the job")
    ran_in = h.scalar("SELECT pid FROM scale_demo_jobs WHERE name = :name", name=name)
    assert ran_in not in instance_pids  # not run by the instance that fired it: by the worker


def test_a_cached_answer_invalidated_through_one_instance_is_fresh_on_the_other(harness: Harness):
    h = harness

    def count(server: LiveServer) -> int:
        answer = h.call(server, "GET", "/scale/counter")
        assert answer.status_code == 200, answer.text
        return int(answer.json()["data"]["count"])

    before = count(h.a)
    assert count(h.b) == before
    # a row added behind the application's back: both instances keep answering the cached count
    with h.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO scale_demo_hits DEFAULT VALUES"))
    assert count(h.a) == before and count(h.b) == before
    # a hit through B drops the shared entry: A answers the fresh count at once
    added = h.call(h.b, "POST", "/scale/counter")
    assert added.status_code == 201, added.text
    assert count(h.a) == before + 2
    assert count(h.b) == before + 2


def test_a_periodic_task_runs_once_per_period_with_both_instances_up(harness: Harness):
    h = harness
    wait_until(lambda: h.scalar("SELECT count(*) FROM scale_demo_ticks") >= 4, timeout=90, what="4 ticks")
    with h.engine.connect() as conn:
        times = conn.execute(sa.text("SELECT at FROM scale_demo_ticks ORDER BY at")).scalars().all()
    # Each tick is numbered by the periods since the first one, to the nearest: a tick the
    # worker ran a little late keeps its own number, a second tick of a period takes one
    # already taken. Once per period: every number once, none skipped.
    numbers = [round((at - times[0]) / TICK_EVERY) for at in times]
    assert numbers == list(range(len(times))), [round(at - times[0], 2) for at in times]


def test_readyz_fails_while_redis_is_down_and_recovers_when_it_is_back(harness: Harness):
    h = harness

    def ready(server: LiveServer) -> int:
        return h.call(server, "GET", "/readyz").status_code

    assert ready(h.a) == 200 and ready(h.b) == 200
    h.redis.stop()
    try:
        wait_until(lambda: ready(h.a) == 503 and ready(h.b) == 503, timeout=60, what="/readyz answering 503")
        assert h.call(h.a, "GET", "/healthz").status_code == 200  # alive: only not ready
    finally:
        h.redis.start()
    wait_until(
        lambda: ready(h.a) == 200 and ready(h.b) == 200, timeout=60, what="/readyz answering 200 again"
    )


def test_one_instance_killed_while_the_other_keeps_answering(harness: Harness):
    h = harness
    user_id, auth = _signup_and_login(h, h.b)
    os.killpg(h.b.pid, signal.SIGKILL)  # the instance's master and worker, as a lost machine
    h.b.proc.wait(10)  # type: ignore[union-attr]

    def b_gone() -> bool:
        try:
            h.call(h.b, "GET", "/scale/pid")
        except requests.ConnectionError:
            return True
        return False

    wait_until(b_gone, timeout=30, what="the killed instance to stop answering")
    for _ in range(3):
        assert h.call(h.a, "GET", "/scale/pid").status_code == 200
    # what was done through the lost instance is in the shared database: its token works on A
    assert h.call(h.a, "GET", f"/users/{user_id}", headers=auth).status_code == 200
