"""The project's Redis: ``[redis] url``, read once, and one client per process.

Rate limits, the cache and Celery's broker live in Redis when ``[redis] url`` is set, so
every instance of a project sees the same counters, entries and queue. Without it each
process keeps its own in memory (the embedded default) and nothing here imports ``redis``.

redis-py's connection pool notices a fork and opens fresh connections in the child, so one
client made before gunicorn forks its workers stays safe to use in each of them.

Each user of Redis (the cache, the rate limits, the readiness check) keeps going without it
in its own way while it is down; ``Outage`` is the one rule for noticing that: one warning
when the outage starts, naming what falls back and how, one line when Redis answers again,
and when to try Redis again meanwhile.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .config import ImproperlyConfigured

if TYPE_CHECKING:
    import logging

    from .extension import Framework

__all__ = ["redis_url", "get_redis", "REDIS_SCHEMES", "Outage"]

#: The URL schemes redis-py understands.
REDIS_SCHEMES = ("redis", "rediss", "unix")


def redis_url(framework: Framework) -> str | None:
    """``[redis] url``, checked; None when the project keeps its state in memory."""
    raw = framework.config.get("redis", {}).get("url")
    if raw is None or not str(raw).strip():
        return None
    url = str(raw).strip()
    scheme = urlsplit(url).scheme
    if scheme not in REDIS_SCHEMES:
        raise ImproperlyConfigured(
            f"[redis] url must start with one of {', '.join(s + '://' for s in REDIS_SCHEMES)}, got {url!r}"
        )
    return url


def get_redis(framework: Framework) -> Any:
    """The project's ``redis.Redis`` client (made on first use, then shared); None without
    ``[redis] url``. Raises ``ImproperlyConfigured`` when the url is set but redis-py is
    missing."""
    client = framework.context.get("framework.redis")
    if client is not None:
        return client
    url = redis_url(framework)
    if url is None:
        return None
    try:
        import redis
    except ImportError:
        raise ImproperlyConfigured(
            "[redis] url is set but the redis package is missing: pip install 'framework[redis]'"
        ) from None
    # bounded waits: a Redis that stops answering turns into an error, never a hung worker
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
    framework.context["framework.redis"] = client
    return client


class Outage:
    """One user's view of Redis (or another service) going away and coming back.

    ``failed`` records a failed call and ``answered`` a successful one; the first failure
    of an outage logs one warning (``<subject>: Redis cannot be reached (<reason>);
    <fallback> until it answers again``) and the first success after it one line
    (``<subject>: Redis answers again after <n> s; <resumed>``), so a long outage never
    floods the log. Between failures ``waiting`` is true until the next try is due:
    ``retry_first`` seconds after the first failure, twice as long after each further one,
    up to ``retry_last`` (by default the same: a fixed pause). A caller that always asks
    Redis simply never looks at ``waiting``.
    """

    def __init__(
        self,
        logger: logging.Logger,
        subject: str,
        fallback: str,
        resumed: str,
        *,
        service: str = "Redis",
        retry_first: float = 1.0,
        retry_last: float | None = None,
    ) -> None:
        self.logger, self.subject, self.service = logger, subject, service
        self.fallback, self.resumed = fallback, resumed
        self.retry_first = retry_first
        self.retry_last = retry_first if retry_last is None else retry_last
        #: True from a failure until the next success.
        self.down = False
        self._since = 0.0
        self._retry_at = 0.0
        self._retry_in = retry_first
        self._lock = threading.Lock()

    def waiting(self) -> bool:
        """True while the service is down and the next try is not due: use the fallback
        without asking it (a service that stops answering costs a timeout per try, not per
        call)."""
        return self.down and time.monotonic() < self._retry_at

    def failed(self, reason: object) -> None:
        """A call failed (``reason``: the exception or a few words): note when to try
        again; log the warning if this starts an outage."""
        now = time.monotonic()
        with self._lock:
            starts = not self.down
            if starts:
                self.down, self._since, self._retry_in = True, now, self.retry_first
            self._retry_at = now + self._retry_in
            self._retry_in = min(self._retry_in * 2, self.retry_last)
        if starts:
            self.logger.warning(
                "%s: %s cannot be reached (%s); %s until it answers again",
                self.subject,
                self.service,
                reason,
                self.fallback,
            )

    def answered(self) -> None:
        """A call succeeded: log the recovery if an outage was under way."""
        if not self.down:
            return
        with self._lock:
            if not self.down:
                return
            self.down = False
            lasted = time.monotonic() - self._since
        self.logger.info(
            "%s: %s answers again after %.1f s; %s", self.subject, self.service, lasted, self.resumed
        )
