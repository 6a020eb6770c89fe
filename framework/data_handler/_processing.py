"""The processor chain: compiled once per field, run once per value.

A field's processors compile into a tuple of steps. ``run_chain`` is a generator that
yields each awaitable a processor returns and receives its result, so one implementation
of Backendpy's semantics serves both drivers of ``framework.drive``: ``drive_sync``
(awaitables run on the thread's loop) and ``drive_async`` (awaited). A chain whose
processors are all sync never yields, so the sync path pays no async cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Iterable, Mapping
from typing import Any

from marshmallow import ValidationError

from .. import _async
from ..drive import drive_async, drive_sync
from .filters import Filter, FilterError
from .validators import Validator

__all__ = ["Step", "compile_steps", "has_async", "run_chain", "run_chain_sync", "drive_sync", "drive_async"]

VALIDATOR, FILTER, CALLABLE, NESTED = range(4)

#: ``(kind, processor, nested steps)``
Step = tuple[int, Any, tuple]
Chain = Generator[Awaitable[Any], Any, tuple[Any, bool]]

_BLANK = (None, "", b"")

#: Result types that cannot be awaitable: checked first, the general test is slow.
_PLAIN_TYPES = frozenset({str, int, float, bool, bytes, list, dict, tuple, type(None)})


def _awaitable(value: Any) -> bool:
    return type(value) not in _PLAIN_TYPES and _async.is_awaitable(value)


def compile_steps(processors: Iterable[Any] | None) -> tuple[Step, ...]:
    """Classify ``processors`` once: validators, filters, nested iterables (applied to each
    item of a list) and plain callables (marshmallow-style validators that raise
    ``ValidationError`` or return False)."""
    steps: list[Step] = []
    for processor in processors or ():
        if isinstance(processor, Validator):
            steps.append((VALIDATOR, processor, ()))
        elif isinstance(processor, Filter):
            steps.append((FILTER, processor, ()))
        elif isinstance(processor, (list, tuple, set, frozenset)) or (
            isinstance(processor, Iterable) and not isinstance(processor, (str, bytes, Mapping))
        ):
            steps.append((NESTED, None, compile_steps(processor)))
        elif callable(processor):
            steps.append((CALLABLE, processor, ()))
        else:
            raise TypeError(f"{processor!r} is not a validator, a filter, an iterable of them or a callable")
    return tuple(steps)


def has_async(steps: tuple[Step, ...]) -> bool:
    """True when a processor of ``steps`` (nested ones included) is ``async def``."""
    for kind, processor, nested in steps:
        if kind == NESTED:
            if has_async(nested):
                return True
        elif _async.is_async_callable(processor):
            return True
    return False


def _add_error(errors: list[Any], error: Any) -> None:
    if isinstance(error, (list, tuple)):
        errors.extend(error)
    else:
        errors.append(error)


def run_chain(steps: tuple[Step, ...], value: Any, meta: Mapping[str, Any], errors: list[Any]) -> Chain:
    """Apply ``steps`` to ``value`` in order; return ``(value, ok)``.

    Validators see every value, None included, and return None or an error message; the
    first error ends the chain. Filters skip None. A nested chain applies to each item of
    a list; a value that is neither a list nor blank is an error there.
    """
    is_awaitable = _awaitable
    for kind, processor, nested in steps:
        if kind == VALIDATOR:
            error = processor(value, meta)
            if error is not None and is_awaitable(error):
                error = yield error
            if error is not None:
                _add_error(errors, error)
                return None, False
        elif kind == FILTER:
            if value is None:
                continue
            try:
                result = processor(value)
                if is_awaitable(result):
                    result = yield result
            except FilterError as exc:
                errors.append(exc.message)
                return None, False
            value = result
        elif kind == NESTED:
            if isinstance(value, (list, tuple)):
                items = []
                for index, item in enumerate(value):
                    item_meta = {**meta, "index": index}
                    item, ok = yield from run_chain(nested, item, item_meta, errors)
                    if not ok:
                        return None, False
                    items.append(item)
                value = items
            elif value not in _BLANK:
                errors.append("Required list data")
                return None, False
        else:
            if value is None:
                continue
            try:
                result = processor(value)
                if is_awaitable(result):
                    result = yield result
            except ValidationError as exc:
                _add_error(errors, exc.messages)
                return None, False
            if result is False:
                errors.append("Invalid value")
                return None, False
    return value, True


def run_chain_sync(
    steps: tuple[Step, ...], value: Any, meta: Mapping[str, Any], errors: list[Any]
) -> tuple[Any, bool]:
    """``run_chain`` for chains without ``async def`` processors, as a plain loop. A stray
    awaitable (a sync processor returning one) still runs, on the thread's loop.

    A deliberate twin of ``run_chain``, the one pair that stays written twice: it runs for
    every field of every request, and driving the generator costs about twice as much per
    field (its creation, ``send`` and ``StopIteration``). A change to one is made to the
    other; ``tests/data_handler/test_processing.py`` runs both over the same cases."""
    for kind, processor, nested in steps:
        if kind == VALIDATOR:
            error = processor(value, meta)
            if error is not None:
                if _awaitable(error):
                    error = _async.run(error)
                if error is not None:
                    _add_error(errors, error)
                    return None, False
        elif kind == FILTER:
            if value is None:
                continue
            try:
                value = processor(value)
                if _awaitable(value):
                    value = _async.run(value)
            except FilterError as exc:
                errors.append(exc.message)
                return None, False
        elif kind == NESTED:
            if isinstance(value, (list, tuple)):
                items = []
                for index, item in enumerate(value):
                    item, ok = run_chain_sync(nested, item, {**meta, "index": index}, errors)
                    if not ok:
                        return None, False
                    items.append(item)
                value = items
            elif value not in _BLANK:
                errors.append("Required list data")
                return None, False
        else:
            if value is None:
                continue
            try:
                result = processor(value)
                if _awaitable(result):
                    result = _async.run(result)
            except ValidationError as exc:
                _add_error(errors, exc.messages)
                return None, False
            if result is False:
                errors.append("Invalid value")
                return None, False
    return value, True
