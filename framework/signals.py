"""The framework's events as blinker signals, so plain Flask code can subscribe too.

Senders are ``Framework`` objects: a receiver connected with ``sender=fw`` hears only that
project; one connected without a sender hears every project in the process.
"""

from __future__ import annotations

from blinker import Namespace, NamedSignal

__all__ = ["namespace", "startup", "shutdown", "request_start", "request_end", "event"]

namespace = Namespace()

startup = namespace.signal("startup", doc="Once per worker process, before it serves.")
shutdown = namespace.signal("shutdown", doc="Once when the worker process exits.")
request_start = namespace.signal("request_start", doc="Before a request reaches its handler.")
request_end = namespace.signal("request_end", doc="After the response body has been sent.")


def event(name: str) -> NamedSignal:
    """The signal for the event ``name`` (the same object every time)."""
    return namespace.signal(name)
