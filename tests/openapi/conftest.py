"""Fixtures: projects built by ``create_app`` from the repository's config.ini."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from framework import create_app

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE_APPS = ["blueprints.hello", "blueprints.accounts"]
AUTH_MIDDLEWARE = "blueprints.accounts.middleware.AuthMiddleware"
ALL_APPS = SAMPLE_APPS + ["tests.openapi.sample_api"]


@pytest.fixture
def make_app(tmp_path: Any) -> Callable[..., Flask]:
    """``make_app(apps=[...], openapi={...}, auth=None, **sections)``: a project on a fresh
    SQLite file; ``auth=True`` activates the accounts app's bearer-token middleware, which
    ``auth=None`` does whenever the accounts app is active (it refuses to start without)."""

    def make(
        apps: list[str] | None = None,
        openapi: dict[str, Any] | None = None,
        auth: bool | None = None,
        **sections: Any,
    ) -> Flask:
        active = ALL_APPS if apps is None else apps
        if auth is None:
            auth = "blueprints.accounts" in active
        config: dict[str, Any] = {
            "apps": {"active": active},
            "middlewares": {"active": [AUTH_MIDDLEWARE] if auth else []},
            "database": {"uri": f"sqlite:///{tmp_path / 'openapi.sqlite'}"},
            "openapi": {"enabled": "true", **(openapi or {})},
        }
        config.update(sections)
        return create_app(ROOT, config=config)

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()
