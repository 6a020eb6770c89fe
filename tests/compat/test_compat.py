"""framework._compat: each private fast path and its public fallback behave the same.

Every behaviour test here runs twice, once with the fast paths (where the installed Python
and Flask are the versions they were written for) and once with the public API only; the
async shim and hook suites also run as a whole with ``FRAMEWORK_PUBLIC_API_ONLY=1``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading

import flask
import pytest

from framework import _async, _compat
from tests.helpers import ROOT, WITHOUT_SUITE_PLUGINS

HANDLERS = """
    import asyncio

    import flask

    from framework import _async
    from framework.response import JSON
    from framework.router import Routes

    routes = Routes()


    def sync_helper():
        async def inner():
            await asyncio.sleep(0)
            return 'nested'
        return _async.run(inner())


    @routes.get('/probe')
    async def probe(request):
        await asyncio.sleep(0)
        task = asyncio.current_task()
        return JSON({
            'same_request': flask.request._get_current_object() is request,
            'task': type(task).__name__,
            'nested': sync_helper(),
            'started': flask.g.get('started'),
        })


    @routes.get('/slow')
    async def slow(request):
        await asyncio.sleep(0.001)  # real waiting on the loop's timer
        return JSON({'slept': True})


    @routes.get('/sync')
    def sync_view(request):
        return JSON({'same_request': flask.request._get_current_object() is request})
"""

HOOKS = """
    import asyncio

    import flask

    from framework.hook import Hooks

    hooks = Hooks()


    @hooks.event('request_start')
    async def start():
        await asyncio.sleep(0)
        flask.g.started = flask.request.path
"""


@pytest.fixture(params=["fast", "public"])
def mode(request):
    """Switch every fast path on (skipped where unsupported) or off for one test."""
    before = _compat.use_public_api(request.param == "public")
    try:
        if request.param == "fast" and not all(_compat.fast_paths().values()):
            pytest.skip("the fast paths do not support this Python or Flask version")
        yield request.param
    finally:
        _compat.use_public_api(not any(before.values()))


@pytest.fixture
def probe_app(project):
    hooks = project.module("probe_hooks.py", HOOKS)
    name = project.app_module(
        "probe",
        {
            "handlers.py": HANDLERS,
            "main.py": f"from framework.app import App\nfrom .handlers import routes\n"
            f"from {hooks} import hooks\napp = App(routes=[routes], hooks=[hooks])\n",
        },
    )
    project.config(f"[apps]\nactive = {name}\n")
    return project.create_app()


def test_the_fast_paths_are_used_on_the_versions_they_were_written_for():
    before = _compat.use_public_api(False)
    try:
        flask_minor = tuple(int(p) for p in _version("flask").split(".")[:2])
        expected = sys.version_info[:2] in _compat.ASYNCIO_VERSIONS
        assert _compat.fast_paths()["run_until_complete"] is expected
        assert _compat.fast_paths()["running_loop"] is expected
        assert _compat.fast_paths()["current_request"] is (flask_minor in _compat.FLASK_VERSIONS)
    finally:
        _compat.use_public_api(not any(before.values()))


def test_an_unknown_library_version_falls_back_to_the_public_api(monkeypatch, probe_app):
    monkeypatch.setattr(_compat, "ASYNCIO_VERSIONS", ())
    monkeypatch.setattr(_compat, "FLASK_VERSIONS", ())
    before = _compat.use_public_api(False)
    try:
        assert not any(_compat.fast_paths().values())
        assert _compat.run_until_complete is _compat._run_until_complete_public
        assert _compat.running_loop is _compat._running_loop_public
        assert _compat.current_request is _compat._current_request_public
        response = probe_app.test_client().get("/probe")
        assert response.status_code == 200
        assert response.get_json()["nested"] == "nested"
    finally:
        monkeypatch.undo()
        _compat.use_public_api(not any(before.values()))


def test_the_environment_variable_turns_every_fast_path_off():
    code = "import json; from framework import _compat; print(json.dumps(_compat.fast_paths()))"
    env = {**os.environ, _compat.PUBLIC_ONLY_ENV: "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    paths = json.loads(out)
    assert set(paths) == {"running_loop", "run_until_complete", "current_request"}
    assert not any(paths.values())


def test_a_coroutine_returns_its_result_and_raises_its_own_exception(mode):
    async def answer():
        await asyncio.sleep(0)
        return 42

    async def failing():
        await asyncio.sleep(0)
        raise LookupError("inside")

    assert _async.run(answer()) == 42
    with pytest.raises(LookupError, match="inside"):
        _async.run(failing())


def test_inside_a_coroutine_asyncio_sees_a_running_loop_and_a_task(mode):
    async def look():
        return (
            asyncio.get_running_loop(),
            asyncio.current_task(),
            _async.in_async_context(),
            _compat.running_loop(),
        )

    loop, task, inside, running = _async.run(look())
    assert loop is _async.get_loop() and running is loop
    assert isinstance(task, asyncio.Task)
    assert inside is True
    assert _async.in_async_context() is False and _compat.running_loop() is None


def test_timeouts_real_waits_and_cancellation_behave_as_in_asyncio(mode):
    async def times_out():
        async with asyncio.timeout(0):
            await asyncio.Event().wait()  # never set: only the timeout ends it

    async def waits():
        await asyncio.sleep(0.001)
        return "woke"

    async def cancels_itself():
        asyncio.current_task().cancel()
        await asyncio.sleep(0)

    with pytest.raises(TimeoutError):
        _async.run(times_out())
    assert _async.run(waits()) == "woke"
    with pytest.raises(asyncio.CancelledError):
        _async.run(cancels_itself())


def test_a_task_started_by_one_coroutine_goes_on_in_the_next_call(mode):
    seen = []
    gate = asyncio.Event()

    async def background():
        await gate.wait()
        seen.append("background ran")

    async def start():
        return asyncio.get_running_loop().create_task(background())

    async def release():
        gate.set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    task = _async.run(start())
    _async.run(release())
    assert seen == ["background ran"] and task.done()


def test_each_thread_runs_its_coroutines_on_its_own_loop(mode):
    async def loop_id():
        return id(asyncio.get_running_loop())

    found = {}

    def worker():
        found["thread"] = _async.run(loop_id())
        _async.close_thread_loop()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert found["thread"] != _async.run(loop_id())


def test_current_request_is_flasks_request_object(mode, probe_app):
    with probe_app.test_request_context("/anything"):
        assert _compat.current_request() is flask.request._get_current_object()
        assert _compat.current_request().path == "/anything"


def test_a_request_through_handlers_hooks_and_nested_runs(mode, probe_app):
    client = probe_app.test_client()
    response = client.get("/probe")
    assert response.status_code == 200
    assert response.get_json() == {
        "same_request": True,
        "task": "Task",
        "nested": "nested",
        "started": "/probe",
    }
    assert client.get("/slow").get_json() == {"slept": True}
    assert client.get("/sync").get_json() == {"same_request": True}


def test_the_shim_and_hook_suites_pass_with_the_public_api_only():
    env = {**os.environ, _compat.PUBLIC_ONLY_ENV: "1"}
    suites = ["tests/async_shim/test_shim.py", "tests/hooks/test_events.py"]
    done = subprocess.run(
        # -n 0: in that one process (setup.cfg asks for xdist workers)
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:randomly",
            *WITHOUT_SUITE_PLUGINS,
            *suites,
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)
