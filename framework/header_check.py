"""The last check on every answer: its header names and values are ones HTTP can carry.

A header value holding CR, LF or NUL (or a name that is not an HTTP token) set by a handler
or a middleware would let a response split in two, or makes servers fail in their own
ways (an empty reply, a dropped connection). ``HeaderCheck`` wraps the application's WSGI
callable, outermost of the framework's layers, so the answer is the same under every
server (gunicorn, the development server, the ASGI adapter): the 500 error envelope
(code 1000, no details), with the culprit logged once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .error import SERVER_ERROR, envelope_bytes
from .logging import get_logger

__all__ = ["HeaderCheck", "header_problem"]

LOGGER = get_logger("framework.headers")

#: RFC 9110 token characters: what a header name is made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Control characters other than tab, and anything outside Latin-1 (WSGI's header range).
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")
#: A status line: three digits and a reason phrase without control characters.
_STATUS = re.compile(r"[1-5][0-9]{2}(?: [^\x00-\x08\x0a-\x1f\x7f]*)?")

_ERROR_STATUS, _ERROR_BODY = envelope_bytes(SERVER_ERROR)
_ERROR_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_ERROR_BODY)))]


#: Status lines and (name, value) pairs that passed the check, so that the same ones (most
#: answers carry the same few: ``Content-Type``, small ``Content-Length`` values) are
#: looked up in a set instead of matched again. Bounded: past ``_KNOWN_MAX`` entries nothing
#: more is remembered (the rest are checked each time), and long values are never kept.
_KNOWN_STATUSES: set[str] = set()
_KNOWN_HEADERS: set[tuple[str, str]] = set()
_KNOWN_MAX = 1024
_KNOWN_VALUE_MAX = 200


def header_problem(status: str, headers: Iterable[tuple[str, str]]) -> str | None:
    """What makes this status line or header list unsendable, or None when all is well."""
    if type(status) is str and type(headers) is list and status in _KNOWN_STATUSES:
        known = _KNOWN_HEADERS
        try:
            for pair in headers:
                if pair not in known:
                    break
            else:
                return None
        except TypeError:  # an unhashable item: the full check names it
            pass
    problem = _problem(status, headers)
    if problem is None and type(headers) is list:
        _remember(status, headers)
    return problem


def _problem(status: str, headers: Iterable[tuple[str, str]]) -> str | None:
    if not isinstance(status, str) or not _STATUS.fullmatch(status):
        return f"status line {status!r}"
    for name, value in headers:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            return f"header name {name!r}"
        if not isinstance(value, str) or _BAD_VALUE.search(value):
            return f"value of header {name!r}"
    return None


def _remember(status: str, headers: list[tuple[str, str]]) -> None:
    """Keep a checked status line and its headers (plain ``str`` ones only), within bounds."""
    if type(status) is str and len(_KNOWN_STATUSES) < _KNOWN_MAX:
        _KNOWN_STATUSES.add(status)
    known = _KNOWN_HEADERS
    for pair in headers:
        if len(known) >= _KNOWN_MAX:
            return
        if (
            type(pair) is tuple
            and type(pair[0]) is str
            and type(pair[1]) is str
            and len(pair[1]) <= _KNOWN_VALUE_MAX
        ):
            known.add(pair)


def _first_problem(problems: list[str | None]) -> str | None:
    for problem in problems:
        if problem is not None:
            return problem
    return None


def _discard(data: bytes) -> None:
    """The ``write`` callable handed back for a refused answer."""


class HeaderCheck:
    """WSGI middleware answering the 500 envelope in place of a response whose status
    line or headers cannot be sent."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # what each start_response call found: None when the answer was passed on
        problems: list[str | None] = []

        def checked_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            problem = header_problem(status, headers)
            problems.append(problem)
            if problem is not None:
                return _discard
            return start_response(status, headers, exc_info)

        body = self.app(environ, checked_start_response)
        if problems:
            if problems[0] is None and len(problems) == 1:
                return body
            problem = _first_problem(problems)
            if problem is not None:
                return self._refuse(environ, start_response, body, problem)
            return body
        # an application that calls start_response on its first chunk
        return self._checked_lazily(environ, start_response, body, problems)

    def _refuse(
        self, environ: dict[str, Any], start_response: Callable[..., Any], body: Any, problem: str
    ) -> list[bytes]:
        close = getattr(body, "close", None)
        if close is not None:
            close()
        LOGGER.error(
            "invalid response to %s %s: %s holds a character HTTP cannot carry; answered 500 instead",
            environ.get("REQUEST_METHOD", "-"),
            environ.get("PATH_INFO", "-"),
            problem,
        )
        start_response(f"{_ERROR_STATUS} INTERNAL SERVER ERROR", list(_ERROR_HEADERS))
        return [_ERROR_BODY]

    def _checked_lazily(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        body: Any,
        problems: list[str | None],
    ) -> Iterator[bytes]:
        iterator = iter(body)
        refused = False
        try:
            first = next(iterator, None)
            problem = _first_problem(problems)
            if problem is not None:
                refused = True
                yield from self._refuse(environ, start_response, body, problem)
                return
            if first is not None:
                yield first
            yield from iterator
        finally:
            close = getattr(body, "close", None)
            if close is not None and not refused:
                close()
