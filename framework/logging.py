"""Loggers that colour their level names on a terminal and stay plain elsewhere.

``get_logger(name)`` returns a standard ``logging.Logger``; the project's
``[logging] level`` sets the level of every logger made here.
"""

from __future__ import annotations

import logging as _logging
import sys
from typing import Any
from logging import *  # noqa: F401,F403  (Backendpy exposes the stdlib names here too)

#: The stdlib module itself: Backendpy's listing 41 does ``from backendpy.logging import logging``.
logging = _logging

__all__ = ["get_logger", "set_level", "ColorFormatter"]

_COLORS = {"DEBUG": "\033[36m", "INFO": "\033[32m", "WARNING": "\033[33m",
           "ERROR": "\033[31m", "CRITICAL": "\033[1;31m"}
_RESET = "\033[0m"
_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"

_level: int = _logging.INFO
_loggers: dict[str, _logging.Logger] = {}


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
        logger.setLevel(_level)
        _loggers[name] = logger
    return logger


def _has_own_handler(name: str) -> bool:
    # a child of a logger made here already writes through its parent's handler
    parent = name.rpartition(".")[0]
    while parent:
        if parent in _loggers:
            return True
        parent = parent.rpartition(".")[0]
    return False


def set_level(level: str | int) -> None:
    """Set the level of every logger made by ``get_logger`` (now and later)."""
    global _level
    if isinstance(level, str):
        resolved = _logging.getLevelName(level.strip().upper())
        if not isinstance(resolved, int):
            raise ValueError(f"unknown logging level {level!r}")
        level = resolved
    _level = level
    for logger in _loggers.values():
        logger.setLevel(level)
