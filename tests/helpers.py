"""Helpers shared by test modules (import as ``from tests.helpers import ...``).

``running_server`` runs any server command line; ``tests.liveserver.LiveServer`` is the
richer runner for gunicorn and uvicorn with their own options.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.liveserver import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Poll ``url`` until the server answers (any HTTP status) or fail with its output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"server exited with {proc.returncode}: {out}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server did not answer {url} within {timeout}s")


@contextmanager
def running_server(args: list[str], url: str, cwd: Path = ROOT, env: dict | None = None,
                   stop_signal: int = signal.SIGTERM, timeout: float = 30.0) -> Iterator[subprocess.Popen]:
    """Start a server process, wait until ``url`` answers, stop it by its pid afterwards."""
    # serving outside debug needs a secret key (framework.security); tests use a throw-away one
    base_env = {"FRAMEWORK__FLASK__SECRET_KEY": "test-secret-key-not-for-production", **os.environ}
    proc = subprocess.Popen(args, cwd=cwd, env={**base_env, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(url, proc, timeout)
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, stop_signal)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()
