"""Cross-origin resource sharing (CORS) as a middleware, configured by ``[cors]``.

It works on the application layer (``process_application``), around the whole WSGI app,
so that preflight requests are answered before routing and every response, error
envelopes and 404s included, carries the headers: a browser cannot read a 400 or a 500
that lacks them.

Settings (a multi-line INI value is a list)::

    [cors]
    allowed_origins = https://app.example.com      ; a list, or * for any origin
    allowed_methods = GET POST PUT DELETE          ; a list, or *; default GET, HEAD, POST
    allowed_headers = Authorization Content-Type   ; a list, or *; default none
    expose_headers = X-Total-Count                 ; default none
    allow_credentials = false
    max_age = 600                                  ; seconds a preflight may be cached

An origin that is not allowed is never echoed. ``allowed_origins = *`` together with
``allow_credentials = true`` stops start-up: it would let every site on the web send
requests carrying a user's cookies and read the answers; list the origins instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ...config import ImproperlyConfigured, as_bool
from ...error import FORBIDDEN, Error
from ...response import Response
from .. import Middleware

if TYPE_CHECKING:
    from ...extension import Framework

__all__ = ["CORSMiddleware", "CORSPolicy"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DEFAULT_METHODS = ("GET", "HEAD", "POST")
DEFAULT_MAX_AGE = 600
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: Our own headers, dropped from the app's response so the policy decides alone.
_CORS_HEADERS = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-expose-headers",
    }
)


def _items(value: Any) -> list[str]:
    """A list setting: a list, or one line of items separated by commas or spaces."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [str(item).strip() for item in value if str(item).strip()]


class CORSPolicy:
    """The ``[cors]`` settings, checked and normalised once at start-up."""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        settings = dict(settings or {})
        origins = _items(settings.get("allowed_origins"))
        self.any_origin = "*" in origins
        self.origins = frozenset(o.lower().rstrip("/") for o in origins if o != "*")
        for origin in self.origins:
            if origin != "null" and not _ORIGIN.match(origin):
                raise ImproperlyConfigured(
                    f"[cors] allowed_origins: {origin!r} is not an origin (scheme://host[:port], or *)"
                )
        methods = _items(settings.get("allowed_methods")) or list(DEFAULT_METHODS)
        self.any_method = "*" in methods
        self.methods = [m.upper() for m in methods if m != "*"]
        headers = _items(settings.get("allowed_headers"))
        self.any_header = "*" in headers
        self.headers = [h.lower() for h in headers if h != "*"]
        self.expose = [h for h in _items(settings.get("expose_headers"))]
        for name, values in (
            ("allowed_methods", self.methods),
            ("allowed_headers", self.headers),
            ("expose_headers", self.expose),
        ):
            bad = [v for v in values if not _TOKEN.match(v)]
            if bad:
                raise ImproperlyConfigured(f"[cors] {name}: {bad[0]!r} is not a valid name")
        try:
            self.credentials = as_bool(settings.get("allow_credentials", False))
        except ValueError:
            raise ImproperlyConfigured(
                f"[cors] allow_credentials must be true or false, got {settings.get('allow_credentials')!r}"
            ) from None
        if self.any_origin and self.credentials:
            raise ImproperlyConfigured(
                "[cors] allowed_origins = * cannot go with allow_credentials = true (any site "
                "could act with a user's cookies and read the answers): list the allowed "
                "origins, or turn credentials off"
            )
        raw_age = settings.get("max_age", DEFAULT_MAX_AGE)
        try:
            self.max_age = int(raw_age)
            if self.max_age < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                f"[cors] max_age must be a number of seconds, got {raw_age!r}"
            ) from None

    def allow_origin(self, origin: str) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin``, or None if refused."""
        if not origin:
            return None
        if origin.lower().rstrip("/") in self.origins:
            return origin
        if self.any_origin:  # never with credentials (refused at start-up)
            return "*"
        return None

    def preflight_headers(self, origin: str, environ: Mapping[str, Any]) -> list[tuple[str, str]] | None:
        """The headers answering a preflight, or None when it must be refused."""
        allowed = self.allow_origin(origin)
        if allowed is None:
            return None
        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").strip().upper()
        if not self.any_method and method not in self.methods:
            return None
        requested = [
            h.strip().lower()
            for h in environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").split(",")
            if h.strip()
        ]
        if not self.any_header and any(h not in self.headers for h in requested):
            return None
        headers = [
            ("Access-Control-Allow-Origin", allowed),
            ("Access-Control-Allow-Methods", method if self.any_method else ", ".join(self.methods)),
            ("Access-Control-Max-Age", str(self.max_age)),
        ]
        allow_headers = requested if self.any_header else self.headers
        if allow_headers:
            headers.append(("Access-Control-Allow-Headers", ", ".join(allow_headers)))
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers

    def response_headers(self, origin: str) -> list[tuple[str, str]]:
        """The headers added to an actual (non-preflight) response."""
        allowed = self.allow_origin(origin)
        if allowed is None:
            return []
        headers = [("Access-Control-Allow-Origin", allowed)]
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        if self.expose:
            headers.append(("Access-Control-Expose-Headers", ", ".join(self.expose)))
        return headers


def _add_vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if "*" in parts or any(p.lower() == "origin" for p in parts):
                return headers
            headers[index] = (name, ", ".join(parts + ["Origin"]))
            return headers
    headers.append(("Vary", "Origin"))
    return headers


class CORSApplication:
    """The WSGI application wrapped by ``CORSMiddleware``."""

    def __init__(self, application: WSGIApp, policy: CORSPolicy) -> None:
        self.application = application
        self.policy = policy

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN", "")
        policy = self.policy
        if (
            origin
            and environ.get("REQUEST_METHOD") == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        ):
            headers = policy.preflight_headers(origin, environ)
            response: Response
            if headers is None:
                response = Error(FORBIDDEN, data={"message": "CORS preflight request refused"})
            else:
                response = Response(None, status=204, headers=headers)
            response.vary.add("Origin")
            return response(environ, start_response)

        added = policy.response_headers(origin)

        def cors_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if added:
                headers = [(n, v) for n, v in headers if n.lower() not in _CORS_HEADERS]
                headers.extend(added)
            return start_response(status, _add_vary(headers), exc_info)

        return self.application(environ, cors_start_response)


class CORSMiddleware(Middleware):
    """Answers preflight requests and adds CORS headers to every response.

    Activated as ``framework.middleware.defaults.cors.CORSMiddleware`` in
    ``[middlewares] active``, it reads ``[cors]`` in ``setup``; used by hand,
    ``CORSMiddleware({'allowed_origins': [...]})`` takes the settings directly.
    """

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.policy: CORSPolicy | None = CORSPolicy(settings) if settings is not None else None

    def setup(self, fw: Framework) -> None:
        """Read ``[cors]`` from the project (called once at start-up)."""
        if self.policy is None:
            self.policy = CORSPolicy(fw.config.get("cors", {}))

    def process_application(self, application: WSGIApp) -> WSGIApp:
        """Wrap the WSGI application."""
        if self.policy is None:
            self.policy = CORSPolicy({})
        return CORSApplication(application, self.policy)
