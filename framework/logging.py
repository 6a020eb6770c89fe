"""Loggers that colour their level names on a terminal and stay plain elsewhere.

``get_logger(name)`` returns a standard ``logging.Logger``. Each project logs at its own
``[logging] level``: a record made while one of its requests (or anything else in its
Flask app context) runs passes if it reaches that project's level, so two projects in one
process keep their levels. Outside any project's context the process default applies,
which only a project that owns the process (``create_app``) or ``set_level`` changes; a
host application's ``init_app`` changes nothing process-wide.
"""

from __future__ import annotations

import logging as _logging
import sys
from logging import *  # noqa: F401,F403  (Backendpy exposes the stdlib names here too)
from typing import Any

from flask import current_app, has_app_context

#: The stdlib module itself: Backendpy's listing 41 does ``from backendpy.logging import logging``.
logging = _logging

__all__ = ["get_logger", "set_level", "resolve_level", "allow_level", "ColorFormatter", "write_through_root"]

_COLORS = {
    "DEBUG": "\033[36m",
    "INFO": "\033[32m",
    "WARNING": "\033[33m",
    "ERROR": "\033[31m",
    "CRITICAL": "\033[1;31m",
}
_RESET = "\033[0m"
_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"

#: The process default: outside any project's context.
_level: int = _logging.INFO
#: The lowest level a project asked for: the loggers' own threshold, so that the
#: project's records reach ``_ProjectLevel``, which applies each project's level.
_floor: int = _logging.INFO
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


class ColorFormatter(_logging.Formatter):
    """Colours the level name; used only when the stream is a terminal."""

    def format(self, record: _logging.LogRecord) -> str:
        text = super().format(record)
        color = _COLORS.get(record.levelname)
        if color:
            text = text.replace(record.levelname, f"{color}{record.levelname}{_RESET}", 1)
        return text


def _handler_for(stream: Any) -> _logging.Handler:
    handler = _logging.StreamHandler(stream)
    is_tty = getattr(stream, "isatty", lambda: False)()
    handler.setFormatter(ColorFormatter(_FORMAT) if is_tty else _logging.Formatter(_FORMAT))
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
