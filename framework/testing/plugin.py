"""pytest plugin (entry point ``pytest11: framework``): the ``app`` and ``client`` fixtures.

``app`` is the project's Flask app, built from the folder named by the ``framework_project``
ini option (default: pytest's rootdir) with ``framework_config`` applied and a fresh SQLite
database per test. A project's own ``app`` or ``client`` fixture (in a conftest) takes
precedence over these, so the plugin never clashes with one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from .case import build_test_app, dispose_test_app


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "framework_project", "folder holding the project's config.ini (default: rootdir)", default=""
    )


@pytest.fixture
def framework_config() -> dict[str, dict[str, Any]]:
    """Configuration applied on top of the project's (override it in a conftest)."""
    return {}


@pytest.fixture
def app(
    request: pytest.FixtureRequest, tmp_path: Any, framework_config: dict[str, dict[str, Any]]
) -> Iterator[Flask]:
    """The project's Flask app with a fresh SQLite database whose tables exist."""
    root = request.config.getini("framework_project") or str(request.config.rootpath)
    if not os.path.isabs(root):
        root = os.path.join(str(request.config.rootpath), root)
    flask_app = build_test_app(root, framework_config, str(tmp_path))
    yield flask_app
    dispose_test_app(flask_app)


@pytest.fixture
def client(app: Flask) -> Any:
    """The app's test client."""
    return app.test_client()
