"""Per-app error codes and the error envelope.

An app declares its codes in ``ErrorList``s; ``Error(code)`` answers with
``{"status": "error", "code": N, "message": "...", "data": ...}`` and the code's status.
Codes are registered per application at start-up; two apps claiming one code stop it.
The framework's own codes stay below 1100.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from .exception import ExceptionResponse
from .response import Headers, Status

__all__ = ["ErrorCode", "ErrorList", "Error", "BASE_ERRORS", "FRAMEWORK_CODE_LIMIT"]

#: App codes must be at or above this; the framework keeps the range below it.
FRAMEWORK_CODE_LIMIT = 1100


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
    ErrorCode(1000, "Server error", Status.INTERNAL_SERVER_ERROR),
    ErrorCode(1001, "Not found", Status.NOT_FOUND),
    ErrorCode(1002, "Unexpected data", Status.BAD_REQUEST),
    ErrorCode(1003, "Disallowed host", Status.BAD_REQUEST),
    ErrorCode(1004, "Method not allowed", Status.METHOD_NOT_ALLOWED),
    ErrorCode(1005, "Request body too large", Status.REQUEST_ENTITY_TOO_LARGE),
    ErrorCode(1006, "Unsupported media type", Status.UNSUPPORTED_MEDIA_TYPE),
    ErrorCode(1007, "Forbidden", Status.FORBIDDEN),
    ErrorCode(1008, "Unauthorized", Status.UNAUTHORIZED),
    ErrorCode(1009, "Service unavailable", Status.SERVICE_UNAVAILABLE),
    ErrorCode(1010, "Request error", Status.BAD_REQUEST),
)
_BASE = {e.code: e for e in BASE_ERRORS}

#: The framework code used for an HTTP status when no more specific one exists.
HTTP_STATUS_CODES = {404: 1001, 400: 1002, 405: 1004, 413: 1005, 415: 1006, 403: 1007,
                     401: 1008, 503: 1009, 500: 1000}


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

    def __init__(self, code: int, message_data: Any = None, data: Any = None,
                 headers: Headers = None) -> None:
        error = lookup(code)
        body: dict[str, Any] = {"status": "error", "code": error.code,
                                "message": error.format(message_data)}
        if data is not None:
            body["data"] = data
        self.code = error.code
        self.error_data = data
        super().__init__(body, status=error.status, headers=headers)

    def __str__(self) -> str:
        return f"Error {self.code}"
