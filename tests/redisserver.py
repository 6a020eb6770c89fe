"""A throw-away Redis server for the tests: never the machine's own.

``redis-server`` runs as a child of the test process on a free loopback port, with its
working folder in a temporary directory and persistence off; it is stopped by its pid
(and can be started again on the same port, for the tests that take Redis away and bring
it back). The session fixture ``redis_server`` in ``tests/conftest.py`` shares one per
run; a test that stops its server makes its own with ``private_redis()``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from tests.liveserver import PORT_ATTEMPTS, free_port, port_was_taken, wait_until

__all__ = ["RedisServer", "private_redis", "redis_available"]


def redis_available() -> bool:
    """True when a ``redis-server`` binary is on the PATH."""
    return shutil.which("redis-server") is not None


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One private ``redis-server``: ``start()``, ``stop()``, ``url(db)``."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="framework-redis-")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        atexit.register(self.close)

    def url(self, db: int = 0) -> str:
        """The server's ``redis://`` URL for database ``db``."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start the server (again) on its port and wait until it answers PING.

        The first start takes a new port if another process took the one chosen (see
        ``free_port``); a restart keeps it, since clients hold the URL."""
        if self.process is not None and self.process.poll() is None:
            return
        first = self.process is None
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self._launch()
            try:
                wait_until(self._answers, timeout=20, what=f"redis-server on port {self.port}")
                return
            except RuntimeError:
                if not (first and attempt < PORT_ATTEMPTS and port_was_taken(self._log_text())):
                    raise
                self.port = free_port()

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{self._log_text()}")
        return _answers(self.port)

    def _log_text(self) -> str:
        try:
            with open(os.path.join(self.folder, "redis.log"), encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def _launch(self) -> None:
        try:
            os.remove(os.path.join(self.folder, "redis.log"))
        except OSError:
            pass
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.folder,
                "--logfile", os.path.join(self.folder, "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server by its pid and wait until it is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def flush(self) -> None:
        """Empty every database of the server (between tests sharing it)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            sock.recv(16)

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def private_redis() -> Iterator[RedisServer]:
    """A started private Redis, stopped and removed afterwards."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()
