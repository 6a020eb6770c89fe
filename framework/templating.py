"""Jinja2 templates looked up in the apps' ``template_dirs``.

``Template(name).render(context)`` searches the calling app's folders first, then every
other active app's, then the Flask application's own ``templates`` folder. Autoescaping
is always on. ``render`` returns the text when called plainly and a coroutine when called
from async code, so Backendpy's ``await Template(...).render(...)`` works unchanged.
"""

from __future__ import annotations

import sys
from typing import Any

import jinja2
from flask import current_app, has_request_context, request

from . import _async

__all__ = ["Template"]


def _escapes(name: str) -> bool:
    """True for a template name that points outside the template folders."""
    if not isinstance(name, str) or not name or "\0" in name or "\\" in name:
        return True
    return name.startswith("/") or ".." in name.split("/")


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
            app_name = fw.blueprint_for_module(self._caller)
        return fw.template_environment(app_name)

    def render_sync(self, context: dict[str, Any] | None = None) -> str:
        """Render with ``context`` and return the text.

        A name that tries to leave the template folders (``..``, an absolute path, a
        backslash, a NUL byte) can only come from input, so it answers 404 (code 1001)
        instead of reaching the loader; a missing ordinary name stays a server error.
        """
        if _escapes(self.name):
            from .error import Error

            raise Error(1001)
        template = self._environment().get_template(self.name)
        return template.render(context or {})

    def render(self, context: dict[str, Any] | None = None) -> Any:
        """The rendered text; awaitable when called from async code."""
        if _async.in_async_context():
            return _async.acall(self.render_sync, context)
        return self.render_sync(context)
