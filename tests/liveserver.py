"""Real servers for tests and benchmarks: gunicorn (or uvicorn) on a free loopback port.

Each server is a child process started with its own command line and stopped by its pid,
never by name. ``raw_request`` speaks HTTP/1.1 over a plain socket, so tests can send what
no well-behaved client would (bad bytes, lies about the body's length, early hang-ups).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ["REPO", "free_port", "LiveServer", "raw_request", "parse_response", "http_get"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A server process serving ``app`` (``module:attr``) from the folder ``cwd``.

    ``kind`` is ``gunicorn`` (the project's gunicorn.conf.py, so the worker hooks fire) or
    ``uvicorn``. Output goes to a log file that tests can read (``log_text()``).
    """

    def __init__(self, cwd: str, app: str = "wsgi:app", *, kind: str = "gunicorn",
                 workers: int = 1, threads: int = 1, env: Mapping[str, str | None] | None = None,
                 extra_args: Sequence[str] = (), timeout: int = 30) -> None:
        self.cwd, self.app, self.kind = cwd, app, kind
        self.workers, self.threads, self.timeout = workers, threads, timeout
        self.env: dict[str, Any] = dict(env or {})
        self.extra_args = list(extra_args)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix=f"{kind}-", suffix=".log", delete=False)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "gunicorn":
            return [sys.executable, "-m", "gunicorn", "-c", os.path.join(REPO, "gunicorn.conf.py"),
                    "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                    "--threads", str(self.threads), "--timeout", str(self.timeout),
                    *self.extra_args, self.app]
        if self.kind == "uvicorn":
            return [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(self.port),
                    "--log-level", "warning", *self.extra_args, self.app]
        raise ValueError(f"unknown server kind {self.kind!r}")

    def start(self, wait: float = 30.0) -> LiveServer:
        """Start the server and return once it accepts connections."""
        self.port = free_port()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, self.cwd, env.get("PYTHONPATH")) if p)
        env.setdefault("FRAMEWORK__FLASK__SECRET_KEY", "test-secret-key-not-for-production")
        env.pop("GUNICORN_CMD_ARGS", None)
        env.update(self.env)
        for name in [k for k, v in env.items() if v is None]:  # None in ``env`` removes a variable
            del env[name]
        self.proc = subprocess.Popen(self.command(), cwd=self.cwd, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not start in {wait}s:\n{self.log_text()}")

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server's main process."""
        os.kill(self.pid, signum)

    def stop(self, wait: float = 30.0) -> int | None:
        """SIGTERM the server (by pid), wait for it, SIGKILL its group if it hangs."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode

    def log_text(self) -> str:
        self._log.flush()
        with open(self._log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.close()

    def close(self) -> None:
        """Drop the log file (after ``stop``)."""
        self._log.close()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names; repeated ones joined) and body of a raw response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        raise ValueError(f"not an HTTP response: {raw[:200]!r}")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return bytes(out)


def raw_request(port: int, data: bytes, *, timeout: float = 15.0,
                close_early: bool = False) -> bytes:
    """Send ``data`` as is and return everything the server sends back until it closes.

    ``close_early=True`` hangs up right after sending (returns b"").
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if close_early:
            return b""
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def http_get(port: int, path: str, host: str = "localhost", timeout: float = 15.0
             ) -> tuple[int, dict[str, str], bytes]:
    """A plain GET over a fresh connection."""
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").encode("latin-1")
    return parse_response(raw_request(port, request, timeout=timeout))
