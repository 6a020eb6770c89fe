"""The async shim: Flask's context in coroutines, tracebacks, per-thread persistent loops,
nothing carried from one request to the next."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sys
import threading
import traceback
import warnings

import pytest

from framework import _async

HANDLERS = """
    import asyncio
    import contextvars

    import flask
    from flask import current_app, g

    from framework import _async
    from framework.response import JSON, Text
    from framework.router import Routes

    routes = Routes()
    TENANT = contextvars.ContextVar('tenant', default='none')
    BACKGROUND = []


    @routes.get('/context/<name>')
    async def context(request):
        await asyncio.sleep(0)
        seen_before = TENANT.get()
        TENANT.set(request.url_vars['name'])
        leftover = getattr(g, 'mine', None)
        g.mine = request.url_vars['name']
        return JSON({
            'path': flask.request.path,
            'same_request': flask.request._get_current_object() is request,
            'user': g.user,
            'app': current_app.name,
            'fw': request.app is current_app.extensions['framework'],
            'tenant_before': seen_before,
            'g_leftover': leftover,
            'loop': id(asyncio.get_running_loop()),
            'thread': __import__('threading').get_ident(),
            'pending': len([t for t in asyncio.all_tasks() if t is not asyncio.current_task()]),
        })


    async def failing_coroutine():
        await asyncio.sleep(0)
        raise LookupError('deep inside the coroutine')


    @routes.get('/fail')
    async def fail(request):
        await failing_coroutine()


    def sync_helper():
        # plain code called by an async handler, running a coroutine of its own
        async def read_path():
            await asyncio.sleep(0)
            return flask.request.path, g.user
        return _async.run(read_path())


    @routes.get('/nested')
    async def nested(request):
        path, user = sync_helper()
        return JSON({'path': path, 'user': user})


    @routes.get('/spawn')
    async def spawn(request):
        async def background():
            BACKGROUND.append(0)
            while True:
                await asyncio.sleep(0)
                BACKGROUND[0] += 1
        request.app.context['task'] = asyncio.ensure_future(background())
        return Text('spawned')


    @routes.get('/tick')
    async def tick(request):
        await asyncio.sleep(0)
        return Text('tick')


    @routes.get('/sync')
    def sync(request):
        return JSON({'user': g.user, 'path': flask.request.path})
"""

HOOKS_AND_MIDDLEWARE = """
    import asyncio

    import flask
    from flask import g

    from framework.hook import Hooks
    from framework.middleware import Middleware

    SEEN = []
    hooks = Hooks()


    @hooks.event('request_start')
    async def start():
        await asyncio.sleep(0)
        SEEN.append(('hook start', flask.request.path))
        g.hook_ran = True


    @hooks.event('request_end')
    async def end():
        await asyncio.sleep(0)
        SEEN.append(('hook end', flask.request.path))


    class Seeing(Middleware):
        async def process_request(self, request):
            await asyncio.sleep(0)
            SEEN.append(('request', flask.request.path, g.hook_ran, g.user))
            return request, None

        async def process_response(self, request, response):
            await asyncio.sleep(0)
            SEEN.append(('response', flask.request.path, response.status_code))
            return response
"""


@pytest.fixture
def shim(project):
    mod = project.module("seeing.py", HOOKS_AND_MIDDLEWARE)
    name = project.app_module(
        "web",
        {
            "handlers.py": HANDLERS,
            "main.py": f"from framework.app import App\nfrom .handlers import routes\n"
            f"from {mod} import hooks\napp = App(routes=[routes], hooks=[hooks])\n",
        },
    )
    project.config(f"[apps]\nactive = {name}\n[middlewares]\nactive = {mod}.Seeing\n")
    app = project.create_app()

    @app.before_request
    def set_user():
        from flask import g

        g.user = "ann"

    app.handlers = sys.modules[f"{name}.handlers"]
    app.seen = sys.modules[mod].SEEN
    return app


def test_async_handler_sees_request_g_and_current_app(shim):
    body = shim.test_client().get("/context/one").json
    assert body["path"] == "/context/one"
    assert body["same_request"] is True
    assert body["user"] == "ann"
    assert body["app"] == shim.name
    assert body["fw"] is True


def test_nothing_leaks_between_requests_and_the_loop_persists(shim):
    client = shim.test_client()
    first = client.get("/context/one").json
    second = client.get("/context/two").json
    assert second["tenant_before"] == "none"  # a context variable set by the last request
    assert second["g_leftover"] is None  # g is per request
    assert first["pending"] == second["pending"] == 0
    assert first["thread"] == second["thread"]
    assert first["loop"] == second["loop"]  # one loop per thread, not one per call
    assert first["loop"] == id(_async.get_loop())


def test_sync_handlers_share_the_context(shim):
    assert shim.test_client().get("/sync").json == {"user": "ann", "path": "/sync"}


def test_exceptions_keep_their_traceback(shim, caplog):
    with caplog.at_level(logging.ERROR):
        response = shim.test_client().get("/fail")
    assert response.status_code == 500
    assert response.json["code"] == 1000
    assert b"deep inside" not in response.data
    record = next(r for r in caplog.records if r.exc_info)
    exc = record.exc_info[1]
    assert isinstance(exc, LookupError)
    frames = [frame.name for frame in traceback.extract_tb(exc.__traceback__)]
    assert frames[-2:] == ["fail", "failing_coroutine"]


def test_run_raises_the_coroutines_own_exception():
    async def inner():
        await asyncio.sleep(0)
        raise KeyError("lost key")

    with pytest.raises(KeyError, match="lost key") as info:
        _async.run(inner())
    assert info.traceback[-1].name == "inner"


def test_a_sync_helper_of_an_async_handler_can_run_a_coroutine(shim):
    assert shim.test_client().get("/nested").json == {"path": "/nested", "user": "ann"}


def test_async_hooks_and_middlewares_see_the_request(shim):
    response = shim.test_client().get("/sync")
    response.close()
    assert shim.seen == [
        ("hook start", "/sync"),
        ("request", "/sync", True, "ann"),
        ("response", "/sync", 200),
        ("hook end", "/sync"),
    ]


def test_background_tasks_run_only_while_the_thread_serves_a_request(shim):
    """The documented limit: the loop runs only inside a request of its thread."""
    threads_before = set(threading.enumerate())
    client = shim.test_client()
    client.get("/spawn")
    task = shim.extensions["framework"].context["task"]
    steps = shim.handlers.BACKGROUND
    after_spawn = steps[0]
    # paused between requests: nothing runs the loop (it is not running, and no thread was
    # started to run it), so the task cannot advance however long the pause lasts
    assert not task.get_loop().is_running()
    assert set(threading.enumerate()) <= threads_before
    assert steps[0] == after_spawn and not task.done()
    client.get("/tick")
    assert steps[0] > after_spawn  # resumed while serving one
    task.cancel()
    client.get("/tick")
    assert task.cancelled()


def test_one_loop_per_thread():
    loops = {}

    async def running():
        return asyncio.get_running_loop()

    def work(key):
        loops[key] = (_async.run(running()), _async.run(running()))

    threads = [threading.Thread(target=work, args=(k,)) for k in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loops["a"][0] is loops["a"][1]
    assert loops["b"][0] is loops["b"][1]
    assert loops["a"][0] is not loops["b"][0]


def test_a_forked_worker_gets_its_own_loop():
    parent_loop = _async.get_loop()
    read, write = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns about forking a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report whether it made a fresh loop, then leave at once
        try:
            fresh = _async.get_loop() is not parent_loop and _async.run(asyncio.sleep(0, "ok")) == "ok"
            os.write(write, b"1" if fresh else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert _async.get_loop() is parent_loop


def test_call_and_acall_take_sync_and_async_callables():
    async def double(x):
        return 2 * x

    assert _async.call(double, 4) == 8
    assert _async.call(lambda x: x + 1, 4) == 5

    async def main():
        return await _async.acall(double, 5), await _async.acall(len, "abc")

    assert _async.run(main()) == (10, 3)


def test_context_variables_set_inside_a_coroutine_stay_inside():
    var = contextvars.ContextVar("var", default="outer")

    async def change():
        var.set("inner")
        return var.get()

    assert _async.run(change()) == "inner"
    assert var.get() == "outer"


def test_is_awaitable_remembers_plain_types_until_an_abc_registration():
    """A type found not awaitable is remembered, and forgotten when a class is registered
    with an ABC (``Awaitable.register`` makes its instances awaitable at once)."""
    import collections.abc

    from framework import _async

    class Later:
        pass

    class Awaits:
        def __await__(self):
            return iter(())

    assert _async.is_awaitable(Later()) is False
    assert _async.is_awaitable(Later()) is False  # answered from the remembered type
    assert _async.is_awaitable(Awaits()) is True
    collections.abc.Awaitable.register(Later)
    assert _async.is_awaitable(Later()) is True

    def gen():
        yield

    plain_generator = gen()
    assert _async.is_awaitable(plain_generator) is False
    assert type(plain_generator) not in _async._PLAIN_TYPES  # generators are judged one by one
