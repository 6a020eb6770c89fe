"""Soak run: minutes of mixed traffic against 2 gunicorn workers; zero 5xx, flat memory.

Serves the benchmark project (``bench/run.py``) on SQLite with 2 sync workers, warms it up,
then sends a mix for ``--minutes`` (default 5): hello (def and async), validated POSTs,
database reads and writes, malformed JSON and an unknown route (the last two must answer
4xx). The resident memory of the workers is sampled every ``--sample`` seconds::

    .venv/bin/python bench/soak.py                 # 5 minutes
    .venv/bin/python bench/soak.py --minutes 1 --connections 8
    .venv/bin/python bench/soak.py --seconds 2 --warmup 1 --sample 1   # a smoke check

It passes (exit 0) when no answer was a 5xx, no connection failed, the workers were never
replaced, and their total RSS grew less than 10% from the end of the warm-up to the end.
Not a test: CI never runs it. The result is written to ``bench/results/soak-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

from run import SECRET, machine, prepare_database, write_project  # noqa: E402

from bench._drive import Drive, pick_driver, wait_serving  # noqa: E402
from tests.liveserver import LiveServer  # noqa: E402

#: (method, path, body, expected status class) — the mix, sent round-robin
MIX: list[tuple[str, str, str | None, int]] = [  # the expected class is for the reader
    ("GET", "/hello", None, 2),
    ("GET", "/ahello", None, 2),
    ("POST", "/items", '{"name": "soak", "count": 5}', 2),
    ("GET", "/db/1", None, 2),
    ("POST", "/db", '{"name": "soak", "count": 1}', 2),
    ("POST", "/items", '{"name": ', 4),
    ("POST", "/items", '{"count": "many"}', 4),
    ("GET", "/no-such-route", None, 4),
]


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


def counts(result: Drive) -> dict[str, Any]:
    """The run's figures under the names the summary reads (status_*, errors_*, latency_*)."""
    statuses = result.statuses or {}
    return {
        **{f"status_{key}": statuses.get(key, 0) for key in ("2xx", "4xx", "5xx", "other")},
        "errors_connect": result.errors,
        "latency_p50": result.p50_ms,
        "latency_p99": result.p99_ms,
        "rps": result.rps,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument(
        "--seconds", type=float, help="soak length in seconds (overrides --minutes; for short checks)"
    )
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds before the first sample")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sample", type=float, default=15.0, help="seconds between RSS samples")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args(argv)
    if args.seconds is not None:
        args.minutes = args.seconds / 60
    load, driver = pick_driver(args.load)
    mix = [(method, path, body.encode() if body is not None else None) for method, path, body, _ in MIX]

    def soak(url: str, seconds: float) -> dict[str, Any]:
        return counts(
            driver(
                url,
                headers={"Content-Type": "application/json"},
                connections=args.connections,
                duration=seconds,
                mix=mix,
            )
        )

    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}; load average {info['loadavg'][0]}")
    scratch = Path(tempfile.mkdtemp(prefix="fw-soak-"))
    root = scratch / "project"
    write_project(root)
    (root / "instance").mkdir(exist_ok=True)
    sys.path.insert(0, str(root))
    uri = f"sqlite:///{root / 'instance' / 'soak.sqlite3'}"
    prepare_database(root, uri)
    server = LiveServer(
        str(root),
        workers=2,
        env={
            "FRAMEWORK__FLASK__SECRET_KEY": SECRET,
            "FRAMEWORK__DATABASE__URI": uri,
            "GUNICORN_ACCESSLOG": None,
        },
    )
    samples: list[tuple[float, int]] = []
    try:
        server.start()
        wait_serving(f"{server.url}/db/1")
        url = server.url
        print(f"warm-up: {args.warmup:g} s")
        soak(url, args.warmup)
        workers = worker_pids(server.pid)
        stop = threading.Event()

        def sampler() -> None:
            started = time.monotonic()
            while True:
                alive = worker_pids(server.pid)
                samples.append((round(time.monotonic() - started, 1), sum(rss_kib(pid) for pid in alive)))
                if stop.wait(args.sample):
                    return

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        print(f"soak: {args.minutes:g} min, {args.connections} connections, {load}, 2 gunicorn workers")
        result = soak(url, args.minutes * 60)
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
    failures = int(result.get("status_5xx", 0)) + int(
        sum(v for k, v in result.items() if k.startswith("errors_"))
    )
    passed = failures == 0 and not replaced and growth < 0.10 and "Traceback" not in log
    summary = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": info,
        "load": load,
        "minutes": args.minutes,
        "connections": args.connections,
        "rps": round(result.get("rps", 0.0), 1),
        "status": {k: int(v) for k, v in result.items() if k.startswith("status_")},
        "connection_errors": int(sum(v for k, v in result.items() if k.startswith("errors_"))),
        "latency_ms": {k[8:]: v for k, v in result.items() if k.startswith("latency_")},
        "rss_kib": {"after_warmup": first, "end": last, "samples": samples},
        "rss_growth": round(growth, 4),
        "workers_replaced": replaced,
        "traceback_in_log": "Traceback" in log,
        "passed": passed,
    }
    print(json.dumps({k: v for k, v in summary.items() if k not in ("machine",)}, indent=2))
    print("PASS" if passed else "FAIL")
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(summary, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
