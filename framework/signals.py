"""The framework's events as blinker signals, so plain Flask code can subscribe too.

Senders are ``Framework`` objects: a receiver connected with ``sender=fw`` hears only that
project; one connected without a sender hears every project in the process. Receivers run
in the order they were connected (blinker's own signals leave the order undefined), so an
app's hooks run in the order they were written.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace, NamedSignal

__all__ = ["namespace", "startup", "shutdown", "request_start", "request_end", "event"]


class _OrderedIds(dict):  # type: ignore[type-arg]
    """An insertion-ordered set: the part of the ``set`` API blinker uses on ``set_class``."""

    def add(self, item: Any) -> None:
        self[item] = None

    def discard(self, item: Any) -> None:
        self.pop(item, None)

    def copy(self) -> _OrderedIds:
        return _OrderedIds(self)

    def __or__(self, other: Any) -> _OrderedIds:  # type: ignore[override]
        merged = _OrderedIds(self)
        merged.update(dict.fromkeys(other))
        return merged


class OrderedSignal(NamedSignal):
    """A named signal whose receivers run in connection order."""

    set_class = _OrderedIds  # type: ignore[assignment]


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
