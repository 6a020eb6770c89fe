"""Per-app error codes and the error envelope.

An app declares its codes in ``ErrorList``s; ``Error(code)`` answers with
``{"status": "error", "code": N, "message": "...", "data": ...}`` and the code's status.
Codes are registered per application at start-up; two apps claiming one code stop it.
The framework's own codes stay below 1100 and are named here (``SERVER_ERROR`` ...), and
``envelope()`` is the one builder of the envelope's body: every place that answers an error
(the Flask handlers, the ASGI adapter, the OpenAPI examples) goes through it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from .exception import ExceptionResponse
from .response import Headers, Status

__all__ = [
    "ErrorCode",
    "ErrorList",
    "Error",
    "BASE_ERRORS",
    "FRAMEWORK_CODE_LIMIT",
    "envelope",
    "envelope_bytes",
    "SERVER_ERROR",
    "NOT_FOUND",
    "INVALID_DATA",
    "DISALLOWED_HOST",
    "METHOD_NOT_ALLOWED",
    "BODY_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "FORBIDDEN",
    "UNAUTHORIZED",
    "SERVICE_UNAVAILABLE",
    "REQUEST_ERROR",
    "RATE_LIMITED",
]

#: App codes must be at or above this; the framework keeps the range below it.
FRAMEWORK_CODE_LIMIT = 1100

# The framework's own codes (the numbers are public: clients match on them).
#: An unexpected failure on the server (500).
SERVER_ERROR = 1000
#: No such route or resource (404).
NOT_FOUND = 1001
#: The request's data is invalid: malformed body, a field that fails its checks (400).
INVALID_DATA = 1002
#: The Host header names no allowed host (400).
DISALLOWED_HOST = 1003
#: The route does not answer this method (405).
METHOD_NOT_ALLOWED = 1004
#: The body, or its number of form fields, is over the configured limit (413).
BODY_TOO_LARGE = 1005
#: The body's content type is not one the route reads (415).
UNSUPPORTED_MEDIA_TYPE = 1006
#: Refused: HTTPS only, CORS, permissions (403).
FORBIDDEN = 1007
#: No valid credentials (401).
UNAUTHORIZED = 1008
#: The server or its database cannot take the request now (503).
SERVICE_UNAVAILABLE = 1009
#: Any other HTTP error status (the envelope keeps the status).
REQUEST_ERROR = 1010
#: Too many requests: a rate limit is spent; ``Retry-After`` says when to try again (429).
RATE_LIMITED = 1011


@dataclass(frozen=True)
class ErrorCode:
    """One error: its number, its message template and its HTTP status."""

    code: int
    message: str
    status: int = Status.BAD_REQUEST

    def format(self, message_data: Any = None) -> str:
        """The message with ``message_data`` put in: a list or tuple fills ``{}`` in order,
        a mapping fills ``{name}``, any other value fills the single ``{}``."""
        if message_data is None:
            return self.message
        try:
            if isinstance(message_data, Mapping):
                return self.message.format(**message_data)
            if isinstance(message_data, (list, tuple)):
                return self.message.format(*message_data)
            return self.message.format(message_data)
        except (IndexError, KeyError, ValueError):
            return self.message


class ErrorList:
    """A group of ``ErrorCode``s given to ``App(errors=[...])``."""

    def __init__(self, *codes: ErrorCode) -> None:
        self.codes: tuple[ErrorCode, ...] = codes

    def __iter__(self) -> Iterator[ErrorCode]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)


BASE_ERRORS = ErrorList(
    ErrorCode(SERVER_ERROR, "Server error", Status.INTERNAL_SERVER_ERROR),
    ErrorCode(NOT_FOUND, "Not found", Status.NOT_FOUND),
    ErrorCode(INVALID_DATA, "Unexpected data", Status.BAD_REQUEST),
    ErrorCode(DISALLOWED_HOST, "Disallowed host", Status.BAD_REQUEST),
    ErrorCode(METHOD_NOT_ALLOWED, "Method not allowed", Status.METHOD_NOT_ALLOWED),
    ErrorCode(BODY_TOO_LARGE, "Request body too large", Status.REQUEST_ENTITY_TOO_LARGE),
    ErrorCode(UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", Status.UNSUPPORTED_MEDIA_TYPE),
    ErrorCode(FORBIDDEN, "Forbidden", Status.FORBIDDEN),
    ErrorCode(UNAUTHORIZED, "Unauthorized", Status.UNAUTHORIZED),
    ErrorCode(SERVICE_UNAVAILABLE, "Service unavailable", Status.SERVICE_UNAVAILABLE),
    ErrorCode(REQUEST_ERROR, "Request error", Status.BAD_REQUEST),
    ErrorCode(RATE_LIMITED, "Too many requests", Status.TOO_MANY_REQUESTS),
)
_BASE = {e.code: e for e in BASE_ERRORS}

#: The framework code used for an HTTP status when no more specific one exists.
HTTP_STATUS_CODES = {
    404: NOT_FOUND,
    400: INVALID_DATA,
    405: METHOD_NOT_ALLOWED,
    413: BODY_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    403: FORBIDDEN,
    401: UNAUTHORIZED,
    503: SERVICE_UNAVAILABLE,
    429: RATE_LIMITED,
    500: SERVER_ERROR,
}


def envelope(code: int, message: str, data: Any = None) -> dict[str, Any]:
    """The error envelope's body: ``{"status": "error", "code", "message"[, "data"]}``
    (``data`` is left out when None)."""
    body: dict[str, Any] = {"status": "error", "code": int(code), "message": message}
    if data is not None:
        body["data"] = data
    return body


def envelope_bytes(code: int) -> tuple[int, bytes]:
    """The HTTP status and compact JSON body of a framework code's envelope, for places
    that answer without Flask (the ASGI adapter, a WSGI wrapper)."""
    error = _BASE[code]
    body = json.dumps(envelope(error.code, error.message), separators=(",", ":"))
    return int(error.status), body.encode()


def lookup(code: int) -> ErrorCode:
    """The ``ErrorCode`` registered for ``code`` in the current application."""
    if has_app_context():
        fw = current_app.extensions.get("framework")
        if fw is not None:
            found = fw.error_codes.get(code)
            if found is not None:
                return found
    found = _BASE.get(code)
    if found is None:
        raise LookupError(f"error code {code} is not registered by any active app")
    return found


class Error(ExceptionResponse):
    """The error envelope for a registered code; raisable and returnable."""

    def __init__(
        self, code: int, message_data: Any = None, data: Any = None, headers: Headers = None
    ) -> None:
        error = lookup(code)
        body = envelope(error.code, error.format(message_data), data)
        self.code = error.code
        self.error_data = data
        super().__init__(body, status=error.status, headers=headers)

    def __str__(self) -> str:
        return f"Error {self.code}"
