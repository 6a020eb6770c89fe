"""Rate limits, counted by Flask-Limiter: ``[ratelimit]``, ``App(rate_limit=...)`` and
``Route(rate_limit=...)``.

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
(Flask-Limiter's in-memory fallback); ``refuse`` answers 503. Either way one warning is
logged when the outage is noticed and one line when it ends.

A refused request gets 429 in the error envelope (code ``RATE_LIMITED``, 1011) with a
``Retry-After`` header in seconds. ``hit`` counts anything else (a login per username).
Each project (``Framework``) has its own ``Limiter`` and counters: nothing process-wide.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Flask, current_app
from flask import request as flask_request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from .config import ImproperlyConfigured, as_bool, as_list
from .error import RATE_LIMITED, SERVICE_UNAVAILABLE, Error
from .logging import get_logger
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

#: The function attribute of views that are never limited (health checks, metrics).
OPERATIONAL = "framework_operational"
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
    items = parse_limits(limits, "rate limit") if isinstance(limits, str) else limits
    state.hit(items, identifiers)


def _retry_after(reset_time: float) -> str:
    """``Retry-After``: whole seconds until the window resets, at least 1."""
    return str(max(1, math.ceil(reset_time - time.time())))


class RateLimits:
    """One project's rate limiting: its Flask-Limiter ``Limiter`` and each route's limit."""

    def __init__(self, fw: Framework, app: Flask) -> None:
        settings = fw.config.get("ratelimit") or {}
        self.app = app
        try:
            self.enabled = as_bool(settings.get("enabled", True))
        except ValueError:
            raise ImproperlyConfigured(
                f"[ratelimit] enabled must be true or false, got {settings.get('enabled')!r}"
            ) from None
        #: ``[ratelimit] default``, one string ('' for none).
        self.default = normalize(settings.get("default"))
        parse_limits(self.default, "[ratelimit] default")
        mode = str(settings.get("on_redis_down") or "local").strip().lower()
        if mode not in ON_REDIS_DOWN:
            raise ImproperlyConfigured(
                f"[ratelimit] on_redis_down must be one of {', '.join(ON_REDIS_DOWN)}, got {mode!r}"
            )
        self.refuse_when_down = mode == "refuse"
        self.key_prefix = str(settings.get("key_prefix") or "").strip()
        #: The ``App(rate_limit=...)`` of each app that gives one, by blueprint name.
        self.app_limits: dict[str, str] = {}
        route_limits = False
        for name, installed in fw.apps_by_blueprint.items():
            where = f"app {installed.package!r}"
            if installed.app.rate_limit is not None:
                parse_limits(installed.app.rate_limit, f"{where}: rate_limit")
                self.app_limits[name] = normalize(installed.app.rate_limit)
            for route in installed.app.routes:
                methods = ",".join(route.methods)
                where_route = f"{where}: route {methods} {route.path}: rate_limit"
                if parse_limits(route.rate_limit, where_route):  # checks each one
                    route_limits = True
        # endpoint -> (its limit, '' for none; whether it counts OPTIONS), filled on first use
        self._endpoints: dict[str | None, tuple[str, bool]] = {}
        self._down = False  # Redis is known to be unreachable (logged once)
        self._limiter_dead = False  # Flask-Limiter counts in memory (its fallback)
        self._memory: RateLimiter = FixedWindowRateLimiter(MemoryStorage())
        client = get_redis(fw) if self.enabled else None
        options: dict[str, Any] = {}
        if client is not None:
            # the project's one client pool (framework.redis_client), with its bounded waits
            options = {"connection_pool": client.connection_pool, "wrap_exceptions": True}
        self.limiter = Limiter(
            get_remote_address,
            default_limits=[self._limit],
            storage_uri="redis://" if client is not None else "memory://",
            storage_options=options,
            strategy="fixed-window",
            key_prefix=self.key_prefix,
            headers_enabled=False,
            swallow_errors=False,
            in_memory_fallback_enabled=client is not None and not self.refuse_when_down,
            on_breach=self._refusal,
            enabled=self.enabled,
        )
        self.limiter.request_filter(self._unlimited)
        #: True when some route has a limit: Flask-Limiter checks every request then (its
        #: hooks cost each request some work, so a project without limits goes without).
        self.active = self.enabled and bool(self.default or any(self.app_limits.values()) or route_limits)
        if self.active:
            self.limiter.init_app(app)
            # a host's ``RATELIMIT_ENABLED = False`` in ``app.config`` leaves it off
            self.active = self.limiter.initialized
        if self.active:
            self._primary = self.limiter.limiter
            if client is not None:
                app.after_request(self._watch)
                if self.refuse_when_down:
                    app.register_error_handler(StorageError, self._storage_error)
        else:  # ``hit`` alone counts (a login limit): the same storage, without the hooks
            uri = "redis://" if client is not None else "memory://"
            self._primary = FixedWindowRateLimiter(storage_from_string(uri, **options))

    # ------------------------------------------------------------- which limit
    def limit_of(self, endpoint: str | None) -> str:
        """The limit of ``endpoint`` ('' when it is not limited)."""
        return self._endpoint(endpoint)[0]

    def _endpoint(self, endpoint: str | None) -> tuple[str, bool]:
        found = self._endpoints.get(endpoint)
        if found is None:
            found = self._endpoints[endpoint] = self._resolve(endpoint)
        return found

    def _resolve(self, endpoint: str | None) -> tuple[str, bool]:
        view = self.app.view_functions.get(endpoint or "")
        route = getattr(view, "route", None)
        if view is None or route is None:
            return "", False  # not a route of the project's apps
        if any(getattr(f, OPERATIONAL, False) or getattr(f, _EXEMPT, False) for f in (view, route.handler)):
            return "", False
        counts_options = "OPTIONS" in route.methods
        if route.rate_limit is not None:
            return normalize(route.rate_limit), counts_options
        blueprint = (endpoint or "").rpartition(".")[0]
        return self.app_limits.get(blueprint, self.default), counts_options

    def _limit(self) -> str:
        """Flask-Limiter's default limit, per request: the current endpoint's."""
        return self.limit_of(flask_request.endpoint)

    def _unlimited(self) -> bool:
        """Flask-Limiter's request filter: True skips counting this request."""
        limit, counts_options = self._endpoint(flask_request.endpoint)
        return not limit or (flask_request.method == "OPTIONS" and not counts_options)

    # ----------------------------------------------------------------- refusals
    def _refusal(self, limit: RequestLimit) -> Any:
        """Flask-Limiter's ``on_breach``: the 429 envelope with ``Retry-After``."""
        try:
            reset = limit.window[0]
        except StorageError:
            reset = time.time() + limit.limit.get_expiry()
        return Error(RATE_LIMITED, headers={"Retry-After": _retry_after(reset)})

    def _count(self, strategy: RateLimiter, items: Iterable[RateLimitItem], ids: list[str]) -> None:
        for item in sorted(items):
            if not strategy.hit(item, *ids):
                try:
                    reset = strategy.get_window_stats(item, *ids).reset_time
                except StorageError:
                    reset = time.time() + item.get_expiry()
                raise Error(RATE_LIMITED, headers={"Retry-After": _retry_after(reset)})

    def hit(self, items: Iterable[RateLimitItem], identifiers: Iterable[str]) -> None:
        """Count one request against ``items`` for ``identifiers`` (see ``hit``)."""
        ids = [self.key_prefix, *identifiers] if self.key_prefix else list(identifiers)
        strategy = self.limiter.limiter if self.active else self._primary
        try:
            self._count(strategy, items, ids)
        except StorageError:
            self._set_down(True)
            if self.refuse_when_down:
                raise Error(SERVICE_UNAVAILABLE) from None
            self._count(self._memory, items, ids)
        else:
            if strategy is self._primary:
                self._set_down(False)

    # ------------------------------------------------------------ Redis outages
    def _storage_error(self, exc: StorageError) -> Any:
        """``on_redis_down = refuse``: a limited request while Redis is away gets 503."""
        self._set_down(True)
        return Error(SERVICE_UNAVAILABLE)

    def _watch(self, response: Any) -> Any:
        """After each request: notice Flask-Limiter's switches to and from its memory
        fallback, and (``refuse``) a limit counted in Redis again."""
        if not self.refuse_when_down:
            dead = self.limiter.limiter is not self._primary
            if dead != self._limiter_dead:
                self._limiter_dead = dead
                self._set_down(dead)
        elif self._down and self.limiter.current_limits:
            self._set_down(False)
        return response

    def _set_down(self, down: bool) -> None:
        if down == self._down:
            return
        self._down = down
        if down:
            LOGGER.warning(
                "rate limits: Redis at [redis] url cannot be reached; %s until it answers again",
                "limited requests are refused with 503"
                if self.refuse_when_down
                else "each process counts requests in its own memory",
            )
        else:
            LOGGER.info("rate limits: Redis answers again; counting there")
