"""Handing finished WSGI calls back to the event loop with one wake-up per batch.

``loop.call_soon_threadsafe`` from a pool thread makes a handle (and copies the context)
per call, writes a byte to the loop's self-pipe, and the loop then reads that pipe until
it is empty, which ends in a ``BlockingIOError`` raised and caught on every wake-up. A
finished call needs none of that: ``Wake`` keeps a queue of callbacks of its own and an
``eventfd`` (a pipe where there is none) watched with ``loop.add_reader``; a thread appends
and writes to the descriptor only when no wake-up is pending yet, and the loop runs every
queued callback after one read. Where the loop cannot watch descriptors,
``call_soon_threadsafe`` is used as before.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["Wake", "wake_for"]

#: One ``Wake`` per event loop, dropped with its loop.
_WAKES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Wake] = weakref.WeakKeyDictionary()


class Wake:
    """Runs callbacks on ``loop`` that other threads hand in with ``call``."""

    __slots__ = ("loop_ref", "_queue", "_pending", "_read", "_write", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        #: The loop, weakly where it can be: a ``Wake`` lives as long as its loop, not the
        #: other way round.
        self.loop_ref: Callable[[], asyncio.AbstractEventLoop | None]
        try:
            self.loop_ref = weakref.ref(loop)
        except TypeError:  # a loop class without weak references
            self.loop_ref = lambda: loop
        self._queue: deque[tuple[Callable[..., Any], Any]] = deque()
        self._pending = False
        self._read: Callable[[], Any] | None = None
        self._write: Callable[[], Any] | None = None
        eventfd = getattr(os, "eventfd", None)
        if eventfd is not None:
            fd = eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            fds: tuple[int, ...] = (fd,)
            self._read = lambda: os.eventfd_read(fd)
            self._write = lambda: os.eventfd_write(fd, 1)
        else:
            read_fd, write_fd = os.pipe()
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)
            fd, fds = read_fd, (read_fd, write_fd)
            self._read = lambda: os.read(read_fd, 4096)
            self._write = lambda: os.write(write_fd, b"\0")
        weakref.finalize(self, _close, fds)
        try:
            loop.add_reader(fd, self._drain)
        except (NotImplementedError, RuntimeError):  # a loop that cannot watch descriptors
            self._read = self._write = None

    def call(self, callback: Callable[[Any], Any], argument: Any) -> None:
        """Run ``callback(argument)`` on the loop soon; from any thread.

        Raises ``RuntimeError`` when the loop is closed, as ``call_soon_threadsafe`` does.
        """
        loop = self.loop_ref()
        if loop is None or loop.is_closed():
            raise RuntimeError("Event loop is closed")
        write = self._write
        if write is None:
            loop.call_soon_threadsafe(callback, argument)
            return
        self._queue.append((callback, argument))
        if not self._pending:
            # Set before writing (the write releases the GIL): a drain that runs meanwhile
            # already takes this callback, and the write then only causes an empty drain.
            self._pending = True
            try:
                write()
            except BlockingIOError:  # the counter is full: the loop is woken anyway
                pass

    def _drain(self) -> None:
        # In this order: the descriptor emptied first (its read releases the GIL, so a
        # thread may set the flag and write meanwhile), then the flag cleared, then the
        # queue emptied. A callback queued before the flag is cleared is run below; one
        # queued after it writes anew. Cleared before the read instead, a write landing
        # during the read would be consumed by it and leave the flag set for good: no
        # thread would write again, and the loop would never wake for their callbacks.
        try:
            self._read()  # type: ignore[misc]
        except BlockingIOError:  # nothing left to read: a wake-up already drained
            pass
        self._pending = False
        queue = self._queue
        while queue:
            callback, argument = queue.popleft()
            try:
                callback(argument)
            except Exception as exc:  # reported as the loop reports a failing handle
                loop = self.loop_ref()
                if loop is not None:
                    loop.call_exception_handler(
                        {"message": "error in a callback handed to the event loop", "exception": exc}
                    )


def _close(fds: tuple[int, ...]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def wake_for(loop: asyncio.AbstractEventLoop) -> Wake:
    """The ``Wake`` of ``loop``, made on first use; call it on the loop's own thread."""
    try:
        wake = _WAKES.get(loop)
    except TypeError:  # a loop class without weak references: the caller keeps it
        return Wake(loop)
    if wake is None:
        wake = _WAKES[loop] = Wake(loop)
    return wake
