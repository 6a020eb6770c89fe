"""Applications: the pluggable units a project is built from.

An app's package has a ``main`` module defining ``app = App(...)``; listing the package in
``[apps] active`` installs it. Each app becomes one Flask blueprint per project, named
after the last part of its package (``blueprints.hello`` -> ``hello``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .error import ErrorList
from .hook import Hooks
from .router import Route, Routes
from .schedule import Schedule

__all__ = ["App"]


def _flatten_routes(routes: Routes | Iterable[Routes | Route] | None) -> list[Route]:
    if routes is None:
        return []
    if isinstance(routes, Routes):
        return list(routes)
    result: list[Route] = []
    for item in routes:
        if isinstance(item, Route):
            result.append(item)
        else:
            result.extend(item)
    return result


class App:
    """The components of one application.

    :param routes: ``Routes`` objects (or one ``Routes``).
    :param hooks: ``Hooks`` objects.
    :param errors: ``ErrorList`` objects with the app's error codes (1100 and up).
    :param models: dotted names of modules holding the app's models, imported at start-up.
    :param template_dirs: template folders, relative to the app's package.
    :param init_func: ``init_func(config)``, sync or async, run by ``flask init-project``.
    :param needs_secret_key: the app signs with ``[flask] secret_key`` (tokens, the Flask
        session): a project using it refuses to start without a long enough key.
    :param rate_limit: the rate limit of the app's routes (``"100/minute"``, Flask-Limiter's
        syntax; a list or ``;`` for several), over ``[ratelimit] default`` and under a route's
        own ``rate_limit`` (see ``framework.ratelimit``).
    :param schedules: ``framework.Schedule`` objects: custom events fired periodically in
        the background (sent by ``framework beat``, run by ``framework worker``).
    """

    def __init__(
        self,
        routes: Routes | Iterable[Routes | Route] | None = None,
        hooks: Iterable[Hooks] | Hooks | None = None,
        errors: Iterable[ErrorList] | ErrorList | None = None,
        models: Iterable[str] | None = None,
        template_dirs: Iterable[str] | None = None,
        init_func: Callable[..., Any] | None = None,
        needs_secret_key: bool = False,
        rate_limit: str | Iterable[str] | None = None,
        schedules: Iterable[Schedule] | None = None,
    ) -> None:
        self.routes: list[Route] = _flatten_routes(routes)
        self.hooks: list[Hooks] = [hooks] if isinstance(hooks, Hooks) else list(hooks or ())
        self.errors: list[ErrorList] = [errors] if isinstance(errors, ErrorList) else list(errors or ())
        self.models: list[str] = [models] if isinstance(models, str) else list(models or ())
        self.template_dirs: list[str] = (
            [template_dirs] if isinstance(template_dirs, str) else list(template_dirs or ())
        )
        self.init_func = init_func
        self.needs_secret_key = bool(needs_secret_key)
        self.rate_limit = rate_limit
        self.schedules: list[Schedule] = list(schedules or ())
        for item in self.schedules:
            if not isinstance(item, Schedule):
                raise TypeError(f"App(schedules=...): expected Schedule objects, got {item!r}")

    def __repr__(self) -> str:
        return f"<App routes={len(self.routes)} hooks={len(self.hooks)} errors={len(self.errors)}>"
