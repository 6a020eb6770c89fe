"""Hooks: functions run when an event fires.

``Hooks().event(name)`` collects hooks in an app (``App(hooks=[...])``); the project
connects them to the event's blinker signal at start-up. A hook receives the event's
arguments as keyword arguments and may be ``def`` or ``async def``.
``Hooks().event(name, background=True)`` declares a hook that always runs in the
background, on a worker, when its event fires (``framework.background``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Hooks"]

HookFunc = Callable[..., Any]


class Hooks:
    """An ordered set of (event name, hook function) pairs."""

    def __init__(self) -> None:
        #: (event name, hook, runs in the background), in the order they were declared.
        self._hooks: list[tuple[str, HookFunc, bool]] = []

    def event(self, name: str, background: bool = False) -> Callable[[HookFunc], HookFunc]:
        """Decorate a function to run when the event ``name`` fires; with ``background``,
        it runs on a worker (its arguments must then be JSON values)."""

        def register(func: HookFunc) -> HookFunc:
            self.add(name, func, background=background)
            return func

        return register

    def add(self, name: str, func: HookFunc, background: bool = False) -> None:
        self._hooks.append((name, func, bool(background)))

    def entries(self) -> Iterator[tuple[str, HookFunc, bool]]:
        """(event name, hook, runs in the background) in the order they were declared."""
        return iter(self._hooks)

    def __iter__(self) -> Iterator[tuple[str, HookFunc]]:
        return ((name, func) for name, func, _ in self._hooks)

    def __len__(self) -> int:
        return len(self._hooks)
