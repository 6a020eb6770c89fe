"""``Backendpy``: the porting name for a project object that is itself the WSGI app.

``bp = Backendpy()`` in a project's ``main.py`` reads the ``config.ini`` beside that
module; ``gunicorn main:bp`` serves it, and ``bp.config``, ``bp.context``, ``bp.event``,
``bp.execute_event`` and ``bp.get_current_request`` work as in Backendpy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

from .extension import Framework
from .flask_app import FrameworkFlask

__all__ = ["Backendpy"]


class Backendpy(Framework):
    """A ``Framework`` that owns its Flask app and is called as a WSGI application."""

    def __init__(self, root_path: str | None = None, *, env: str | None = None,
                 config: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        if root_path is None:
            caller = sys._getframe(1).f_globals.get("__file__")
            root_path = os.path.dirname(os.path.abspath(caller)) if caller else os.getcwd()
        root = os.path.abspath(root_path)
        flask_app = FrameworkFlask(os.path.basename(root) or "project", root_path=root,
                          instance_path=os.path.join(root, "instance"), static_folder=None)
        super().__init__(flask_app, root_path=root, env=env, config=config, owns_app=True)

    @property
    def flask_app(self) -> Flask:
        assert self.app is not None
        return self.app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self.flask_app(environ, start_response)
