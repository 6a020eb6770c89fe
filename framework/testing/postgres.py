"""PostgreSQL for tests: the server's URL, and throw-away schemas and databases.

The URL is ``$FRAMEWORK_TEST_POSTGRES_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
Each test gets its own uniquely named schema (or database), so parallel runs never collide.
``require_postgres()`` skips a test when the server is down, except under ``CI=true``,
where it fails instead: in CI the PostgreSQL tests always run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

__all__ = ["postgres_url", "postgres_error", "require_postgres", "temporary_schema", "temporary_database"]

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("FRAMEWORK_TEST_POSTGRES_URL") or DEFAULT_URL


def _render(url: sa.engine.URL) -> str:
    return url.render_as_string(hide_password=False)


def postgres_error(url: str | None = None) -> str | None:
    """None when the server answers, else why not."""
    engine = sa.create_engine(
        url or postgres_url(), connect_args={"connect_timeout": 5}, poolclass=sa.pool.NullPool
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except sa.exc.DBAPIError as exc:
        return str(exc.orig).strip() or type(exc.orig).__name__
    finally:
        engine.dispose()


def require_postgres() -> str:
    """The server's URL; skips the test when it is down (fails under ``CI=true``)."""
    import pytest

    url = postgres_url()
    error = postgres_error(url)
    if error is not None:
        message = f"PostgreSQL at {sa.engine.make_url(url).render_as_string()} is down: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return url


def _unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


@contextmanager
def temporary_schema(url: str | None = None) -> Iterator[str]:
    """A URL whose connections use a new, empty schema; the schema is dropped afterwards."""
    base = sa.engine.make_url(url or postgres_url())
    name = _unique("t")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        try:
            yield _render(base.update_query_dict({"options": f"-csearch_path={name}"}))
        finally:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        engine.dispose()


@contextmanager
def temporary_database(url: str | None = None, *, create: bool = True) -> Iterator[str]:
    """A URL naming a new database (left uncreated with ``create=False``); dropped afterwards."""
    base = sa.engine.make_url(url or postgres_url())
    name = _unique("tdb")
    admin = sa.create_engine(
        base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    try:
        if create:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield _render(base.set(database=name))
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
