"""Loggers that colour their level names on a terminal and stay plain elsewhere.

``get_logger(name)`` returns a standard ``logging.Logger``. Each project logs at its own
``[logging] level``: a record made while one of its requests (or anything else in its
Flask app context) runs passes if it reaches that project's level, so two projects in one
process keep their levels. Outside any project's context the process default applies,
which only a project that owns the process (``create_app``) or ``set_level`` changes; a
host application's ``init_app`` changes nothing process-wide.

``[logging] format`` works the same way: ``text`` (the default: ``time LEVEL [logger]
message``) or ``json`` (``JsonFormatter``: one JSON object per line), per project in its
own context, the process default changed only by a project that owns the process
(``set_format``). A record made during a request carries the request's id
(``RequestIdFilter``, ``framework.request_id``): the text format shows it in brackets
after the logger's name, the JSON format as ``request_id``.
"""

from __future__ import annotations

import json
import logging as _logging
import sys
from datetime import UTC, datetime
from logging import *  # noqa: F401,F403  (Backendpy exposes the stdlib names here too)
from typing import Any

from flask import current_app, has_app_context, has_request_context
from flask import request as _request

from .request_id import ENVIRON_KEY as _REQUEST_ID_KEY
from .request_id import current_request_id

#: The stdlib module itself: Backendpy's listing 41 does ``from backendpy.logging import logging``.
logging = _logging

__all__ = [
    "get_logger",
    "set_level",
    "resolve_level",
    "allow_level",
    "set_format",
    "resolve_format",
    "write_through_root",
    "ColorFormatter",
    "TextFormatter",
    "JsonFormatter",
    "RequestIdFilter",
    "FORMATS",
]

_COLORS = {
    "DEBUG": "\033[36m",
    "INFO": "\033[32m",
    "WARNING": "\033[33m",
    "ERROR": "\033[31m",
    "CRITICAL": "\033[1;31m",
}
_RESET = "\033[0m"
_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
#: The values ``[logging] format`` takes.
FORMATS = ("text", "json")

#: The process default: outside any project's context.
_level: int = _logging.INFO
#: The lowest level a project asked for: the loggers' own threshold, so that the
#: project's records reach ``_ProjectLevel``, which applies each project's level.
_floor: int = _logging.INFO
#: The process default format: outside any project's context.
_format: str = "text"
_loggers: dict[str, _logging.Logger] = {}


class _ProjectLevel(_logging.Filter):
    """Passes a record that reaches the level of the project in whose context it is made
    (``Framework.log_level``), or the process default outside any project."""

    def filter(self, record: _logging.LogRecord) -> bool:
        level = _level
        if has_app_context():
            own = getattr(current_app.extensions.get("framework"), "log_level", None)
            if own is not None:
                level = own
        return record.levelno >= level


_project_level = _ProjectLevel()


class RequestIdFilter(_logging.Filter):
    """Sets ``record.request_id``: the id of the request during which the record is made,
    None outside a request. Passes every record. On the framework's own handler; add it to
    a handler of yours to use ``%(request_id)s`` in its format."""

    def filter(self, record: _logging.LogRecord) -> bool:
        request_id = current_request_id()
        if request_id is None and has_request_context():
            # a body streamed after the WSGI call returned, inside stream_with_context
            request_id = _request.environ.get(_REQUEST_ID_KEY)
        record.request_id = request_id
        return True


class TextFormatter(_logging.Formatter):
    """The text format; a record made during a request shows its id in brackets before
    the message (``... [framework] [3f2a...] message``)."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        fmt = fmt or _FORMAT
        super().__init__(fmt, datefmt)
        self._with_id = _logging.Formatter(
            fmt.replace("%(message)s", "[%(request_id)s] %(message)s"), datefmt
        )

    def formatMessage(self, record: _logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        if getattr(record, "request_id", None):
            return self._with_id.formatMessage(record)
        return super().formatMessage(record)


class JsonFormatter(_logging.Formatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC, milliseconds), ``level``,
    ``logger``, ``message``, ``request_id`` (null outside a request), and ``exception``
    (the traceback's text) or ``stack`` when the record has one. Newlines inside values
    are escaped, so a record is always exactly one line."""

    def format(self, record: _logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


_json_formatter = JsonFormatter()


class ColorFormatter(TextFormatter):
    """Colours the level name; used only when the stream is a terminal."""

    def format(self, record: _logging.LogRecord) -> str:
        text = super().format(record)
        color = _COLORS.get(record.levelname)
        if color:
            text = text.replace(record.levelname, f"{color}{record.levelname}{_RESET}", 1)
        return text


class _ProjectHandler(_logging.StreamHandler):
    """Writes a record in the format of the project in whose context it is made
    (``Framework.log_format``), or the process default outside any project: JSON with
    ``JsonFormatter``, text with the handler's own formatter."""

    def format(self, record: _logging.LogRecord) -> str:
        fmt = _format
        if has_app_context():
            own = getattr(current_app.extensions.get("framework"), "log_format", None)
            if own is not None:
                fmt = own
        if fmt == "json":
            return _json_formatter.format(record)
        return super().format(record)


def _handler_for(stream: Any) -> _logging.Handler:
    handler = _ProjectHandler(stream)
    is_tty = getattr(stream, "isatty", lambda: False)()
    handler.setFormatter(ColorFormatter(_FORMAT) if is_tty else TextFormatter(_FORMAT))
    handler.addFilter(RequestIdFilter())
    return handler


_root_handler = _handler_for(sys.stderr)


def get_logger(name: str) -> _logging.Logger:
    """A logger writing to stderr, coloured on a terminal, at the project's level."""
    logger = _loggers.get(name)
    if logger is None:
        logger = _logging.getLogger(name)
        if not any(h is _root_handler for h in logger.handlers) and not _has_own_handler(name):
            logger.addHandler(_root_handler)
            for child_name, child in _loggers.items():  # made first: now written through this one
                if child_name.startswith(name + "."):
                    child.removeHandler(_root_handler)
        logger.addFilter(_project_level)
        logger.setLevel(min(_level, _floor))
        _loggers[name] = logger
    return logger


def write_through_root() -> None:
    """Stop writing the framework's records to stderr here: they reach the root logger's
    handlers instead (a process whose logging something else set up, a Celery worker)."""
    for logger in _loggers.values():
        logger.removeHandler(_root_handler)


def _has_own_handler(name: str) -> bool:
    # a child of a logger made here already writes through its parent's handler
    parent = name.rpartition(".")[0]
    while parent:
        if parent in _loggers:
            return True
        parent = parent.rpartition(".")[0]
    return False


def resolve_level(level: str | int) -> int:
    """``level`` as a number (``"debug"``, ``"WARNING"``, 10); ``ValueError`` if unknown."""
    if isinstance(level, str):
        resolved = _logging.getLevelName(level.strip().upper())
        if not isinstance(resolved, int):
            raise ValueError(f"unknown logging level {level!r}")
        return resolved
    return level


def set_level(level: str | int) -> None:
    """Set the process default level, used outside any project's context (now and later)."""
    global _level
    _level = resolve_level(level)
    _apply()


def resolve_format(name: str) -> str:
    """``name`` as one of ``FORMATS``; ``ValueError`` if it is none of them."""
    resolved = str(name).strip().lower()
    if resolved not in FORMATS:
        raise ValueError(f"unknown logging format {name!r} (one of {', '.join(FORMATS)})")
    return resolved


def set_format(name: str) -> None:
    """Set the process default format (``text`` or ``json``), used outside any project's
    context and by projects that do not set one."""
    global _format
    _format = resolve_format(name)


def allow_level(level: int) -> None:
    """Let a project log down to ``level`` in its own context (``Framework.init_app``)."""
    global _floor
    if level < _floor:
        _floor = level
        _apply()


def _apply() -> None:
    threshold = min(_level, _floor)
    for logger in _loggers.values():
        logger.setLevel(threshold)
