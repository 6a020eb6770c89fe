"""What a route answers: the envelopes, and the responses read from the handler's code.

The success and error envelopes are marshmallow schemas registered as components. A
handler's ``return``/``raise`` statements are read (never run) to learn which response
classes it builds (``Success``, ``Text``, ``HTML``, ``Redirect``, ...) and which error
codes it raises, so the document says what the route really sends. A handler whose
answers cannot be read is documented with the Success envelope.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate

from ..error import Error
from ..exception import ExceptionResponse
from ..response import HTML, JSON, Binary, File, Redirect, Response, Success, Text

__all__ = ["SuccessEnvelope", "ErrorEnvelope", "ValidationErrorEnvelope", "HandlerAnswers", "read_handler"]


class SuccessEnvelope(Schema):
    """``{"status": "success", "data": ...}``; ``data`` is absent when there is none."""

    status = fields.String(required=True, validate=validate.OneOf(["success"]))
    data = fields.Raw(metadata={"description": "The route's result"})


class ErrorEnvelope(Schema):
    """``{"status": "error", "code": N, "message": "...", "data": ...}``: the description of
    what ``framework.error.envelope`` builds (a test holds the two together)."""

    status = fields.String(required=True, validate=validate.OneOf(["error"]))
    code = fields.Integer(required=True, metadata={"description": "The error code"})
    message = fields.String(required=True)
    data: fields.Field[Any] = fields.Raw(metadata={"description": "Details of the error, when there are any"})


class ValidationErrorEnvelope(ErrorEnvelope):
    """The 400 envelope of invalid input (code 1002): ``data`` maps each field to its errors."""

    data = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={
            "description": "Each invalid field's name mapped to its messages "
            "(a list of strings; for a list field, per item)"
        },
    )


@dataclass
class HandlerAnswers:
    """What one handler was seen to answer."""

    #: status -> {media type: schema, or None for the Success envelope}
    success: dict[int, dict[str, dict[str, Any] | None]] = field(default_factory=dict)
    #: statuses of redirects it returns (307, or 308 when permanent)
    redirects: set[int] = field(default_factory=set)
    #: error codes it raises or returns with ``Error(code)``
    error_codes: set[int] = field(default_factory=set)


_ANY: dict[str, Any] = {}
_TEXT: dict[str, Any] = {"type": "string"}
_BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


def read_handler(handler: Callable[..., Any]) -> HandlerAnswers:
    """Read ``handler``'s source for the responses it builds; never runs it."""
    answers = HandlerAnswers()
    target = inspect.unwrap(handler)
    try:
        source = textwrap.dedent(inspect.getsource(target))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        tree = None
    namespace: dict[str, Any] = dict(getattr(target, "__globals__", {}))
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Return) and node.value is not None:
                _read_value(node.value, namespace, answers, returned=True)
            elif isinstance(node, ast.Raise) and node.exc is not None:
                _read_value(node.exc, namespace, answers, returned=False)
    if not answers.success and not answers.redirects:
        answers.success.setdefault(200, {})["application/json"] = None
    return answers


def _read_value(node: ast.expr, namespace: dict[str, Any], answers: HandlerAnswers, returned: bool) -> None:
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Call):
        target = _resolve(node.func, namespace)
        if isinstance(target, type):
            _read_call(target, node, answers, returned)
        return
    if not returned:
        return
    if isinstance(node, ast.Dict):
        answers.success.setdefault(200, {})["application/json"] = _ANY
    elif isinstance(node, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(node, "value", ""), str):
        answers.success.setdefault(200, {})["text/html"] = _TEXT


def _read_call(cls: type, node: ast.Call, answers: HandlerAnswers, returned: bool) -> None:
    if issubclass(cls, Error):
        code = _argument(node, 0, "code")
        if isinstance(code, int):
            answers.error_codes.add(code)
        return
    if issubclass(cls, ExceptionResponse) or not issubclass(cls, Response) or not returned:
        return
    if issubclass(cls, Redirect):
        permanent = _argument(node, 1, "permanent")
        answers.redirects.add(308 if permanent is True else 307)
        return
    if issubclass(cls, Success):
        status = _status(_argument(node, 1, "status"))
        answers.success.setdefault(status, {})["application/json"] = None
        return
    if issubclass(cls, File):
        answers.success.setdefault(200, {})["*/*"] = _BINARY
        answers.success.setdefault(304, {})
        if _argument(node, 5, "partial") is True:
            answers.success.setdefault(206, {})["*/*"] = _BINARY
        return
    status = _status(_argument(node, 1, "status"))
    content_type = _argument(node, 3, "content_type")
    if isinstance(content_type, str) and content_type:
        media, schema = content_type.split(";")[0].strip(), _TEXT
    elif issubclass(cls, JSON):
        media, schema = "application/json", _ANY
    elif issubclass(cls, HTML):
        media, schema = "text/html", _TEXT
    elif issubclass(cls, Text):
        media, schema = "text/plain", _TEXT
    elif issubclass(cls, Binary):
        media, schema = "application/octet-stream", _BINARY
    else:
        media, schema = "*/*", _ANY
    answers.success.setdefault(status, {})[media] = schema


def _status(value: Any) -> int:
    try:
        status = int(value)
    except (TypeError, ValueError):
        return 200
    return status if 100 <= status < 600 else 200


def _argument(node: ast.Call, position: int, name: str) -> Any:
    """A literal argument of a call (positional or keyword), or None when not literal."""
    expr: ast.expr | None = None
    for keyword in node.keywords:
        if keyword.arg == name:
            expr = keyword.value
    if (
        expr is None
        and len(node.args) > position
        and not any(isinstance(a, ast.Starred) for a in node.args[: position + 1])
    ):
        expr = node.args[position]
    if expr is None:
        return None
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "Status":
        from http import HTTPStatus

        return getattr(HTTPStatus, expr.attr, None)
    return None


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> Any:
    """The object an expression like ``Name`` or ``module.Name`` names in ``namespace``."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace)
        return getattr(base, node.attr, None) if base is not None else None
    return None
