"""One request per call through gunicorn's own request handling, without sockets: for
callgrind counts of the served (gunicorn) path (bench/instructions.py ``served-*``).

A gunicorn worker parses the request bytes (``RequestParser``), builds the environ and its
``Response`` (``gunicorn.http.wsgi.create``), calls the application and writes each chunk
of the answer (status line and headers first); the sync worker's ``handle_request`` does
exactly this per request. Here the bytes come from a list and the answer goes to a list,
so the count holds gunicorn's per-request Python work (what makes the served figures
differ from the in-process ones) and none of the kernel's. The app is set up as the
project's gunicorn.conf.py sets up a worker (``framework.serving.on_worker_init``).

The data handler comparison (``bench/data_handler.py``'s framework and APIFlask apps,
written to a temporary folder by ``dh_apps``) runs under the same driver.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


class _Socket:
    """Where gunicorn's ``Response`` writes the answer."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))


def _worker_init(app: Callable[..., Any]) -> None:
    """What the project's gunicorn.conf.py does in a fresh worker (``post_worker_init``):
    for a framework app, fire ``startup`` and ``gc.freeze()`` the heap; other apps are left
    alone. Without it the cyclic collector's passes over the framework's larger heap (its
    imports) would count against it, which a served worker does not pay."""
    import logging

    from framework.serving import on_worker_init

    class Worker:
        wsgi = app
        log = logging.getLogger("bench.served")

    on_worker_init(Worker())


def served(
    app: Callable[..., Any],
    path: str = "/hello-world",
    method: str = "GET",
    body: bytes = b"",
    expect: bytes = b"Hello World!",
) -> Callable[[], None]:
    """A function that serves one request to the WSGI ``app`` as gunicorn's sync worker
    does and checks that the answer holds ``expect``."""
    from gunicorn.config import Config
    from gunicorn.http import wsgi
    from gunicorn.http.parser import RequestParser

    _worker_init(app)
    cfg = Config()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1:8000", "User-Agent: bench", "Accept: */*"]
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    client, server = ("127.0.0.1", 40000), ("127.0.0.1", 8000)

    def one() -> None:
        sock = _Socket()
        req = next(RequestParser(cfg, iter([raw]), client))
        resp, environ = wsgi.create(req, sock, client, server, cfg)
        resp.force_close()
        respiter = app(environ, resp.start_response)
        try:
            if isinstance(respiter, environ["wsgi.file_wrapper"]):
                resp.write_file(respiter)
            else:
                for item in respiter:
                    resp.write(item)
            resp.close()
        finally:
            if hasattr(respiter, "close"):
                respiter.close()
        if expect not in b"".join(sock.sent):
            raise RuntimeError(f"{method} {path} answered {b''.join(sock.sent)[:300]!r}")

    return one


#: The data handler comparison's request and what its answer holds.
DH_PATH = "/users"
DH_ANSWER = b'"username":"ann_smith"'


def dh_body() -> bytes:
    import json

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from bench.data_handler import BODY

    return json.dumps(BODY).encode()


def dh_app(which: str) -> Any:
    """``bench/data_handler.py``'s ``fw`` (framework data handler), ``api`` (APIFlask) or
    ``flask`` (no validation) app, from a temporary project folder."""
    from bench.data_handler import write_projects

    base = Path(tempfile.mkdtemp(prefix="bench-dh-"))
    write_projects(base)
    sys.path.insert(0, str(base))
    os.chdir(base)
    module = {"fw": "fw_wsgi", "api": "apiflask_wsgi", "flask": "flask_wsgi"}[which]
    return __import__(module).app
