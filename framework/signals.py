"""The framework's events as blinker signals, so plain Flask code can subscribe too.

Senders are ``Framework`` objects: a receiver connected with ``sender=fw`` (or the Flask
app it belongs to, a ``Backendpy`` project included) hears only that project; one connected
without a sender hears every project in the process. Receivers run
in the order they were connected (blinker's own signals leave the order undefined), so an
app's hooks run in the order they were written.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from blinker import ANY, NamedSignal, Namespace
from flask import Flask

__all__ = ["namespace", "startup", "shutdown", "request_start", "request_end", "event"]


class _OrderedIds(dict):
    """An insertion-ordered set: the part of the ``set`` API blinker uses on ``set_class``."""

    def add(self, item: Any) -> None:
        self[item] = None

    def discard(self, item: Any) -> None:
        self.pop(item, None)

    def copy(self) -> _OrderedIds:
        return _OrderedIds(self)

    def __or__(self, other: Any) -> _OrderedIds:
        merged = _OrderedIds(self)
        merged.update(dict.fromkeys(other))
        return merged


class OrderedSignal(NamedSignal):
    """A named signal whose receivers run in connection order.

    ``receivers_for(sender)`` is computed once per sender and reused until a receiver
    connects or disconnects: the request events ask for it on every request. A list is
    reused only while every receiver is held strongly (the framework's hooks are); with a
    weakly connected receiver it is computed each time, as blinker does, so a receiver
    that has been garbage collected is never called.
    """

    set_class = _OrderedIds  # type: ignore[assignment]

    def __init__(self, name: str, doc: str | None = None) -> None:
        super().__init__(name, doc)
        #: Bumped by every connect and disconnect; a cached list of an older version is
        #: never used (so a list computed while another thread connects is not kept).
        self._version = 0
        #: sender id -> (weak reference to the sender, version, receivers in order)
        self._receivers_cache: dict[int, tuple[weakref.ref[Any], int, tuple[Callable[..., Any], ...]]] = {}

    def connect(self, receiver: Callable[..., Any], sender: Any = ANY, weak: bool = True) -> Any:
        try:
            return super().connect(receiver, _project(sender), weak)
        finally:
            self._changed()

    def disconnect(self, receiver: Callable[..., Any], sender: Any = ANY) -> None:
        try:
            super().disconnect(receiver, _project(sender))
        finally:
            self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._receivers_cache.clear()

    def receivers_for(self, sender: Any) -> Iterable[Callable[..., Any]]:  # type: ignore[override]
        version = self._version
        cached = self._receivers_cache.get(id(sender))
        if cached is not None and cached[1] == version and cached[0]() is sender:
            return cached[2]
        receivers = tuple(super().receivers_for(sender))
        entries = list(self.receivers.values())  # one C call: safe while another thread connects
        if not any(isinstance(entry, weakref.ref) for entry in entries):
            try:
                self._receivers_cache[id(sender)] = (weakref.ref(sender), version, receivers)
            except TypeError:  # a sender that cannot be weakly referenced: not cached
                pass
        return receivers


def _project(sender: Any) -> Any:
    """The ``Framework`` of a Flask app given as sender (the object the events come from)."""
    if isinstance(sender, Flask):
        return sender.extensions.get("framework", sender)
    return sender


class _OrderedNamespace(Namespace):
    def signal(self, name: str, doc: str | None = None) -> NamedSignal:
        if name not in self:
            self[name] = OrderedSignal(name, doc)
        return self[name]


namespace: Namespace = _OrderedNamespace()

startup = namespace.signal("startup", doc="Once per worker process, before it serves.")
shutdown = namespace.signal("shutdown", doc="Once when the worker process exits.")
request_start = namespace.signal("request_start", doc="Before a request reaches its handler.")
request_end = namespace.signal("request_end", doc="After the response body has been sent.")


def event(name: str) -> NamedSignal:
    """The signal for the event ``name`` (the same object every time)."""
    return namespace.signal(name)
