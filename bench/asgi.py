"""Benchmark: the ASGI adapter under uvicorn against gunicorn's sync worker, same route.

Starts gunicorn (1 sync worker) and uvicorn (1 worker, ``to_asgi``) on free loopback ports,
each serving the same Flask hello route, drives each in turn with 16 concurrent connections
(wrk when installed, else ``bench/_load.py``'s generator; both via ``bench/_drive.py``),
stops them by pid and prints requests per second, p50/p99 latency, failures and the uvicorn/gunicorn ratio::

    .venv/bin/python bench/asgi.py                      # 3 rounds of 10 s, wrk if present
    .venv/bin/python bench/asgi.py --load python --duration 5 --rounds 1
    .venv/bin/python bench/asgi.py --app project        # the project's wsgi.py /hello-world
    .venv/bin/python bench/asgi.py --with-asgiref       # also asgiref's WsgiToAsgi

Not a test: nothing here runs in CI. Results are appended to bench/results/asgi.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROUTE = "/hello-world"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._drive import Driver, free_port, pick_driver, stop_process, wait_serving  # noqa: E402


# ------------------------------------------------------------- the served apps
def make_wsgi_app() -> Any:
    """The plain Flask hello app (gunicorn: ``'bench.asgi:make_wsgi_app()'``)."""
    from flask import Flask

    app = Flask(__name__, root_path=str(HERE))

    @app.get(ROUTE)
    def hello() -> Any:
        return {"message": "Hello World!"}

    return app


def make_asgi_app() -> Any:
    """The same app through ``to_asgi`` (uvicorn: ``--factory bench.asgi:make_asgi_app``)."""
    from framework.asgi import to_asgi

    threads = os.environ.get("BENCH_ASGI_THREADS")
    return to_asgi(make_wsgi_app(), threads=int(threads) if threads else None)


def make_asgiref_app() -> Any:
    """The same app through asgiref's own ``WsgiToAsgi``, for comparison."""
    from asgiref.wsgi import WsgiToAsgi

    return WsgiToAsgi(make_wsgi_app())  # type: ignore[no-untyped-call]


def make_project_asgi_app() -> Any:
    """The project's ``wsgi.py``: its ``asgi_app``, or ``to_asgi(app)`` if it has none yet."""
    import wsgi
    from framework.asgi import to_asgi

    return getattr(wsgi, "asgi_app", None) or to_asgi(wsgi.app)


# ------------------------------------------------------------------ servers
class Server:
    def __init__(self, name: str, command: list[str], port: int, cwd: str) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}{ROUTE}"
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        )
        # open for the server's whole life (its output), closed by stop()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 20.0) -> None:
        try:
            wait_serving(self.url, timeout=timeout, proc=self.process)
        except RuntimeError as exc:
            raise SystemExit(f"{self.name}: {exc}:\n{self.output()}") from None

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        stop_process(self.process, 15)
        self.log.close()


def start_servers(args: argparse.Namespace, scratch: str) -> list[Server]:
    python = sys.executable
    project = args.app == "project"
    cwd = str(ROOT) if project else scratch  # the project's gunicorn.conf.py only for it
    wsgi_target = "wsgi:app" if project else "bench.asgi:make_wsgi_app()"
    asgi_factory = "bench.asgi:make_project_asgi_app" if project else "bench.asgi:make_asgi_app"
    uvicorn_opts = ["--log-level", "warning", "--no-access-log", *args.uvicorn_option]
    servers = []
    port = free_port()
    servers.append(
        Server(
            "gunicorn sync",
            [
                python,
                "-m",
                "gunicorn",
                "-w",
                "1",
                "-k",
                "sync",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                wsgi_target,
            ],
            port,
            cwd,
        )
    )
    port = free_port()
    servers.append(
        Server(
            "uvicorn to_asgi",
            [
                python,
                "-m",
                "uvicorn",
                "--factory",
                asgi_factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                *uvicorn_opts,
            ],
            port,
            cwd,
        )
    )
    if args.with_asgiref:
        port = free_port()
        servers.append(
            Server(
                "uvicorn asgiref",
                [
                    python,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "bench.asgi:make_asgiref_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                    *uvicorn_opts,
                ],
                port,
                cwd,
            )
        )
    return servers


# --------------------------------------------------------------------- load
@dataclass
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int


def drive(driver: Driver, url: str, connections: int, duration: float, close: bool) -> Measure:
    """One run of wrk (two threads) or of the Python generator, as a ``Measure``."""
    result = driver(url, connections=connections, duration=duration, close=close, threads=2)
    return Measure(result.rps, result.p50_ms, result.p99_ms, result.requests, result.errors + result.non_2xx)


def median_measure(measures: list[Measure]) -> Measure:
    return Measure(
        rps=round(statistics.median(m.rps for m in measures), 1),
        p50_ms=round(statistics.median(m.p50_ms for m in measures), 2),
        p99_ms=round(statistics.median(m.p99_ms for m in measures), 2),
        requests=sum(m.requests for m in measures),
        failures=sum(m.failures for m in measures),
    )


# --------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server (median)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--close", action="store_true", help="a new connection per request (no keep-alive)")
    parser.add_argument("--app", choices=["flask", "project"], default="flask")
    parser.add_argument("--threads", type=int, help="to_asgi's thread pool size")
    parser.add_argument(
        "--with-asgiref", action="store_true", help="also measure asgiref.wsgi.WsgiToAsgi under uvicorn"
    )
    parser.add_argument(
        "--uvicorn-option",
        action="append",
        default=[],
        help="extra uvicorn option, e.g. --uvicorn-option=--http=h11",
    )
    args = parser.parse_args(argv)
    load, driver = pick_driver(args.load)
    if args.threads:
        os.environ["BENCH_ASGI_THREADS"] = str(args.threads)

    import uvicorn

    stack = [name for name in ("uvloop", "httptools") if _importable(name)]
    installed = ", ".join(stack) or "neither uvloop nor httptools"
    options = f"; options: {' '.join(args.uvicorn_option)}" if args.uvicorn_option else ""
    mode = "new connection per request" if args.close else "keep-alive"
    print(
        f"load: {load}, {args.connections} connections, {args.rounds} x {args.duration:g}s, "
        f"{mode}; app: {args.app}; uvicorn {uvicorn.__version__} (installed: {installed}"
        f"{options}); {os.cpu_count()} CPUs",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as scratch:
        servers = start_servers(args, scratch)
        try:
            for server in servers:
                server.wait_ready()
            for server in servers:  # warm up
                drive(driver, server.url, args.connections, 2.0, args.close)
            runs: dict[str, list[Measure]] = {s.name: [] for s in servers}
            for _ in range(args.rounds):  # alternate, so drift hits every server alike
                for server in servers:
                    runs[server.name].append(
                        drive(driver, server.url, args.connections, args.duration, args.close)
                    )
        finally:
            for server in servers:
                server.stop()

    results = {name: median_measure(measures) for name, measures in runs.items()}
    base = results["gunicorn sync"].rps
    print(
        f"{'server':<18}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'failures':>10}{'ratio':>8}"
    )
    for name, m in results.items():
        ratio = m.rps / base if base else 0.0
        print(
            f"{name:<18}{m.rps:>10.1f}{m.p50_ms:>9.2f}{m.p99_ms:>9.2f}{m.requests:>10}"
            f"{m.failures:>10}{ratio:>7.2f}x"
        )
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "load": load,
        "connections": args.connections,
        "duration": args.duration,
        "rounds": args.rounds,
        "keep_alive": not args.close,
        "app": args.app,
        "stack": stack,
        "uvicorn_options": args.uvicorn_option,
        "results": {name: asdict(m) for name, m in results.items()},
    }
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    with open(results_dir / "asgi.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    ours = results["uvicorn to_asgi"]
    return 0 if ours.failures == 0 and ours.rps >= 0.8 * base else 1


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    sys.exit(main())
