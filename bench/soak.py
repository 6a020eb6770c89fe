"""Soak run: minutes of mixed traffic against 2 gunicorn workers; zero 5xx, flat memory.

Serves the benchmark project (``bench/run.py``) on SQLite with 2 sync workers, warms it up,
then sends a mix for ``--minutes`` (default 5): hello (def and async), validated POSTs,
database reads and writes, malformed JSON and an unknown route (the last two must answer
4xx). The resident memory of the workers is sampled every ``--sample`` seconds::

    .venv/bin/python bench/soak.py                 # 5 minutes
    .venv/bin/python bench/soak.py --minutes 1 --connections 8

It passes (exit 0) when no answer was a 5xx, no connection failed, the workers were never
replaced, and their total RSS grew less than 10% from the end of the warm-up to the end.
Not a test: CI never runs it. The result is written to ``bench/results/soak-<time>.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from run import SECRET, machine, prepare_database, wait_serving, write_project  # noqa: E402
from tests.liveserver import LiveServer  # noqa: E402

#: (method, path, body, expected status class) — the mix, sent round-robin
MIX: list[tuple[str, str, str | None, int]] = [
    ("GET", "/hello", None, 2),
    ("GET", "/ahello", None, 2),
    ("POST", "/items", '{"name": "soak", "count": 5}', 2),
    ("GET", "/db/1", None, 2),
    ("POST", "/db", '{"name": "soak", "count": 1}', 2),
    ("POST", "/items", '{"name": ', 4),
    ("POST", "/items", '{"count": "many"}', 4),
    ("GET", "/no-such-route", None, 4),
]

WRK_SCRIPT = """
local mix = {%(requests)s}
local threads = {}
local i = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  s2, s4, s5, other = 0, 0, 0, 0
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
  io.write(string.format("ERRORS connect=%%d read=%%d write=%%d timeout=%%d\\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("LATENCY p50=%%.2f p99=%%.2f\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def worker_pids(master: int) -> set[int]:
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == master:
                        pids.add(int(entry))
            except OSError:
                pass
    return pids


def lua_requests() -> str:
    parts = []
    for method, path, body, _ in MIX:
        if body is None:
            parts.append(f'wrk.format("{method}", "{path}")')
        else:
            parts.append(f'wrk.format("{method}", "{path}", {{["Content-Type"] = "application/json"}}, '
                         f'{json.dumps(body)})')
    return ", ".join(parts)


def run_wrk(url: str, seconds: float, connections: int, scratch: Path) -> dict[str, Any]:
    script = scratch / "soak.lua"
    script.write_text(WRK_SCRIPT % {"requests": lua_requests()})
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{int(seconds)}s",
                          "--timeout", "10s", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 120).stdout
    result: dict[str, Any] = {"raw": out}
    for line in out.splitlines():
        if line.startswith(("STATUS", "ERRORS", "LATENCY")):
            for pair in line.split()[1:]:
                key, value = pair.split("=")
                result[f"{line.split()[0].lower()}_{key}"] = float(value)
        elif line.strip().startswith("Requests/sec:"):
            result["rps"] = float(line.split()[1])
    return result


def run_python(url: str, seconds: float, connections: int, scratch: Path) -> dict[str, Any]:
    port = int(url.rsplit(":", 1)[1])
    counts = {"status_2xx": 0, "status_4xx": 0, "status_5xx": 0, "status_other": 0,
              "errors_connect": 0, "unexpected": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(offset: int) -> None:
        i = offset
        while time.monotonic() < deadline:
            method, path, body, expected = MIX[i % len(MIX)]
            i += 1
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request(method, path, body=body,
                             headers={"Content-Type": "application/json"} if body else {})
                status = conn.getresponse().status
                conn.close()
            except (OSError, http.client.HTTPException):
                with lock:
                    counts["errors_connect"] += 1
                continue
            key = {2: "status_2xx", 4: "status_4xx", 5: "status_5xx"}.get(status // 100, "status_other")
            with lock:
                counts[key] += 1
                counts["unexpected"] += status // 100 != expected

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = counts["status_2xx"] + counts["status_4xx"] + counts["status_5xx"] + counts["status_other"]
    return {**counts, "rps": total / (time.monotonic() - started)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before the first sample")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sample", type=float, default=15.0, help="seconds between RSS samples")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args(argv)
    load = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    driver = run_wrk if load == "wrk" else run_python

    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}; load average {info['loadavg'][0]}")
    scratch = Path(tempfile.mkdtemp(prefix="fw-soak-"))
    root = scratch / "project"
    write_project(root)
    (root / "instance").mkdir(exist_ok=True)
    sys.path.insert(0, str(root))
    uri = f"sqlite:///{root / 'instance' / 'soak.sqlite3'}"
    prepare_database(root, uri)
    server = LiveServer(str(root), workers=2, env={
        "FRAMEWORK__FLASK__SECRET_KEY": SECRET, "FRAMEWORK__DATABASE__URI": uri,
        "GUNICORN_ACCESSLOG": None})
    samples: list[tuple[float, int]] = []
    try:
        server.start()
        wait_serving(server.port, "GET", "/db/1", None)
        url = f"http://127.0.0.1:{server.port}"
        print(f"warm-up: {args.warmup:g} s")
        driver(url, args.warmup, args.connections, scratch)
        workers = worker_pids(server.pid)
        stop = threading.Event()

        def sampler() -> None:
            started = time.monotonic()
            while True:
                alive = worker_pids(server.pid)
                samples.append((round(time.monotonic() - started, 1),
                                sum(rss_kib(pid) for pid in alive)))
                if stop.wait(args.sample):
                    return

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        print(f"soak: {args.minutes:g} min, {args.connections} connections, {load}, 2 gunicorn workers")
        result = driver(url, args.minutes * 60, args.connections, scratch)
        stop.set()
        thread.join()
        samples.append((samples[-1][0] + args.sample, sum(rss_kib(p) for p in worker_pids(server.pid))))
        replaced = worker_pids(server.pid) != workers
    finally:
        server.stop()
        log = server.log_text()
        server.close()
        shutil.rmtree(scratch, ignore_errors=True)

    first, last = samples[0][1], samples[-1][1]
    growth = (last - first) / first if first else 0.0
    failures = int(result.get("status_5xx", 0)) + int(sum(v for k, v in result.items()
                                                           if k.startswith("errors_")))
    passed = failures == 0 and not replaced and growth < 0.10 and "Traceback" not in log
    summary = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": info, "load": load,
        "minutes": args.minutes, "connections": args.connections,
        "rps": round(result.get("rps", 0.0), 1),
        "status": {k: int(v) for k, v in result.items() if k.startswith("status_")},
        "connection_errors": int(sum(v for k, v in result.items() if k.startswith("errors_"))),
        "latency_ms": {k[8:]: v for k, v in result.items() if k.startswith("latency_")},
        "rss_kib": {"after_warmup": first, "end": last, "samples": samples},
        "rss_growth": round(growth, 4), "workers_replaced": replaced,
        "traceback_in_log": "Traceback" in log, "passed": passed,
    }
    print(json.dumps({k: v for k, v in summary.items() if k not in ("machine",)}, indent=2))
    print("PASS" if passed else "FAIL")
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(summary, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
