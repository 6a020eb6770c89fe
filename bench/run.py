"""The benchmark command: every server the project offers, one table, one baseline.

Builds a throw-away project, then for each scenario starts its server on a free loopback
port (gunicorn with the project's gunicorn.conf.py, or uvicorn), warms it up, drives it
with wrk (Debian's package, when installed) or a Python load generator, stops it by its
pid, and prints requests per second, p50 and p99 latency and the ratio to plain Flask's
hello route measured in the same run::

    .venv/bin/python bench/run.py                       # all scenarios, 5 s each
    .venv/bin/python bench/run.py --duration 10 --connections 32 --workers 2
    .venv/bin/python bench/run.py --only flask-hello,fw-hello-def --load python
    .venv/bin/python bench/run.py --pg-uri postgresql+psycopg://postgres@127.0.0.1:5432/test

Scenarios: plain Flask hello (baseline), framework hello with a ``def`` and an
``async def`` handler, a POST validated by a data handler, a database read and a write on
SQLite and on PostgreSQL, and the framework hello through ``to_asgi`` under uvicorn.
PostgreSQL scenarios are skipped when the server does not answer. Not a test: CI never
runs it. Each run is also written to ``bench/results/run-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._drive import Drive, pick_driver, wait_serving  # noqa: E402
from tests.liveserver import LiveServer  # noqa: E402  (the same server runner the tests use)

APP = "fw_bench_app"
SECRET = "bench-secret-key-not-for-production"
JSON_BODY = b'{"name": "bench", "count": 3}'

FILES = {
    "config.ini": f"""\
        [networking]
        allowed_hosts = *

        [apps]
        active = {APP}

        [flask]
        secret_key = {SECRET}

        [logging]
        level = WARNING
        """,
    "wsgi.py": """\
        import os

        from framework import create_app

        app = create_app(os.path.dirname(os.path.abspath(__file__)))

        try:
            from framework.asgi import to_asgi
        except ImportError:  # the ASGI adapter is not installed
            asgi_app = None
        else:
            asgi_app = to_asgi(app)
        """,
    "plain.py": """\
        from flask import Flask

        app = Flask(__name__)


        @app.get("/hello")
        def hello():
            return "Hello World!", 200, {"Content-Type": "text/plain"}
        """,
    f"{APP}/__init__.py": "",
    f"{APP}/main.py": """\
        from framework.app import App

        from .handlers import routes

        app = App(routes=[routes], models=[__package__ + ".models"])
        """,
    f"{APP}/models.py": """\
        import sqlalchemy as sa

        from framework.db import Base


        class BenchItem(Base):
            __tablename__ = "bench_items"

            id = sa.Column(sa.Integer, primary_key=True)
            name = sa.Column(sa.String(50), nullable=False)
            count = sa.Column(sa.Integer, nullable=False, default=0)
        """,
    f"{APP}/data.py": """\
        from framework.data_handler import validators as v
        from framework.data_handler.data import Data
        from framework.data_handler.fields import Integer, String


        class ItemData(Data):
            name = String(required=True, processors=[v.Length(min=1, max=50)])
            count = Integer(default=0, processors=[v.Limit(min=0, max=1000)])
        """,
    f"{APP}/handlers.py": """\
        from framework.db import db
        from framework.exception import NotFound
        from framework.response import JSON, Success, Text
        from framework.router import Routes

        from .data import ItemData
        from .models import BenchItem

        routes = Routes()


        @routes.get("/hello")
        def hello(request):
            return Text("Hello World!")


        @routes.get("/ahello")
        async def ahello(request):
            return Text("Hello World!")


        @routes.post("/items", data_handler=ItemData)
        def validated(request):
            return Success(request.get_cleaned_data())


        @routes.get("/db/<id:int>")
        def read(request):
            item = db.session.get(BenchItem, int(request.url_vars["id"]))
            if item is None:
                raise NotFound({"message": "no such item"})
            return JSON({"id": item.id, "name": item.name, "count": item.count})


        @routes.post("/db", data_handler=ItemData)
        def write(request):
            data = request.get_cleaned_data()
            item = BenchItem(name=data["name"], count=data["count"])
            db.session.add(item)
            db.session.commit()
            return Success({"id": item.id}, status=201)
        """,
}


@dataclass
class Scenario:
    name: str
    label: str
    app: str = "wsgi:app"
    kind: str = "gunicorn"
    method: str = "GET"
    path: str = "/hello"
    database: str | None = None  # "sqlite" or "postgresql"


SCENARIOS = [
    Scenario("flask-hello", "plain Flask hello (baseline)", app="plain:app"),
    Scenario("fw-hello-def", "framework hello, def handler"),
    Scenario("fw-hello-async", "framework hello, async def handler", path="/ahello"),
    Scenario("fw-validated-post", "POST validated by a data handler", method="POST", path="/items"),
    Scenario("db-read-sqlite", "database read, SQLite", path="/db/1", database="sqlite"),
    Scenario("db-write-sqlite", "database write, SQLite", method="POST", path="/db", database="sqlite"),
    Scenario("db-read-pg", "database read, PostgreSQL", path="/db/1", database="postgresql"),
    Scenario("db-write-pg", "database write, PostgreSQL", method="POST", path="/db",
             database="postgresql"),
    Scenario("asgi-uvicorn", "framework hello, to_asgi under uvicorn", app="wsgi:asgi_app",
             kind="uvicorn"),
]


@dataclass
class Measure:
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ project and databases
def write_project(root: Path) -> None:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    os.chmod(root / "config.ini", 0o600)


def prepare_database(root: Path, uri: str) -> None:
    """Create the bench table on ``uri`` (dropping an old one) with row 1 in it."""
    from framework import create_app

    app = create_app(root, config={"database": {"uri": uri}, "flask": {"testing": True}})
    sqlalchemy = app.extensions["sqlalchemy"]
    with app.app_context():
        sqlalchemy.drop_all()
        sqlalchemy.create_all()
        from fw_bench_app.models import BenchItem  # type: ignore[import-not-found]

        sqlalchemy.session.add(BenchItem(name="first", count=1))  # gets id 1 in a new table
        sqlalchemy.session.commit()
        sqlalchemy.session.remove()
        for engine in sqlalchemy.engines.values():
            engine.dispose()


def drop_database(root: Path, uri: str) -> None:
    from framework import create_app

    app = create_app(root, config={"database": {"uri": uri}, "flask": {"testing": True}})
    sqlalchemy = app.extensions["sqlalchemy"]
    with app.app_context():
        sqlalchemy.drop_all()
        for engine in sqlalchemy.engines.values():
            engine.dispose()


def postgres_reachable(uri: str) -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(uri, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # any failure means: skip the PostgreSQL scenarios
        return False


# ------------------------------------------------------------------------------ running
def _measure(drive: Drive) -> Measure:
    return Measure(rps=drive.rps, p50_ms=drive.p50_ms, p99_ms=drive.p99_ms,
                   requests=drive.requests, errors=drive.errors + drive.non_2xx)


def run_scenario(scenario: Scenario, root: Path, args: argparse.Namespace, uris: dict[str, str],
                 driver: Callable[..., Drive]) -> Measure:
    env: dict[str, str | None] = {"FRAMEWORK__FLASK__SECRET_KEY": SECRET,
                                  "GUNICORN_ACCESSLOG": None}
    if scenario.database:
        env["FRAMEWORK__DATABASE__URI"] = uris[scenario.database]
    extra: list[str] = []
    if scenario.kind == "uvicorn":
        extra = ["--no-access-log", "--workers", str(args.workers)] if args.workers > 1 else ["--no-access-log"]
    server = LiveServer(str(root), scenario.app, kind=scenario.kind, workers=args.workers,
                        env=env, extra_args=extra)
    body = JSON_BODY if scenario.method == "POST" else None
    headers = {"Content-Type": "application/json"} if body else None
    try:
        server.start()
        url = f"{server.url}{scenario.path}"
        wait_serving(url, method=scenario.method, body=body, headers=headers)
        driver(url, method=scenario.method, body=body, headers=headers,
               connections=args.connections, duration=min(2.0, args.duration))
        return _measure(driver(url, method=scenario.method, body=body, headers=headers,
                               connections=args.connections, duration=args.duration))
    finally:
        server.stop()
        server.close()


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "platform": platform.platform(), "loadavg": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--pg-uri", default=os.environ.get(
        "BENCH_PG_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds; the median is shown (ratios are per round)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args(argv)

    load, driver = pick_driver(args.load)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only.split(",")]
    if chosen and chosen[0].name != "flask-hello":
        chosen.insert(0, SCENARIOS[0])  # the baseline is always measured in the same run

    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, "
          f"load average before the run {info['loadavg'][0]}")
    print(f"load: {load}, {args.connections} connections, {args.duration:g} s per scenario, "
          f"{args.workers} worker(s) per server, {args.rounds} round(s), median shown\n")

    scratch = Path(tempfile.mkdtemp(prefix="fw-bench-"))
    root = scratch / "project"
    write_project(root)
    sys.path.insert(0, str(root))
    uris = {"sqlite": f"sqlite:///{root / 'instance' / 'bench.sqlite3'}", "postgresql": args.pg_uri}
    (root / "instance").mkdir(exist_ok=True)
    prepared: list[str] = []
    results: list[dict[str, Any]] = []
    try:
        if any(s.database == "sqlite" for s in chosen):
            prepare_database(root, uris["sqlite"])
        if any(s.database == "postgresql" for s in chosen):
            if postgres_reachable(args.pg_uri):
                prepare_database(root, args.pg_uri)
                prepared.append(args.pg_uri)
            else:
                print(f"PostgreSQL at {args.pg_uri} does not answer: its scenarios are skipped\n")
                chosen = [s for s in chosen if s.database != "postgresql"]
        measured: dict[str, list[tuple[Measure, float]]] = {s.name: [] for s in chosen}
        failures: dict[str, str] = {}
        for round_no in range(1, args.rounds + 1):
            baseline = 0.0
            for scenario in chosen:
                if scenario.name in failures:
                    continue
                try:
                    measure = run_scenario(scenario, root, args, uris, driver)
                except Exception as exc:  # one failing scenario must not lose the others
                    failures[scenario.name] = str(exc)
                    print(f"round {round_no}: {scenario.name} failed: {exc}", flush=True)
                    continue
                if scenario.name == "flask-hello":
                    baseline = measure.rps
                measured[scenario.name].append((measure, measure.rps / baseline if baseline else 0.0))
                print(f"round {round_no}: {scenario.name:<20} {measure.rps:>7.0f} req/s", flush=True)
        print(f"\n{'scenario':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}")
        for scenario in chosen:
            runs = measured[scenario.name]
            if not runs:
                print(f"{scenario.name:<20} failed: {failures.get(scenario.name)}")
                results.append({"name": scenario.name, "label": scenario.label,
                                "error": failures.get(scenario.name)})
                continue
            middle = sorted(runs, key=lambda run: run[0].rps)[len(runs) // 2]
            measure = middle[0]
            ratio = statistics.median(r for _, r in runs)
            errors = sum(m.errors for m, _ in runs)
            print(f"{scenario.name:<20} {measure.rps:>9.0f} {measure.p50_ms:>8.2f} "
                  f"{measure.p99_ms:>8.2f} {errors:>7} {ratio:>5.2f}x", flush=True)
            results.append({"name": scenario.name, "label": scenario.label, "ratio": round(ratio, 3),
                            "rounds": [asdict(m) for m, _ in runs], **asdict(measure),
                            "errors": errors})
        if failures:
            results.extend({"name": name, "error": why} for name, why in failures.items()
                           if measured[name])
    finally:
        for uri in prepared:
            try:
                drop_database(root, uri)
            except Exception as exc:
                print(f"could not drop the bench table on {uri}: {exc}")
        shutil.rmtree(scratch, ignore_errors=True)

    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": info, "load": load,
              "connections": args.connections, "duration": args.duration, "rounds": args.rounds,
              "workers": args.workers, "results": results}
    (out_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(record, indent=2))
    return 0 if all("error" not in r and r.get("errors", 0) == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
