"""Prometheus metrics at ``[metrics] path`` (off unless set).

Off by default because the numbers tell whoever can read them which routes exist and how
busy the instance is; ``[metrics] allowed_ips`` (addresses or networks, one a line) limits
who may read them (403 for anyone else). When the path is not set nothing here runs: no
layer is added, ``prometheus_client`` is not even imported.

What is measured (the Prometheus text format, made by ``prometheus_client``):

- ``framework_http_requests_total{method, route, status}`` and
  ``framework_http_request_duration_seconds{method, route}`` (a histogram of the time
  until the answer's headers). ``route`` is the route's path as written
  (``/users/<id:int>``; a host's own routes: their Flask rule), never the path a client
  sent, and ``<unmatched>`` for every request no rule matched (404, 405); ``method`` is
  ``other`` for a method outside HTTP's usual ones: no client can add label values.
- ``framework_db_pool_size``, ``framework_db_pool_checked_out``,
  ``framework_db_pool_overflow``, by ``database`` (the bind key; ``default``): the
  SQLAlchemy connection pools of the app's engines.
- ``framework_asgi_queue_depth`` and ``framework_asgi_busy_threads``: requests waiting for
  a thread of the ASGI adapter (``framework.asgi``) and those running on one.

Several worker processes (gunicorn) each count their own requests; a scrape reaches one of
them. With ``PROMETHEUS_MULTIPROC_DIR`` set before the process starts, each process
writes its values to files in that folder and a scrape adds them up (prometheus_client's
multiprocess mode; the gauges count living processes only). The ``gunicorn.conf.py`` the
framework ships prepares the folder (``prepare_metrics_dir``) and forgets each worker that
exits (``forget_worker``).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask import request as _request

from . import _compat
from .config import ImproperlyConfigured, as_list
from .error import FORBIDDEN, Error
from .operations import operational_path, register_operational

if TYPE_CHECKING:
    from .extension import Framework

__all__ = [
    "install_metrics",
    "Metrics",
    "MetricsMiddleware",
    "asgi_observer",
    "prepare_metrics_dir",
    "forget_worker",
    "remove_metrics_dir",
    "METRICS_ENDPOINT",
    "UNMATCHED",
    "MULTIPROC_VAR",
]

METRICS_ENDPOINT = "framework_metrics"
#: The ``route`` label of every request that no URL rule matched.
UNMATCHED = "<unmatched>"
#: prometheus_client's multiprocess folder.
MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"
_CONTEXT_KEY = "framework.metrics"
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"))


def install_metrics(fw: Framework, app: Flask) -> None:
    """Serve the metrics at ``[metrics] path`` and measure every request, when it is set."""
    path = operational_path(fw, "metrics", "path", None)
    if path is None:
        return
    networks = _networks(fw)
    metrics = Metrics(app.view_functions)
    fw.context[_CONTEXT_KEY] = metrics
    with app.app_context():
        sqlalchemy = app.extensions.get("sqlalchemy")
        for key, engine in sqlalchemy.engines.items() if sqlalchemy is not None else ():
            metrics.watch_engine("default" if key is None else str(key), engine)

    def metrics_view() -> Any:
        if networks is not None and not _allowed(_request.remote_addr, networks):
            return Error(FORBIDDEN)
        body, content_type = metrics.exposition()
        return current_app.response_class(
            body, content_type=content_type, headers={"Cache-Control": "no-store"}
        )

    register_operational(fw, app, "[metrics] path", path, METRICS_ENDPOINT, metrics_view)
    app.wsgi_app = MetricsMiddleware(app.wsgi_app, metrics)  # type: ignore[method-assign]


def _networks(fw: Framework) -> list[Any] | None:
    raw = as_list((fw.config.get("metrics") or {}).get("allowed_ips"))
    if not raw:
        return None
    networks = []
    for item in raw:
        for part in item.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"[metrics] allowed_ips: {part!r} is not an IP address or network"
                ) from None
    return networks


def _allowed(address: str | None, networks: Iterable[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return any(ip in network for network in networks)


class Metrics:
    """One project's metric objects (``prometheus_client``), made at start-up.

    ``view_functions`` (the app's) gives a framework route's label: its path as the
    project wrote it (``/items/<id:int>``) rather than the Werkzeug rule made of it.
    """

    def __init__(self, view_functions: Mapping[str, Any] | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        #: True when the values live in ``PROMETHEUS_MULTIPROC_DIR`` (read once, here).
        self.multiprocess = bool(os.environ.get(MULTIPROC_VAR))
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "framework_http_requests",
            "HTTP requests answered, by method, URL rule and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "framework_http_request_duration_seconds",
            "Seconds until an answer's headers, by method and URL rule.",
            ("method", "route"),
            registry=registry,
        )

        def gauge(name: str, text: str, labels: tuple[str, ...] = ()) -> Any:
            return Gauge(name, text, labels, registry=registry, multiprocess_mode="livesum")

        self._gauge = gauge
        self.pool_size = gauge("framework_db_pool_size", "Connections the pool keeps.", ("database",))
        self.pool_checked_out = gauge("framework_db_pool_checked_out", "Connections in use.", ("database",))
        self.pool_overflow = gauge(
            "framework_db_pool_overflow", "Connections open beyond the pool's size.", ("database",)
        )
        self._asgi: tuple[Any, Any] | None = None
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}
        self._engines: list[tuple[str, Any]] = []
        self._view_functions = view_functions or {}
        self._labels: dict[str, str] = {}
        #: Set by the pools' events; the pool gauges are refreshed after the request.
        self.pools_changed = False

    # ------------------------------------------------------------- requests
    def observe(self, method: str, rule: Any, status: str, seconds: float) -> None:
        """Count one answered request; ``rule`` is the URL rule it matched, or None."""
        if method not in _METHODS:
            method = "other"
        route = UNMATCHED if rule is None else self._labels.get(rule.rule) or self.label(rule)
        key = (method, route, status)
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted.setdefault(key, self.requests.labels(method, route, status))
        counter.inc()
        timer = self._timed.get(key[:2])
        if timer is None:
            timer = self._timed.setdefault(key[:2], self.duration.labels(method, route))
        timer.observe(seconds)
        if self.pools_changed:
            self.refresh_pools()

    def label(self, rule: Any) -> str:
        """The ``route`` label of a URL rule (found once, then remembered)."""
        route = getattr(self._view_functions.get(rule.endpoint), "route", None)
        label = str(getattr(route, "path", None) or rule.rule)
        self._labels[rule.rule] = label
        return label

    # ---------------------------------------------------------------- pools
    def watch_engine(self, name: str, engine: Any) -> None:
        """Follow ``engine``'s pool: a checkout or checkin marks the gauges stale."""
        import sqlalchemy as sa

        def changed(*_args: Any) -> None:
            self.pools_changed = True

        sa.event.listen(engine, "checkout", changed)
        sa.event.listen(engine, "checkin", changed)
        self._engines.append((name, engine))

    def refresh_pools(self) -> None:
        """Read each pool's state into the gauges (after a request; before a scrape)."""
        self.pools_changed = False
        for name, engine in self._engines:
            pool = engine.pool
            self.pool_size.labels(name).set(_pool_number(pool, "size"))
            self.pool_checked_out.labels(name).set(_pool_number(pool, "checkedout"))
            self.pool_overflow.labels(name).set(max(0, _pool_number(pool, "overflow")))

    # ----------------------------------------------------------------- ASGI
    def asgi_gauges(self) -> tuple[Any, Any]:
        """The ASGI adapter's gauges (waiting, busy), made with the first adapter."""
        if self._asgi is None:
            self._asgi = (
                self._gauge("framework_asgi_queue_depth", "Requests waiting for an ASGI adapter thread."),
                self._gauge("framework_asgi_busy_threads", "ASGI adapter threads running a request."),
            )
        return self._asgi

    # -------------------------------------------------------------- scrape
    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus' text format, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        self.refresh_pools()
        registry = self.registry
        if self.multiprocess:
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST


def _pool_number(pool: Any, name: str) -> int:
    """A number a SQLAlchemy pool reports (0 for a pool kind without it)."""
    method = getattr(pool, name, None)
    if not callable(method):
        return 0
    try:
        return int(method())
    except (TypeError, ValueError, NotImplementedError):
        return 0


class MetricsMiddleware:
    """WSGI middleware counting and timing each request (added only with ``[metrics] path``)."""

    def __init__(self, app: Callable[..., Any], metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        began = perf_counter()
        status = "500"  # an error that escapes every layer
        rule = None

        def start_measured(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status, rule
            status = line[:3]
            try:  # Flask answers inside the request's context
                rule = _compat.current_request().url_rule
            except (LookupError, RuntimeError):
                pass  # an answer made outside Flask (framework.header_check's 500)
            return start_response(line, headers, exc_info)

        try:
            return self.app(environ, start_measured)
        finally:
            self.metrics.observe(environ.get("REQUEST_METHOD", ""), rule, status, perf_counter() - began)


class _AsgiObserver:
    """Keeps the ASGI adapter's gauges: the loop marks a request queued, the thread that
    takes it moves it from waiting to busy, then off."""

    __slots__ = ("waiting", "busy")

    def __init__(self, metrics: Metrics) -> None:
        self.waiting, self.busy = metrics.asgi_gauges()

    def queued(self) -> None:
        self.waiting.inc()

    def refused(self) -> None:
        self.waiting.dec()

    def wrap(self, job: Callable[[], None]) -> Callable[[], None]:
        waiting, busy = self.waiting, self.busy

        def observed() -> None:
            waiting.dec()
            busy.inc()
            try:
                job()
            finally:
                busy.dec()

        return observed


def asgi_observer(app: Any) -> _AsgiObserver | None:
    """The gauges' keeper for an ASGI adapter of ``app``; None when ``app`` is not a
    framework application or has no ``[metrics] path``."""
    framework = (getattr(app, "extensions", None) or {}).get("framework")
    metrics = getattr(framework, "context", {}).get(_CONTEXT_KEY)
    return None if metrics is None else _AsgiObserver(metrics)


# ------------------------------------------------------ gunicorn's master process
_created: list[str] = []


def prepare_metrics_dir(log: Any = None) -> str | None:
    """gunicorn's ``on_starting``: the multiprocess folder, ready for this run.

    ``$PROMETHEUS_MULTIPROC_DIR`` when set (emptied of a previous run's files, which would
    add old counts), else a new temporary folder, set in the environment the workers
    inherit. Without effect (None) when ``prometheus_client`` is already imported in this
    process (``--preload``): it read the variable then; set it before starting gunicorn.
    """
    folder = os.environ.get(MULTIPROC_VAR)
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
        return folder
    if "prometheus_client" in sys.modules:
        if log is not None:
            log.warning(
                "prometheus_client was imported before gunicorn started its workers: set %s "
                "before starting gunicorn for the workers' metrics to add up",
                MULTIPROC_VAR,
            )
        return None
    folder = tempfile.mkdtemp(prefix="framework-metrics-")
    _created.append(folder)
    os.environ[MULTIPROC_VAR] = folder
    return folder


def forget_worker(pid: int) -> None:
    """gunicorn's ``child_exit``: drop an exited worker's gauges (its counts stay)."""
    if os.environ.get(MULTIPROC_VAR):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def remove_metrics_dir() -> None:
    """gunicorn's ``on_exit``: remove the folder ``prepare_metrics_dir`` created."""
    while _created:
        shutil.rmtree(_created.pop(), ignore_errors=True)
