"""The bounded thread pool the ASGI adapter runs WSGI calls on.

Smaller than ``concurrent.futures.ThreadPoolExecutor`` on purpose: a job is a plain
callable that reports its own result back to the event loop, so no ``Future`` is made per
call and a hand-off costs one ``SimpleQueue.put``. Threads start lazily, up to ``size``,
only when no started thread is idle. With a ``backlog``, at most that many jobs wait for a
thread: ``submit`` refuses the next one, so a flood is answered at once instead of piling up.
Threads are daemons: a job stuck for ever never keeps the process from exiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from queue import SimpleQueue

__all__ = ["WorkerPool"]

log = logging.getLogger("framework.asgi")

_Jobs = SimpleQueue[Callable[[], None] | None]


class WorkerPool:
    """At most ``size`` daemon threads taking jobs from one queue, in order.

    ``backlog`` bounds the jobs waiting for a thread (None: unbounded). ``submit`` is meant
    to be called from one thread (the event loop's).
    """

    def __init__(
        self,
        size: int,
        name: str = "framework-asgi",
        on_exit: Callable[[], None] | None = None,
        backlog: int | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"a worker pool needs at least one thread, not {size}")
        if backlog is not None and backlog < 0:
            raise ValueError(f"a worker pool's backlog cannot be negative, not {backlog}")
        self.size = size
        self.name = name
        self.backlog = backlog
        #: Called in each thread as it stops (to release what the thread held).
        self.on_exit = on_exit
        self._jobs: _Jobs = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # the thread list
        # One lock for the counters, taken once per submit and once per finished job (a
        # semaphore of idle threads took a Condition round each way).
        self._busy = 0  # jobs submitted and not finished
        self._idle = 0  # threads back from a job, waiting for the next one
        self._busy_lock = threading.Lock()

    @property
    def started(self) -> int:
        """How many threads are running now."""
        return len(self._threads)

    @property
    def busy(self) -> int:
        """Jobs submitted and not finished yet (running or waiting)."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Jobs waiting for a thread."""
        return max(0, self._busy - self.size)

    def submit(self, job: Callable[[], None]) -> bool:
        """Run ``job()`` on a pool thread; False (and nothing queued) when the backlog is full.

        ``job`` must not raise (failures are only logged).
        """
        with self._busy_lock:
            if self.backlog is not None and self._busy >= self.size + self.backlog:
                return False
            self._busy += 1
            if self._idle:
                self._idle -= 1
                spawn = False
            else:
                spawn = len(self._threads) < self.size
            jobs = self._jobs
        jobs.put(job)
        if spawn:
            self._spawn(jobs)
        return True

    def _spawn(self, jobs: _Jobs) -> None:
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            if len(self._threads) >= self.size or jobs is not self._jobs:
                return
            thread = threading.Thread(
                target=self._work,
                args=(jobs,),
                daemon=True,
                name=f"{self.name}-{len(self._threads)}",
            )
            self._threads.append(thread)
        thread.start()

    def _work(self, jobs: _Jobs) -> None:
        get = jobs.get
        busy_lock = self._busy_lock
        while True:
            job = get()
            if job is None:
                break
            try:
                job()
            except BaseException:  # a job reports its own errors; this is a last resort
                log.exception("uncaught error in an ASGI worker thread")
            with busy_lock:
                self._busy -= 1
                if jobs is self._jobs:  # a thread of a shut-down queue takes no new job
                    self._idle += 1
        if self.on_exit is not None:
            try:
                self.on_exit()
            except Exception:
                log.exception("error stopping an ASGI worker thread")
        with self._lock:
            if threading.current_thread() in self._threads:
                self._threads.remove(threading.current_thread())

    def shutdown(self, timeout: float | None = 5.0) -> None:
        """Stop the threads once the jobs already queued are done.

        The running threads keep their queue and get one stop mark each behind its jobs; a
        later ``submit`` goes to a fresh queue and starts fresh threads. Waits up to
        ``timeout`` seconds in all (threads held by a job that never ends are left behind:
        they are daemons and do not keep the process alive).
        """
        with self._lock, self._busy_lock:
            jobs, threads = self._jobs, self._threads
            self._jobs, self._threads = SimpleQueue(), []
            self._idle = 0
        for _ in threads:
            jobs.put(None)
        if timeout is None:
            for thread in threads:
                thread.join()
            return
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
