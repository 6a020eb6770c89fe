"""A small HTTP/1.1 load generator: N connections sending one request (or a mix) to a server.

Each connection sends a request, reads the whole answer, and sends the next one on the same
connection (keep-alive) unless the server or ``keep_alive=False`` closes it, in which case
it reconnects. Nothing is retried: a refused connection, a reset, a timeout or a status of
400 or more counts as a failure.

As a script (prints one JSON object)::

    python bench/_load.py http://127.0.0.1:8000/hello-world -c 16 -d 10
    python bench/_load.py http://127.0.0.1:8000/hello-world -c 16 -n 50 --close

From Python: ``run_load(url, connections=16, duration=10.0)`` returns a ``LoadResult``;
``method``, ``body`` and ``headers`` shape the request, and ``mix`` (a list of
``(method, path, body)``) sends several requests round-robin instead.
Uses uvloop when it is installed. Run it in its own process when measuring a server on the
same machine, so the two do not share one interpreter lock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoadResult", "run_load"]


@dataclass
class LoadResult:
    """What one run measured; latencies in milliseconds."""

    requests: int = 0
    failures: int = 0
    elapsed: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)


def _request_bytes(
    method: str,
    target: str,
    host: str,
    port: int,
    body: bytes | None,
    headers: dict[str, str] | None,
    keep_alive: bool,
) -> bytes:
    """One HTTP/1.1 request as it goes on the wire."""
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {host}:{port}",
        "User-Agent: framework-bench",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class _Run:
    def __init__(
        self,
        host: str,
        port: int,
        requests: list[bytes],
        keep_alive: bool,
        timeout: float,
        deadline: float | None,
        budget: int | None,
    ) -> None:
        self.requests = requests
        self.host, self.port = host, port
        self.keep_alive = keep_alive
        self.timeout = timeout
        self.deadline = deadline
        self.budget = budget
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()

    def take(self) -> bool:
        """Whether this connection should send one more request."""
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return False
        if self.budget is not None:
            if self.budget <= 0:
                return False
            self.budget -= 1
        return True

    async def connection(self, offset: int) -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        sent = offset
        try:
            while self.take():
                request = self.requests[sent % len(self.requests)]
                sent += 1
                started = time.perf_counter()
                try:
                    if writer is None:
                        reader, writer = await asyncio.wait_for(
                            asyncio.open_connection(self.host, self.port), self.timeout
                        )
                    assert reader is not None and writer is not None
                    writer.write(request)
                    status, close = await asyncio.wait_for(_read_response(reader), self.timeout)
                except (
                    TimeoutError,
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    ValueError,
                ) as exc:
                    self.errors[type(exc).__name__] += 1
                    _close(writer)
                    writer = None
                    continue
                self.latencies.append(time.perf_counter() - started)
                self.statuses[status] += 1
                if close or not self.keep_alive:
                    _close(writer)
                    writer = None
        finally:
            _close(writer)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; its status and whether the server will close the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value
        elif name == "connection":
            close = value == "close"
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:  # body runs to the end of the connection
        await reader.read()
        close = True
    return status, close


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


async def _load(
    url: str,
    connections: int,
    duration: float | None,
    requests: int | None,
    keep_alive: bool,
    timeout: float,
    wire: list[bytes] | None,
) -> LoadResult:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    started = time.perf_counter()
    deadline = started + duration if duration is not None else None
    run = _Run(host, port, wire or [], keep_alive, timeout, deadline, requests)
    await asyncio.gather(*(run.connection(n) for n in range(connections)))
    elapsed = time.perf_counter() - started
    latencies = sorted(run.latencies)
    ok = sum(n for status, n in run.statuses.items() if status < 400)
    result = LoadResult(
        requests=len(latencies) + sum(run.errors.values()),
        failures=len(latencies) - ok + sum(run.errors.values()),
        elapsed=round(elapsed, 3),
        rps=round(ok / elapsed, 1) if elapsed else 0.0,
        statuses=dict(run.statuses),
        errors=dict(run.errors),
    )
    if latencies:
        result.p50_ms = round(latencies[len(latencies) // 2] * 1000, 2)
        result.p99_ms = round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2)
    return result


def run_load(
    url: str,
    *,
    connections: int = 16,
    duration: float | None = None,
    requests: int | None = None,
    keep_alive: bool = True,
    timeout: float = 10.0,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    mix: list[tuple[str, str, bytes | None]] | None = None,
) -> LoadResult:
    """Drive ``url`` with ``connections`` connections for ``duration`` seconds, or until
    ``requests`` requests in all have been sent (one of the two is required).

    Every request is ``method`` with ``body`` and ``headers``; with ``mix``, connection n
    sends the mix's ``(method, path, body)`` entries round-robin from entry n instead
    (``headers`` go with each, the path replaces the URL's).
    """
    if duration is None and requests is None:
        raise ValueError("give a duration or a number of requests")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    entries = mix or [(method, target, body)]
    wire = [_request_bytes(m, p, host, port, b, headers, keep_alive) for m, p, b in entries]
    coro = _load(url, connections, duration, requests, keep_alive, timeout, wire)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("-d", "--duration", type=float)
    parser.add_argument("-n", "--requests", type=int, help="requests in all")
    parser.add_argument("--close", action="store_true", help="a new connection per request")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("-m", "--method", default="GET")
    parser.add_argument("-b", "--body", help="request body (sent as is)")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    args = parser.parse_args(argv)
    if args.duration is None and args.requests is None:
        args.duration = 10.0
    headers = {n.strip(): v.strip() for n, _, v in (h.partition(":") for h in args.header)}
    result = run_load(
        args.url,
        connections=args.connections,
        duration=args.duration,
        requests=args.requests,
        keep_alive=not args.close,
        timeout=args.timeout,
        method=args.method,
        body=args.body.encode() if args.body else None,
        headers=headers or None,
    )
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
