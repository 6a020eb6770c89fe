"""The request id: one name per request, for its answer, its handler and its log lines.

A client (or the load balancer in front) may send ``X-Request-ID``; a value of at most
``MAX_LENGTH`` characters from a safe set (letters, digits and ``. _ : + / = @ -``) is
kept, so one id follows a request across services. Anything else (too long, empty,
spaces, control bytes, quotes) is replaced by a fresh id, never echoed: a hostile value
must not reach a response header or a log line. A fresh id is 128 random bits in hex (32
characters, the shape of ``uuid.uuid4().hex``, made at a third of its cost).

``RequestIdMiddleware`` wraps the application's WSGI callable, outermost, so every answer
carries the id, the 500 envelope of ``framework.header_check`` included. When the layer it
wraps is that ``HeaderCheck`` itself (no other layer between), it takes the check over
(``check_headers``): one layer and one wrapped ``start_response`` per request instead of two,
with the same answers. It puts the id
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
from types import ModuleType
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


def _with_id(headers: list[tuple[str, str]], request_id: str) -> list[tuple[str, str]]:
    """``headers`` with ``X-Request-ID: request_id`` added unless they carry one already."""
    for name, _value in headers:
        if name.lower() == _LOWER:
            return headers
    headers.append((HEADER, request_id))
    return headers


class RequestIdMiddleware:
    """WSGI middleware: the request id in the environ, the context and the answer.

    An answer that already carries an ``X-Request-ID`` (set by a handler or a host's own
    middleware) keeps it; the framework's own answers get the request's id.

    With ``check_headers`` it also does ``HeaderCheck``'s work for ``app``, as
    ``RequestIdMiddleware(HeaderCheck(app))`` would: an answer whose status line or headers
    cannot be sent becomes the 500 envelope (carrying the id), the culprit logged.
    """

    def __init__(self, app: Callable[..., Any], check_headers: bool = False) -> None:
        self.app = app
        #: The header check whose refusals this layer makes (None: no check here).
        self.header_check: Any = None
        self._check: ModuleType | None = None
        if check_headers:
            from . import header_check  # imported here: it logs through framework.logging

            self.header_check, self._check = header_check.HeaderCheck(app), header_check

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = environ.get(ENVIRON_KEY)
        if request_id is None:  # ``bind``, inline: this runs on every request
            sent = environ.get(_WSGI_HEADER)
            request_id = sent if sent and _SANE(sent) else urandom(16).hex()
            environ[ENVIRON_KEY] = request_id
        if self.header_check is not None:
            return self._checked(environ, start_response, request_id)

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, _with_id(headers, request_id), exc_info)

        token = _current.set(request_id)
        try:
            return self.app(environ, start_with_id)
        finally:
            # a body streamed later logs through Flask's request context (framework.logging)
            _current.reset(token)

    def _checked(
        self, environ: dict[str, Any], start_response: Callable[..., Any], request_id: str
    ) -> Iterable[bytes]:
        """``HeaderCheck.__call__`` with the id added to what passes (one frame less)."""
        # what each start_response call found: None when the answer was passed on
        problems: list[str | None] = []
        check: Any = self._check
        known_statuses, known_headers = check._KNOWN_STATUSES, check._KNOWN_HEADERS

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            problem = None
            if type(headers) is list and type(status) is str and status in known_statuses:
                try:
                    for pair in headers:
                        if pair not in known_headers:
                            problem = check.header_problem(status, headers)
                            break
                except TypeError:  # an unhashable item: header_problem names it
                    problem = check.header_problem(status, headers)
            else:
                problem = check.header_problem(status, headers)
            problems.append(problem)
            if problem is not None:
                return check._discard
            return start_response(status, _with_id(headers, request_id), exc_info)

        token = _current.set(request_id)
        try:
            body = self.app(environ, start_with_id)
            if problems:
                if problems[0] is None and len(problems) == 1:
                    return body
                problem = check._first_problem(problems)
                if problem is not None:
                    return self.header_check._refuse(environ, start_with_id, body, problem)
                return body
            # an application that calls start_response on its first chunk
            return self.header_check._checked_lazily(environ, start_with_id, body, problems)
        finally:
            # a body streamed later logs through Flask's request context (framework.logging)
            _current.reset(token)
