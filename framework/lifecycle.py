"""The process lifecycle of a project: ``startup`` once per process, ``shutdown`` at exit.

``startup`` fires lazily before the first request a process serves (or from a server's
worker hook, ``framework.serving``), once per process id: a forked worker starts on its
own. ``shutdown`` fires at interpreter exit, or from the server's hook, once. Only when
the framework owns the process (``create_app``, a Backendpy project) and no server
handles SIGTERM, SIGTERM becomes a normal exit so ``shutdown`` fires under the development
server; a host application's process is left alone.
"""

from __future__ import annotations

import atexit
import os
import signal as _signal
import threading
from typing import Any

from . import events, signals
from .logging import get_logger
from .security import check_secret_key

__all__ = ["Lifecycle", "process", "exit_on_sigterm"]

LOGGER = get_logger("framework")


class _Process:
    """This process's id, kept current across forks without a system call per request."""

    pid = os.getpid()

    @classmethod
    def forked(cls) -> None:
        cls.pid = os.getpid()


process = _Process
os.register_at_fork(after_in_child=_Process.forked)


class Lifecycle:
    """``startup`` and ``shutdown`` of one project, each at most once per process."""

    def __init__(self, fw: Any) -> None:
        self.fw = fw
        self._lock = threading.Lock()
        #: The process in which ``startup`` fired (compared with ``process.pid``).
        self.started_pid: int | None = None
        self._stopped = False

    def startup(self) -> None:
        """Fire ``startup`` once in this process (a failing hook raises)."""
        pid = os.getpid()
        if self.started_pid == pid:
            return
        fw = self.fw
        with self._lock:
            if self.started_pid == pid:
                return
            self._stopped = False
            if fw.owns_app and fw.app is not None:
                check_secret_key(fw.app)
            if fw.app is not None and fw.app.debug:
                LOGGER.warning(
                    "debug mode is on in process %d: tracebacks and the interactive debugger "
                    "can reach clients; never serve it on a network ([flask] debug)",
                    pid,
                )
            events.send(fw, signals.startup, {})
            self.started_pid = pid
        atexit.register(self.shutdown)
        if fw.owns_app:
            exit_on_sigterm()

    def shutdown(self) -> None:
        """Fire ``shutdown`` once, if ``startup`` fired in this process."""
        with self._lock:
            if self.started_pid != os.getpid() or self._stopped:
                return
            self._stopped = True
        events.send(self.fw, signals.shutdown, {})


_sigterm_installed = False


def exit_on_sigterm() -> None:
    """Under the development server, turn SIGTERM into a normal exit so ``shutdown`` fires.

    Called only when the framework owns the process. Servers that handle SIGTERM
    themselves (gunicorn, uvicorn) are left alone, and so is a handler set before.
    """
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if _signal.getsignal(_signal.SIGTERM) is _signal.SIG_DFL:
        _signal.signal(_signal.SIGTERM, _exit)
    _sigterm_installed = True


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)
