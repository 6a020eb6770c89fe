"""Exception responses: responses that can also be raised.

``raise BadRequest({'message': 'Login failed!'})`` and ``return BadRequest(...)`` answer
the same. A ``dict`` or ``list`` body is sent as JSON, anything else as text.
"""

from __future__ import annotations

from typing import Any

from .response import Headers, Response, Status, dump_json

__all__ = ["ExceptionResponse", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "ServerError"]


class ExceptionResponse(Response, Exception):
    """Root of the raisable responses; subclasses carry their status as ``status``."""

    status_code_default: int = Status.INTERNAL_SERVER_ERROR

    def __init__(
        self, body: Any = None, status: int | None = None, headers: Headers = None, compress: bool = False
    ) -> None:
        content_type = None
        if isinstance(body, (dict, list)):
            body = dump_json(body)
            content_type = "application/json"
        Response.__init__(
            self,
            body,
            status=status or self.status_code_default,
            headers=headers,
            content_type=content_type,
            compress=compress,
        )
        Exception.__init__(self, self.status)

    def __str__(self) -> str:
        return f"{self.status}"

    __hash__ = object.__hash__


class BadRequest(ExceptionResponse):
    status_code_default = Status.BAD_REQUEST


class Unauthorized(ExceptionResponse):
    status_code_default = Status.UNAUTHORIZED


class Forbidden(ExceptionResponse):
    status_code_default = Status.FORBIDDEN


class NotFound(ExceptionResponse):
    status_code_default = Status.NOT_FOUND


class ServerError(ExceptionResponse):
    status_code_default = Status.INTERNAL_SERVER_ERROR
