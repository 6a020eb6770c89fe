"""The async compatibility shim.

Backendpy code is ``async def`` throughout; this framework is synchronous WSGI. Coroutines
run on an event loop that belongs to the calling worker thread and lives as long as that
thread (one loop per thread and per process, created lazily so that it is always created
after gunicorn forks). The coroutine runs in the calling thread with ``run_until_complete``,
so Flask's context-local objects (``request``, ``g``, ``current_app``) and the request's
database session are visible inside it, as they are in sync code.

Measured here (DESIGN 4.9): running in the calling thread costs far less than handing the
coroutine to a loop in another thread, and far less than a new loop per call.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import functools
import inspect
import os
import threading
import types
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from . import _compat

T = TypeVar("T")

_local = threading.local()
_nested_pool: ThreadPoolExecutor | None = None
_nested_lock = threading.Lock()


class _ThreadLoop:
    """Holds a thread's loop; closes it when the thread ends (its ``threading.local`` is
    dropped) or when a forked child replaces the copy it inherited, so no loop and no
    file descriptor outlives its thread."""

    __slots__ = ("loop",)

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        loop = self.loop
        if not loop.is_closed() and not loop.is_running():
            loop.close()


def get_loop() -> asyncio.AbstractEventLoop:
    """Return this thread's long-lived event loop, creating it on first use."""
    holder = getattr(_local, "holder", None)
    if holder is None or holder.loop.is_closed():
        holder = _local.holder = _ThreadLoop()
    return holder.loop


def _forget_loops_in_child() -> None:
    # A forked child (a gunicorn worker) must not use the loop it copied from its
    # parent: it gets fresh ones. Checking os.getpid() on every call instead would be
    # a system call per coroutine.
    global _local
    _local = threading.local()


os.register_at_fork(after_in_child=_forget_loops_in_child)


def close_thread_loop() -> None:
    """Close this thread's loop, if it has one (for borrowed threads, e.g. a server's pool)."""
    holder = getattr(_local, "holder", None)
    if holder is not None and not holder.loop.is_closed() and not holder.loop.is_running():
        holder.loop.close()


def in_async_context() -> bool:
    """True when called from code running inside an event loop in this thread."""
    return _compat.running_loop() is not None


def run(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from synchronous code and return its result.

    Called from plain sync code it runs on the thread's persistent loop. Called from sync
    code that is itself running inside a coroutine (a sync helper called by an async
    handler), the loop is busy, so the awaitable runs on a helper thread with its own
    loop and a copy of the current context.
    """
    if _compat.running_loop() is None:
        # get_loop() inlined: this runs for every coroutine a request meets
        holder = getattr(_local, "holder", None)
        if holder is None or holder.loop.is_closed():
            holder = _local.holder = _ThreadLoop()
        return _compat.run_until_complete(holder.loop, awaitable)
    ctx = contextvars.copy_context()
    return _pool().submit(ctx.run, _run_on_thread_loop, awaitable).result()


def _run_on_thread_loop(awaitable: Awaitable[T]) -> T:
    return _run_here(get_loop(), awaitable)


def _run_here(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` on ``loop`` in this thread and return its result (the cheap way
    for a coroutine that needs no I/O is in ``_compat.run_until_complete``)."""
    return _compat.run_until_complete(loop, awaitable)


def _pool() -> ThreadPoolExecutor:
    global _nested_pool
    with _nested_lock:
        if _nested_pool is None:
            _nested_pool = ThreadPoolExecutor(thread_name_prefix="framework-async")
        return _nested_pool


#: Types whose instances ``inspect.isawaitable`` found not awaitable (a response, a tuple,
#: a function), valid while ``abc.get_cache_token()`` is unchanged (registering a class with
#: an ABC, ``Awaitable`` included, changes it). Bounded: past the limit nothing is added.
_PLAIN_TYPES: set[type] = set()
_PLAIN_TYPES_MAX = 256
_plain_token: list[object] = [abc.get_cache_token()]


def is_awaitable(value: object) -> bool:
    """Fast check for a coroutine, falling back to the general awaitable test (whose
    negative answer is remembered per type: generators aside, a type's instances are all
    awaitable or all not)."""
    cls = type(value)
    if cls is types.CoroutineType:
        return True
    if cls in _PLAIN_TYPES and _plain_token[0] == abc.get_cache_token():
        return False
    if inspect.isawaitable(value):
        return True
    if cls is not types.GeneratorType:
        token = abc.get_cache_token()
        if _plain_token[0] != token:  # an ABC registration since: start again
            _PLAIN_TYPES.clear()
            _plain_token[0] = token
        if len(_PLAIN_TYPES) < _PLAIN_TYPES_MAX:
            _PLAIN_TYPES.add(cls)
    return False


def is_async_callable(fn: object) -> bool:
    """True for ``async def`` functions, bound methods, partials and objects whose
    ``__call__`` is ``async def``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - the method itself, to ask if it is async
    return call is not None and inspect.iscoroutinefunction(call)


def call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` (sync or async) from sync code and return its result."""
    result = fn(*args, **kwargs)
    if is_awaitable(result):
        return run(result)
    return result


async def acall(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` (sync or async) from async code and return its result."""
    result = fn(*args, **kwargs)
    if is_awaitable(result):
        return await result
    return result
