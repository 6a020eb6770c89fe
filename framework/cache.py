"""The project's shared cache: ``framework.cache``, a Flask-Caching ``Cache``.

``Framework.init_app`` sets it up for each Flask app from ``[cache]`` (``type``,
``default_timeout``, ``key_prefix``): in Redis at ``[redis] url`` when that is set, so an
entry written or deleted by one instance is seen by every instance; in this process's
memory otherwise (Flask-Caching's ``SimpleCache``). Flask-Caching keeps each app's backend
in ``app.extensions["cache"]``, and this subclass always reaches it through the current
app, so several apps in one process never share one.

``@cache.cached(timeout=...)`` caches what a Backendpy-style handler answers (``def`` or
``async def``, returning the framework's responses or anything Flask turns into one): a
successful answer to a GET or HEAD is stored as its status, headers and body, and
rebuilt on a hit. Keys made from the request's path and query string are bounded. A cache
backend that cannot be reached never fails a request: it is logged once per outage and
the request is served uncached.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import inspect
import math
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import flask_caching
from flask import Flask, current_app, has_app_context, request
from flask_caching.backends.rediscache import RedisCache
from flask_caching.utils import wants_args
from werkzeug.wrappers import Response as _WerkzeugResponse

from . import _async
from .config import ImproperlyConfigured, as_list
from .logging import get_logger
from .outage import Outage
from .redis_client import get_redis, redis_url

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["Cache", "cache", "RedisBackend", "init_cache", "cache_settings", "bounded_key", "MAX_KEY_LENGTH"]

LOGGER = get_logger("framework.cache")

F = TypeVar("F", bound=Callable[..., Any])
Timeout = int | _dt.timedelta | None

#: A key built from a request (or given as a ``key_prefix``) longer than this, or holding
#: anything but printable ASCII, is replaced by a digest of itself.
MAX_KEY_LENGTH = 200
#: Characters that never appear in a key kept as it is: ``#`` marks a digest, ``?`` the
#: entries of a ``query_string=True`` route, so no request can build another one's key.
_RESERVED = frozenset("#?")
#: The methods whose answers are cached; any other request runs the handler.
CACHED_METHODS = frozenset({"GET", "HEAD"})
#: ``[cache] type`` -> Flask-Caching's ``CACHE_TYPE``.
TYPES = {"redis": f"{__name__}.RedisBackend", "simple": "SimpleCache", "null": "NullCache"}
#: Flask-Caching's own default lifetime of an entry, in seconds.
DEFAULT_TIMEOUT = 300
_SNAPSHOT = "framework.cache/1"


# ---------------------------------------------------------------------- the backend
class RedisBackend(RedisCache):
    """Flask-Caching's Redis backend on the project's own client (``get_redis``), that
    answers like an empty cache while Redis cannot be reached.

    The outage is tracked by ``framework.outage.Outage``: its first failure is
    logged as a warning and the next calls do not try Redis for ``retry_after`` seconds
    (a Redis that stops answering costs each request its socket timeout once, not on every
    call); the first success logs the recovery.
    """

    #: Seconds during which calls after a failure skip Redis (read when the backend is made).
    retry_after = 1.0

    def __init__(self, *args: Any, errors: tuple[type[BaseException], ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._errors = errors + (OSError,)
        self.outage = Outage(
            LOGGER,
            "cache",
            "requests are served uncached",
            "caching there again",
            service="Redis",
            retry_first=self.retry_after,
        )

    @classmethod
    def factory(
        cls, app: Flask, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> RedisBackend:
        """Flask-Caching's way to build a backend: on the client of the app's project."""
        import redis

        client = get_redis(app.extensions["framework"])
        return cls(
            client,
            key_prefix=config["CACHE_KEY_PREFIX"],
            default_timeout=kwargs["default_timeout"],
            errors=(redis.RedisError,),
        )

    def _guard(self, call: Callable[..., Any], fallback: Any, *args: Any, **kwargs: Any) -> Any:
        outage = self.outage
        if outage.waiting():
            return fallback
        try:
            result = call(*args, **kwargs)
        except self._errors as exc:
            outage.failed(exc)
            return fallback
        if outage.down:
            outage.answered()
        return result

    def get(self, key: str) -> Any:
        return self._guard(super().get, None, key)

    def get_many(self, *keys: str) -> list[Any]:
        return self._guard(super().get_many, [None] * len(keys), *keys)

    def has(self, key: str) -> bool:
        return bool(self._guard(super().has, False, key))

    def set(self, key: str, value: Any, timeout: Any = None) -> Any:
        return self._guard(super().set, False, key, value, timeout)

    def add(self, key: str, value: Any, timeout: Any = None) -> bool:
        return bool(self._guard(super().add, False, key, value, timeout))

    def set_many(self, mapping: Any, timeout: Any = None) -> list[Any]:
        return self._guard(super().set_many, [], mapping, timeout)

    def delete(self, key: str) -> bool:
        return bool(self._guard(super().delete, False, key))

    def delete_many(self, *keys: str) -> list[Any]:
        return self._guard(super().delete_many, [], *keys)

    def unlink(self, *keys: str) -> Any:
        return self._guard(super().unlink, 0, *keys)

    def clear(self) -> bool:
        return bool(self._guard(super().clear, False))

    def inc(self, key: str, delta: int = 1) -> Any:
        return self._guard(super().inc, None, key, delta)

    def dec(self, key: str, delta: int = 1) -> Any:
        return self._guard(super().dec, None, key, delta)


# ----------------------------------------------------------------------- settings
def cache_settings(framework: Framework, app: Flask) -> dict[str, Any]:
    """``[cache]`` as Flask-Caching's settings; ``ImproperlyConfigured`` names a bad one."""
    section = framework.config.get("cache", {})
    url = redis_url(framework)
    raw_type = section.get("type")
    kind = str(raw_type).strip().lower() if raw_type is not None else ""
    if not kind:
        kind = "redis" if url else "simple"
    if kind not in TYPES:
        raise ImproperlyConfigured(f"[cache] type must be one of {', '.join(TYPES)}, got {raw_type!r}")
    if kind == "redis" and url is None:
        raise ImproperlyConfigured("[cache] type = redis needs [redis] url")
    return {
        "CACHE_TYPE": TYPES[kind],
        "CACHE_DEFAULT_TIMEOUT": _default_timeout(section.get("default_timeout")),
        "CACHE_KEY_PREFIX": _key_prefix(section.get("key_prefix"), framework, app),
        "CACHE_NO_NULL_WARNING": True,  # ``type = null`` is a deliberate choice here
    }


def _default_timeout(raw: Any) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_TIMEOUT
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if value < 0:
        raise ImproperlyConfigured(
            f"[cache] default_timeout must be a whole number of seconds (0: never expires), got {raw!r}"
        )
    return value


def _key_prefix(raw: Any, framework: Framework, app: Flask) -> str:
    """``[cache] key_prefix``, or one derived from the project's active apps: the same on
    every instance of a project wherever it is installed, different for another project."""
    if raw is not None and str(raw).strip():
        prefix = str(raw).strip()
        if len(prefix) > 100 or not prefix.isascii() or not prefix.isprintable():
            raise ImproperlyConfigured(
                f"[cache] key_prefix must be at most 100 printable ASCII characters, got {raw!r}"
            )
        return prefix
    apps = as_list(framework.config.get("apps", {}).get("active")) or [app.import_name]
    digest = hashlib.sha256("\n".join(apps).encode()).hexdigest()[:10]
    return f"{apps[0].partition('.')[0]}:{digest}:"


def init_cache(framework: Framework, app: Flask) -> None:
    """Set ``framework.cache`` up for ``app`` (called by ``Framework.init_app``)."""
    cache.init_app(app, config=cache_settings(framework, app))


# ----------------------------------------------------------------------------- keys
def bounded_key(key: str) -> str:
    """``key`` itself when short printable ASCII without ``#`` or ``?``; otherwise its
    start and a digest of the whole, so a client-controlled path or query string never
    makes a long key, nor one equal to another request's key."""
    if len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable() and _RESERVED.isdisjoint(key):
        return key
    head = "".join(c for c in key[:64] if c.isascii() and c.isprintable() and c not in _RESERVED)
    return f"{head}#{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _base_key(key_prefix: str | Callable[[], str], path: str) -> str:
    if callable(key_prefix):
        return bounded_key(key_prefix())
    return bounded_key(key_prefix % path if "%s" in key_prefix else key_prefix)


def _query_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """The same digest whatever the order of the query's parameters."""
    text = urlencode(sorted(pairs), encoding="utf-8", errors="surrogatepass")
    return hashlib.sha256(text.encode()).hexdigest()


def _seconds(timeout: Timeout) -> int | None:
    if isinstance(timeout, _dt.timedelta):
        return math.ceil(timeout.total_seconds())
    return timeout


# ------------------------------------------------------------------------ responses
def _snapshot(response: _WerkzeugResponse) -> dict[str, Any] | None:
    """What a hit needs to rebuild ``response``; None when it must not be cached: not a
    success (or a partial one), streamed, setting a cookie, marked private/no-store, or
    varying with a request header the key does not hold (``Vary`` other than
    ``Accept-Encoding``, or a body the handler encoded itself for this client)."""
    status = response.status_code
    if not 200 <= status < 300 or status == 206:
        return None
    headers = response.headers
    if response.is_streamed or response.direct_passthrough or "Set-Cookie" in headers:
        return None
    control = response.cache_control
    if control.no_store or control.private:
        return None
    vary = {name.lower() for name in response.vary}
    if vary - {"accept-encoding"} or (vary and "Content-Encoding" in headers):
        return None
    return {
        "v": _SNAPSHOT,
        "status": status,
        "headers": [(k, v) for k, v in headers.items() if k.lower() != "content-length"],
        "body": response.get_data(),
        "compress": bool(getattr(response, "compress", False)),
    }


def _rebuild(entry: Any) -> Any:
    if not (isinstance(entry, dict) and entry.get("v") == _SNAPSHOT):
        return None
    from .response import Response

    return Response(
        entry["body"], status=entry["status"], headers=entry["headers"], compress=entry["compress"]
    )


# ---------------------------------------------------------------------------- Cache
class Cache(flask_caching.Cache):
    """Flask-Caching's ``Cache``, per app, with a ``cached`` decorator for handlers.

    ``get``/``set``/``delete``/``memoize`` and the rest are Flask-Caching's, on the current
    app's backend: call them inside a request or an app context.
    """

    def __init__(self) -> None:
        super().__init__(with_jinja2_ext=False)

    @property  # type: ignore[override]
    def app(self) -> Flask | None:
        """The current app: Flask-Caching's internals read ``self.app`` (its ``debug``, its
        ``ensure_sync``); with one ``Cache`` shared by several apps it must be this one."""
        return current_app if has_app_context() else None

    @app.setter
    def app(self, value: Flask | None) -> None:
        """Flask-Caching records the last app it was set up on: nothing is kept here."""

    @property
    def cache(self) -> Any:
        """The current app's backend."""
        if not has_app_context():
            raise RuntimeError(
                "framework.cache is used outside an application context: "
                "call it in a request, or inside `with app.app_context():`"
            )
        try:
            return current_app.extensions["cache"][self]
        except KeyError:
            raise RuntimeError(
                f"framework.cache is not set up on the app {current_app.name!r}: install the Framework on it"
            ) from None

    def memoize(self, *args: Any, **kwargs: Any) -> Any:
        """Flask-Caching's ``memoize``, for plain functions; refuses ``async def`` ones
        (it would cache the coroutine object, not its result)."""
        decorator = super().memoize(*args, **kwargs)

        def checked(f: F) -> F:
            if _async.is_async_callable(f):
                raise TypeError(f"cache.memoize cannot cache the async function {f.__name__!r}")
            return decorator(f)  # type: ignore[return-value]

        return checked

    def cached(  # type: ignore[override]
        self,
        timeout: Timeout = None,
        key_prefix: str | Callable[[], str] = "view/%s",
        query_string: bool = False,
        unless: Callable[..., Any] | None = None,
        response_filter: Callable[[Any], bool] | None = None,
        *,
        forced_update: Callable[..., Any] | None = None,
        is_stale: Callable[[Any], Any] | None = None,
        make_cache_key: Callable[..., str] | None = None,
        source_check: bool = False,
        response_hit_indication: bool = False,
    ) -> Callable[[F], F]:
        """Cache a handler's answer to GET and HEAD requests: Flask-Caching's ``cached``
        for ``def`` and ``async def`` handlers, its parameters with the same meaning.

        :param timeout: seconds an answer is kept (or a ``timedelta``); None: ``[cache]
            default_timeout``; 0: until deleted.
        :param key_prefix: the key; ``%s`` is replaced by the request's path. A callable
            (no arguments) returns the key.
        :param query_string: False: one entry per key, whatever the query string (``/items``
            and ``/items?page=2`` share it); True: one per set of query parameters, in any
            order. ``cache.delete(key)`` / ``cache.forget(path)`` drop them all.
        :param unless: when it returns true, the request runs the handler uncached. Called
            with no arguments, or, when it takes some, with the handler and the handler's
            arguments (``unless(handler, request)``), as Flask-Caching calls it.
        :param response_filter: given the response; when it returns false, it is not stored.
        :param forced_update: when it returns true, the handler runs and its answer
            replaces the stored one. Called with no arguments, or with the handler's
            (``forced_update(request)``).
        :param is_stale: given the stored response on a hit; when it returns true, the
            handler runs and its answer replaces it.
        :param make_cache_key: called with the handler's arguments (``make_cache_key(request)``),
            returns the key, in place of ``key_prefix``; ``cache.delete(key)`` drops it.
        :param source_check: the handler's source code is part of the key: once the code
            changes, answers stored by the old code are not served.
        :param response_hit_indication: an answer served from the cache carries the header
            ``hit_cache: True``.

        Only 2xx answers (but 206) that set no cookie, are not streamed and are not marked
        ``Cache-Control: private`` or ``no-store`` are stored. Flask-Caching's
        ``cache_none`` and ``hash_method`` have no use here (a handler never answers None;
        the framework's keys are bounded with their own digest): passing them is a
        ``TypeError``.
        """

        def decorator(handler: F) -> F:
            source = _source_digest(handler) if source_check else None
            lookup, keep = self._lookup, self._keep
            bypass = _condition(unless, handler)
            forced = _condition(forced_update)

            def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
                """(the cached response, None) on a hit; (None, where to store the answer)
                on a miss; (None, None) when the request is not served from the cache."""
                if request.method not in CACHED_METHODS or bypass(args, kwargs):
                    return None, None
                if make_cache_key is not None:
                    base = bounded_key(str(make_cache_key(*args, **kwargs)))
                else:
                    base = _base_key(key_prefix, request.path)
                parts = [_query_digest(request.args.items(multi=True))] if query_string else []
                if source is not None:
                    parts.append(source)
                found, where = lookup(base, ":".join(parts) or None, forced(args, kwargs))
                if found is None or (is_stale is not None and is_stale(found)):
                    return None, where
                if response_hit_indication:
                    found.headers["hit_cache"] = "True"
                return found, None

            def finish(rv: Any, where: Any) -> Any:
                if where is None:
                    return rv
                return keep(rv, where, _seconds(wrapper.cache_timeout), response_filter)  # type: ignore[attr-defined]

            if _async.is_async_callable(handler):

                @functools.wraps(handler)
                async def wrapper(*args: Any, **kwargs: Any) -> Any:
                    found, where = start(args, kwargs)
                    if found is not None:
                        return found
                    return finish(await handler(*args, **kwargs), where)

            else:

                @functools.wraps(handler)
                def wrapper(*args: Any, **kwargs: Any) -> Any:
                    found, where = start(args, kwargs)
                    if found is not None:
                        return found
                    return finish(handler(*args, **kwargs), where)

            wrapper.uncached = handler  # type: ignore[attr-defined]
            wrapper.cache_timeout = timeout  # type: ignore[attr-defined]
            return wrapper  # type: ignore[return-value]

        return decorator

    def forget(self, path: str, key_prefix: str | Callable[[], str] = "view/%s") -> bool:
        """Drop what ``@cached`` stored for ``path`` (every query-string variant too), in
        every instance when the cache is in Redis. False when nothing was stored, or the
        backend could not be reached."""
        return bool(self.delete(_base_key(key_prefix, path)))

    # -- the decorator's two steps, shared by its sync and async faces
    def _lookup(self, base: str, variant: str | None, forced: bool) -> tuple[Any, Any]:
        """(the rebuilt response or None, where to store an answer); None, without asking,
        when ``forced``. Without a ``variant`` (a digest of the query string and/or the
        source), the entry is at ``base``; with one, ``base`` holds the generation of its
        variants, so deleting ``base`` drops them all."""
        backend = self.cache
        if variant is None:
            return (None if forced else _rebuild(backend.get(base))), (base, None, None)
        generation = backend.get(base)
        if not isinstance(generation, str):
            return None, (base, "", variant)
        if forced:
            return None, (base, generation, variant)
        return _rebuild(backend.get(f"{base}?{generation}:{variant}")), (base, generation, variant)

    def _keep(
        self, rv: Any, where: Any, timeout: int | None, response_filter: Callable[[Any], bool] | None
    ) -> Any:
        """Store the handler's answer if it may be cached; returns it as a response."""
        response = rv if isinstance(rv, _WerkzeugResponse) else current_app.make_response(rv)
        snapshot = _snapshot(response)
        if snapshot is None or (response_filter is not None and not response_filter(response)):
            return response
        backend = self.cache
        base, generation, variant = where
        if generation is None:
            backend.set(base, snapshot, timeout=timeout)
            return response
        if not generation:  # the first answer for this key: start its generation of entries
            generation = secrets.token_hex(8)
            if not backend.add(base, generation, timeout=timeout):
                generation = backend.get(base)  # another request started one meanwhile
                if not isinstance(generation, str):
                    return response
        backend.set(f"{base}?{generation}:{variant}", snapshot, timeout=timeout)
        return response


def _condition(condition: Callable[..., Any] | None, *first: Any) -> Callable[[tuple[Any, ...], Any], bool]:
    """``unless`` or ``forced_update`` as a test of one call's arguments, called as
    Flask-Caching calls it: with no arguments, or, when it takes some (``wants_args``),
    with ``first`` and the handler's arguments."""
    if condition is None:
        return lambda args, kwargs: False
    if wants_args(condition):
        return lambda args, kwargs: bool(condition(*first, *args, **kwargs))
    return lambda args, kwargs: bool(condition())


def _source_digest(handler: Callable[..., Any]) -> str:
    """A digest of the handler's source code (``source_check``); ``TypeError`` when it
    cannot be read (a handler made in an interactive session)."""
    try:
        text = inspect.getsource(handler)
    except (OSError, TypeError):
        raise TypeError(
            f"cache.cached(source_check=True): the source of {handler!r} cannot be read"
        ) from None
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: The project's cache (``from framework import cache``).
cache = Cache()
