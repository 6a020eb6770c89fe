"""Hooks: functions run when an event fires.

``Hooks().event(name)`` collects hooks in an app (``App(hooks=[...])``); the project
connects them to the event's blinker signal at start-up. A hook receives the event's
arguments as keyword arguments and may be ``def`` or ``async def``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["Hooks"]

HookFunc = Callable[..., Any]


class Hooks:
    """An ordered set of (event name, hook function) pairs."""

    def __init__(self) -> None:
        self._hooks: list[tuple[str, HookFunc]] = []

    def event(self, name: str) -> Callable[[HookFunc], HookFunc]:
        """Decorate a function to run when the event ``name`` fires."""

        def register(func: HookFunc) -> HookFunc:
            self._hooks.append((name, func))
            return func

        return register

    def add(self, name: str, func: HookFunc) -> None:
        self._hooks.append((name, func))

    def __iter__(self) -> Iterator[tuple[str, HookFunc]]:
        return iter(self._hooks)

    def __len__(self) -> int:
        return len(self._hooks)
