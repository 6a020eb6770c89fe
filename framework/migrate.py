"""Bring a project's database schema up to date once per deployment (``framework migrate``).

Workers never change the schema of a server database when they start: with several
instances and several workers each, they would race each other (and a half-applied
migration would meet code that expects the new schema). A deployment runs the migration
once, as a job of its own, before the new instances start: ``framework migrate``.

Two deploy jobs may still run it at the same time (a retried job, two pipelines). On
PostgreSQL the upgrade runs under a session-level advisory lock of the database: the
second job waits for the first, then finds the schema at its head and changes nothing. A
SQLite file is guarded by a file lock next to it; other databases get no lock.

What is applied: the project's Flask-Migrate revisions (``migrations/versions``), up to
``revision`` (default ``head``). A project without any revision gets its models' missing
tables created instead, as ``framework create_db`` does.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask

from .config import ImproperlyConfigured
from .logging import get_logger

__all__ = ["MigrationResult", "MigrationLockTimeout", "migrate_database", "LOCK_KEY", "DEFAULT_WAIT"]

LOGGER = get_logger("framework.migrate")

#: The PostgreSQL advisory lock key of ``framework migrate`` (advisory locks are per database).
LOCK_KEY = zlib.crc32(b"framework.migrate")
#: Seconds a migration waits for another one to finish before giving up.
DEFAULT_WAIT = 900.0


class MigrationLockTimeout(Exception):
    """Another migration of the same database held the lock for longer than the wait."""


@dataclass
class MigrationResult:
    """What ``migrate_database`` found and did."""

    #: The revisions the database was at before (empty: none, or no migrations).
    before: tuple[str, ...] = ()
    #: The revisions it is at now.
    after: tuple[str, ...] = ()
    #: True when the project has Alembic revisions; False when tables were created instead.
    migrations: bool = True
    #: Tables created (projects without revisions only).
    created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when this run changed the schema."""
        return self.before != self.after or bool(self.created)


def migrate_database(app: Flask, revision: str = "head", wait: float = DEFAULT_WAIT) -> MigrationResult:
    """Upgrade ``app``'s database to ``revision`` under the deployment lock (see the module).

    Raises ``MigrationLockTimeout`` after ``wait`` seconds spent waiting for another run.
    """
    from .db import migrate_extension

    migrate = migrate_extension(app)
    if "sqlalchemy" not in app.extensions or migrate is None:
        raise ImproperlyConfigured("[database] the project has no database installed: nothing to migrate")
    with app.app_context():
        ext = app.extensions["sqlalchemy"]
        engine: sa.Engine = ext.engine
        config = migrate.migrate.get_config()
        script = _scripts(config)
        with deployment_lock(engine, wait):
            if script is None or not list(script.walk_revisions()):
                existing = set(sa.inspect(engine).get_table_names())
                ext.create_all()
                created = sorted(set(ext.metadata.tables) - existing)
                return MigrationResult(migrations=False, created=created)
            from alembic import command

            before = _current(engine)
            command.upgrade(config, revision)
            return MigrationResult(before=before, after=_current(engine))


def _scripts(config: Any) -> Any:
    """The project's Alembic script folder, or None when it has no ``migrations/env.py``."""
    from alembic.script import ScriptDirectory

    location = config.get_main_option("script_location")
    if not location or not os.path.isfile(os.path.join(location, "env.py")):
        return None
    return ScriptDirectory.from_config(config)


def _current(engine: sa.Engine) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


@contextmanager
def deployment_lock(engine: sa.Engine, wait: float = DEFAULT_WAIT) -> Iterator[None]:
    """Hold the migration lock of ``engine``'s database: a PostgreSQL advisory lock on a
    connection of its own (released by PostgreSQL if this process dies), a file lock next to
    a SQLite file, nothing elsewhere."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with _advisory_lock(engine, wait):
            yield
    elif backend == "sqlite" and engine.url.database and engine.url.database != ":memory:":
        with _file_lock(engine.url.database + ".migrate-lock", wait):
            yield
    else:
        LOGGER.warning("no migration lock for %s databases: run one migration at a time", backend)
        yield


@contextmanager
def _advisory_lock(engine: sa.Engine, wait: float) -> Iterator[None]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # lock_timeout bounds the wait for an advisory lock as for any other
        conn.execute(sa.text("SELECT set_config('lock_timeout', :ms, false)"), {"ms": f"{int(wait * 1000)}"})
        try:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise MigrationLockTimeout(
                    f"another migration of this database held the lock for more than {wait:g}s"
                ) from None
            raise
        conn.execute(sa.text("SELECT set_config('lock_timeout', '0', false)"))
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})


@contextmanager
def _file_lock(path: str, wait: float) -> Iterator[None]:
    import fcntl
    import time

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise MigrationLockTimeout(
                        f"another migration of this database held {path} for more than {wait:g}s"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
