"""The in-process cost of a request, counted in CPU instructions by valgrind's callgrind.

Wall-clock rates on a shared machine drift by tens of percent from one second to the
next; an instruction count does not move with the machine's load. Each variant of
``bench/overhead.py`` (and of ``bench/apps``) is run twice under callgrind, once with no
measured requests and once with ``--requests`` of them, in the same warmed-up process
shape; the difference divided by the count is the instructions one request costs the
application code (Flask, Werkzeug and the framework; no server, no sockets).

It complements, and does not replace, the gunicorn figures of ``bench/overhead.py``: a
server adds its own fixed cost per request (accept, parse, send, close), which is why a
ratio of instruction counts is lower than the ratio of rates under gunicorn.

    python bench/instructions.py [--requests 1000] [--variants flask,def,async,full]
    python bench/instructions.py --variants asgi-hello,asgi-post   # through to_asgi
    python bench/instructions.py --variants def,async,full --compare-compat

Variants: ``flask`` (plain Flask hello), ``def``, ``async``, ``full`` (async hooks on every
event and a middleware on every layer), ``hooks``, ``middleware`` (its halves), ``hello``
and ``post`` (the Backendpy comparison's ``async def`` hello and validated POST, WSGI), and
``asgi-hello``, ``asgi-post``, ``asgi-def`` (the same through ``to_asgi`` on an event loop,
the WSGI call on the adapter's pool thread, as under uvicorn but without sockets).
``asgi-noop`` is ``to_asgi`` of a bare WSGI hello (the adapter's own cost), ``asgi-inline``
the same WSGI call made on the loop without the thread hop (``asgi-noop`` minus it is the
hop's cost; a measuring stick, not a way to serve), ``asgi-plain``
the driver answering from a bare ASGI app (subtract it), and ``bp-hello``, ``bp-post``
Backendpy's project of bench/run.py under the same driver, in the bench's Backendpy venv.
``limited`` is ``def`` under a ``[ratelimit] default`` limit counted in memory,
``limited-redis`` the same counted in a private ``redis-server`` this command starts (its
own instructions and the round trip's wait are not counted: the client side only).
``served-flask``, ``served-def``, ``served-full``, ``served-post`` take the same requests
through gunicorn's own request parsing, environ and response writing (no sockets,
bench/apps/served.py): the served path's Python cost. ``dh-fw`` and ``dh-api`` are
bench/data_handler.py's six-field POST validated by a data handler and by APIFlask,
in-process; ``served-dh-fw`` and ``served-dh-api`` the same through gunicorn's handling.
``--compare-compat`` counts each variant a second time with ``FRAMEWORK_PUBLIC_API_ONLY=1``
(framework/_compat.py's public-API fallbacks) and prints the difference.

Needs valgrind (Debian's package). Each run takes about thirty seconds per variant.
``--quick`` counts in one run per variant, switching callgrind's instrumentation on only
around the measured requests (client requests from a small C library it builds: needs a C
compiler and valgrind's headers); start-up runs uninstrumented, several times faster. Its
counts agree with the two-run difference within about 1 %.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The variants that count rate limits in Redis (bench/apps/wsgi.py): a private server is
#: started for them.
REDIS_VARIANTS = ("limited-redis",)

#: The measured program: build the variant's app, warm it up, then serve ``n`` requests.
PROGRAM = """
import os
import sys
sys.path.insert(0, {root!r})
{setup}
one = {driver}
for _ in range(50):
    one()
for _ in range({requests}):
    one()
"""


_POST = '"/signup", "POST", SIGNUP_BODY, SIGNUP_ANSWER'
_FRAMEWORK = "from bench.apps.wsgi import SIGNUP_ANSWER, SIGNUP_BODY, in_process, in_process_asgi"
#: Backendpy's project (bench/run.py writes it) in the folder ``{project}``.
_BACKENDPY = """
from bench.apps.asgi_driver import asgi_driver
SIGNUP_BODY = b'{{"name": "Ann Smith", "email": "ann@example.com"}}'
SIGNUP_ANSWER = b'"email": "ann@example.com"'
os.chdir({project!r})
sys.path.insert(0, {project!r})
from main import bp
"""
#: The uvicorn variants: uvicorn's h11 protocol on a loopback socket (bench/apps/uvicorn_driver.py).
_UVICORN = (
    "from bench.apps.uvicorn_driver import plain_asgi_app, uvicorn_driver\n"
    "from bench.apps.wsgi import SIGNUP_ANSWER, SIGNUP_BODY, inline_asgi, make, noop_wsgi_app\n"
    "from framework.asgi import to_asgi"
)
_BACKENDPY_UVICORN = _BACKENDPY + "from bench.apps.uvicorn_driver import uvicorn_driver\n"
_SERVED = (
    "from bench.apps.wsgi import SIGNUP_ANSWER, SIGNUP_BODY, direct, make\n"
    "from bench.apps.served import DH_ANSWER, DH_PATH, dh_app, dh_body, served"
)
#: The request driver of each variant that is not simply ``in_process(variant)``.
DRIVERS = {
    "hello": 'in_process("validated")',
    "post": f'in_process("validated", {_POST})',
    "asgi-hello": 'in_process_asgi("validated")',
    "asgi-post": f'in_process_asgi("validated", {_POST})',
    "asgi-def": 'in_process_asgi("def")',
    "asgi-noop": 'in_process_asgi("wsgi-noop")',  # to_asgi of a bare WSGI hello
    # the same WSGI call made on the loop, no thread hop: asgi-noop minus this is the hop
    "asgi-inline": 'in_process_asgi("wsgi-noop-inline")',
    # the driver alone, answering from a bare ASGI app: subtract it from the asgi-* counts
    "asgi-plain": (
        "from bench.apps.asgi_driver import asgi_driver, plain_asgi_app",
        "asgi_driver(plain_asgi_app())",
    ),
    # through gunicorn's request parsing, environ and response writing (bench/apps/served.py)
    "served-flask": (_SERVED, 'served(make("flask"))'),
    "served-def": (_SERVED, 'served(make("def"))'),
    "served-full": (_SERVED, 'served(make("full"))'),
    "served-post": (_SERVED, f'served(make("validated"), {_POST})'),
    # bench/data_handler.py's six-field POST: framework data handler and APIFlask
    "dh-fw": (_SERVED, 'direct(dh_app("fw"), DH_PATH, "POST", dh_body(), DH_ANSWER)'),
    "dh-api": (_SERVED, 'direct(dh_app("api"), DH_PATH, "POST", dh_body(), DH_ANSWER)'),
    "served-dh-fw": (_SERVED, 'served(dh_app("fw"), DH_PATH, "POST", dh_body(), DH_ANSWER)'),
    "served-dh-api": (_SERVED, 'served(dh_app("api"), DH_PATH, "POST", dh_body(), DH_ANSWER)'),
    # the same through uvicorn's own protocol on a loopback socket (what `uvicorn APP` adds)
    "uv-plain": (_UVICORN, "uvicorn_driver(plain_asgi_app())"),
    "uv-noop": (_UVICORN, "uvicorn_driver(to_asgi(noop_wsgi_app))"),
    "uv-inline": (_UVICORN, "uvicorn_driver(inline_asgi(noop_wsgi_app))"),
    "uv-hello": (_UVICORN, 'uvicorn_driver(to_asgi(make("validated")))'),
    "uv-post": (_UVICORN, f'uvicorn_driver(to_asgi(make("validated")), {_POST})'),
    "bp-uv-hello": (_BACKENDPY_UVICORN, "uvicorn_driver(bp)"),
    "bp-uv-post": (_BACKENDPY_UVICORN, f"uvicorn_driver(bp, {_POST})"),
    # Backendpy under the same driver, in the bench's Backendpy venv
    "bp-hello": (_BACKENDPY, "asgi_driver(bp)"),
    "bp-post": (_BACKENDPY, 'asgi_driver(bp, "/signup", "POST", SIGNUP_BODY, SIGNUP_ANSWER)'),
}


def _program(variant: str, requests: int, project: str) -> tuple[str, str]:
    """The measured program and the interpreter that runs it."""
    driver = DRIVERS.get(variant, f"in_process({variant!r})")
    setup, python = _FRAMEWORK, sys.executable
    if isinstance(driver, tuple):
        setup, driver = driver
        if variant.startswith("bp-"):
            setup = setup.format(project=project)
            python = str(_backendpy(project))
    return PROGRAM.format(root=ROOT, setup=setup, driver=driver, requests=requests), python


def _backendpy(project: str) -> str:
    """The Backendpy venv's interpreter (made when missing), with the project written."""
    sys.path.insert(0, ROOT)
    from bench.run import BACKENDPY_FILES, BACKENDPY_VENV, backendpy_python, write_project

    if not os.path.exists(os.path.join(project, "main.py")):
        write_project(Path(project), BACKENDPY_FILES)
    return str(backendpy_python(BACKENDPY_VENV))


def callgrind(
    python: str, script: str, *options: str, env: Mapping[str, str] = os.environ
) -> subprocess.CompletedProcess[str]:
    """Run ``python script`` under callgrind with ``options`` (the dump file's name, say)
    from the repository's root, output captured.

    ``PYTHONHASHSEED`` is fixed: with random hashes, the start-up (subtracted) differs by
    tens of thousands of instructions per measured request from one run to the next."""
    return subprocess.run(
        ["valgrind", "--tool=callgrind", *options, python, script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "PYTHONHASHSEED": "0"},
    )


def _environment(public_api_only: bool) -> dict[str, str]:
    """This process's environment, ``FRAMEWORK_PUBLIC_API_ONLY`` set only if asked."""
    env = dict(os.environ)
    env.pop("FRAMEWORK_PUBLIC_API_ONLY", None)
    if public_api_only:
        env["FRAMEWORK_PUBLIC_API_ONLY"] = "1"
    return env


def count(variant: str, requests: int, public_api_only: bool = False) -> int:
    """Instructions callgrind collected for a whole run of ``PROGRAM``."""
    env = _environment(public_api_only)
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "run.py")
        program, python = _program(variant, requests, os.path.join(folder, "backendpy"))
        with open(script, "w") as handle:
            handle.write(program)
        done = callgrind(python, script, f"--callgrind-out-file={folder}/out", env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind run of {variant!r} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


@contextlib.contextmanager
def _private_redis() -> Iterator[str]:
    """A throw-away ``redis-server`` (tests/redisserver.py) for the ``limited-redis``
    variant; its own work is not counted: callgrind measures the Python process only."""
    sys.path.insert(0, ROOT)
    from tests.redisserver import RedisServer, redis_available

    if not redis_available():
        raise SystemExit("the limited-redis variant needs redis-server (apt-get install redis-server)")
    server = RedisServer()
    server.start()
    try:
        yield server.url(0)
    finally:
        server.close()


#: ``--quick``: callgrind's client requests, from a tiny C library built on first use, switch
#: the instrumentation on just before the measured requests and dump the count right after
#: them; start-up and warm-up run uninstrumented, several times faster than under callgrind.
_TOGGLE_C = """
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void cg_stop(void) { CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION; }
"""
_TOGGLE_LOOP = "for _ in range({requests}):\n    one()\n"
_TOGGLED_LOOP = (
    "import ctypes\ncg = ctypes.CDLL({library!r})\ncg.cg_start()\n" + _TOGGLE_LOOP + "cg.cg_stop()\n"
)


def _toggle_library(folder: str) -> str:
    """Build the client-request library in ``folder`` (needs a C compiler and valgrind's headers)."""
    source, library = os.path.join(folder, "toggle.c"), os.path.join(folder, "libtoggle.so")
    with open(source, "w") as handle:
        handle.write(_TOGGLE_C)
    built = subprocess.run(
        ["cc", "-O2", "-shared", "-fPIC", "-o", library, source], capture_output=True, text=True, check=False
    )
    if built.returncode != 0:
        raise SystemExit(f"--quick needs cc and valgrind's headers (valgrind-dev):\n{built.stderr}")
    return library


def count_quick(variant: str, requests: int, public_api_only: bool = False) -> float:
    """Instructions per request, counted only around the measured requests (one run)."""
    env = _environment(public_api_only)
    with tempfile.TemporaryDirectory() as folder:
        library = _toggle_library(folder)
        program, python = _program(variant, requests, os.path.join(folder, "backendpy"))
        loop = _TOGGLE_LOOP.format(requests=requests)
        head, _, tail = program.rpartition(loop)  # the measured loop, after the warm-up's
        program = head + _TOGGLED_LOOP.format(library=library, requests=requests) + tail
        script = os.path.join(folder, "run.py")
        with open(script, "w") as handle:
            handle.write(program)
        done = callgrind(
            python, script, "--instr-atstart=no", f"--callgrind-out-file={folder}/out.%p", env=env
        )
        dumps = [name for name in os.listdir(folder) if name.startswith("out.") and name.endswith(".1")]
        total = None
        if done.returncode == 0 and len(dumps) == 1:
            with open(os.path.join(folder, dumps[0])) as handle:
                found = re.search(r"^totals: (\d+)", handle.read(), re.MULTILINE)
            total = int(found.group(1)) if found else None
    if total is None:
        raise SystemExit(f"callgrind run of {variant!r} failed:\n{done.stderr[-2000:]}")
    return total / requests


def per_request(variant: str, requests: int, public_api_only: bool = False, quick: bool = False) -> float:
    if variant in REDIS_VARIANTS and "BENCH_REDIS_URL" not in os.environ:
        with _private_redis() as url:
            os.environ["BENCH_REDIS_URL"] = url
            try:
                return per_request(variant, requests, public_api_only, quick)
            finally:
                del os.environ["BENCH_REDIS_URL"]
    if quick:
        return count_quick(variant, requests, public_api_only)
    return (count(variant, requests, public_api_only) - count(variant, 0, public_api_only)) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--variants", default="flask,def,async,full")
    parser.add_argument(
        "--compare-compat",
        action="store_true",
        help="also count with FRAMEWORK_PUBLIC_API_ONLY=1 (no private fast paths)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one run per variant, instrumented only around the measured requests (needs cc, valgrind-dev)",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    variants = args.variants.split(",")
    costs = {}
    for variant in variants:
        costs[variant] = per_request(variant, args.requests, quick=args.quick)
        line = f"{variant:<10} {costs[variant] / 1000:8.1f} k instructions per request"
        if args.compare_compat:
            public = per_request(variant, args.requests, public_api_only=True, quick=args.quick)
            line += f"; public API only {public / 1000:8.1f} k ({(public - costs[variant]) / 1000:+.1f} k)"
        print(line, flush=True)
    if "flask" in costs:
        print("\ncost relative to plain Flask's hello (lower is better):")
        for variant in variants:
            print(f"  {variant:<10} {costs[variant] / costs['flask']:5.2f}x")


if __name__ == "__main__":
    main()
