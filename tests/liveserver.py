"""The suite's one live-server runner, its one wait helper, and raw HTTP over a socket.

``LiveServer`` serves a project for real on a free loopback port: gunicorn (with the
project's gunicorn.conf.py, so the worker hooks fire), uvicorn, any other command line
(``argv``, with ``{port}`` filled in), or a WSGI app object on werkzeug's threaded server in
this process (``kind="thread"``, for tests that read the app's state directly). A process
is started by this test and stopped by its pid, never by name; its output goes to a log
file (``log_text()``). ``wait_until`` polls a predicate until a deadline: no test sleeps
for a fixed time to decide anything. ``raw_request`` speaks HTTP/1.1 over a plain socket,
so tests can send what no well-behaved client would (bad bytes, lies about the body's
length, early hang-ups).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "REPO",
    "free_port",
    "port_was_taken",
    "wait_until",
    "LiveServer",
    "raw_request",
    "parse_response",
    "http_get",
]

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Another process may take it before the caller binds it: ``LiveServer`` and
    ``RedisServer`` choose a new one when their server says so (``port_was_taken``)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: How many ports ``LiveServer.start`` tries when the one it chose was taken before its
#: server could bind it.
PORT_ATTEMPTS = 3


def port_was_taken(output: str) -> bool:
    """True when a server's ``output`` says it could not bind its port because something
    else holds it (gunicorn, uvicorn, hypercorn, daphne, werkzeug and redis-server
    all say it in one of these words)."""
    text = output.lower()
    return "address already in use" in text or "connection in use" in text


def wait_until(
    predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05, what: str | None = None
) -> T:
    """Poll ``predicate`` until it returns something true and return that; fail the test
    with an ``AssertionError`` naming ``what`` (or the predicate) after ``timeout`` seconds.

    The deadline only bounds a wait for something that is expected to happen: a slow
    machine makes a test slower, never makes it fail or pass differently.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not met within {timeout}s: {what or predicate}")
        time.sleep(interval)


class LiveServer:
    """A real server for one test (or one session): start, serve, stop by pid.

    ``kind``:
      - ``"gunicorn"``: ``app`` (``module:attr``) served from the folder ``cwd`` with the
        repository's gunicorn.conf.py, ``workers`` x ``threads``;
      - ``"uvicorn"``: ``app`` under uvicorn;
      - ``"command"`` (implied by ``argv``): any command line; ``{port}`` in an argument is
        replaced by the chosen port;
      - ``"thread"``: ``app`` is a WSGI callable served by werkzeug's threaded server in a
        thread of this process (``env``, ``cwd`` and signals do not apply).

    ``ready_path`` (for example ``"/hello-world"``) makes ``start`` wait until that path
    answers with any HTTP status, not only until the port accepts connections. ``env``
    is laid over this process's environment; a ``None`` value removes a variable.
    ``stop_signal`` is what ``stop`` sends first (SIGKILL to the process group if it hangs);
    ``signal`` and ``wait`` let a test signal the process and see it exit by itself, and
    ``launch`` starts it without waiting for it to serve (for one expected not to start).
    """

    def __init__(
        self,
        cwd: str | os.PathLike[str] | None = None,
        app: Any = "wsgi:app",
        *,
        kind: str | None = None,
        workers: int = 1,
        threads: int = 1,
        env: Mapping[str, str | None] | None = None,
        extra_args: Sequence[str] = (),
        timeout: int = 30,
        argv: Sequence[str] | None = None,
        port: int | None = None,
        ready_path: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        if kind is None:
            kind = "command" if argv is not None else "gunicorn"
        if kind not in ("gunicorn", "uvicorn", "command", "thread"):
            raise ValueError(f"unknown server kind {kind!r}")
        if kind == "command" and not argv:
            raise ValueError("kind='command' needs argv")
        self.cwd = os.fspath(cwd) if cwd is not None else REPO
        self.app, self.kind, self.argv = app, kind, list(argv or ())
        self.workers, self.threads, self.timeout = workers, threads, timeout
        self.env: dict[str, Any] = dict(env or {})
        self.extra_args = list(extra_args)
        self.port = port or 0
        self.ready_path = ready_path
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen[bytes] | None = None
        self._thread_server: Any = None
        self._thread: threading.Thread | None = None
        # the log outlives this call: it is closed and removed by close()
        self._log = tempfile.NamedTemporaryFile(prefix=f"{kind}-", suffix=".log", delete=False)  # noqa: SIM115

    # -- what a test reads -------------------------------------------------------------

    @property
    def pid(self) -> int:
        """The server process's pid (this process for ``kind="thread"``)."""
        if self.kind == "thread":
            return os.getpid()
        assert self.proc is not None, "not started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has ended, else None."""
        return None if self.proc is None else self.proc.poll()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """Everything the server process printed so far (stdout and stderr)."""
        self._log.flush()
        with open(self._log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def command(self) -> list[str]:
        """The command line for the chosen port."""
        if self.kind == "gunicorn":
            return [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                os.path.join(REPO, "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                str(self.timeout),
                *self.extra_args,
                self.app,
            ]
        if self.kind == "uvicorn":
            return [
                sys.executable,
                "-m",
                "uvicorn",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *self.extra_args,
                self.app,
            ]
        if self.kind == "command":
            return [arg.replace("{port}", str(self.port)) for arg in self.argv] + self.extra_args
        raise ValueError(f"{self.kind!r} servers have no command line")

    def environment(self) -> dict[str, str]:
        """This process's environment with the repository importable and ``env`` applied."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, self.cwd, env.get("PYTHONPATH")) if p)
        env.setdefault("FRAMEWORK__FLASK__SECRET_KEY", "test-secret-key-not-for-production")
        env.pop("GUNICORN_CMD_ARGS", None)
        env.update(self.env)
        return {k: v for k, v in env.items() if v is not None}

    # -- start and stop ----------------------------------------------------------------

    def start(self, wait: float = 30.0) -> LiveServer:
        """Start the server and return once it accepts connections (and answers
        ``ready_path`` if set); raise ``RuntimeError`` with its output if it exits first."""
        if self.kind == "thread":
            return self._start_thread()
        chosen = not self.port  # a port of our choosing may be chosen afresh
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.launch()
            try:
                wait_until(self._ready, timeout=wait, what=f"{self.kind} to accept connections")
                return self
            except AssertionError:
                self.stop()
                raise RuntimeError(f"{self.kind} did not start in {wait}s:\n{self.log_text()}") from None
            except RuntimeError:
                # Another process (a parallel test, another user's) bound the port between
                # free_port() and the server's own bind: try again on a new one.
                if not (chosen and attempt < PORT_ATTEMPTS and port_was_taken(self.log_text())):
                    raise
                self._log.seek(0)
                self._log.truncate()
                self.port = 0
        raise AssertionError("unreachable")  # the loop returns or raises

    def launch(self) -> LiveServer:
        """Start the process and return at once, without waiting for it to serve: for a
        test that expects it to refuse to start (see ``wait``)."""
        if self.kind == "thread":
            raise ValueError("kind='thread' has no process to launch: use start()")
        if not self.port:
            self.port = free_port()
        self.proc = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log_text()}")
        return self._answers()

    def _answers(self) -> bool:
        try:
            if self.ready_path is None:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            http_get(self.port, self.ready_path, timeout=5)
            return True
        except (OSError, ValueError):  # refused, reset, or closed before an HTTP answer
            return False

    def _start_thread(self) -> LiveServer:
        from werkzeug.serving import make_server

        self._thread_server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._thread_server.server_port
        self._thread = threading.Thread(
            target=self._thread_server.serve_forever, daemon=True, name=f"LiveServer:{self.port}"
        )
        self._thread.start()
        return self

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server's main process (by its pid)."""
        os.kill(self.pid, signum)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the process to end by itself (after ``signal``, say) and return its exit
        status; fail the test with its output if it still runs after ``timeout`` seconds
        (``stop`` then kills it)."""
        if self.proc is None:
            raise ValueError("no server process to wait for (not started, or kind='thread')")
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.kind} (pid {self.proc.pid}) still running after {timeout}s:\n{self.log_text()}"
            ) from None

    def stop(self, wait: float = 30.0, signum: int | None = None) -> int | None:
        """Stop the server: ``signum`` (default ``stop_signal``) to its pid, wait for it,
        SIGKILL its process group if it hangs. Returns the exit status."""
        if self._thread_server is not None:
            self._thread_server.shutdown()
            assert self._thread is not None
            self._thread.join(wait)
            self._thread_server.server_close()
            self._thread_server = None
            return 0
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal if signum is None else signum)
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode

    def close(self) -> None:
        """Drop the log file (after ``stop``)."""
        self._log.close()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass

    def __enter__(self) -> LiveServer:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            self.stop()
        finally:
            self.close()


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
        data = rest[size + 2 :]
    return bytes(out)


def raw_request(port: int, data: bytes, *, timeout: float = 15.0, close_early: bool = False) -> bytes:
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


def http_get(
    port: int, path: str, host: str = "localhost", timeout: float = 15.0
) -> tuple[int, dict[str, str], bytes]:
    """A plain GET over a fresh connection."""
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").encode("latin-1")
    return parse_response(raw_request(port, request, timeout=timeout))
