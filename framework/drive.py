"""One rule, two faces: run a step generator from sync or from async code.

A rule that may meet an awaitable (an ``async def`` hook, middleware, validator or
handler) is written once, as a generator that yields each awaitable it needs and receives
its result (or its exception) back. ``drive_sync`` runs such a generator from plain code,
each awaitable on the thread's loop (``framework._async``); ``drive_async`` runs it inside a
coroutine, awaiting them. A generator that meets nothing awaitable never yields, so the
sync face pays no async cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from typing import Any, TypeVar

from . import _async

__all__ = ["Steps", "drive_sync", "drive_async"]

T = TypeVar("T")

#: A rule written once: yields awaitables, receives their results, returns ``T``.
Steps = Generator[Awaitable[Any], Any, T]


def drive_sync(steps: Steps[T]) -> T:
    """Run ``steps`` from sync code; what it yields runs on the thread's loop."""
    try:
        awaitable = steps.send(None)
        while True:
            try:
                result = _async.run(awaitable)
            except BaseException as exc:  # noqa: BLE001 - handed back into the rule
                awaitable = steps.throw(exc)
            else:
                awaitable = steps.send(result)
    except StopIteration as stop:
        return stop.value


async def drive_async(steps: Steps[T]) -> T:
    """Run ``steps`` inside a coroutine, awaiting what it yields."""
    try:
        awaitable = steps.send(None)
        while True:
            try:
                result = await awaitable
            except BaseException as exc:  # noqa: BLE001 - handed back into the rule
                awaitable = steps.throw(exc)
            else:
                awaitable = steps.send(result)
    except StopIteration as stop:
        return stop.value
