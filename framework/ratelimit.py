"""Rate limits in Flask-Limiter's syntax, counted with ``limits`` (the library under
Flask-Limiter): ``[ratelimit]``, ``App(rate_limit=...)`` and ``Route(rate_limit=...)``.

Every route of the project's apps is limited per client address (``request.remote_addr``,
which ``[networking] trusted_proxies`` rewrites; ``X-Forwarded-For`` is never read here),
and each route keeps its own count. A route's limit is the most specific one given: its
own ``rate_limit``, else its app's, else ``[ratelimit] default``; they do not add up.
Never limited: views carrying ``framework_operational = True`` (health, metrics),
handlers marked with ``exempt``, ``OPTIONS`` requests (CORS preflights) unless the route
declares ``OPTIONS`` itself, and views that are not routes of the project's apps (the
OpenAPI document and its UI, static files, a host application's own routes).

The counters live in Redis at ``[redis] url`` (shared by every process and instance), else
in the memory of each process. When Redis cannot be reached, ``[ratelimit] on_redis_down =
local`` (the default) counts in each process's memory until Redis answers again
(trying Redis again after 1, 2, 4 ... 32 seconds); ``refuse`` answers 503. Either way one
warning is logged when the outage is noticed and one line when it ends.

Why not Flask-Limiter's request hooks: they work out each request's limits anew (decorators,
blueprints, exemptions, meta limits, the limit string parsed again), which made a limited
hello route cost 2.8 times the instructions of an unlimited one. Here each endpoint's limits
and counter keys (Flask-Limiter's own key layout, so counters in Redis stay compatible) are
made on its first request; a request then costs a dict look-up and one count.

A refused request gets 429 in the error envelope (code ``RATE_LIMITED``, 1011) with a
``Retry-After`` header in seconds. ``hit`` counts anything else (a login per username).
Each project (``Framework``) has its own storage and counters: nothing process-wide.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from . import _compat
from .config import ImproperlyConfigured, as_bool, as_list
from .error import RATE_LIMITED, SERVICE_UNAVAILABLE, Error
from .logging import get_logger
from .operations import OPERATIONAL_ATTRIBUTE
from .outage import Outage
from .redis_client import get_redis

if TYPE_CHECKING:
    from .extension import Framework

__all__ = [
    "RateLimits",
    "init_rate_limits",
    "rate_limits",
    "parse_limits",
    "hit",
    "exempt",
    "OPERATIONAL",
    "ON_REDIS_DOWN",
]

LOGGER = get_logger("framework.ratelimit")

#: The function attribute of views that are never limited (``framework.operations``).
OPERATIONAL = OPERATIONAL_ATTRIBUTE
#: The choices of ``[ratelimit] on_redis_down``.
ON_REDIS_DOWN = ("local", "refuse")
#: Where a project keeps its ``RateLimits`` (``Framework.context``).
CONTEXT_KEY = "framework.ratelimit"
_EXEMPT = "framework_rate_limit_exempt"

F = TypeVar("F", bound=Callable[..., Any])


def exempt(handler: F) -> F:
    """Decorator: the route(s) of ``handler`` are never rate limited."""
    setattr(handler, _EXEMPT, True)
    return handler


def normalize(value: Any) -> str:
    """A limit value as one Flask-Limiter string: the items of a list or the lines of a
    text joined with ``;``; empty when there is none."""
    parts = [line.strip() for item in as_list(value) for line in item.splitlines()]
    return "; ".join(part for part in parts if part)


def parse_limits(value: Any, where: str) -> list[RateLimitItem]:
    """The limits of a setting (``"10/minute"``, several separated by ``;`` or on several
    lines); ``ImproperlyConfigured`` naming ``where`` when it is not Flask-Limiter's syntax."""
    text = normalize(value)
    if not text:
        return []
    try:
        return parse_many(text)
    except ValueError:
        raise ImproperlyConfigured(
            f"{where}: {text!r} is not a rate limit (Flask-Limiter's syntax, e.g. '100/minute'; "
            f"several separated by ';' or on several lines)"
        ) from None


def rate_limits(fw: Framework) -> RateLimits | None:
    """The project's ``RateLimits`` (None before ``init_app``)."""
    return cast("RateLimits | None", fw.context.get(CONTEXT_KEY))


def init_rate_limits(fw: Framework, app: Flask) -> RateLimits:
    """Check the project's limits and install its ``Limiter`` on ``app`` (``init_app``,
    once the apps are installed)."""
    limits = RateLimits(fw, app)
    fw.context[CONTEXT_KEY] = limits
    return limits


def hit(limits: str | Sequence[RateLimitItem], *identifiers: str) -> None:
    """Count one request of the current project against ``limits`` for ``identifiers``
    (``hit("10/minute", "login", username)``); raise the 429 ``Error`` when one is spent.
    Does nothing outside a project or with ``[ratelimit] enabled = false``."""
    fw = current_app.extensions.get("framework")
    state = rate_limits(fw) if fw is not None else None
    if state is None or not state.enabled:
        return
    items = _parsed(limits) if isinstance(limits, str) else limits
    state.hit(items, identifiers)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> tuple[RateLimitItem, ...]:
    """The limits of a ``hit`` string, parsed once (a handler passes the same few strings
    on every call)."""
    return tuple(parse_limits(text, "rate limit"))


class RateLimits:
    """One project's rate limiting: each route's limits, the storage and its fallback."""

    def __init__(self, fw: Framework, app: Flask) -> None:
        settings = fw.config.get("ratelimit") or {}
        self.app = app
        try:
            enabled = as_bool(settings.get("enabled", True))
        except ValueError:
            raise ImproperlyConfigured(
                f"[ratelimit] enabled must be true or false, got {settings.get('enabled')!r}"
            ) from None
        # a host's ``RATELIMIT_ENABLED = False`` in ``app.config`` (Flask-Limiter's switch)
        # leaves it off too
        self.enabled = enabled and bool(app.config.get("RATELIMIT_ENABLED", True))
        #: ``[ratelimit] default``, one string ('' for none).
        self.default = normalize(settings.get("default"))
        self._default = sorted(parse_limits(self.default, "[ratelimit] default"))
        mode = str(settings.get("on_redis_down") or "local").strip().lower()
        if mode not in ON_REDIS_DOWN:
            raise ImproperlyConfigured(
                f"[ratelimit] on_redis_down must be one of {', '.join(ON_REDIS_DOWN)}, got {mode!r}"
            )
        self.refuse_when_down = mode == "refuse"
        self.key_prefix = str(settings.get("key_prefix") or "").strip()
        #: The ``App(rate_limit=...)`` of each app that gives one, by blueprint name.
        self.app_limits: dict[str, str] = {}
        self._app_items: dict[str, list[RateLimitItem]] = {}
        route_limits = False
        for name, installed in fw.apps_by_blueprint.items():
            where = f"app {installed.package!r}"
            if installed.app.rate_limit is not None:
                items = parse_limits(installed.app.rate_limit, f"{where}: rate_limit")
                self.app_limits[name] = normalize(installed.app.rate_limit)
                self._app_items[name] = sorted(items)
            for route in installed.app.routes:
                methods = ",".join(route.methods)
                where_route = f"{where}: route {methods} {route.path}: rate_limit"
                if parse_limits(route.rate_limit, where_route):  # checks each one
                    route_limits = True
        # endpoint -> what counts there, made on the endpoint's first request
        self._endpoints: dict[str | None, _Endpoint] = {}
        self._ids = [self.key_prefix] if self.key_prefix else []
        #: Redis's outages: with ``local``, requests try Redis again after 1, 2, 4 ... 32 s.
        self.outage = Outage(
            LOGGER,
            "rate limits",
            "limited requests are refused with 503"
            if self.refuse_when_down
            else "each process counts requests in its own memory",
            "counting there",
            service="Redis",
            retry_first=_RETRY_FIRST,
            retry_last=_RETRY_LAST,
        )
        client = get_redis(fw) if self.enabled else None
        self._memory: RateLimiter = FixedWindowRateLimiter(MemoryStorage())
        self._primary = self._memory
        if client is not None:
            # the project's one client pool (framework.redis_client), with its bounded
            # waits: the storage Flask-Limiter makes of ``redis://`` with these options
            options = {"connection_pool": client.connection_pool, "wrap_exceptions": True}
            self._primary = FixedWindowRateLimiter(storage_from_string("redis://", **options))
        # the storages the before-request step counts in (``_count_route``)
        self._storage, self._memory_storage = self._primary.storage, self._memory.storage
        #: True when some route has a limit: the before-request step counts then (a project
        #: without limits goes without it; ``hit`` counts either way).
        limited = bool(self._default) or route_limits or any(self._app_items.values())
        self.active = self.enabled and limited
        if self.active:
            app.before_request(self._before_request)

    # ------------------------------------------------------------- which limit
    def limit_of(self, endpoint: str | None) -> str:
        """The limit of ``endpoint`` ('' when it is not limited)."""
        return "; ".join(str(counter.item) for counter in self._endpoint(endpoint).counters)

    def _endpoint(self, endpoint: str | None) -> _Endpoint:
        found = self._endpoints.get(endpoint)
        if found is None:
            found = self._endpoints[endpoint] = self._resolve(endpoint)
        return found

    def _resolve(self, endpoint: str | None) -> _Endpoint:
        """What counts at ``endpoint``: the most specific limit, each item with its key."""
        view = self.app.view_functions.get(endpoint or "")
        route = getattr(view, "route", None)
        if view is None or route is None:
            return _UNLIMITED  # not a route of the project's apps
        if any(getattr(f, OPERATIONAL, False) or getattr(f, _EXEMPT, False) for f in (view, route.handler)):
            return _UNLIMITED
        if route.rate_limit is not None:
            items = sorted(parse_limits(route.rate_limit, "rate limit"))
        else:
            blueprint = (endpoint or "").rpartition(".")[0]
            items = self._app_items.get(blueprint, self._default)
        return _Endpoint(
            tuple(_Counter.of(item, [*self._ids, _ADDRESS, endpoint or ""]) for item in items),
            "OPTIONS" in route.methods,
        )

    # -------------------------------------------------------------- counting
    def _before_request(self) -> Any:
        """Count the request against its route's limits: the 429 answer when one is spent
        (the 503 while Redis is away with ``refuse``)."""
        request = _compat.current_request()
        found = self._endpoints.get(request.endpoint) or self._endpoint(request.endpoint)
        if not found.counters or (request.method == "OPTIONS" and not found.counts_options):
            return None
        address = request.remote_addr or "127.0.0.1"
        outage = self.outage
        if outage.down and not self.refuse_when_down and outage.waiting():
            # with ``local`` while Redis is away: this process's memory, and Redis again
            # now and then (after 1, 2, 4 ... 32 s)
            return _count_route(self._memory_storage, found.counters, address)
        try:
            refused = _count_route(self._storage, found.counters, address)
        except StorageError as exc:
            outage.failed(exc)
            if self.refuse_when_down:
                return Error(SERVICE_UNAVAILABLE)
            return _count_route(self._memory_storage, found.counters, address)
        if outage.down:
            outage.answered()
        return refused

    def _count(self, strategy: RateLimiter, items: Sequence[RateLimitItem], ids: list[str]) -> None:
        for item in items:
            if not strategy.hit(item, *ids):
                try:
                    reset = strategy.get_window_stats(item, *ids).reset_time
                except StorageError:
                    reset = time.time() + item.get_expiry()
                raise _refusal(reset)

    def hit(self, items: Iterable[RateLimitItem], identifiers: Iterable[str]) -> None:
        """Count one request against ``items`` for ``identifiers`` (see ``hit``); this
        asks Redis each time, also while it is known to be away."""
        ids = [*self._ids, *identifiers]
        ordered = sorted(items)
        try:
            self._count(self._primary, ordered, ids)
        except StorageError as exc:
            self.outage.failed(exc)
            if self.refuse_when_down:
                raise Error(SERVICE_UNAVAILABLE) from None
            self._count(self._memory, ordered, ids)
        else:
            self.outage.answered()


def _refusal(reset_time: float) -> Error:
    """The 429 envelope, ``Retry-After`` the whole seconds until ``reset_time`` (at least 1)."""
    return Error(RATE_LIMITED, headers={"Retry-After": str(max(1, math.ceil(reset_time - time.time())))})


#: Stands for the client's address while an endpoint's keys are made.
_ADDRESS = "\x00"
#: With ``local``, a process counting in memory tries Redis again after this many seconds,
#: then twice as long each time it fails, up to the last.
_RETRY_FIRST = 1.0
_RETRY_LAST = 32.0


class _Counter(NamedTuple):
    """One limit of one endpoint, its key made once. The key is the one the ``limits``
    library (and Flask-Limiter, for a route's limit) makes for ``[prefix,] address,
    endpoint``: only the client address changes from request to request."""

    item: RateLimitItem
    head: str  # the key up to the address
    tail: str  # and after it
    expiry: int
    amount: int

    @classmethod
    def of(cls, item: RateLimitItem, identifiers: list[str]) -> _Counter:
        head, _, tail = item.key_for(*identifiers).partition(_ADDRESS)
        return cls(item, head, tail, item.get_expiry(), item.amount)


class _Endpoint(NamedTuple):
    """What counts at one endpoint: its limits, shortest window first (none: not limited),
    and whether ``OPTIONS`` requests count (only on a route that declares them)."""

    counters: tuple[_Counter, ...]
    counts_options: bool


_UNLIMITED = _Endpoint((), False)


def _count_route(storage: Storage, counters: tuple[_Counter, ...], address: str) -> Error | None:
    """Count one request of ``address`` on each counter until one is spent: its 429. The
    fixed window's hit (``FixedWindowRateLimiter.hit``) with the key already made."""
    for counter in counters:
        key = counter.head + address + counter.tail
        if storage.incr(key, counter.expiry) > counter.amount:
            try:
                reset = storage.get_expiry(key)
            except StorageError:
                reset = time.time() + counter.expiry
            return _refusal(reset)
    return None
