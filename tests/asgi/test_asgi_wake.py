"""The adapter's wake-up of the event loop from its pool threads (framework._asgi_wake)."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

from framework._asgi_wake import Wake, wake_for

STEP = 10.0
THREADS = 8
CALLS_EACH = 500


def _run_calls_from_threads(wake: Wake, loop: asyncio.AbstractEventLoop) -> list[tuple[int, int]]:
    """Every thread hands ``CALLS_EACH`` callbacks in at once; the loop collects them."""
    seen: list[tuple[int, int]] = []
    loop_thread: list[int] = []
    all_in = loop.create_future()

    def collect(item: tuple[int, int]) -> None:
        loop_thread.append(threading.get_ident())
        seen.append(item)
        if len(seen) == THREADS * CALLS_EACH and not all_in.done():
            all_in.set_result(None)

    start = threading.Barrier(THREADS)

    def produce(number: int) -> None:
        start.wait()
        for i in range(CALLS_EACH):
            wake.call(collect, (number, i))

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    # the deadline only keeps a lost wake-up from hanging the suite
    loop.run_until_complete(asyncio.wait_for(all_in, STEP))
    for thread in threads:
        thread.join(STEP)
    assert set(loop_thread) == {threading.get_ident()}
    return seen


def _assert_all_in_order(seen: list[tuple[int, int]]) -> None:
    assert len(seen) == THREADS * CALLS_EACH
    for number in range(THREADS):
        assert [i for n, i in seen if n == number] == list(range(CALLS_EACH))


def test_every_callback_runs_on_the_loop_in_order() -> None:
    loop = asyncio.new_event_loop()
    try:
        _assert_all_in_order(_run_calls_from_threads(wake_for(loop), loop))
    finally:
        loop.close()


def test_a_pipe_where_there_is_no_eventfd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "eventfd", raising=False)
    loop = asyncio.new_event_loop()
    try:
        wake = Wake(loop)
        _assert_all_in_order(_run_calls_from_threads(wake, loop))
    finally:
        loop.close()


class _NoReaders(asyncio.SelectorEventLoop):
    def add_reader(self, *args: Any) -> None:
        raise NotImplementedError


def test_a_loop_that_cannot_watch_descriptors_gets_call_soon_threadsafe() -> None:
    loop = _NoReaders()
    try:
        _assert_all_in_order(_run_calls_from_threads(Wake(loop), loop))
    finally:
        loop.close()


def test_one_wake_per_loop() -> None:
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        assert wake_for(first) is wake_for(first)
        assert wake_for(first) is not wake_for(second)
    finally:
        first.close()
        second.close()


def test_a_closed_loop_refuses_callbacks() -> None:
    loop = asyncio.new_event_loop()
    wake = wake_for(loop)
    loop.close()
    with pytest.raises(RuntimeError):
        wake.call(print, "never")


def test_a_failing_callback_is_reported_and_the_others_still_run() -> None:
    loop = asyncio.new_event_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    ran: list[int] = []
    done = loop.create_future()

    def fail(_: Any) -> None:
        raise ValueError("boom")

    try:
        wake = wake_for(loop)
        wake.call(fail, None)
        wake.call(ran.append, 1)
        wake.call(done.set_result, None)
        loop.run_until_complete(asyncio.wait_for(done, STEP))
        assert ran == [1]
        assert isinstance(reported[0]["exception"], ValueError)
    finally:
        loop.close()


class _NoWeakReferences:
    """A stand-in for a loop class whose instances take no weak references."""

    __slots__ = ("loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loop, name)


def test_a_loop_without_weak_references_is_served() -> None:
    loop = asyncio.new_event_loop()
    try:
        stand_in: Any = _NoWeakReferences(loop)
        wake = wake_for(stand_in)
        assert wake.loop_ref() is stand_in
        _assert_all_in_order(_run_calls_from_threads(wake, loop))
    finally:
        loop.close()
