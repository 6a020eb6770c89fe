"""Events: hooks connected to the signals of ``framework.signals``, and firing them.

``framework.signals`` declares the signals; this module connects a project's hooks to them
(``connect_hook``) and fires them for one project (``send``/``asend``, ``execute_event``).
A receiver's rule is written once (``deliver``): receivers run in connection order with
the event's arguments as keyword arguments; a failing one is logged naming the hook and
the event, and the others still run; a failing ``startup`` hook raises instead (a worker
whose start-up failed must not serve). Which receivers of a firing are queued for a worker
instead (``background=True`` on the hook) is decided in one place,
``framework.background.queue_hooks``, however the event fires; this module runs the rest.
``execute_event(..., background=True)`` queues every hook (``framework.background.fire``).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import _async, signals
from . import background as _background
from .drive import Steps, drive_async, drive_sync
from .logging import get_logger

__all__ = ["HookReceiver", "connect_hook", "deliver", "send", "asend", "execute_event"]

LOGGER = get_logger("framework")


class HookReceiver:
    """Connects a hook function to a signal: keyword arguments in, failures logged.

    The blinker face (``receiver(sender, **kwargs)``) serves code that sends the signal
    itself; the framework calls ``func`` through ``deliver``.
    """

    __slots__ = ("fw", "event", "func", "background")

    def __init__(self, fw: Any, event: str, func: Callable[..., Any], background: bool = False) -> None:
        self.fw, self.event, self.func = fw, event, func
        #: Queued for a worker instead of called (``@hooks.event(name, background=True)``).
        self.background = background

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        """Queued when it runs in the background, else called."""
        receivers = _background.queue_hooks(self.fw, self.event, kwargs, (self,))
        drive_sync(_run(self.event, receivers, sender, kwargs))


def deliver(sender: Any, signal: Any, kwargs: Mapping[str, Any]) -> Steps[None]:
    """Call ``signal``'s receivers for ``sender`` in order (the rule ``send`` and ``asend``
    drive); the background hooks among them are queued at once."""
    receivers = _background.queue_hooks(sender, signal.name, kwargs, signal.receivers_for(sender))
    return _run(signal.name, receivers, sender, kwargs)


def _run(event: str, receivers: Iterable[Any], sender: Any, kwargs: Mapping[str, Any]) -> Steps[None]:
    """Call each receiver (sync or async) in order: a hook with the keyword arguments, a
    plain blinker receiver with the sender first, as blinker calls it. A failure is logged
    and the next receiver runs (``startup``: raised)."""
    for receiver in receivers:
        hook = type(receiver) is HookReceiver
        func = receiver.func if hook else receiver
        try:
            result = func(**kwargs) if hook else func(sender, **kwargs)
            if result is not None and _async.is_awaitable(result):
                yield result
        except Exception:
            _receiver_failed(event, func)


def send(sender: Any, signal: Any, kwargs: Mapping[str, Any]) -> None:
    """Fire ``signal`` for ``sender`` from sync code (async hooks run on the thread's loop).

    ``deliver``'s rule, with each awaitable run at once instead of yielded: no generator
    to drive (``request_end`` fires this for every request).
    """
    for receiver in _background.queue_hooks(sender, signal.name, kwargs, signal.receivers_for(sender)):
        hook = type(receiver) is HookReceiver
        func = receiver.func if hook else receiver
        try:
            result = func(**kwargs) if hook else func(sender, **kwargs)
            if result is not None and _async.is_awaitable(result):
                _async.run(result)
        except Exception:
            _receiver_failed(signal.name, func)


async def asend(sender: Any, signal: Any, kwargs: Mapping[str, Any]) -> None:
    """Fire ``signal`` for ``sender`` from async code (async hooks awaited on the running loop)."""
    await drive_async(deliver(sender, signal, kwargs))


def _receiver_failed(event: str, func: Any) -> None:
    """Log the exception being handled, naming the event and the hook; re-raise it for
    ``startup`` (a worker whose start-up failed must not serve)."""
    name = getattr(func, "__qualname__", None) or repr(func)
    module = getattr(func, "__module__", None)
    if module:
        name = f"{module}.{name}"
    if event == "startup":
        exc = sys.exc_info()[1]
        if exc is not None:
            exc.add_note(f"raised by the startup hook {name}")
        raise  # noqa: PLE0704 - called from an ``except`` block
    LOGGER.exception("hook %s for event %r failed", name, event)


def connect_hook(fw: Any, event: str, func: Callable[..., Any], background: bool = False) -> None:
    """Run ``func`` (sync or async) with the event's arguments when ``fw`` fires ``event``;
    with ``background``, on a worker (not for the framework's own events, whose arguments
    are live objects)."""
    if background:
        _background.check_hook(event, func)
    signals.event(event).connect(HookReceiver(fw, event, func, background), sender=fw, weak=False)


#: Code flags of a function whose body may ``await`` (``async def``, async generators).
ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def execute_event(
    fw: Any, name: str, args: Mapping[str, Any] | None, caller_flags: int, background: bool = False
) -> Any:
    """Fire ``name`` for ``fw``: a coroutine to await when the caller's code (its
    ``co_flags``) is async, else fired at once, returning an awaitable that completes at once.

    With ``background`` every hook is queued and nothing runs here
    (``framework.background.fire``); otherwise the hooks declared ``background=True`` are
    queued first (``framework.background.queue_hooks``). Either checks the arguments
    before anything is queued or run.
    """
    kwargs = dict(args or {})
    if background:
        _background.fire(fw, name, kwargs)
        return FIRED
    inline = _background.queue_hooks(fw, name, kwargs, signals.event(name).receivers_for(fw))
    if not inline:
        return FIRED
    if caller_flags & ASYNC_CODE:
        return drive_async(_run(name, inline, fw, kwargs))
    drive_sync(_run(name, inline, fw, kwargs))
    return FIRED


class _Fired:
    """What ``execute_event`` returns to plain code: the hooks have run; awaiting it
    (from an async caller that went through a sync helper) completes at once."""

    __slots__ = ()

    def __await__(self) -> Any:
        return iter(())

    def __repr__(self) -> str:
        return "<event fired>"


FIRED = _Fired()
