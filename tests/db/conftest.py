"""Database fixtures shared by tests/db, tests/accounts and tests/cli.

``database_uri`` runs a test once on SQLite and once on PostgreSQL (its own schema, dropped
afterwards); ``postgres_uri`` runs it on PostgreSQL only. PostgreSQL tests skip when the
server is down, except with CI=true, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from framework import create_app
from framework.testing.postgres import require_postgres, temporary_schema
from tests.liveserver import LiveServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BOOK_APPS = ["tests.db.dbapps.authors", "tests.db.dbapps.books"]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_uri(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.sqlite3"
        return
    require_postgres()
    with temporary_schema() as url:
        yield url


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    require_postgres()
    with temporary_schema() as url:
        yield url


def make_app(uri: str, apps: list[str] | None = None, **sections: dict[str, Any]) -> Any:
    """The repository's project with ``apps`` active on ``uri``, tables created."""
    config: dict[str, dict[str, Any]] = {
        "apps": {"active": apps or BOOK_APPS},
        "middlewares": {"active": []},
        "database": {"uri": uri},
        **sections,
    }
    app = create_app(ROOT, config=config)
    with app.app_context():
        app.extensions["sqlalchemy"].create_all()
    return app


def dispose(app: Any) -> None:
    with app.app_context():
        for engine in app.extensions["sqlalchemy"].engines.values():
            engine.dispose()


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """``app`` served in this process (``LiveServer`` of kind ``thread``); yields its base URL."""
    with LiveServer(app=app, kind="thread") as server:
        yield server.url
