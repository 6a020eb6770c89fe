"""The request id: one name per request, for its answer, its handler and its log lines.

A client (or the load balancer in front) may send ``X-Request-ID``; a value of at most
``MAX_LENGTH`` characters from a safe set (letters, digits and ``. _ : + / = @ -``) is
kept, so one id follows a request across services. Anything else (too long, empty,
spaces, control bytes, quotes) is replaced by a fresh id, never echoed: a hostile value
must not reach a response header or a log line. A fresh id is 128 random bits in hex (32
characters, the shape of ``uuid.uuid4().hex``, made at a third of its cost).

``RequestIdMiddleware`` wraps the application's WSGI callable, outermost, so every answer
carries the id, the 500 envelope of ``framework.header_check`` included. It puts the id
in the environ (``ENVIRON_KEY``, ``request.request_id`` in a handler) and in a context
variable for the log lines written while the application runs (``current_request_id``,
read by ``framework.logging``). The ASGI adapter calls ``bind`` for the answers it makes
itself (503 when busy, 413, 408) and its own log lines; after the WSGI call that is the id
the middleware chose, so both carry the same one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from os import urandom
from typing import Any

__all__ = [
    "HEADER",
    "ENVIRON_KEY",
    "MAX_LENGTH",
    "RequestIdMiddleware",
    "accept",
    "bind",
    "new_request_id",
    "current_request_id",
]

#: The request and response header.
HEADER = "X-Request-ID"
#: Where the id lives in the WSGI environ.
ENVIRON_KEY = "framework.request_id"
#: The longest client-sent id kept.
MAX_LENGTH = 128

_WSGI_HEADER = "HTTP_X_REQUEST_ID"
_LOWER = HEADER.lower()
_SANE = re.compile(rf"[A-Za-z0-9._:+/=@-]{{1,{MAX_LENGTH}}}").fullmatch

_current: ContextVar[str | None] = ContextVar("framework.request_id", default=None)


def new_request_id() -> str:
    """A fresh id: 128 random bits as 32 hex digits."""
    return urandom(16).hex()


def accept(value: str | None) -> str:
    """``value`` when it is a sane id, else a fresh one."""
    if value and _SANE(value):
        return value
    return new_request_id()


def bind(environ: dict[str, Any]) -> str:
    """The request's id, chosen once: kept in ``environ`` for every later layer."""
    request_id = environ.get(ENVIRON_KEY)
    if request_id is None:
        request_id = environ[ENVIRON_KEY] = accept(environ.get(_WSGI_HEADER))
    return request_id


def current_request_id() -> str | None:
    """The id of the request this code runs for, or None outside a request."""
    return _current.get()


def set_current(request_id: str | None) -> Any:
    """Make ``request_id`` the current one (the ASGI adapter's task); returns the token."""
    return _current.set(request_id)


class RequestIdMiddleware:
    """WSGI middleware: the request id in the environ, the context and the answer.

    An answer that already carries an ``X-Request-ID`` (set by a handler or a host's own
    middleware) keeps it; the framework's own answers get the request's id.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = environ.get(ENVIRON_KEY)
        if request_id is None:  # ``bind``, inline: this runs on every request
            sent = environ.get(_WSGI_HEADER)
            request_id = sent if sent and _SANE(sent) else urandom(16).hex()
            environ[ENVIRON_KEY] = request_id

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            for name, _value in headers:
                if name.lower() == _LOWER:
                    break
            else:
                headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        token = _current.set(request_id)
        try:
            return self.app(environ, start_with_id)
        finally:
            # a body streamed later logs through Flask's request context (framework.logging)
            _current.reset(token)
