"""Database fixtures shared by tests/db, tests/accounts and tests/cli.

``database_uri`` runs a test once on SQLite and once on PostgreSQL (its own schema, dropped
afterwards); ``postgres_uri`` runs it on PostgreSQL only. PostgreSQL tests skip when the
server is down, except with CI=true, where they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from framework import create_app
from framework.testing.postgres import require_postgres, temporary_schema

#: The docs' project is run by test_docs_listings_db.py in its own processes, not collected.
collect_ignore_glob = ["docs_project/*"]

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
    config: dict[str, dict[str, Any]] = {"apps": {"active": apps or BOOK_APPS},
                                         "middlewares": {"active": []},
                                         "database": {"uri": uri}, **sections}
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
    """A threaded werkzeug server on a free port; yields its base URL, stops it after."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
