"""startup and shutdown under real servers: gunicorn workers, the dev server, plain exit.

The project's hooks append ``<event> <pid>`` lines to the file named by ``$HOOK_LOG``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import BIN, ROOT, free_port, running_server, wait_until

HOOKS = """
    import os

    from framework.hook import Hooks
    from framework.response import Text
    from framework.router import Routes

    hooks = Hooks()
    routes = Routes()


    def log(word):
        with open(os.environ['HOOK_LOG'], 'a') as handle:
            handle.write(f'{word} {os.getpid()}\\n')


    @hooks.event('startup')
    async def on_startup():
        log('startup')
        if os.environ.get('FAIL_STARTUP'):
            raise RuntimeError('database unreachable')


    @hooks.event('shutdown')
    def on_shutdown():
        log('shutdown')


    @routes.get('/pid')
    def pid(request):
        log('request')
        return Text(str(os.getpid()))
"""

MAIN = """
    from framework.app import App

    from .hooks import hooks, routes

    app = App(routes=[routes], hooks=[hooks])
"""

WSGI = """
    import os

    from framework import create_app

    app = create_app(os.path.dirname(os.path.abspath(__file__)))
"""


@pytest.fixture
def served(project, tmp_path):
    """A project on disk served from its own folder; returns (root, env, log path)."""
    name = project.app_module("lifecycle", {"hooks.py": HOOKS, "main.py": MAIN})
    project.config(f"[apps]\nactive = {name}\n")
    (project.root / "wsgi.py").write_text(textwrap.dedent(WSGI))
    log = tmp_path / "hooks.log"
    log.touch()
    env = {
        "HOOK_LOG": str(log),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "FAIL_STARTUP": "",
    }
    return project.root, env, log


def lines(log: Path) -> list[tuple[str, int]]:
    return [(word, int(pid)) for word, pid in (line.split() for line in log.read_text().splitlines())]


def test_gunicorn_two_workers_start_once_and_shut_down_once(served):
    root, env, log = served
    port = free_port()
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
    url = f"http://127.0.0.1:{port}/pid"
    args = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"]
    with running_server(args, url, cwd=root, env=env) as proc:
        assert wait_until(lambda: sum(w == "startup" for w, _ in lines(log)) == 2)
        served_by = set()
        for _ in range(40):
            with urllib.request.urlopen(url, timeout=5) as response:
                served_by.add(int(response.read()))
        master = proc.pid
    assert proc.returncode == 0
    events = lines(log)
    starts = Counter(pid for word, pid in events if word == "startup")
    stops = Counter(pid for word, pid in events if word == "shutdown")
    assert len(starts) == 2 and set(starts.values()) == {1}  # each worker exactly once
    assert master not in starts  # the arbiter never starts the project
    assert stops == starts  # each worker shut down exactly once, at exit
    assert served_by <= set(starts)
    for pid in starts:  # per worker: startup, then its requests, then shutdown
        mine = [word for word, p in events if p == pid]
        assert mine[0] == "startup" and mine[-1] == "shutdown"
        assert "startup" not in mine[1:] and "shutdown" not in mine[:-1]


def test_gunicorn_worker_stops_when_a_startup_hook_fails(served):
    root, env, log = served
    port = free_port()
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", FAIL_STARTUP="1")
    proc = subprocess.run(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        timeout=60,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode == 3, stderr  # gunicorn's "worker failed to boot"
    assert "startup hook failed" in stderr
    assert "RuntimeError: database unreachable" in stderr
    assert "on_startup" in stderr  # the hook is named
    assert "Worker failed to boot" in stderr
    assert [w for w, _ in lines(log)] == ["startup"]  # no request served, no shutdown fired


def test_dev_server_fires_shutdown_on_sigterm(served):
    root, env, log = served
    port = free_port()
    url = f"http://127.0.0.1:{port}/pid"
    args = [str(BIN / "flask"), "--app", "wsgi", "run", "--port", str(port), "--no-reload"]
    with running_server(args, url, cwd=root, env=env, stop_signal=signal.SIGTERM) as proc:
        for _ in range(5):
            urllib.request.urlopen(url, timeout=5).read()
    events = lines(log)
    words = [w for w, _ in events]
    assert words.count("startup") == 1 and words.count("shutdown") == 1, events
    assert words[0] == "startup" and words[-1] == "shutdown"
    assert {pid for _, pid in events} == {proc.pid}


def test_interpreter_exit_fires_shutdown(served):
    root, env, log = served
    script = textwrap.dedent("""
        from wsgi import app

        client = app.test_client()
        for _ in range(3):
            assert client.get('/pid').status_code == 200
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env={**os.environ, **env}, capture_output=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert [w for w, _ in lines(log)] == ["startup"] + ["request"] * 3 + ["shutdown"]
