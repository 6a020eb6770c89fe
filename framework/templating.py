"""Jinja2 templates looked up in the apps' ``template_dirs``.

``Template(name).render(context)`` searches the calling app's folders first, then every
other active app's, then the Flask application's own ``templates`` folder. Autoescaping
is always on. ``render`` returns the text when called plainly and a coroutine when called
from async code, so Backendpy's ``await Template(...).render(...)`` works unchanged.

The environments (one per app, searching its folders first) are built here once and
cached on the project (``Framework.template_environment`` delegates here).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import jinja2
from flask import current_app, has_request_context, request

from . import _async
from .error import NOT_FOUND, Error
from .logging import get_logger

if TYPE_CHECKING:
    from .extension import Framework

LOGGER = get_logger(__name__)

__all__ = ["Template", "environment", "blueprint_for_module"]


class Template:
    """A named template of the current project."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._caller = sys._getframe(1).f_globals.get("__name__", "")

    def _environment(self) -> jinja2.Environment:
        fw = current_app.extensions["framework"]
        app_name = None
        if has_request_context() and request.blueprint in fw.apps_by_blueprint:
            app_name = request.blueprint
        else:
            app_name = blueprint_for_module(fw, self._caller)
        return environment(fw, app_name)

    def render_sync(self, context: dict[str, Any] | None = None) -> str:
        """Render with ``context`` and return the text."""
        try:
            template = self._environment().get_template(self.name)
        except jinja2.TemplateNotFound:
            # a missing name (or one escaping the template folders) is a 404, not a crash
            LOGGER.warning("template %r not found", self.name)
            raise Error(NOT_FOUND) from None
        return template.render(context or {})

    def render(self, context: dict[str, Any] | None = None) -> Any:
        """The rendered text; awaitable when called from async code."""
        if _async.in_async_context():
            return _async.acall(self.render_sync, context)
        return self.render_sync(context)


def blueprint_for_module(fw: Framework, module: str) -> str | None:
    """The blueprint name of the app whose package holds ``module``."""
    for installed in fw.apps.values():
        if module == installed.package or module.startswith(installed.package + "."):
            return installed.blueprint.name
    return None


def environment(fw: Framework, blueprint: str | None) -> jinja2.Environment:
    """A Jinja environment searching ``blueprint``'s folders first, then every other
    active app's, then the Flask app's own loader (cached per blueprint on ``fw``)."""
    env = fw._templates.get(blueprint)
    if env is None:
        first = fw.apps_by_blueprint.get(blueprint) if blueprint else None
        ordered = ([first] if first else []) + [i for i in fw.apps.values() if i is not first]
        loaders: list[jinja2.BaseLoader] = [
            jinja2.FileSystemLoader(i.template_dirs) for i in ordered if i.template_dirs
        ]
        app = fw.app or current_app
        if app.jinja_loader is not None:
            loaders.append(app.jinja_loader)
        env = app.jinja_env.overlay(loader=jinja2.ChoiceLoader(loaders), autoescape=True)
        fw._templates[blueprint] = env
    return env
