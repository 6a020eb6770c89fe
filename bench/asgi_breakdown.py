"""Where one ASGI request's instructions go: callgrind inclusive costs per part of the path.

Callgrind sees C functions, not Python ones (every Python call is the same interpreter
loop). So each part of the path is called through a C function of its own, from a tiny
extension module built on first use (``region_<name>(callable, *args)`` calls the callable
and returns its result), and callgrind's inclusive cost of that C function is the part's
cost. The parts are wrapped by replacing the function, method or registered callable
that runs them; a coroutine is wrapped step by step (each ``send`` into it is one call),
so a part that suspends (the adapter's wait for its thread) is counted without the wait.

    python bench/asgi_breakdown.py                      # uv-hello, uv-post, bp-uv-hello, bp-uv-post, uv-plain
    python bench/asgi_breakdown.py --variants uv-hello --requests 300

The variants are bench/instructions.py's ``uv-*`` ones: uvicorn's own protocol on a
loopback socket (bench/apps/uvicorn_driver.py), ``bp-uv-*`` Backendpy in the bench's
Backendpy venv. Wrapping costs a few hundred instructions per wrapped call, outside the
regions: the ``marked total`` is above bench/instructions.py's count of the same variant
by that much; compare regions with each other and the unwrapped count, not with it.
Needs valgrind, its headers (valgrind-dev) and a C compiler with Python's headers.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Every region, in the order the report lists them.
REGIONS = [
    "server_app",  # the app uvicorn calls: its ProxyHeadersMiddleware and the app, by steps
    "app",  # the app itself (to_asgi's adapter, or Backendpy), by steps
    "uv_data_received",  # uvicorn: parse the request (h11), the scope, the task
    "uv_receive",  # uvicorn: the request message
    "uv_send",  # uvicorn: serialise (h11) and write the answer; on_response_complete inside
    "uv_response_complete",
    "environ",  # the adapter: build_environ
    "request_id",  # the adapter: request_id.bind and set_current
    "call_init",  # the adapter: _WsgiCall()
    "submit",  # the adapter: pool.submit (the hand-over's loop side)
    "run",  # pool thread: _WsgiCall.run, all of it
    "wsgi",  # pool thread: the WSGI app's call (the framework's middlewares and Flask)
    "header_check",  # framework.header_check.HeaderCheck (inside the request id's middleware)
    "flask",  # Flask.wsgi_app
    "fw_ensure_sync",  # FrameworkFlask.ensure_sync, per registered function
    "fw_session_open",
    "fw_session_save",
    "fw_before",  # the framework's before_request
    "fw_view",  # the route's view: the framework's pipeline, the handler, the async shim
    "fw_async_run",  # framework._async.run (inside the view)
    "fw_after",
    "fw_teardown",  # teardown_request and teardown_appcontext functions
    "start_response",  # pool thread: the adapter's start_response
    "respond",  # pool thread: the adapter collecting the body
    "settle",  # pool thread: call_soon_threadsafe back to the loop
    "resolve",  # the loop: the request's future resolved
]

_C_HEAD = """
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <valgrind/callgrind.h>
static PyObject *start(PyObject *m, PyObject *a) {
    CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; Py_RETURN_NONE;
}
static PyObject *stop(PyObject *m, PyObject *a) {
    CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION; Py_RETURN_NONE;
}
"""
_C_REGION = """
__attribute__((noinline)) PyObject *region_{name}(PyObject *m, PyObject *const *args, Py_ssize_t n) {{
    return PyObject_Vectorcall(args[0], args + 1, n - 1, NULL);
}}
"""
_C_TAIL = """
static PyMethodDef methods[] = {{
    {{"start", start, METH_NOARGS, NULL}},
    {{"stop", stop, METH_NOARGS, NULL}},
{entries}
    {{NULL, NULL, 0, NULL}}
}};
static struct PyModuleDef module = {{PyModuleDef_HEAD_INIT, "_cgregions", NULL, -1, methods}};
PyMODINIT_FUNC PyInit__cgregions(void) {{ return PyModule_Create(&module); }}
"""


def build_module(folder: str) -> None:
    """Compile ``_cgregions`` into ``folder``."""
    source = os.path.join(folder, "_cgregions.c")
    entry = '    {{"{0}", (PyCFunction)(void(*)(void))region_{0}, METH_FASTCALL, NULL}},'
    entries = "\n".join(entry.format(n) for n in REGIONS)
    functions = "".join(_C_REGION.format(name=n) for n in REGIONS)
    with open(source, "w") as handle:
        handle.write(_C_HEAD + functions + _C_TAIL.format(entries=entries))
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    built = subprocess.run(
        [
            "cc",
            "-O1",
            "-g",
            "-shared",
            "-fPIC",
            f"-I{sysconfig.get_paths()['include']}",
            "-o",
            os.path.join(folder, "_cgregions" + suffix),
            source,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise SystemExit(
            f"could not build the region module (cc, Python's and valgrind's headers):\n{built.stderr}"
        )


# ------------------------------------------------------------------ wrapping (in the measured run)
class _Steps:
    """Awaits ``coro`` with each step (one ``send`` into it) made through ``region``."""

    __slots__ = ("region", "coro")

    def __init__(self, region: Callable[..., Any], coro: Any) -> None:
        self.region = region
        self.coro = coro

    def __await__(self) -> Any:
        coro, region, value = self.coro, self.region, None
        while True:
            try:
                future = region(coro.send, value)
            except StopIteration as stop:
                return stop.value
            value = yield future


def _by_steps(region: Callable[..., Any], func: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any) -> Any:
        return await _Steps(region, func(*args))

    return wrapper


def _method(region: Callable[..., Any], func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        return region(func, *args)

    return wrapper


def _uvicorn(cg: Any) -> None:
    from uvicorn.protocols.http import h11_impl

    protocol, cycle = h11_impl.H11Protocol, h11_impl.RequestResponseCycle
    protocol.data_received = _method(cg.uv_data_received, protocol.data_received)  # type: ignore[method-assign]
    protocol.on_response_complete = _method(cg.uv_response_complete, protocol.on_response_complete)  # type: ignore[method-assign]
    cycle.send = _by_steps(cg.uv_send, cycle.send)  # type: ignore[method-assign]
    cycle.receive = _by_steps(cg.uv_receive, cycle.receive)  # type: ignore[method-assign]


def _wrap_server_app(cg: Any) -> Callable[[Any], Any]:
    def wrap(server_app: Any) -> Any:
        server_app.app = _by_steps(cg.app, server_app.app)
        return _by_steps(cg.server_app, server_app)

    return wrap


def _adapter(cg: Any, adapter: Any) -> None:
    """Wrap the adapter's parts and, when it serves the framework, the framework's."""
    from flask import Flask

    import framework._async
    import framework.asgi
    import framework.request_id
    from framework.asgi import _WsgiCall
    from framework.header_check import HeaderCheck

    framework.asgi.build_environ = functools.partial(cg.environ, framework.asgi.build_environ)
    framework.request_id.bind = functools.partial(cg.request_id, framework.request_id.bind)
    framework.request_id.set_current = functools.partial(cg.request_id, framework.request_id.set_current)
    framework.asgi._resolve = functools.partial(cg.resolve, framework.asgi._resolve)
    _WsgiCall.__init__ = _method(cg.call_init, _WsgiCall.__init__)  # type: ignore[method-assign]
    _WsgiCall.run = _method(cg.run, _WsgiCall.run)  # type: ignore[method-assign]
    _WsgiCall._respond = _method(cg.respond, _WsgiCall._respond)  # type: ignore[method-assign]
    _WsgiCall._settle = _method(cg.settle, _WsgiCall._settle)  # type: ignore[method-assign]
    _WsgiCall.start_response = _method(cg.start_response, _WsgiCall.start_response)  # type: ignore[method-assign]
    adapter.pool.submit = functools.partial(cg.submit, adapter.pool.submit)
    app = adapter.app
    adapter.app = functools.partial(cg.wsgi, app)
    if not isinstance(app, Flask):
        return
    HeaderCheck.__call__ = _method(cg.header_check, HeaderCheck.__call__)  # type: ignore[method-assign]
    layer = app.wsgi_app  # the framework's middlewares, down to Flask's own wsgi_app
    while getattr(layer.app, "__func__", None) is not Flask.wsgi_app:
        layer = layer.app
    layer.app = functools.partial(cg.flask, layer.app)
    app.ensure_sync = functools.partial(cg.fw_ensure_sync, app.ensure_sync)  # type: ignore[method-assign]
    session = app.session_interface
    session.open_session = functools.partial(cg.fw_session_open, session.open_session)  # type: ignore[method-assign]
    session.save_session = functools.partial(cg.fw_session_save, session.save_session)  # type: ignore[method-assign]
    for registry, region in (
        (app.before_request_funcs, cg.fw_before),
        (app.after_request_funcs, cg.fw_after),
        (app.teardown_request_funcs, cg.fw_teardown),
    ):
        for funcs in registry.values():
            funcs[:] = [functools.partial(region, f) for f in funcs]
    teardowns = app.teardown_appcontext_funcs
    teardowns[:] = [functools.partial(cg.fw_teardown, f) for f in teardowns]
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = functools.partial(cg.fw_view, view)
    framework._async.run = functools.partial(cg.fw_async_run, framework._async.run)


def driver(variant: str, cg: Any) -> Callable[[], None]:
    """The request function of ``variant`` with every region wrapped."""
    from bench.apps.uvicorn_driver import plain_asgi_app, uvicorn_driver

    _uvicorn(cg)
    wrap = _wrap_server_app(cg)
    post = variant.endswith("-post")
    args: tuple[Any, ...] = ()
    if variant.startswith("bp-"):
        from main import bp  # Backendpy's project, in the working folder

        if post:
            args = ("/signup", "POST", SIGNUP_BODY, b'"email": "ann@example.com"')
        return uvicorn_driver(bp, *args, wrap=wrap)
    from bench.apps.wsgi import SIGNUP_ANSWER, make, noop_wsgi_app
    from framework.asgi import to_asgi

    if variant == "uv-plain":
        return uvicorn_driver(plain_asgi_app(), wrap=wrap)
    adapter = to_asgi(noop_wsgi_app if variant == "uv-noop" else make("validated"))
    _adapter(cg, adapter)
    if post:
        args = ("/signup", "POST", SIGNUP_BODY, SIGNUP_ANSWER)
    return uvicorn_driver(adapter, *args, wrap=wrap)


SIGNUP_BODY = b'{"name": "Ann Smith", "email": "ann@example.com"}'

PROGRAM = """
import os
import sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {folder!r})
{chdir}
import _cgregions
from bench.asgi_breakdown import driver
one = driver({variant!r}, _cgregions)
for _ in range(50):
    one()
_cgregions.start()
for _ in range({requests}):
    one()
_cgregions.stop()
"""


# ------------------------------------------------------------------ running and reading
def measure(variant: str, requests: int) -> tuple[dict[str, float], list[float]]:
    """Per-request inclusive cost of each region and each thread's total."""
    sys.path.insert(0, ROOT)
    from bench.instructions import _backendpy, callgrind

    with tempfile.TemporaryDirectory() as folder:
        build_module(folder)
        python, chdir = sys.executable, ""
        if variant.startswith("bp-"):
            project = os.path.join(folder, "backendpy")
            python = _backendpy(project)
            chdir = f"os.chdir({project!r}); sys.path.insert(0, {project!r})"
        script = os.path.join(folder, "run.py")
        with open(script, "w") as handle:
            handle.write(
                PROGRAM.format(root=ROOT, folder=folder, chdir=chdir, variant=variant, requests=requests)
            )
        done = callgrind(
            python,
            script,
            "--instr-atstart=no",
            "--separate-threads=yes",
            f"--callgrind-out-file={folder}/out.%p",
        )
        # the main thread's dump at stop(), and the other threads' at exit (they were
        # instrumented only between start() and stop()); not the main thread's at exit
        dumps = sorted(n for n in os.listdir(folder) if re.match(r"out\.\d+(\.1-\d+|-0[2-9]|-[1-9]\d)$", n))
        if done.returncode != 0 or not dumps:
            raise SystemExit(f"callgrind run of {variant!r} failed:\n{done.stderr[-3000:]}")
        regions: dict[str, float] = {}
        threads: list[float] = []
        for name in dumps:
            text = subprocess.run(
                ["callgrind_annotate", "--inclusive=yes", "--threshold=100", os.path.join(folder, name)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            total = re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", text, re.MULTILINE)
            threads.append(int(total.group(1).replace(",", "")) / requests if total else 0.0)
            found = re.findall(r"^\s*([\d,]+) \([^)]*\)\s+\S*:region_(\w+) ", text, re.MULTILINE)
            for count, region in found:
                regions[region] = regions.get(region, 0.0) + int(count.replace(",", "")) / requests
    return regions, [t for t in threads if t > 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default="uv-plain,uv-hello,uv-post,bp-uv-hello,bp-uv-post")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    for variant in args.variants.split(","):
        regions, threads = measure(variant, args.requests)
        print(
            f"{variant}: marked total {sum(threads) / 1000:.1f} k per request; threads "
            + ", ".join(f"{t / 1000:.1f} k" for t in threads)
        )
        for region in REGIONS:
            if region in regions:
                print(f"  {region:<22}{regions[region] / 1000:8.1f} k")
        print(flush=True)


if __name__ == "__main__":
    main()
