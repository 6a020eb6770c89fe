"""The project's Redis: ``[redis] url``, read once, and one client per process.

Rate limits, the cache and Celery's broker live in Redis when ``[redis] url`` is set, so
every instance of a project sees the same counters, entries and queue. Without it each
process keeps its own in memory (the embedded default) and nothing here imports ``redis``.

redis-py's connection pool notices a fork and opens fresh connections in the child, so one
client made before gunicorn forks its workers stays safe to use in each of them.

Each user of Redis (the cache, the rate limits, the readiness check) keeps going without it
in its own way while it is down, noticing that with ``framework.outage.Outage`` (also
importable from here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .config import ImproperlyConfigured
from .outage import Outage

if TYPE_CHECKING:
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
