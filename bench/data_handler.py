"""Benchmark: a POST validated by a framework data handler vs APIFlask's ``@app.input``.

Both apps validate the same JSON body with equivalent rules and answer the cleaned data
as JSON. Each is served by gunicorn with one sync worker on a free 127.0.0.1 port and
driven by wrk (or, without wrk, a small multi-process Python client); rounds alternate
between the two servers and the best round of each counts.

    python bench/data_handler.py [--duration 10] [--rounds 3] [--connections 8]

Not a test: it needs gunicorn, apiflask and (preferably) wrk.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BODY = {"username": "ann_smith", "email": "ann@example.com", "age": 34, "role": "user",
        "first_name": "Ann", "last_name": "Smith"}

FRAMEWORK_APP = '''
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


app = App(routes=[routes])
'''

FRAMEWORK_WSGI = '''
import os
from framework import create_app

app = create_app(os.path.dirname(os.path.abspath(__file__)))
'''

FRAMEWORK_CONFIG = '''
[apps]
active = bench_dh_app

[logging]
level = WARNING
'''

APIFLASK_WSGI = '''
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
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_projects(base: Path) -> None:
    (base / "bench_dh_app").mkdir()
    (base / "bench_dh_app" / "__init__.py").write_text("")
    (base / "bench_dh_app" / "main.py").write_text(textwrap.dedent(FRAMEWORK_APP))
    (base / "fw_wsgi.py").write_text(textwrap.dedent(FRAMEWORK_WSGI))
    (base / "config.ini").write_text(textwrap.dedent(FRAMEWORK_CONFIG))
    os.chmod(base / "config.ini", 0o600)
    (base / "apiflask_wsgi.py").write_text(textwrap.dedent(APIFLASK_WSGI))


def start(base: Path, target: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(base)])}
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    proc = subprocess.Popen(
        [gunicorn, "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{port}", "--chdir", str(base),
         "--log-level", "warning", target], env=env)
    url = f"http://127.0.0.1:{port}/users"
    for _ in range(100):
        try:
            check(url)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


def check(url: str) -> None:
    request = urllib.request.Request(url, data=json.dumps(BODY).encode(),
                                     headers={"Content-Type": "application/json"})
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


LUA = '''
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
'''


def run_wrk(url: str, duration: int, connections: int, script: str) -> float:
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} error responses from {url}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _client(url: str, deadline: float, counter) -> None:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    body = json.dumps(BODY).encode()
    done = 0
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        conn.request("POST", parts.path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        done += 1
    with counter.get_lock():
        counter.value += done


def run_python(url: str, duration: int, connections: int) -> float:
    counter = multiprocessing.Value("i", 0)
    start_time = time.monotonic()
    deadline = start_time + duration
    procs = [multiprocessing.Process(target=_client, args=(url, deadline, counter)) for _ in range(connections)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return counter.value / (time.monotonic() - start_time)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--python-client", action="store_true", help="do not use wrk")
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.python_client

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_projects(base)
        script = base / "post.lua"
        script.write_text(LUA.format(body=json.dumps(BODY)))
        servers = {"framework data handler": start(base, "fw_wsgi:app"),
                   "APIFlask @app.input": start(base, "apiflask_wsgi:app")}
        results: dict[str, list[float]] = {name: [] for name in servers}
        try:
            for name, (_proc, url) in servers.items():  # warm up
                run_wrk(url, 2, args.connections, str(script)) if use_wrk else run_python(url, 2, 2)
            for _round in range(args.rounds):
                for name, (_proc, url) in servers.items():
                    rate = (run_wrk(url, args.duration, args.connections, str(script)) if use_wrk
                            else run_python(url, args.duration, args.connections))
                    results[name].append(rate)
                    print(f"  {name:<24} {rate:9.1f} req/s", flush=True)
        finally:
            for proc, _url in servers.values():
                proc.terminate()
                proc.wait(10)
    best = {name: max(rates) for name, rates in results.items()}
    print(f"\nclient: {'wrk' if use_wrk else 'python'}, {args.connections} connections, "
          f"{args.rounds} x {args.duration}s rounds, gunicorn 1 sync worker, best round:")
    for name, rate in best.items():
        print(f"  {name:<24} {rate:9.1f} req/s")
    fw, api = best["framework data handler"], best["APIFlask @app.input"]
    print(f"  ratio framework / APIFlask: {fw / api:.2f}x (target >= 1.10x)")


if __name__ == "__main__":
    main()
