"""Benchmark: a POST validated by a framework data handler vs APIFlask's ``@app.input``.

Both apps validate the same JSON body with equivalent rules and answer the cleaned data
as JSON. Each is served by gunicorn with one sync worker on a free 127.0.0.1 port, with
the project's ``gunicorn.conf.py`` (as the project is deployed: its worker hooks fire the
framework's startup and freeze the worker's heap, and leave the other apps alone), and
driven by wrk (or, without wrk, ``bench/_load.py``'s asyncio client; both via
``bench/_drive.py``).

Short rounds alternate between the servers, so each group of rounds sees the same
machine load; the figure is the median of the per-group ratios. The worker's CPU time per
request (from /proc) is reported too: it is less sensitive to a busy machine than req/s.
A third server, plain Flask with no validation at all, gives the ceiling: no Flask-based
validation can beat it, so its ratio to APIFlask bounds what a data handler can reach.
Finally the two apps are timed in-process (WSGI calls, no server or sockets), which shows
the cost of the application code alone.

    python bench/data_handler.py [--duration 3] [--pairs 10] [--connections 8]

Not a test: it needs gunicorn, apiflask (`pip install -e ".[bench]"`) and (preferably) wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._drive import (  # noqa: E402
    Driver,
    free_port,
    run_python,
    run_wrk,
    stop_process,
    wait_serving,
    wrk_available,
)

JSON = {"Content-Type": "application/json"}

BODY = {
    "username": "ann_smith",
    "email": "ann@example.com",
    "age": 34,
    "role": "user",
    "first_name": "Ann",
    "last_name": "Smith",
}

FRAMEWORK_APP = """
from framework.app import App
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import Integer, String
from framework.router import Routes

routes = Routes()


class UserCreationData(Data):
    username = String("username", required=True, processors=[v.NotNull(), v.Length(min=3, max=32)])
    email = String("email", required=True, processors=[v.EmailAddress()])
    age = Integer("age", processors=[v.Limit(min=0, max=150)])
    role = String("role", default="user", processors=[v.In(["user", "admin"])])
    first_name = String("first_name", processors=[v.Length(max=50)])
    last_name = String("last_name", processors=[v.Length(max=50)])


@routes.post("/users", data_handler=UserCreationData)
def create_user(request):
    return request.get_cleaned_data()


@routes.post("/users-unvalidated")
def create_user_unvalidated(request):  # in-process only: the core's cost without validation
    return request.body.json


app = App(routes=[routes])
"""

FRAMEWORK_WSGI = """
import os
from framework import create_app

app = create_app(os.path.dirname(os.path.abspath(__file__)))
"""

FRAMEWORK_CONFIG = """
[apps]
active = bench_dh_app

[logging]
level = WARNING

[flask]
secret_key = SECRET
"""

APIFLASK_WSGI = """
from apiflask import APIFlask, Schema
from apiflask.fields import Email, Integer, String
from apiflask.validators import Length, OneOf, Range

app = APIFlask(__name__, spec_path=None, docs_path=None)


class UserIn(Schema):
    username = String(required=True, validate=Length(min=3, max=32))
    email = Email(required=True)
    age = Integer(validate=Range(min=0, max=150))
    role = String(load_default="user", validate=OneOf(["user", "admin"]))
    first_name = String(validate=Length(max=50))
    last_name = String(validate=Length(max=50))


@app.post("/users")
@app.input(UserIn)
def create_user(json_data):
    return json_data
"""


FLASK_WSGI = """
from flask import Flask, request

app = Flask(__name__)


@app.post("/users")
def create_user():
    data = request.get_json()
    if not isinstance(data, dict) or not isinstance(data.get("username"), str) or len(data["username"]) < 3:
        return {"error": "invalid"}, 400
    return data
"""


def write_projects(base: Path) -> None:
    (base / "bench_dh_app").mkdir()
    (base / "bench_dh_app" / "__init__.py").write_text("")
    (base / "bench_dh_app" / "main.py").write_text(textwrap.dedent(FRAMEWORK_APP))
    (base / "fw_wsgi.py").write_text(textwrap.dedent(FRAMEWORK_WSGI))
    # a serving app needs a secret key (framework.security): a throw-away one for the bench
    config = textwrap.dedent(FRAMEWORK_CONFIG).replace("SECRET", secrets.token_hex(32))
    (base / "config.ini").write_text(config)
    os.chmod(base / "config.ini", 0o600)
    (base / "apiflask_wsgi.py").write_text(textwrap.dedent(APIFLASK_WSGI))
    (base / "flask_wsgi.py").write_text(textwrap.dedent(FLASK_WSGI))


def start(base: Path, target: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(base)])}
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    proc = subprocess.Popen(
        [
            gunicorn,
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            "1",
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(base),
            "--log-level",
            "warning",
            target,
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}/users"
    try:
        wait_serving(url, method="POST", body=json.dumps(BODY).encode(), headers=JSON, timeout=10, proc=proc)
    except RuntimeError:
        stop_process(proc)
        raise RuntimeError(f"{target} did not start") from None
    check(url)
    return proc, url


def check(url: str) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(BODY).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        answer = json.loads(response.read())
    assert answer["username"] == "ann_smith", answer
    bad = urllib.request.Request(url, data=b'{"username": "x"}', headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(bad, timeout=2)
    except urllib.error.HTTPError as exc:
        assert exc.code in (400, 422), exc.code
    else:
        raise AssertionError("invalid body accepted")


def run_load(driver: Driver, url: str, duration: int, connections: int) -> float:
    """Requests per second from one run; any error answer or failed connection stops the bench."""
    result = driver(
        url,
        method="POST",
        body=json.dumps(BODY).encode(),
        headers=JSON,
        connections=connections,
        duration=duration,
    )
    if result.non_2xx or result.errors:
        raise RuntimeError(
            f"{result.non_2xx} error responses and {result.errors} failed connections from {url}"
        )
    return result.rps


def worker_cpu_seconds(master: subprocess.Popen) -> float:
    """User + system CPU time of the gunicorn master's (single) worker."""
    try:
        children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
        fields = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per round")
    parser.add_argument("--pairs", type=int, default=10, help="groups of alternating rounds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    args = parser.parse_args()
    use_wrk = wrk_available() and not args.python_client
    driver = run_wrk if use_wrk else run_python
    fw_name, api_name, flask_name = "framework data handler", "APIFlask @app.input", "plain Flask (ceiling)"

    def load(url: str, seconds: int) -> float:
        return run_load(driver, url, seconds, args.connections)

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_projects(base)
        servers = {
            fw_name: start(base, "fw_wsgi:app"),
            api_name: start(base, "apiflask_wsgi:app"),
            flask_name: start(base, "flask_wsgi:app"),
        }
        rates: dict[str, list[float]] = {name: [] for name in servers}
        cpu: dict[str, list[float]] = {name: [] for name in servers}
        ratios: dict[str, list[float]] = {name: [] for name in servers}
        try:
            for _proc, url in servers.values():  # warm up
                load(url, 1)
            for group in range(args.pairs):
                order = list(servers.items())
                order = order[group % len(order) :] + order[: group % len(order)]
                for name, (proc, url) in order:
                    before = worker_cpu_seconds(proc)
                    rate = load(url, args.duration)
                    used = worker_cpu_seconds(proc) - before
                    rates[name].append(rate)
                    cpu[name].append(used / (rate * args.duration) * 1e6 if rate else float("nan"))
                for name in servers:
                    ratios[name].append(rates[name][-1] / rates[api_name][-1])
                print(
                    f"  group {group + 1:2}: "
                    + ", ".join(f"{name} {rates[name][-1]:7.1f} req/s" for name in servers),
                    flush=True,
                )
        finally:
            for proc, _url in servers.values():
                stop_process(proc, 10)
        in_process = time_in_process(base)
    median = statistics.median
    print(
        f"\nclient: {'wrk' if use_wrk else 'python'}, {args.connections} connections; "
        f"gunicorn, 1 sync worker each; {args.pairs} groups of alternating {args.duration}s rounds"
    )
    for name in servers:
        print(
            f"  {name:<24} median {median(rates[name]):7.1f} req/s (best {max(rates[name]):7.1f}), "
            f"worker CPU {median(cpu[name]):5.0f} us/request, "
            f"ratio to APIFlask: median {median(ratios[name]):.2f}x"
        )
    print(
        f"  => framework / APIFlask under gunicorn: {median(ratios[fw_name]):.2f}x "
        f"(target >= 1.10x; ceiling, plain Flask without validation: {median(ratios[flask_name]):.2f}x)"
    )
    t = in_process
    print("\nin-process (app code only, no server; medians of alternating runs), us per request:")
    print(
        f"  plain Flask {t['plain']:.0f}, framework route without data handler {t['fw_core']:.0f}, "
        f"framework with data handler {t['fw']:.0f}, APIFlask {t['api']:.0f}"
    )
    print(f"  => framework / APIFlask in-process: {t['api'] / t['fw']:.2f}x")
    print(
        f"  validation step alone (JSON parse included): Data.clean {t['clean']:.1f} us, "
        f"APIFlask's schema load {t['load']:.1f} us => {t['load'] / t['clean']:.2f}x"
    )


def time_in_process(base: Path, rounds: int = 30, calls: int = 300) -> dict[str, float]:
    """Median microseconds per call, in a child process: WSGI calls of each app (and of a
    framework route without a data handler), and the validation step alone (``Data.clean``
    vs APIFlask's schema ``load``, both parsing the JSON)."""
    code = (
        textwrap.dedent("""
        import io, json, statistics, sys, time
        from flask import request
        from werkzeug.test import EnvironBuilder
        from fw_wsgi import app as fw
        from apiflask_wsgi import app as api, UserIn
        from flask_wsgi import app as plain
        from bench_dh_app.main import UserCreationData
        body = json.dumps(BODY).encode()
        def environ(path):
            return EnvironBuilder(path=path, method="POST", data=body,
                                  content_type="application/json").get_environ()
        def start_response(status, headers, exc_info=None):
            assert status.startswith("200"), status
        def wsgi(app, path):
            env = environ(path)
            def run():
                e = dict(env)
                e["wsgi.input"] = io.BytesIO(body)
                b"".join(app(e, start_response))
            return run
        schema = UserIn()
        ctx = fw.test_request_context("/users", method="POST", data=body, content_type="application/json")
        ctx.push()
        req = request._get_current_object()
        def clean():
            req.__dict__.pop("_fw_body", None)  # parse the JSON again each time
            UserCreationData.clean(req)
        def load():
            schema.load(json.loads(req.get_data()))
        cases = {"fw": wsgi(fw, "/users"), "fw_core": wsgi(fw, "/users-unvalidated"),
                 "api": wsgi(api, "/users"), "plain": wsgi(plain, "/users"),
                 "clean": clean, "load": load}
        def timed(fn):
            started = time.process_time()
            for _ in range(CALLS):
                fn()
            return (time.process_time() - started) / CALLS * 1e6
        for fn in cases.values():
            timed(fn)
        results = {name: [] for name in cases}
        for _ in range(ROUNDS):
            for name, fn in cases.items():
                results[name].append(timed(fn))
        print(json.dumps({name: statistics.median(r) for name, r in results.items()}))
    """)
        .replace("BODY", repr(BODY))
        .replace("CALLS", str(calls))
        .replace("ROUNDS", str(rounds))
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(base)])}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=base, env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
