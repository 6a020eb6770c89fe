"""Migrations run once per deployment (``framework migrate``), never by workers at start-up.

Against a database of their own on the machine's PostgreSQL (skipped when it is down).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from framework.config import ImproperlyConfigured
from framework.migrate import LOCK_KEY, migrate_database
from framework.testing.postgres import require_postgres, temporary_database
from tests.liveserver import LiveServer, http_get, wait_until
from tests.scale.conftest import FRAMEWORK, HEAD, TABLES, copy_project, framework_env, run_framework


@pytest.fixture
def fresh_database():
    require_postgres()
    with temporary_database() as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            yield url, engine
        finally:
            engine.dispose()


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_gunicorn_workers_do_not_migrate_a_fresh_postgres_database(project_copy, fresh_database, tmp_path):
    url, engine = fresh_database
    started = tmp_path / "started"
    started.mkdir()
    env = {"FRAMEWORK__DATABASE__URI": url, "SCALE_DEMO_STARTED": str(started)}
    with LiveServer(project_copy, workers=3, threads=1, env=env, ready_path="/scale/pid") as server:
        # every worker has run its start-up (the project's startup hook leaves one file each)
        wait_until(lambda: len(list(started.iterdir())) == 3, timeout=60, what="3 workers started")
        status, _, _ = http_get(server.port, "/scale/pid")
        assert status == 200
        assert _tables(engine) == set()
    assert _tables(engine) == set()


def test_two_migrations_at_once_both_succeed_and_apply_the_schema_once(project_copy, fresh_database):
    url, engine = fresh_database
    env = framework_env(project_copy, {"FRAMEWORK__DATABASE__URI": url})

    def launch(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [FRAMEWORK, "migrate", *args],
            cwd=project_copy,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as holder:
        # hold the deployment lock so that the runs are surely waiting at the same time
        holder.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
        try:
            runs = [launch(), launch()]
            impatient = launch("--wait", "1")
            _, impatient_err = impatient.communicate(timeout=120)

            def waiting() -> bool:
                count = holder.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                        "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
                    )
                ).scalar_one()
                return count == 2

            wait_until(waiting, timeout=60, what="both migrations waiting for the lock")
            assert _tables(engine) == set()
        finally:
            holder.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        outputs = [run.communicate(timeout=120) for run in runs]
    # the one that would not wait longer than a second gave up, changing nothing
    assert impatient.returncode == 1
    assert "another migration of this database held the lock for more than 1s" in impatient_err
    assert "Traceback" not in impatient_err
    # the two others both succeeded, one after the other: the second found the schema done
    assert [run.returncode for run in runs] == [0, 0], outputs
    lines = sorted(out.strip() for out, _ in outputs)
    assert lines == [f"Database already at {HEAD}", f"Database upgraded from (empty) to {HEAD}"]
    assert _tables(engine) == TABLES
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]


def test_auto_create_is_refused_for_a_server_database(tmp_path: Path):
    from framework import create_app

    (tmp_path / "config.ini").write_text("[apps]\nactive =\n")
    config = {"database": {"uri": "postgresql+psycopg://app@127.0.0.1:1/app", "auto_create": "true"}}
    with pytest.raises(ImproperlyConfigured, match=r"\[database\] auto_create: .*'framework migrate'"):
        create_app(tmp_path, config=config)


def test_migrate_without_a_project_says_so(tmp_path: Path):
    run = run_framework(tmp_path, {}, "migrate")
    assert run.returncode == 1
    assert "no project in" in run.stderr and "Traceback" not in run.stderr


def test_migrate_names_an_unreachable_database(project_copy):
    run = run_framework(
        project_copy, {"FRAMEWORK__DATABASE__URI": "postgresql+psycopg://app@127.0.0.1:1/app"}, "migrate"
    )
    assert run.returncode == 1
    assert "cannot reach the database" in run.stderr and "Traceback" not in run.stderr


@pytest.fixture
def logging_kept():
    """Put the logging configuration back after the test: Alembic's env.py applies the
    project's alembic.ini with ``logging.config.fileConfig``, which disables every logger
    it does not name (the other tests' captured logs would go quiet)."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger()] + [
        lg for lg in list(manager.loggerDict.values()) if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.disabled, lg.level, list(lg.handlers), lg.propagate) for lg in loggers]
    try:
        yield
    finally:
        for lg, disabled, level, handlers, propagate in saved:
            lg.disabled, lg.level, lg.handlers, lg.propagate = disabled, level, handlers, propagate
        known = {id(entry[0]) for entry in saved}
        for lg in list(manager.loggerDict.values()):
            if isinstance(lg, logging.Logger) and id(lg) not in known:
                lg.disabled = False  # made during the test, then disabled by fileConfig


def _sqlite_project(tmp_path: Path, revisions: bool):
    """A project without apps on a SQLite file, with the scale project's migrations (or an
    empty versions folder); its app, not started."""
    from framework import create_app

    shutil.copytree(copy_project(tmp_path / "scale") / "migrations", tmp_path / "migrations")
    if not revisions:
        for revision in (tmp_path / "migrations" / "versions").glob("*.py"):
            revision.unlink()
    (tmp_path / "config.ini").write_text("[apps]\nactive =\n    blueprints.accounts\n")
    return create_app(tmp_path, config={"database": {"auto_create": "false"}})


# Flask-Migrate's env.py (the one every project has) tries the old get_engine() first
@pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning")
def test_migrate_on_sqlite_applies_the_revisions_once(tmp_path: Path, logging_kept):
    app = _sqlite_project(tmp_path, revisions=True)
    first = migrate_database(app)
    assert (first.before, first.after, first.changed) == ((), (HEAD,), True)
    again = migrate_database(app)
    assert (again.before, again.after, again.changed) == ((HEAD,), (HEAD,), False)
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        assert set(sa.inspect(engine).get_table_names()) == TABLES
        engine.dispose()


def test_migrate_without_revisions_creates_the_missing_tables(tmp_path: Path):
    app = _sqlite_project(tmp_path, revisions=False)
    result = migrate_database(app)
    # other test modules' models share the in-process metadata: look for the project's table
    assert result.migrations is False and "accounts_users" in result.created
    assert migrate_database(app).created == []
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()
