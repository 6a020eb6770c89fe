"""``FrameworkFlask``: the Flask class of the applications the framework builds itself.

It behaves exactly as ``flask.Flask``; it only saves per-request work that Flask repeats
although its answer cannot change once the app serves.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from flask import Flask, has_request_context
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface

from .test_client import FrameworkClient

__all__ = ["FrameworkFlask", "JSONProvider", "SessionInterface"]


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per key.

    Flask builds a new ``URLSafeTimedSerializer`` on every request (and itsdangerous
    serialises an empty dict to test it each time): about 12 us per request as soon as the
    app has a secret key, which the framework requires of serving apps. The serializer is
    stateless, so one is kept and rebuilt only when the secret key or its fallbacks change.
    A request without a Cookie header, and an empty session left untouched, skip the work
    whose outcome is already known (the same session, cookies and headers as Flask's).
    """

    def __init__(self) -> None:
        self._signing: tuple[Any, Any] | None = None

    def get_signing_serializer(self, app: Flask) -> Any:
        # the fallbacks as a tuple copy: a list changed in place must not match the cache
        keys = (app.secret_key, _frozen(app.config.get("SECRET_KEY_FALLBACKS")))
        cached = self._signing
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        self._signing = (keys, serializer)
        return serializer

    def open_session(self, app: Flask, request: Any) -> Any:
        # No Cookie header at all (most API clients): Flask's answer is an empty session,
        # reached only after parsing the absent header into a cookie dict (about 3.5 us)
        if "HTTP_COOKIE" not in request.environ:
            if not app.secret_key:  # when Flask's serializer would be None
                return None
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        # An empty session nobody read or wrote: Flask would set no cookie and no Vary
        # header either, after reading seven cookie settings from the config
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


#: The ``dumps`` options ``JSONProvider`` builds an encoder for once (``response`` passes one).
_ENCODER_OPTIONS = frozenset(("separators", "indent"))
#: Distinct option sets kept at most (the attributes may change while the app runs).
_ENCODERS_MAX = 16


class JSONProvider(DefaultJSONProvider):
    """Flask's default JSON provider, whose ``dumps`` reuses its encoders.

    ``json.dumps`` with any option builds a new ``JSONEncoder`` per call (about 2 us for a
    dict answered by a view). An encoder keeps no state between calls, so one is kept per
    set of options (``default``, ``ensure_ascii``, ``sort_keys``, read on every call as
    Flask does, and the ``separators`` or ``indent`` that ``response`` passes): the same
    text as Flask's. Any other option takes Flask's own path.
    """

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._encoders: dict[Any, json.JSONEncoder] = {}

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.keys() <= _ENCODER_OPTIONS:
            indent, separators = kwargs.get("indent"), kwargs.get("separators")
            key = (self.default, self.ensure_ascii, self.sort_keys, indent, separators)
            try:
                encoder = self._encoders.get(key)
            except TypeError:  # an unhashable option (a list of separators): Flask's path
                return super().dumps(obj, **kwargs)
            if encoder is None:
                if len(self._encoders) >= _ENCODERS_MAX:
                    self._encoders.clear()
                default, ensure_ascii, sort_keys = key[:3]
                encoder = self._encoders[key] = json.JSONEncoder(
                    ensure_ascii=ensure_ascii,
                    sort_keys=sort_keys,
                    indent=indent,
                    separators=separators,
                    default=default,
                )
            return encoder.encode(obj)
        return super().dumps(obj, **kwargs)


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class FrameworkFlask(Flask):
    """``flask.Flask`` with a cheaper ``ensure_sync`` for the app's registered functions,
    session cookies signed by a serializer built once (``SessionInterface``) and JSON
    encoders built once (``JSONProvider``).

    Flask runs every view, ``before_request``, ``after_request`` and teardown function of
    every request through ``ensure_sync``, which inspects the function each time (about
    0.5 us a call, five calls per request of a framework route). Once the app has served
    its first request Flask refuses new registrations, so the registered functions that are
    plain ``def`` are collected once then and returned as they are; anything else (a
    function added later, an ``async def`` one) still goes through Flask's own check.
    """

    _sync_callables: frozenset[Any] | None = None
    json_provider_class = JSONProvider
    #: closes each response body when complete, so ``request_end`` fires in tests too
    test_client_class = FrameworkClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: one per app: it caches the app's signing serializer
        self.session_interface = SessionInterface()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        known = self._sync_callables
        if known is None:
            # Collected on the first call inside a request, when the app is set up. Only
            # functions known to be sync are kept, so one registered after that (Flask
            # refuses them once a request was served) just takes Flask's own check.
            if not has_request_context():
                return super().ensure_sync(func)
            known = self._sync_callables = self._collect_sync_callables()
        try:
            if func in known:
                return func
        except TypeError:  # an unhashable callable object
            pass
        return super().ensure_sync(func)

    def _collect_sync_callables(self) -> frozenset[Any]:
        registries = (self.before_request_funcs, self.after_request_funcs, self.teardown_request_funcs)
        funcs: list[Any] = [f for registry in registries for fs in registry.values() for f in fs]
        funcs += self.teardown_appcontext_funcs
        funcs += self.view_functions.values()
        known = set()
        for func in funcs:
            try:
                hash(func)
            except TypeError:
                continue
            if not inspect.iscoroutinefunction(func):
                known.add(func)
        return frozenset(known)
