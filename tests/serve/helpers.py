"""The ported docs project in a temporary folder, and server processes serving it.

Each server runs with the command line the docs show (only the prefix changed), from inside
the project folder, on a free port; it is stopped by its own pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.liveserver import free_port

SOURCE = Path(__file__).resolve().parent / "docs_project" / "project"
BIN = os.path.dirname(sys.executable)


def copy_project(parent: Path, name: str = "project") -> Path:
    """The docs project copied to ``parent/name`` (its config.ini readable by its owner only)."""
    target = parent / name
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("__pycache__"))
    os.chmod(target / "config.ini", 0o600)
    return target


def tool(name: str) -> str:
    """The console script ``name`` installed beside this interpreter."""
    return os.path.join(BIN, name)


#: server name -> its command line; ``{port}`` is filled in
SERVERS: dict[str, list[str]] = {
    "uvicorn": ["uvicorn", "main:bp", "--host", "127.0.0.1", "--port", "{port}"],
    "hypercorn": ["hypercorn", "main:bp", "--bind", "127.0.0.1:{port}"],
    "hypercorn-asgi": ["hypercorn", "asgi:main:bp", "--bind", "127.0.0.1:{port}"],
    "daphne": ["daphne", "-b", "127.0.0.1", "-p", "{port}", "main:bp"],
    "gunicorn-uvicorn": ["gunicorn", "main:bp", "-w", "2", "-k", "uvicorn.workers.UvicornWorker",
                         "--bind", "127.0.0.1:{port}"],
    "gunicorn": ["gunicorn", "main:bp", "--bind", "127.0.0.1:{port}"],
    "flask": ["flask", "--app", "main:bp", "run", "--host", "127.0.0.1", "--port", "{port}"],
}
#: servers that speak the ASGI lifespan to this object (startup fires before any request);
#: hypercorn tells ASGI from WSGI with ``inspect.iscoroutinefunction``, which a callable
#: answering both can satisfy from Python 3.12 (``inspect.markcoroutinefunction``) only;
#: daphne does not speak the lifespan protocol
LIFESPAN = {"uvicorn", "gunicorn-uvicorn", "hypercorn-asgi"} | (
    {"hypercorn"} if sys.version_info >= (3, 12) else set())


def base_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment of a server or command: no secret key, nothing on PYTHONPATH (the
    project must be found the way Backendpy finds it), plus ``extra`` (None removes)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "FRAMEWORK__FLASK__SECRET_KEY", "FLASK_APP", "FLASK_DEBUG")
           and not k.startswith("GUNICORN")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def serve(name: str, project: Path, env: Mapping[str, str | None] | None = None,
          log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``name``'s command in ``project``; yield its base URL and process."""
    port = free_port()
    command = [part.format(port=port) for part in SERVERS[name]]
    command[0] = tool(command[0])
    log = log or project.parent / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=project, env=base_env(env), stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, time.monotonic() + 60)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM by pid, then wait; SIGKILL only if it does not stop."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def wait_until(predicate, timeout: float = 30, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it is truthy (returned) or the deadline passes (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def hook_lines(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    return [(event, int(pid)) for event, pid in
            (line.split() for line in path.read_text().splitlines() if line.strip())]


def run(args: list[str], cwd: Path, env: Mapping[str, str | None] | None = None,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [tool(args[0]), *args[1:]]
    return subprocess.run(command, cwd=cwd, env=base_env(env), capture_output=True, text=True,
                          input=input, timeout=120)
