"""Liveness and readiness: what a load balancer or an orchestrator probes.

- ``[health] live_path`` (default ``/healthz``): the process answers. Nothing else is
  checked, so a database outage never gets healthy processes restarted.
- ``[health] ready_path`` (default ``/readyz``): the instance can serve now. The database
  (each engine of the app) answers ``SELECT 1``, and Redis answers ``PING`` when
  ``[redis] url`` is set. Failing, it answers 503 in the error envelope (code 1009) whose
  ``data`` names each check's outcome; the reasons go to the log, not to the caller.

An empty path turns that endpoint off; a host application (``init_app``) gets them only
when it names the paths. Each check runs in a thread of its own and is waited for at most
``[health] timeout`` seconds (default 2) in all: a database that stops answering makes the
probe fail in bounded time instead of hanging it, and a check still running from an
earlier probe is waited on again rather than started twice, so stuck checks never pile up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .config import ImproperlyConfigured
from .error import SERVICE_UNAVAILABLE, Error
from .logging import get_logger
from .operations import operational_path, register_operational
from .outage import Outage
from .redis_client import get_redis
from .response import JSON

if TYPE_CHECKING:
    from .extension import Framework

__all__ = [
    "install_health",
    "Readiness",
    "DEFAULT_LIVE_PATH",
    "DEFAULT_READY_PATH",
    "DEFAULT_TIMEOUT",
    "LIVE_ENDPOINT",
    "READY_ENDPOINT",
]

LOGGER = get_logger("framework.health")

DEFAULT_LIVE_PATH = "/healthz"
DEFAULT_READY_PATH = "/readyz"
#: Seconds the readiness checks may take together.
DEFAULT_TIMEOUT = 2.0
LIVE_ENDPOINT = "framework_health_live"
READY_ENDPOINT = "framework_health_ready"

#: A probe's answer must never be cached by a proxy.
_NO_STORE = {"Cache-Control": "no-store"}


def install_health(fw: Framework, app: Flask) -> None:
    """Register the liveness and readiness endpoints that ``[health]`` turns on."""
    live = operational_path(fw, "health", "live_path", DEFAULT_LIVE_PATH)
    ready = operational_path(fw, "health", "ready_path", DEFAULT_READY_PATH)
    if live is not None:
        register_operational(fw, app, "[health] live_path", live, LIVE_ENDPOINT, _live)
    if ready is not None:
        get_redis(fw)  # a [redis] url that cannot work stops start-up, not a probe
        readiness = Readiness(fw, _timeout(fw))

        def ready_view() -> Any:
            return readiness.answer()

        register_operational(fw, app, "[health] ready_path", ready, READY_ENDPOINT, ready_view)


def _timeout(fw: Framework) -> float:
    raw = (fw.config.get("health") or {}).get("timeout")
    if raw is None or str(raw).strip() == "":
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ImproperlyConfigured(f"[health] timeout must be a number of seconds above 0, got {raw!r}")
    return value


def _live() -> Any:
    """The process answers."""
    return JSON({"status": "ok", "checks": {}}, headers=_NO_STORE)


class _Check:
    """One readiness check, run in a daemon thread, at most one run at a time; its
    failures and recovery logged once each (``framework.outage.Outage``), naming
    ``service``, what it asks."""

    def __init__(self, name: str, service: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._running: tuple[threading.Event, list[BaseException | None]] | None = None
        self.outage = Outage(
            LOGGER,
            f"readiness check {name!r}",
            "the readiness probe answers 503",
            "the check passes",
            service=service,
        )

    def start(self, run: Callable[[], None]) -> tuple[threading.Event, list[BaseException | None]]:
        """The run under way, or a new one of ``run``."""
        with self._lock:
            if self._running is None:
                running: tuple[threading.Event, list[BaseException | None]] = (threading.Event(), [])
                self._running = running
                threading.Thread(
                    target=self._work, args=(run, running), daemon=True, name=f"framework-check-{self.name}"
                ).start()
            return self._running

    def _work(self, run: Callable[[], None], running: tuple[threading.Event, list[Any]]) -> None:
        done, outcome = running
        try:
            run()
            outcome.append(None)
        except BaseException as exc:  # whatever it is, the probe reports it as a failure
            outcome.append(exc)
        finally:
            with self._lock:
                self._running = None
            done.set()


class Readiness:
    """The readiness checks of one project: the database's engines and Redis."""

    def __init__(self, fw: Framework, timeout: float) -> None:
        self.fw = fw
        self.timeout = timeout
        self._checks: dict[str, _Check] = {}

    def runs(self) -> dict[str, tuple[str, Callable[[], None]]]:
        """Each check's name, the service it asks and the function that raises when it
        fails (in the app's context)."""
        runs: dict[str, tuple[str, Callable[[], None]]] = {}
        sqlalchemy = current_app.extensions.get("sqlalchemy")
        if sqlalchemy is not None:
            for key, engine in sqlalchemy.engines.items():
                name = "database" if key is None else f"database:{key}"
                runs[name] = ("the database", _select_one(engine))
        client = get_redis(self.fw)
        if client is not None:
            runs["redis"] = ("Redis", client.ping)
        return runs

    def answer(self) -> Any:
        """200 with every check's outcome, or 503 (code 1009) naming the ones that failed."""
        runs = self.runs()
        started = {}
        for name, (service, run) in runs.items():
            check = self._checks.get(name)
            if check is None:
                check = self._checks.setdefault(name, _Check(name, service))
            started[name] = (check, check.start(run))
        deadline = time.monotonic() + self.timeout
        results: dict[str, str] = {}
        for name, (check, (done, outcome)) in started.items():
            if not done.wait(max(0.0, deadline - time.monotonic())):
                results[name] = "timeout"
                check.outage.failed(f"no answer within {self.timeout}s")
            elif outcome[0] is not None:
                results[name] = "failed"
                check.outage.failed(_reason(outcome[0]))
            else:
                results[name] = "ok"
                check.outage.answered()
        if all(result == "ok" for result in results.values()):
            return JSON({"status": "ok", "checks": results}, headers=_NO_STORE)
        return Error(SERVICE_UNAVAILABLE, data={"checks": results}, headers=dict(_NO_STORE))


def _select_one(engine: Any) -> Callable[[], None]:
    import sqlalchemy as sa

    statement = sa.text("SELECT 1")

    def run() -> None:
        with engine.connect() as connection:
            connection.execute(statement)

    return run


def _reason(exc: BaseException) -> str:
    """The first line of the error's message (the driver's own, when SQLAlchemy wraps it)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
