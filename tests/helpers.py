"""Helpers shared by test modules (import as ``from tests.helpers import ...``).

Servers and waiting live in ``tests.liveserver`` (``LiveServer``, ``wait_until``);
``running_server`` is the short form for a command line that serves a URL.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.liveserver import LiveServer, free_port, wait_until

__all__ = ["ROOT", "BIN", "free_port", "wait_until", "running_server"]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@contextmanager
def running_server(args: list[str], url: str, cwd: Path = ROOT, env: dict | None = None,
                   stop_signal: int = signal.SIGTERM, timeout: float = 30.0) -> Iterator[LiveServer]:
    """Run the command line ``args`` (which listens where ``url`` points) as a
    ``LiveServer``: started once ``url`` answers, stopped by its pid with ``stop_signal``."""
    parts = urlsplit(url)
    server = LiveServer(cwd, argv=args, port=parts.port, env=env,
                        ready_path=parts.path or "/", stop_signal=stop_signal)
    try:
        server.start(wait=timeout)
        yield server
    finally:
        server.stop()
        server.close()
