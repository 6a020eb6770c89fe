"""The benchmark command: every server the project offers, one table, each against its peer.

Builds throw-away projects, then for each scenario starts its server on a free loopback
port (gunicorn with the project's gunicorn.conf.py, or uvicorn), warms it up, drives it
with wrk (Debian's package: ``apt-get install -y wrk``) or, without wrk, the Python load
generator of bench/_load.py, stops it by its pid, and prints requests per second, p50 and
p99 latency and the ratio to the scenario's peer measured in the same round::

    .venv/bin/python bench/run.py                       # all scenarios, 5 s each, 3 rounds
    .venv/bin/python bench/run.py --duration 10 --connections 32 --workers 2
    .venv/bin/python bench/run.py --only bp-hello,fw-asgi-hello --load python
    .venv/bin/python bench/run.py --pg-uri postgresql+psycopg://postgres@127.0.0.1:5432/test

Peers: under gunicorn, plain Flask's hello for the framework's hello routes and database
scenarios, and APIFlask's ``@app.input`` for the validated POST; under uvicorn, Backendpy
(``uvicorn main:bp``) for the framework's ``to_asgi`` app (``uvicorn wsgi:asgi_app``) on
the same two routes, written as a Backendpy project ports: an ``async def`` hello, and an
``async def`` POST whose body a data handler validates (``String`` name with ``NotNull``
and ``Length``, ``String`` email with ``EmailAddress``). Backendpy (0.2.5a2) and uvicorn
(the framework's version) are installed into a venv of the bench's own,
bench/.venv-backendpy, on first use. APIFlask comes with the ``bench`` extra
(``pip install -e '.[bench]'``); a peer that is missing skips its scenarios with a note.
PostgreSQL scenarios are skipped when the server does not answer. Not a test: CI never
runs it. Each run is also written to ``bench/results/run-<time>.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
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
PORT_APP = "fw_port_app"
BP_APP = "bp_bench_app"
BACKENDPY = "backendpy==0.2.5a2"
BACKENDPY_VENV = HERE / ".venv-backendpy"
SIGNUP_BODY = b'{"name": "Ann Smith", "email": "ann@example.com"}'

#: The two routes of the Backendpy comparison, as Backendpy's documentation writes them
#: (sections 4.2, 4.4 and 4.7); the framework's copy differs in the import prefix only.
PORTED_HANDLERS = """\
    from {pkg}.data_handler import validators as v
    from {pkg}.data_handler.data import Data
    from {pkg}.data_handler.fields import String
    from {pkg}.response import Success, Text
    from {pkg}.router import Routes

    routes = Routes()


    class SignupData(Data):
        name = String('name', required=True, processors=[v.NotNull(), v.Length(min=1, max=50)])
        email = String('email', required=True, processors=[v.EmailAddress()])


    @routes.get('/hello-world')
    async def hello_world(request):
        return Text('Hello World!')


    @routes.post('/signup', data_handler=SignupData)
    async def signup(request):
        return Success(await request.get_cleaned_data())
    """

PORTED_MAIN = """\
    from {pkg}.app import App

    from .handlers import routes

    app = App(routes=[routes])
    """

#: The Backendpy project (``uvicorn main:bp`` in its folder).
BACKENDPY_FILES = {
    "main.py": """\
        from backendpy import Backendpy

        bp = Backendpy()
        """,
    "config.ini": f"""\
        [networking]
        allowed_hosts =
            *

        [apps]
        active =
            {BP_APP}
        """,
    f"{BP_APP}/__init__.py": "",
    f"{BP_APP}/main.py": PORTED_MAIN.format(pkg="backendpy"),
    f"{BP_APP}/handlers.py": PORTED_HANDLERS.format(pkg="backendpy"),
}
SECRET = "bench-secret-key-not-for-production"
JSON_BODY = b'{"name": "bench", "count": 3}'

FILES = {
    "config.ini": f"""\
        [networking]
        allowed_hosts = *

        [apps]
        active =
            {APP}
            {PORT_APP}

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
    "apiflask_app.py": """\
        from apiflask import APIFlask, Schema
        from apiflask.fields import Email, String
        from apiflask.validators import Length

        app = APIFlask(__name__, spec_path=None, docs_path=None)


        class SignupIn(Schema):
            name = String(required=True, validate=Length(min=1, max=50))
            email = Email(required=True)


        @app.post("/signup")
        @app.input(SignupIn)
        def signup(json_data):
            return {"status": "success", "data": json_data}
        """,
    f"{PORT_APP}/__init__.py": "",
    f"{PORT_APP}/main.py": PORTED_MAIN.format(pkg="framework"),
    f"{PORT_APP}/handlers.py": PORTED_HANDLERS.format(pkg="framework"),
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


        class SignupData(Data):  # the Backendpy comparison's, for a def handler
            name = String('name', required=True, processors=[v.NotNull(), v.Length(min=1, max=50)])
            email = String('email', required=True, processors=[v.EmailAddress()])
        """,
    f"{APP}/handlers.py": """\
        from framework.db import db
        from framework.exception import NotFound
        from framework.response import JSON, Success, Text
        from framework.router import Routes

        from .data import ItemData, SignupData
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


        @routes.post("/signup-def", data_handler=SignupData)
        def signup(request):
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
    kind: str = "gunicorn"  # gunicorn, uvicorn, or backendpy (uvicorn in the Backendpy venv)
    method: str = "GET"
    path: str = "/hello"
    database: str | None = None  # "sqlite" or "postgresql"
    peer: str = "flask-hello"  # the scenario whose rate, same round, the ratio divides by
    needs: str | None = None  # "apiflask" or "backendpy": skipped when it is missing

    @property
    def body(self) -> bytes | None:
        if self.method != "POST":
            return None
        return SIGNUP_BODY if "signup" in self.path else JSON_BODY


# Peers come before the scenarios measured against them: each round measures a peer first.
SCENARIOS = [
    Scenario("flask-hello", "plain Flask hello (baseline)", app="plain:app", peer=""),
    Scenario("fw-hello-def", "framework hello, def handler"),
    Scenario("fw-hello-async", "framework hello, async def handler", path="/ahello"),
    Scenario(
        "apiflask-post",
        "APIFlask POST validated by @app.input (baseline)",
        app="apiflask_app:app",
        method="POST",
        path="/signup",
        peer="",
        needs="apiflask",
    ),
    Scenario(
        "fw-validated-post",
        "POST validated by a data handler, def handler",
        method="POST",
        path="/signup-def",
        peer="apiflask-post",
    ),
    Scenario("fw-items-post", "POST validated by a data handler (name, count)", method="POST", path="/items"),
    Scenario("db-read-sqlite", "database read, SQLite", path="/db/1", database="sqlite"),
    Scenario("db-write-sqlite", "database write, SQLite", method="POST", path="/db", database="sqlite"),
    Scenario("db-read-pg", "database read, PostgreSQL", path="/db/1", database="postgresql"),
    Scenario("db-write-pg", "database write, PostgreSQL", method="POST", path="/db", database="postgresql"),
    Scenario(
        "bp-hello",
        "Backendpy hello under uvicorn (baseline)",
        app="main:bp",
        kind="backendpy",
        path="/hello-world",
        peer="",
        needs="backendpy",
    ),
    Scenario(
        "fw-asgi-hello",
        "framework async def hello, to_asgi under uvicorn",
        app="wsgi:asgi_app",
        kind="uvicorn",
        path="/hello-world",
        peer="bp-hello",
    ),
    Scenario(
        "asgi-uvicorn",
        "framework def hello, to_asgi under uvicorn",
        app="wsgi:asgi_app",
        kind="uvicorn",
        peer="bp-hello",
    ),
    Scenario(
        "bp-post",
        "Backendpy validated POST under uvicorn (baseline)",
        app="main:bp",
        kind="backendpy",
        method="POST",
        path="/signup",
        peer="",
        needs="backendpy",
    ),
    Scenario(
        "fw-asgi-post",
        "framework async def validated POST, to_asgi under uvicorn",
        app="wsgi:asgi_app",
        kind="uvicorn",
        method="POST",
        path="/signup",
        peer="bp-post",
    ),
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
def write_project(root: Path, files: dict[str, str] = FILES) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    os.chmod(root / "config.ini", 0o600)


# ------------------------------------------------------------------------------ peers
def _installed(name: str) -> str | None:
    """The version of ``name`` installed beside the framework, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def backendpy_python(venv: Path) -> Path:
    """The interpreter of ``venv`` with Backendpy and uvicorn, creating the venv if needed.

    uvicorn gets the framework's version, and uvloop/httptools are added when the
    framework's environment has them, so that both sides run the same server code.
    """
    python = venv / "bin" / "python"
    wanted = [BACKENDPY, f"uvicorn=={_installed('uvicorn')}" if _installed("uvicorn") else "uvicorn"]
    wanted += [f"{name}=={_installed(name)}" for name in ("uvloop", "httptools") if _installed(name)]
    check = (
        "import importlib.metadata as m, sys; "
        "sys.exit(0 if all(m.version(r.split('==')[0]) == r.split('==')[1] "
        "for r in sys.argv[1:] if '==' in r) else 1)"
    )
    if (
        python.exists()
        and subprocess.run([str(python), "-c", check, *wanted], capture_output=True).returncode == 0
    ):
        return python
    print(f"installing {', '.join(wanted)} into {venv} ...", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *wanted], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {wanted}: {done.stderr[-1500:]}")
    return python


class BackendpyServer(LiveServer):
    """``uvicorn main:bp`` with the Backendpy venv's interpreter, in the Backendpy project."""

    def __init__(self, cwd: str, app: str, *, python: Path, workers: int = 1) -> None:
        extra = ["--no-access-log"] + (["--workers", str(workers)] if workers > 1 else [])
        # PYTHONPATH=None: nothing of the framework's checkout on Backendpy's path
        super().__init__(cwd, app, kind="uvicorn", env={"PYTHONPATH": None}, extra_args=extra)
        self.python = str(python)

    def command(self) -> list[str]:
        return [
            self.python,
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
    return Measure(
        rps=drive.rps,
        p50_ms=drive.p50_ms,
        p99_ms=drive.p99_ms,
        requests=drive.requests,
        errors=drive.errors + drive.non_2xx,
    )


def run_scenario(
    scenario: Scenario,
    root: Path,
    args: argparse.Namespace,
    uris: dict[str, str],
    driver: Callable[..., Drive],
    peers: dict[str, Any],
) -> Measure:
    env: dict[str, str | None] = {"FRAMEWORK__FLASK__SECRET_KEY": SECRET, "GUNICORN_ACCESSLOG": None}
    if scenario.database:
        env["FRAMEWORK__DATABASE__URI"] = uris[scenario.database]
    extra: list[str] = []
    if scenario.kind == "uvicorn":
        extra = ["--no-access-log"]
        if args.workers > 1:
            extra += ["--workers", str(args.workers)]
    server: LiveServer
    if scenario.kind == "backendpy":
        server = BackendpyServer(
            str(peers["backendpy-root"]), scenario.app, python=peers["backendpy"], workers=args.workers
        )
    else:
        server = LiveServer(
            str(root), scenario.app, kind=scenario.kind, workers=args.workers, env=env, extra_args=extra
        )
    body = scenario.body
    headers = {"Content-Type": "application/json"} if body else None
    try:
        server.start()
        url = f"{server.url}{scenario.path}"
        wait_serving(url, method=scenario.method, body=body, headers=headers)
        driver(
            url,
            method=scenario.method,
            body=body,
            headers=headers,
            connections=args.connections,
            duration=min(2.0, args.duration),
        )
        return _measure(
            driver(
                url,
                method=scenario.method,
                body=body,
                headers=headers,
                connections=args.connections,
                duration=args.duration,
            )
        )
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
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--pg-uri",
        default=os.environ.get("BENCH_PG_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the median is shown (ratios are per round)"
    )
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument(
        "--backendpy-venv",
        type=Path,
        default=BACKENDPY_VENV,
        help="the venv holding Backendpy and uvicorn (made when missing)",
    )
    args = parser.parse_args(argv)

    load, driver = pick_driver(args.load)
    if load == "python" and args.load == "auto":
        print(
            "wrk is not installed (Debian: apt-get install -y wrk): "
            "using the Python load generator of bench/_load.py"
        )
    names = set(args.only.split(",")) if args.only else {s.name for s in SCENARIOS}
    by_name = {s.name: s for s in SCENARIOS}
    names |= {by_name[n].peer for n in list(names) if n in by_name and by_name[n].peer}
    chosen = [s for s in SCENARIOS if s.name in names]  # peers always measured in the same run

    info = machine()
    print(
        f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, "
        f"load average before the run {info['loadavg'][0]}"
    )
    print(
        f"load: {load}, {args.connections} connections, {args.duration:g} s per scenario, "
        f"{args.workers} worker(s) per server, {args.rounds} round(s), median shown\n"
    )

    scratch = Path(tempfile.mkdtemp(prefix="fw-bench-"))
    root = scratch / "project"
    write_project(root)
    peers: dict[str, Any] = {}
    missing: dict[str, str] = {}
    if any(s.needs == "apiflask" for s in chosen) and importlib.util.find_spec("apiflask") is None:
        missing["apiflask"] = "APIFlask is not installed (pip install -e '.[bench]')"
    if any(s.needs == "backendpy" for s in chosen):
        try:
            peers["backendpy"] = backendpy_python(args.backendpy_venv)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            missing["backendpy"] = f"no Backendpy venv: {exc}"
        else:
            peers["backendpy-root"] = scratch / "backendpy-project"
            write_project(peers["backendpy-root"], BACKENDPY_FILES)
    for why in missing.values():
        print(f"{why}: its scenarios are skipped")
    chosen = [s for s in chosen if s.needs not in missing]
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
            rates: dict[str, float] = {}
            for scenario in chosen:
                if scenario.name in failures:
                    continue
                try:
                    measure = run_scenario(scenario, root, args, uris, driver, peers)
                except Exception as exc:  # one failing scenario must not lose the others
                    failures[scenario.name] = str(exc)
                    print(f"round {round_no}: {scenario.name} failed: {exc}", flush=True)
                    continue
                rates[scenario.name] = measure.rps
                peer_rate = rates.get(scenario.peer) if scenario.peer else measure.rps
                measured[scenario.name].append(
                    (measure, measure.rps / peer_rate if peer_rate else float("nan"))
                )
                print(f"round {round_no}: {scenario.name:<20} {measure.rps:>7.0f} req/s", flush=True)
        print(f"\n{'scenario':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}  to")
        for scenario in chosen:
            runs = measured[scenario.name]
            if not runs:
                print(f"{scenario.name:<20} failed: {failures.get(scenario.name)}")
                results.append(
                    {"name": scenario.name, "label": scenario.label, "error": failures.get(scenario.name)}
                )
                continue
            middle = sorted(runs, key=lambda run: run[0].rps)[len(runs) // 2]
            measure = middle[0]
            ratios = [r for _, r in runs if r == r]  # NaN: the peer was not measured that round
            ratio = statistics.median(ratios) if ratios else None
            errors = sum(m.errors for m, _ in runs)
            shown = f"{ratio:>5.2f}x" if ratio is not None else "   n/a"
            print(
                f"{scenario.name:<20} {measure.rps:>9.0f} {measure.p50_ms:>8.2f} "
                f"{measure.p99_ms:>8.2f} {errors:>7} {shown}  {scenario.peer or '-'}",
                flush=True,
            )
            results.append(
                {
                    "name": scenario.name,
                    "label": scenario.label,
                    "ratio": round(ratio, 3) if ratio is not None else None,
                    "peer": scenario.peer or None,
                    "rounds": [asdict(m) for m, _ in runs],
                    **asdict(measure),
                    "errors": errors,
                }
            )
        if failures:
            results.extend({"name": name, "error": why} for name, why in failures.items() if measured[name])
    finally:
        for uri in prepared:
            try:
                drop_database(root, uri)
            except Exception as exc:
                print(f"could not drop the bench table on {uri}: {exc}")
        shutil.rmtree(scratch, ignore_errors=True)

    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": info,
        "load": load,
        "skipped": missing,
        "connections": args.connections,
        "duration": args.duration,
        "rounds": args.rounds,
        "workers": args.workers,
        "results": results,
    }
    (out_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(record, indent=2))
    return 0 if all("error" not in r and r.get("errors", 0) == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
