"""The framework's only uses of private library API, each with its public fallback.

A few per-request steps are cheaper through a library's internals than through its public
API. Each such use lives here, is enabled only for the library versions it was written
and checked against, and has a public-API twin with the same behaviour that is used
otherwise (an unknown version, an event loop of another kind) or everywhere when the
environment variable ``FRAMEWORK_PUBLIC_API_ONLY`` is set to ``1`` (to rule the fast
paths out after an upgrade; the tests run both ways). The rest of the framework calls
them as ``_compat.name(...)`` so that ``use_public_api`` can switch them at run time.

The costs quoted are callgrind instruction counts per request from
``bench/instructions.py --compare-compat`` (in-process WSGI, load-independent).

- ``running_loop``: ``asyncio._get_running_loop`` (in ``asyncio.events.__all__``, meant
  for event-loop implementers) against ``get_running_loop`` with ``RuntimeError`` caught:
  a raised and caught exception on every call from plain sync code.
- ``run_until_complete``: runs the first rounds of a coroutine through the loop's ready
  queue (``loop._ready``, ``Handle._run``, ``Handle._cancelled``,
  ``asyncio._set_running_loop``) instead of starting the loop, which polls the selector.
- ``current_request``: Flask's request context variable (``flask.globals._cv_request``),
  which Flask 3.2 folds into the app context, against ``request._get_current_object()``
  (documented by Flask and Werkzeug despite its underscore).

Measured on 2026-12-02 (Python 3.11.7, Flask 3.1.3; thousands of instructions per request, fast paths /
public API only): ``def`` hello 345.1 / 350.6, ``async def`` hello 367.3 / 423.1, ``async
def`` hello with async hooks on every event and a middleware on every layer 430.9 / 532.6.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import types
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

from flask import request as _request_proxy

T = TypeVar("T")

__all__ = [
    "running_loop",
    "run_until_complete",
    "current_request",
    "use_public_api",
    "fast_paths",
    "PUBLIC_ONLY_ENV",
]

#: Set to 1 to use the public API only.
PUBLIC_ONLY_ENV = "FRAMEWORK_PUBLIC_API_ONLY"

#: Python versions whose asyncio keeps the internals used here (a ``deque`` ``_ready`` on
#: ``BaseEventLoop``, ``Handle._run``/``_cancelled``, ``_set_running_loop``). Tested on 3.11;
#: 3.12 and 3.13 have the same ones. The attributes are also checked at import and per loop
#: (uvloop's loops have no ``_ready`` deque and take the public path).
ASYNCIO_VERSIONS = ((3, 11), (3, 12), (3, 13))
#: Flask versions (major, minor) whose ``flask.globals._cv_request`` holds the request
#: context (Flask 3.2 merges the request context into the app context).
FLASK_VERSIONS = ((3, 0), (3, 1))


def _minor(distribution: str) -> tuple[int, int] | None:
    try:
        parts = version(distribution).split(".")
        return int(parts[0]), int(parts[1])
    except (PackageNotFoundError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------- running loop
def _running_loop_public() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# -------------------------------------------------------------- run a coroutine here
def _run_until_complete_public(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    return loop.run_until_complete(awaitable)


#: Rounds of ready callbacks run before falling back to the full loop (which also polls
#: for I/O); bounds how long a busy background task can hold back I/O.
_FAST_ROUNDS = 4


def _run_until_complete_fast(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    """``loop.run_until_complete(awaitable)``, cheaper for a coroutine needing no I/O
    (56k instructions fewer for an ``async def`` hello: 367k against 423k a request).

    ``run_until_complete`` costs two to three times as much as the coroutine of a hello
    handler itself, most of it starting the loop and polling the selector for I/O. A
    coroutine that needs no I/O (a hello handler, a no-op hook, a validator) finishes
    within a few rounds of the loop's ready callbacks, so those rounds run here first,
    with the loop set as the running loop and the coroutine wrapped in a real ``Task``
    (``current_task()``, ``asyncio.timeout`` and cancellation behave as usual). Only a
    task still waiting afterwards goes through ``run_until_complete``.
    """
    ready = getattr(loop, "_ready", None)
    # ``_thread_id`` and ``_task_factory``: what ``is_running()`` and ``get_task_factory()``
    # return on a ``BaseEventLoop`` (the only kind with a deque ``_ready``), read without
    # two method calls per coroutine; anything unexpected takes the public path
    if (
        type(awaitable) is not types.CoroutineType
        or type(ready) is not collections.deque
        or getattr(loop, "_thread_id", 0) is not None
    ):
        return loop.run_until_complete(awaitable)
    if getattr(loop, "_task_factory", 0) is None:
        task = asyncio.Task(awaitable, loop=loop)  # what create_task does, minus its checks
    else:
        task = loop.create_task(awaitable)
    asyncio._set_running_loop(loop)
    try:
        for _ in range(_FAST_ROUNDS):
            for _ in range(len(ready)):
                handle = ready.popleft()
                if not handle._cancelled:
                    handle._run()
            if task.done() or not ready:
                break
    finally:
        asyncio._set_running_loop(None)
    if not task.done():
        return loop.run_until_complete(task)
    return task.result()


# ------------------------------------------------------------------ Flask's request
def _current_request_public() -> Any:
    return _request_proxy._get_current_object()  # type: ignore[attr-defined]


def _make_current_request_fast() -> Callable[[], Any]:
    from flask.globals import _cv_request

    get = _cv_request.get

    # 1.1k instructions a call against 2.2k for the proxy's _get_current_object (callgrind);
    # three calls a request
    def current_request() -> Any:
        return get().request

    return current_request


# ------------------------------------------------------------------------ switching
running_loop: Callable[[], asyncio.AbstractEventLoop | None] = _running_loop_public
"""The event loop running in this thread, or None."""

run_until_complete: Callable[[asyncio.AbstractEventLoop, Awaitable[Any]], Any] = _run_until_complete_public
"""Run ``awaitable`` on ``loop`` (not running) in this thread; its result."""

current_request: Callable[[], Any] = _current_request_public
"""The Flask request object of the current request context (not its proxy)."""

_fast: dict[str, bool] = {}


def _supported() -> dict[str, bool]:
    """Which fast paths the installed Python and libraries were checked against."""
    asyncio_ok = (
        sys.version_info[:2] in ASYNCIO_VERSIONS
        and callable(getattr(asyncio, "_get_running_loop", None))
        and callable(getattr(asyncio, "_set_running_loop", None))
        and callable(getattr(asyncio.Handle, "_run", None))
    )
    flask_ok = _minor("flask") in FLASK_VERSIONS
    if flask_ok:
        import flask.globals

        flask_ok = hasattr(flask.globals, "_cv_request")
    return {"running_loop": asyncio_ok, "run_until_complete": asyncio_ok, "current_request": flask_ok}


def use_public_api(public_only: bool) -> dict[str, bool]:
    """Use the public API only (True), or the fast paths where supported (False).

    Returns which fast paths were in use before, for tests that switch and restore.
    """
    global running_loop, run_until_complete, current_request
    before = dict(_fast)
    supported = _supported()
    for name in supported:
        _fast[name] = supported[name] and not public_only
    # the fast path is ``asyncio._get_running_loop`` itself, a C function: 1.2k instructions
    # a call against 3.8k for the public twin outside a loop (callgrind)
    running_loop = asyncio._get_running_loop if _fast["running_loop"] else _running_loop_public
    run_until_complete = (
        _run_until_complete_fast if _fast["run_until_complete"] else _run_until_complete_public
    )
    current_request = _make_current_request_fast() if _fast["current_request"] else _current_request_public
    return before


def fast_paths() -> dict[str, bool]:
    """Each fast path's name and whether it is in use."""
    return dict(_fast)


use_public_api(os.environ.get(PUBLIC_ONLY_ENV, "").strip() not in ("", "0"))
