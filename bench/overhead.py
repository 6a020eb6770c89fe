"""The framework's per-request overhead, measured under gunicorn with one sync worker.

Four servers run side by side on free loopback ports, each a single sync worker:

- ``flask``: plain Flask's hello;
- ``def``: the framework's hello route as a ``def`` handler;
- ``async``: the same route as an ``async def`` handler (the async shim);
- ``full``: the ``async def`` route with an ``async`` no-op hook on every default event
  (startup, shutdown, request_start, request_end) and a no-op middleware on every layer
  (async static methods, as in Backendpy's listing 25).

They are driven one at a time, in interleaved rounds (so drift in the machine's load hits
every variant alike), by ``wrk`` (or a Python load generator when wrk is absent). The table
gives the median over rounds of req/s, p50 and p99 latency, and the ratios the project
targets: async >= 0.8x def, full >= 0.9x flask. The headline ratio is paired: the ratio of
the two variants' rates within each round, then the median over rounds, which is far
steadier than a ratio of medians on a machine whose load drifts.
``bench/instructions.py`` counts the in-process cost in instructions, which load does not
change at all.

Usage, from the project root::

    python bench/overhead.py [--rounds 5] [--seconds 4] [--connections 4]
    python bench/overhead.py --profile full     # cProfile of the in-process request path
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench._drive import (  # noqa: E402
    free_port,
    run_python,
    run_wrk,
    stop_process,
    wait_serving,
    wrk_available,
)

VARIANTS = ("flask", "def", "async", "full")
EXTRA_VARIANTS = ("hooks", "middleware")  # --split: the halves of "full"
PATH = "/hello-world"


def start(variant: str, port: int) -> subprocess.Popen:
    """One gunicorn master with one sync worker serving ``variant``."""
    env = dict(os.environ, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", PYTHONPATH=ROOT)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    return subprocess.Popen(
        [
            gunicorn,
            "-c",
            os.path.join(ROOT, "gunicorn.conf.py"),
            "--worker-class",
            "sync",
            f'bench.apps.wsgi:make("{variant}")',
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    try:
        body = wait_serving(url, timeout=timeout, proc=proc)
    except RuntimeError as exc:
        raise SystemExit(f"{exc}: {proc.stderr.read().decode() if proc.poll() is not None else ''}") from None
    if body != b"Hello World!":
        raise SystemExit(f"{url} answered {body!r}")


def stop(proc: subprocess.Popen) -> None:
    stop_process(proc)
    if proc.stderr:
        proc.stderr.close()


def worker_pid(master: int) -> int:
    """The one worker of a gunicorn master."""
    with open(f"/proc/{master}/task/{master}/children") as handle:
        children = handle.read().split()
    if len(children) != 1:
        raise SystemExit(f"expected one worker under {master}, found {children}")
    return int(children[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(url: str, seconds: float, connections: int) -> tuple[float, float, float, int]:
    """(req/s, p50 ms, p99 ms, requests) from one run of wrk, or of the Python generator with
    a new connection per request when wrk is absent."""
    if wrk_available():
        result = run_wrk(url, connections=connections, duration=seconds)
    else:
        result = run_python(url, connections=connections, duration=seconds, close=True)
    if result.non_2xx or result.errors:
        raise SystemExit(f"errors while driving {url}:\n{result}")
    return result.rps, result.p50_ms, result.p99_ms, result.requests


Sample = tuple[float, float, float, float]  # req/s, p50 ms, p99 ms, worker CPU us per request


def measure(
    rounds: int, seconds: float, connections: int, variants: tuple[str, ...] = VARIANTS
) -> dict[str, list[Sample]]:
    ports = {variant: free_port() for variant in variants}
    procs = {variant: start(variant, port) for variant, port in ports.items()}
    results: dict[str, list[Sample]] = {v: [] for v in variants}
    try:
        urls = {v: f"http://127.0.0.1:{p}{PATH}" for v, p in ports.items()}
        for variant, url in urls.items():
            wait_ready(url, procs[variant])
        workers = {v: worker_pid(proc.pid) for v, proc in procs.items()}
        print(
            f"load generator: {'wrk' if wrk_available() else 'python'}, {connections} connections, "
            f"{rounds} rounds x {seconds}s per variant",
            file=sys.stderr,
        )
        for url in urls.values():  # warm-up
            drive(url, 1, connections)
        for number in range(rounds):
            order = variants[number % len(variants) :] + variants[: number % len(variants)]
            for variant in order:
                before = cpu_seconds(workers[variant])
                rate, p50, p99, count = drive(urls[variant], seconds, connections)
                cpu = (cpu_seconds(workers[variant]) - before) / count * 1e6
                results[variant].append((rate, p50, p99, cpu))
            print(
                f"round {number + 1}: " + "  ".join(f"{v} {results[v][-1][0]:.0f}" for v in variants),
                file=sys.stderr,
            )
    finally:
        for proc in procs.values():
            stop(proc)
    return results


def report(results: dict[str, list[Sample]]) -> None:
    """Medians over the rounds, and the best round of each variant (the highest rate, the
    least CPU time: the samples least disturbed by other load on the machine)."""
    labels = {
        "flask": "plain Flask hello",
        "def": "framework hello, def",
        "async": "framework hello, async def",
        "full": "async def + hooks on every event + no-op middleware on every layer",
        "hooks": "async def + hooks on every event",
        "middleware": "async def + no-op middleware on every layer",
    }
    med = {v: [statistics.median(r[i] for r in runs) for i in range(4)] for v, runs in results.items()}
    best = {
        v: [
            max(r[0] for r in runs),
            min(r[1] for r in runs),
            min(r[2] for r in runs),
            min(r[3] for r in runs),
        ]
        for v, runs in results.items()
    }
    print(
        f"{'variant':<68} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10}"
        f" {'best req/s':>10} {'best CPU us':>11}"
    )
    for variant in results:
        rate, p50, p99, cpu = med[variant]
        print(
            f"{labels[variant]:<68} {rate:7.0f} {p50:7.2f} {p99:7.2f} {cpu:10.0f}"
            f" {best[variant][0]:10.0f} {best[variant][3]:11.0f}"
        )
    print(
        "\nratios (paired: median over rounds of the ratio within the round | median req/s |"
        " best req/s | CPU time per request, median | best):"
    )
    for name, (a, b, target) in {
        "async def / def": ("async", "def", 0.8),
        "full framework / plain Flask": ("full", "flask", 0.9),
    }.items():
        paired = statistics.median(x[0] / y[0] for x, y in zip(results[a], results[b], strict=True))
        print(
            f"  {name:<30} {paired:5.2f}x | {med[a][0] / med[b][0]:5.2f}x |"
            f" {best[a][0] / best[b][0]:5.2f}x |"
            f" {med[b][3] / med[a][3]:5.2f}x | {best[b][3] / best[a][3]:5.2f}x   (target >= {target})"
        )
    print(
        "the paired ratio is the headline: the two variants of a round ran back to back, so a"
        " change in the machine's load between rounds cancels out"
    )
    print(
        "a CPU-time ratio is the rate ratio one idle core would give: worker CPU per request"
        " of the reference over the variant's"
    )


def profile(variant: str, requests: int) -> None:
    """cProfile ``requests`` in-process requests of ``variant`` (the server left out)."""
    import cProfile
    import pstats

    from bench.apps.wsgi import in_process

    one = in_process(variant, PATH)
    for _ in range(500):
        one()
    begin = time.perf_counter()
    for _ in range(requests):
        one()
    per = (time.perf_counter() - begin) / requests * 1e6
    print(f"{variant}: {per:.1f} us per request in-process (no server)")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        one()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--profile", choices=VARIANTS + EXTRA_VARIANTS, help="profile one variant in-process")
    parser.add_argument(
        "--split", action="store_true", help="also measure the two halves of the full variant"
    )
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    if args.profile:
        profile(args.profile, args.requests)
        return
    variants = VARIANTS + EXTRA_VARIANTS if args.split else VARIANTS
    report(measure(args.rounds, args.seconds, args.connections, variants))


if __name__ == "__main__":
    main()
