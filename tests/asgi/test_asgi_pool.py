"""The ASGI adapter's thread pool."""

from __future__ import annotations

import logging
import threading

import pytest

from framework._asgi_pool import WorkerPool
from tests.liveserver import wait_until

STEP = 5.0


def test_threads_start_lazily_and_are_reused() -> None:
    pool = WorkerPool(4)
    try:
        assert pool.started == 0
        for _ in range(5):
            done = threading.Event()
            pool.submit(done.set)
            assert done.wait(STEP)
            wait_until(lambda: pool.busy == 0, STEP)  # the thread is back to waiting
        assert pool.started == 1
    finally:
        pool.shutdown()


def test_size_bounds_the_threads() -> None:
    pool = WorkerPool(2)
    gate = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, peak
    finished = threading.Semaphore(0)

    def job() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
        gate.wait(STEP)
        with lock:
            running[0] -= 1
        finished.release()

    try:
        for _ in range(6):
            pool.submit(job)
        wait_until(lambda: running[0] == 2, STEP)
        assert pool.started == 2 and pool.busy == 6 and pool.waiting == 4
        gate.set()
        for _ in range(6):
            assert finished.acquire(timeout=STEP)
        assert running[1] == 2
    finally:
        pool.shutdown()


def test_a_failing_job_is_logged_and_the_thread_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    pool = WorkerPool(1)
    done = threading.Event()

    def boom() -> None:
        raise RuntimeError("boom")

    try:
        with caplog.at_level(logging.ERROR, logger="framework.asgi"):
            pool.submit(boom)
            pool.submit(done.set)
            assert done.wait(STEP)
        assert "uncaught error" in caplog.text
    finally:
        pool.shutdown()


def test_shutdown_finishes_queued_jobs_and_later_submits_get_new_threads() -> None:
    pool = WorkerPool(1)
    stuck = threading.Event()
    ran: list[str] = []

    def hold() -> None:
        stuck.wait(STEP)

    pool.submit(hold)  # holds the only old thread
    pool.submit(lambda: ran.append("queued before shutdown"))
    pool.shutdown(timeout=0)
    done = threading.Event()
    pool.submit(done.set)  # not held up by the stuck old thread
    assert done.wait(STEP)
    stuck.set()
    wait_until(lambda: bool(ran), STEP)
    assert ran == ["queued before shutdown"]
    pool.shutdown(timeout=STEP)
    assert pool.started == 0


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WorkerPool(0)


def test_backlog_bounds_the_waiting_jobs() -> None:
    pool = WorkerPool(1, backlog=2)
    gate = threading.Event()
    finished = threading.Semaphore(0)

    def job() -> None:
        gate.wait(STEP)
        finished.release()

    try:
        assert pool.submit(job)  # runs
        assert pool.submit(job) and pool.submit(job)  # wait
        assert not pool.submit(job)  # refused: nothing queued
        assert pool.busy == 3 and pool.waiting == 2
        gate.set()
        for _ in range(3):
            assert finished.acquire(timeout=STEP)
        wait_until(lambda: pool.busy == 0, STEP)
        assert pool.submit(job)  # room again
        assert finished.acquire(timeout=STEP)
    finally:
        pool.shutdown()


def test_backlog_cannot_be_negative() -> None:
    with pytest.raises(ValueError):
        WorkerPool(1, backlog=-1)
