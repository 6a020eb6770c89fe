"""``create_app``: a Flask application owned by the framework, built from a project folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from .extension import Framework
from .flask_app import FrameworkFlask

__all__ = ["create_app"]


def create_app(
    root_path: str | os.PathLike[str] | None = None,
    *,
    env: str | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> Flask:
    """Build the project's Flask app from ``root_path/config.ini`` (or ``config.<env>.ini``).

    ``root_path`` defaults to the working directory and ``env`` to ``$FRAMEWORK_ENV``;
    ``config`` (``{section: {key: value}}``) is applied last.
    """
    root = os.path.abspath(os.fspath(root_path) if root_path is not None else os.getcwd())
    app = FrameworkFlask(
        os.path.basename(root) or "project",
        root_path=root,
        instance_path=os.path.join(root, "instance"),
        static_folder=None,
    )
    Framework(app, root_path=root, env=env, config=config, owns_app=True)
    return app
