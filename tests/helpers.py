"""Helpers shared by test modules (import as ``from tests.helpers import ...``).

Servers and waiting live in ``tests.liveserver`` (``LiveServer``, ``wait_until``);
``running_server`` is the short form for a command line that serves a URL.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.liveserver import LiveServer, free_port, wait_until

__all__ = [
    "ROOT",
    "BIN",
    "WITHOUT_SUITE_PLUGINS",
    "pytest_command",
    "examples",
    "slow_run",
    "free_port",
    "wait_until",
    "running_server",
]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

#: Arguments for a pytest run in a subprocess (a generated project's tests, the plugin's
#: own tests): leave out the property-testing plugins installed for this suite, which those
#: tests never use and whose import costs about two seconds of CPU per run.
WITHOUT_SUITE_PLUGINS = ("-p", "no:schemathesis", "-p", "no:hypothesispytest")


def pytest_command(*args: str) -> list[str]:
    """The command line of a quiet pytest run in a subprocess with ``args``: no cache
    folder left behind, without the suite's own plugins (``WITHOUT_SUITE_PLUGINS``)."""
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *WITHOUT_SUITE_PLUGINS, *args]


def slow_run() -> bool:
    """True in the full run (``pytest --slow`` or ``FRAMEWORK_TESTS_SLOW=1``)."""
    return os.environ.get("FRAMEWORK_TESTS_SLOW", "") not in ("", "0")


def examples(full: int, default: int) -> int:
    """How many examples a property test tries: ``default`` in the everyday run (derandomised,
    so every run tries the same ones), ``full`` in the slow run (random, a new draw each time)."""
    return full if slow_run() else default


@contextmanager
def running_server(
    args: list[str],
    url: str,
    cwd: Path = ROOT,
    env: dict | None = None,
    stop_signal: int = signal.SIGTERM,
    timeout: float = 30.0,
) -> Iterator[LiveServer]:
    """Run the command line ``args`` (which listens where ``url`` points) as a
    ``LiveServer``: started once ``url`` answers, stopped by its pid with ``stop_signal``."""
    parts = urlsplit(url)
    server = LiveServer(
        cwd, argv=args, port=parts.port, env=env, ready_path=parts.path or "/", stop_signal=stop_signal
    )
    try:
        server.start(wait=timeout)
        yield server
    finally:
        server.stop()
        server.close()
