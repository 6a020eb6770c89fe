"""Background events and hooks (framework.background): a real ``framework worker`` and
``framework beat`` on the private Redis, and the in-process worker without a broker.

One project (its app package shared by two project folders: one with ``[redis] url``, one
without) records what its hooks do in a SQLite table. The worker subprocess is started
once for the module; the tests read its log and the table. A hook that should not run
before the request has returned waits for a gate file the test creates afterwards.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.liveserver import wait_until

pytest.importorskip("celery")

#: Redis databases of this module's private server (the broker, and one no worker reads).
BROKER_DB, IDLE_DB = 11, 12

MODELS = """
    import sqlalchemy as sa
    from framework.db import Base

    class Mark(Base):
        __tablename__ = 'mark_{pkg}'
        id = sa.Column(sa.Integer, primary_key=True)
        kind = sa.Column(sa.String(40))
        value = sa.Column(sa.String(200))
"""

HOOKS = """
    import os
    import time

    from flask import current_app

    from framework.db import db
    from framework.hook import Hooks

    from .models import Mark

    hooks = Hooks()


    def record(kind, value):
        db.session.add(Mark(kind=kind, value=str(value)))
        db.session.commit()


    def wait_for_gate(name):
        # the test opens the gate once it has seen the request return
        gate = os.path.join(current_app.extensions['framework'].root_path, name)
        deadline = time.monotonic() + 30
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.02)


    @hooks.event('order_placed')
    def confirm_order(order):
        record('waiting', order)
        wait_for_gate('gate-' + str(order))
        record('confirmed', order)


    @hooks.event('user_created')
    def greet_inline(username):
        record('inline', username)


    @hooks.event('user_created', background=True)
    async def welcome_mail(username):
        record('background', username)


    @hooks.event('flaky')
    def always_fails(n):
        record('attempt', n)
        if n == 3:  # a LookupError raised by the hook itself: retried like any other
            raise KeyError('no mail template ' + str(n))
        raise RuntimeError('mail server said no ' + str(n))


    @hooks.event('tick')
    def on_tick(source):
        record('tick', source)
"""

HANDLERS = """
    from framework.response import Success
    from framework.router import Routes

    routes = Routes()


    @routes.post('/orders')
    def place(request):
        order = request.body.json['order']
        request.app.execute_event('order_placed', {'order': order}, background=True)
        return Success({'queued': order})


    @routes.post('/orders-async')
    async def place_async(request):
        order = request.body.json['order']
        await request.app.execute_event('order_placed', {'order': order}, background=True)
        return Success({'queued': order})


    @routes.post('/users')
    def create_user(request):
        request.app.execute_event('user_created', {'username': request.body.json['username']})
        return Success({'created': True})
"""

MAIN = """
    from framework.app import App
    from framework import Schedule

    from .handlers import routes
    from .hooks import hooks

    app = App(
        routes=[routes],
        hooks=[hooks],
        models=['{pkg}.models'],
        schedules=[Schedule('tick', every=1, args={'source': 'beat'})],
    )
"""


class Project:
    """The app package and its two project folders, and the apps built from them."""

    def __init__(self, base: Path, redis_url: str) -> None:
        self.base = base
        self.package = f"bg_{uuid.uuid4().hex[:10]}"
        pkg = base / self.package
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        for name, text in (
            ("models.py", MODELS),
            ("hooks.py", HOOKS),
            ("handlers.py", HANDLERS),
            ("main.py", MAIN),
        ):
            (pkg / name).write_text(textwrap.dedent(text).replace("{pkg}", self.package))
        self.broker_root = self._folder(
            "with_broker", f"[redis]\nurl = {redis_url}\n[celery]\nmax_retries = 2\nretry_delay = 0.1\n"
        )
        self.local_root = self._folder(
            "in_process", "[celery]\nmax_retries = 1\nretry_delay = 0\nqueue_size = 1\n"
        )

    def _folder(self, name: str, extra: str) -> Path:
        root = self.base / name
        root.mkdir()
        (root / "config.ini").write_text(f"[apps]\nactive = {self.package}\n{extra}")
        os.chmod(root / "config.ini", 0o600)
        return root

    def create_app(self, root: Path, config: dict[str, Any] | None = None) -> Any:
        from framework import create_app

        app = create_app(root, config=config)
        app.testing = True
        app.extensions["framework"].startup()  # creates the table (SQLite: auto_create)
        return app

    def marks(self, app: Any, kind: str) -> list[str]:
        model = sys.modules[f"{self.package}.models"].Mark
        from framework.db import db

        with app.app_context():
            return [m.value for m in db.session.query(model).filter_by(kind=kind).order_by(model.id)]

    def open_gate(self, root: Path, name: str) -> None:
        (root / name).write_text("open")

    def close(self) -> None:
        models = sys.modules.get(f"{self.package}.models")
        if models is not None:  # the shared metadata forgets the table (later create_all())
            from framework.db import Base

            Base.metadata.remove(models.Mark.__table__)
        for name in [m for m in sys.modules if m == self.package or m.startswith(self.package + ".")]:
            del sys.modules[name]


class Process:
    """A ``framework`` subcommand run in a project folder, its output in a log file;
    stopped by its pid."""

    def __init__(self, root: Path, *args: str) -> None:
        self.log_path = root / f"{args[0]}-{uuid.uuid4().hex[:6]}.log"
        command = shutil.which("framework", path=os.path.dirname(sys.executable)) or "framework"
        env = dict(os.environ)
        env.pop("FRAMEWORK_ENV", None)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [command, *args],
                cwd=root,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> str:
        def seen() -> bool:
            if self.process.poll() is not None and text not in self.log():
                raise AssertionError(f"the process exited ({self.process.returncode}):\n{self.log()}")
            return text in self.log()

        wait_until(seen, timeout=timeout, what=f"{text!r} in {self.log_path.name}")
        return self.log()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def project(redis_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    base = tmp_path_factory.mktemp("background")
    sys.path.insert(0, str(base))
    made = Project(base, redis_server.url(BROKER_DB))
    try:
        yield made
    finally:
        made.close()
        sys.path.remove(str(base))


@pytest.fixture(scope="module")
def web(project: Project) -> Any:
    """The project with a broker, served in this process (it only publishes)."""
    return project.create_app(project.broker_root)


@pytest.fixture(scope="module")
def worker(project: Project, web: Any) -> Iterator[Process]:
    process = Process(
        project.broker_root,
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    )
    try:
        process.wait_for_log("ready.")
        yield process
    finally:
        process.stop()


def test_a_background_event_returns_before_its_hooks_run_then_they_run_on_the_worker(project, web, worker):
    client = web.test_client()
    response = client.post("/orders", json={"order": 7})
    assert response.status_code == 200 and response.json["data"] == {"queued": 7}
    # the hook waits for the gate the test opens only now, after the response
    assert project.marks(web, "confirmed") == []
    project.open_gate(project.broker_root, "gate-7")
    wait_until(lambda: project.marks(web, "confirmed") == ["7"], what="the worker's hook ran")
    # awaited form, from an async handler
    project.open_gate(project.broker_root, "gate-8")
    assert client.post("/orders-async", json={"order": 8}).status_code == 200
    wait_until(lambda: project.marks(web, "confirmed") == ["7", "8"], what="the awaited form")


def test_a_background_hook_of_a_normal_event_runs_on_the_worker_the_others_inline(project, web, worker):
    client = web.test_client()
    assert client.post("/users", json={"username": "ada"}).status_code == 200
    assert project.marks(web, "inline") == ["ada"]  # ran in the request
    wait_until(lambda: project.marks(web, "background") == ["ada"], what="the async background hook")
    assert project.marks(web, "inline") == ["ada"]  # not run again on the worker


def test_arguments_json_cannot_carry_are_refused_at_fire_time_and_nothing_is_queued(project, redis_server):
    import redis

    idle = project.create_app(project.broker_root, config={"redis": {"url": redis_server.url(IDLE_DB)}})
    framework = idle.extensions["framework"]
    queue = redis.Redis.from_url(redis_server.url(IDLE_DB))
    try:
        queue.delete("celery")
        with idle.app_context():
            when = datetime.datetime(2026, 1, 1)
            with pytest.raises(TypeError, match=r"event 'order_placed': argument 'when' is a datetime"):
                framework.execute_event("order_placed", {"order": 1, "when": when}, background=True)
            with pytest.raises(TypeError, match=r"argument \"order\[0\]\['tags'\]\" is a set"):
                framework.execute_event("order_placed", {"order": [{"tags": {"a"}}]}, background=True)
            with pytest.raises(TypeError, match=r"argument 'order\[0\]' has the key 3: .* need str keys"):
                framework.execute_event("order_placed", {"order": [{3: 1}]}, background=True)
            with pytest.raises(ValueError, match=r"argument 'order' is nan"):
                framework.execute_event("order_placed", {"order": float("nan")}, background=True)
            # a normal event with a background hook is checked before its inline hooks run
            with pytest.raises(TypeError, match=r"event 'user_created': argument 'username' is a bytes"):
                framework.execute_event("user_created", {"username": b"ada"})
            assert queue.llen("celery") == 0
            assert "b'ada'" not in project.marks(idle, "inline")  # refused before it ran
            # what JSON carries is queued: one task per hook of the event
            framework.execute_event(
                "user_created", {"username": {"id": 3, "tags": ("a", None)}}, background=True
            )
            assert queue.llen("celery") == 2
            body = json.loads(queue.lindex("celery", 0))["headers"]
            assert body["task"] == "framework.run_hook"
    finally:
        queue.delete("celery")
        queue.close()


def test_a_failing_hook_is_retried_then_logged_as_failed(project, web, worker):
    web.extensions["framework"].execute_event("flaky", {"n": 1}, background=True)
    log = worker.wait_for_log("failed after 3 attempt(s)")
    hook = f"{project.package}.hooks.always_fails"
    first = f"background hook {hook} for event 'flaky' failed (attempt 1 of 3)"
    assert f"{first}: RuntimeError: mail server said no 1; retrying in 0.1s" in log
    assert f"background hook {hook} for event 'flaky' failed (attempt 2 of 3)" in log
    assert f"background hook {hook} for event 'flaky' failed after 3 attempt(s): RuntimeError: mail" in log
    assert project.marks(web, "attempt") == ["1", "1", "1"]
    web.extensions["framework"].execute_event("flaky", {"n": 3}, background=True)  # raises KeyError
    log = worker.wait_for_log(f"background hook {hook} for event 'flaky' failed after 3 attempt(s): KeyError")
    assert "failed (attempt 1 of 3): KeyError: 'no mail template 3'; retrying in 0.1s" in log
    assert project.marks(web, "attempt") == ["1", "1", "1", "3", "3", "3"]


def test_one_run_per_schedule_period_however_many_sends(project, web, worker):
    from framework.background import SCHEDULE_TASK, celery_app

    capp = celery_app(web.extensions["framework"])
    sends = [("guard", 1_000_000), ("guard", 1_000_000), ("guard", 1_000_060)]
    for schedule, period in sends:
        capp.send_task(
            SCHEDULE_TASK,
            kwargs={
                "schedule": schedule,
                "event": "tick",
                "args": {"source": period},
                "period": period,
                "ttl": 60,
            },
        )
    # the worker takes them in order: the last period's run comes after any duplicate
    wait_until(lambda: "1000060" in project.marks(web, "tick"), what="the second period ran")
    assert project.marks(web, "tick").count("1000000") == 1
    assert "schedule 'guard': the period starting at 1000000 has run already" in worker.log()


def test_two_beats_started_by_mistake_still_run_each_period_once(project, web, worker):
    import re

    first = Process(project.broker_root, "beat", "--loglevel=INFO")
    second = Process(project.broker_root, "beat", "--loglevel=INFO", f"--schedule={project.base / 'beat-2'}")
    refused = "schedule 'tick every 1s': the period starting at"
    try:
        wait_until(lambda: "beat" in project.marks(web, "tick"), timeout=60, what="a tick sent by beat")
        wait_until(lambda: refused in worker.log(), timeout=60, what="a period sent by both beats")
    finally:
        first.stop()
        second.stop()
    for beat in (first, second):
        assert "Scheduler: Sending due task tick every 1s (framework.run_schedule)" in beat.log()
    fired = re.findall(
        r"schedule 'tick every 1s': event 'tick' fired for the period from (\d+)", worker.log()
    )
    assert fired and len(fired) == len(set(fired))  # no period ran twice
    assert any((project.broker_root / "instance").glob("celerybeat-schedule*"))  # beat's state, by default


def test_without_a_broker_hooks_run_in_a_thread_of_the_process(project, caplog):
    caplog.set_level(logging.INFO, logger="framework.background")
    app = project.create_app(project.local_root)
    client = app.test_client()
    framework = app.extensions["framework"]
    # returns before the hook runs; the hook then runs on the process's worker thread
    assert client.post("/orders", json={"order": 21}).status_code == 200
    assert project.marks(app, "confirmed") == []
    wait_until(lambda: project.marks(app, "waiting") == ["21"], what="the thread runs the hook")
    # with that thread held by the first job, the queue (queue_size = 1) fills: the next
    # job waits, and the one after runs at once in the caller, with a warning
    framework.execute_event("tick", {"source": "queued"}, background=True)
    framework.execute_event("tick", {"source": "inline"}, background=True)
    assert project.marks(app, "tick") == ["inline"]
    assert "background queue full (1 jobs, [celery] queue_size)" in caplog.text
    project.open_gate(project.local_root, "gate-21")
    wait_until(lambda: project.marks(app, "tick") == ["inline", "queued"], what="the queued job ran")
    assert project.marks(app, "confirmed") == ["21"]
    # a failing hook: retried ([celery] max_retries = 1), then logged as failed
    framework.execute_event("flaky", {"n": 2}, background=True)
    wait_until(lambda: "failed after 2 attempt(s)" in caplog.text, what="the failure logged")
    assert "failed (attempt 1 of 2): RuntimeError: mail server said no 2" in caplog.text
    assert project.marks(app, "attempt") == ["2", "2"]
    framework.execute_event("flaky", {"n": 3}, background=True)
    wait_until(lambda: "failed after 2 attempt(s): KeyError" in caplog.text, what="the KeyError logged")
    assert "failed (attempt 1 of 2): KeyError: 'no mail template 3'" in caplog.text
    assert project.marks(app, "attempt") == ["2", "2", "3", "3"]
