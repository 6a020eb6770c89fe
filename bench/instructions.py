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

Needs valgrind (Debian's package). Each run takes about thirty seconds per variant.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The measured program: build the variant's app, warm it up, then serve ``n`` requests.
PROGRAM = """
import sys
sys.path.insert(0, {root!r})
from bench.apps.wsgi import in_process

one = in_process({variant!r})
for _ in range(50):
    one()
for _ in range({requests}):
    one()
"""


def count(variant: str, requests: int) -> int:
    """Instructions callgrind collected for a whole run of ``PROGRAM``."""
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "run.py")
        with open(script, "w") as handle:
            handle.write(PROGRAM.format(root=ROOT, variant=variant, requests=requests))
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
             sys.executable, script],
            cwd=ROOT, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind run of {variant!r} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(variant: str, requests: int) -> float:
    return (count(variant, requests) - count(variant, 0)) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--variants", default="flask,def,async,full")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    variants = args.variants.split(",")
    costs = {}
    for variant in variants:
        costs[variant] = per_request(variant, args.requests)
        print(f"{variant:<10} {costs[variant] / 1000:8.1f} k instructions per request",
              flush=True)
    if "flask" in costs:
        print("\ncost relative to plain Flask's hello (lower is better):")
        for variant in variants:
            print(f"  {variant:<10} {costs[variant] / costs['flask']:5.2f}x")


if __name__ == "__main__":
    main()
