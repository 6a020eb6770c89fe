"""What every benchmark script needs to drive a server: a free port, wrk or a Python load
generator with one result type, a wait until the server answers, and a stop by pid.

``run_wrk`` and ``run_python`` take the same arguments and return the same ``Drive``, so a
script picks one (``pick_driver``) and never looks again. wrk is Debian's package; the
Python fallback is ``bench/_load.py``'s asyncio generator (uvloop when installed).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench._load import run_load  # noqa: E402
from tests.liveserver import free_port  # noqa: E402

__all__ = [
    "Drive",
    "free_port",
    "run_wrk",
    "run_python",
    "wrk_available",
    "pick_driver",
    "wait_serving",
    "stop_process",
]

#: one entry of a mixed load: (method, path, body)
MixEntry = tuple[str, str, "bytes | None"]


@dataclass
class Drive:
    """One load run. ``errors``: connections that failed (refused, reset, timed out);
    ``non_2xx``: answers outside 200-399; ``statuses`` counts answers by class ("2xx",
    "4xx", "5xx", "other"), filled by run_python always and by run_wrk with ``mix``."""

    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    non_2xx: int = 0
    statuses: dict[str, int] | None = None
    raw: str = ""


def wrk_available() -> bool:
    """Whether wrk is on PATH."""
    return shutil.which("wrk") is not None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    """wrk's latency text (``812.00us``, ``1.20ms``, ``2.00s``) in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _lua(text: str | bytes | None) -> str:
    """A Lua string literal (JSON's escapes are valid Lua ones for printable text)."""
    if isinstance(text, bytes):
        text = text.decode()
    return json.dumps(text or "")


_MIX_LUA = """
local mix = {%(requests)s}
local threads = {}
local i = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  s2, s4, s5, other = 0, 0, 0, 0
  i = tonumber(args[1] or 0)
end

function request()
  i = i + 1
  return mix[(i %% #mix) + 1]
end

function response(status, headers, body)
  if status >= 500 then s5 = s5 + 1
  elseif status >= 400 then s4 = s4 + 1
  elseif status >= 200 and status < 300 then s2 = s2 + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t2, t4, t5, t0 = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    t2 = t2 + thread:get("s2"); t4 = t4 + thread:get("s4")
    t5 = t5 + thread:get("s5"); t0 = t0 + thread:get("other")
  end
  io.write(string.format("STATUS 2xx=%%d 4xx=%%d 5xx=%%d other=%%d\\n", t2, t4, t5, t0))
end
"""


def _wrk_script(
    method: str, body: bytes | None, headers: dict[str, str], mix: list[MixEntry] | None
) -> str | None:
    if mix:
        lua_headers = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
        table = ", ".join(
            f'wrk.format("{m}", {_lua(p)}, {{{lua_headers}}}, {_lua(b) if b is not None else "nil"})'
            for m, p, b in mix
        )
        return _MIX_LUA % {"requests": table}
    if method == "GET" and body is None and not headers:
        return None
    lines = [f"wrk.method = {_lua(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {_lua(body)}")
    lines += [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def run_wrk(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    connections: int,
    duration: float,
    close: bool = False,
    threads: int = 1,
    timeout: float = 10.0,
    mix: list[MixEntry] | None = None,
) -> Drive:
    """wrk for ``duration`` seconds (whole seconds, at least 1) with ``connections``
    connections; ``close`` sends ``Connection: close`` (a new connection per request)."""
    headers = dict(headers or {})
    if close:
        headers["Connection"] = "close"
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        f"{timeout:g}s",
    ]
    script = _wrk_script(method, body, headers, mix)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as lua:
        if script is not None:
            lua.write(script)
            lua.flush()
            command += ["-s", lua.name]
        out = subprocess.run(
            command + [url], capture_output=True, text=True, check=True, timeout=duration + 120
        ).stdout
    result = Drive(raw=out)
    result.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    result.p50_ms = round(_ms(re.search(r"\s50%\s+(\S+)", out).group(1)), 2)  # type: ignore[union-attr]
    result.p99_ms = round(_ms(re.search(r"\s99%\s+(\S+)", out).group(1)), 2)  # type: ignore[union-attr]
    result.requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result.non_2xx = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result.errors = sum(map(int, sock.groups())) if sock else 0
    counted = re.search(r"STATUS 2xx=(\d+) 4xx=(\d+) 5xx=(\d+) other=(\d+)", out)
    if counted:
        result.statuses = dict(zip(("2xx", "4xx", "5xx", "other"), map(int, counted.groups()), strict=True))
    return result


def run_python(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    connections: int,
    duration: float,
    close: bool = False,
    threads: int = 1,
    timeout: float = 10.0,
    mix: list[MixEntry] | None = None,
) -> Drive:
    """The same load from ``bench/_load.py`` (when wrk is missing); ``threads`` is
    ignored (one event loop)."""
    load = run_load(
        url,
        connections=connections,
        duration=duration,
        keep_alive=not close,
        timeout=timeout,
        method=method,
        body=body,
        headers=headers,
        mix=mix,
    )
    classes = {"2xx": 0, "4xx": 0, "5xx": 0, "other": 0}
    for status, count in load.statuses.items():
        key = f"{status // 100}xx"
        classes[key if key in classes else "other"] += count
    answered = sum(load.statuses.values())
    return Drive(
        rps=round(answered / load.elapsed, 1) if load.elapsed else 0.0,
        p50_ms=load.p50_ms,
        p99_ms=load.p99_ms,
        requests=answered,
        errors=sum(load.errors.values()),
        non_2xx=sum(n for s, n in load.statuses.items() if not 200 <= s < 400),
        statuses=classes,
    )


Driver = Callable[..., Drive]


def pick_driver(load: str = "auto") -> tuple[str, Driver]:
    """``("wrk", run_wrk)`` or ``("python", run_python)`` for ``--load auto|wrk|python``."""
    if load == "auto":
        load = "wrk" if wrk_available() else "python"
    return load, run_wrk if load == "wrk" else run_python


def wait_serving(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    proc: subprocess.Popen | None = None,
) -> bytes:
    """Send the request until the server answers it with a status below 400 (a worker may
    boot after the bind) and return the answer's body. Raises RuntimeError when the
    answer is an error, ``proc`` exits, or nothing answers within ``timeout`` seconds."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=5)
            try:
                conn.request(method, target, body=body, headers=headers or {})
                response = conn.getresponse()
                answer = response.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
            continue
        if response.status < 400:
            return answer
        raise RuntimeError(f"{method} {url} answered {response.status}")
    raise RuntimeError(f"no answer from {method} {url} within {timeout}s")


def stop_process(proc: subprocess.Popen, timeout: float = 30.0) -> int:
    """SIGTERM ``proc`` (by its pid), wait, SIGKILL it if it hangs; its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode
