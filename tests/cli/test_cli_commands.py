"""create-db, init-project and Flask-Migrate's db group."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from framework.testing.postgres import require_postgres, temporary_database
from tests.db.conftest import ROOT, dispose, make_app

ACCOUNTS = ["blueprints.hello", "blueprints.accounts"]
#: the accounts app serves only behind its middleware
AUTH = "blueprints.accounts.middleware.AuthMiddleware"


def flask_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    """``python -m flask --app wsgi ...`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tables(uri: str) -> set[str]:
    engine = sa.create_engine(uri)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_help_lists_the_commands(tmp_path):
    result = flask_cli("--help", env={"FRAMEWORK__DATABASE__URI": f"sqlite:///{tmp_path / 'help.sqlite3'}"})
    assert result.returncode == 0, result.stderr
    for name in ("create-db", "init-project", "db"):
        assert f"  {name} " in result.stdout


def test_create_db_creates_a_missing_postgresql_database_and_its_tables():
    require_postgres()
    with temporary_database(create=False) as uri:
        app = _app_without_tables(uri)
        result = app.test_cli_runner().invoke(args=["create-db"])
        assert result.exit_code == 0, result.output
        assert "Created database" in result.output
        assert "accounts_users" in tables(uri)
        again = app.test_cli_runner().invoke(args=["create-db"])
        assert again.exit_code == 0 and "Created database" not in again.output
        dispose(app)


def _app_without_tables(uri: str):
    from framework import create_app

    return create_app(ROOT, config={"apps": {"active": ACCOUNTS}, "database": {"uri": uri}})


def test_create_db_on_sqlite_creates_the_tables(tmp_path):
    uri = f"sqlite:///{tmp_path}/fresh.sqlite3"
    app = _app_without_tables(uri)
    result = app.test_cli_runner().invoke(args=["create-db"])
    assert result.exit_code == 0, result.output
    assert "accounts_users" in tables(uri)
    dispose(app)


def test_create_db_reports_an_unreachable_server():
    app = _app_without_tables("postgresql+psycopg://postgres@127.0.0.1:1/nope?connect_timeout=3")
    result = app.test_cli_runner().invoke(args=["create-db"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    dispose(app)


def test_db_upgrade_creates_the_tables_on_an_empty_postgresql_database():
    require_postgres()
    with temporary_database() as uri:
        assert tables(uri) == set()
        result = flask_cli("db", "upgrade", env={"FRAMEWORK__DATABASE__URI": uri})
        assert result.returncode == 0, result.stderr
        assert {"accounts_users", "alembic_version"} <= tables(uri)
        check = flask_cli("db", "check", env={"FRAMEWORK__DATABASE__URI": uri})
        assert check.returncode == 0, check.stdout + check.stderr  # models match the migrations


def test_db_upgrade_on_sqlite(tmp_path):
    uri = f"sqlite:///{tmp_path}/migrated.sqlite3"
    result = flask_cli("db", "upgrade", env={"FRAMEWORK__DATABASE__URI": uri})
    assert result.returncode == 0, result.stderr
    assert {"accounts_users", "alembic_version"} <= tables(uri)


# ------------------------------------------------------------------ init-project
@pytest.fixture
def record_file(tmp_path, monkeypatch):
    path = tmp_path / "record.jsonl"
    monkeypatch.setenv("INIT_RECORD_FILE", str(path))
    return path


def read_record(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_init_project_runs_init_funcs_in_config_order_sync_and_async(tmp_path, record_file):
    app = make_app(
        f"sqlite:///{tmp_path}/i.sqlite3", apps=["tests.cli.initapps.second", "tests.cli.initapps.first"]
    )
    result = app.test_cli_runner().invoke(args=["init-project"], input="blue\n")
    assert result.exit_code == 0, result.output
    assert read_record(record_file) == [
        {"app": "second", "async": False, "answer": "blue"},
        {"app": "first", "async": True, "has_database": True},
    ]
    dispose(app)


def test_init_project_no_input_fails_clearly_where_input_is_needed(tmp_path, record_file):
    app = make_app(
        f"sqlite:///{tmp_path}/i.sqlite3", apps=["tests.cli.initapps.first", "tests.cli.initapps.second"]
    )
    result = app.test_cli_runner().invoke(args=["init-project", "--no-input"], input="blue\n")
    assert result.exit_code == 1
    assert "tests.cli.initapps.second" in result.output
    assert "--no-input" in result.output and "Favourite colour?" in result.output
    assert read_record(record_file) == [{"app": "first", "async": True, "has_database": True}]
    dispose(app)


def admin_rows(app):
    with app.app_context():
        return (
            app.extensions["sqlalchemy"]
            .session.execute(sa.text("SELECT username, roles FROM accounts_users"))
            .all()
        )


def test_accounts_init_creates_the_admin_from_the_environment(database_uri, monkeypatch):
    app = make_app(database_uri, apps=ACCOUNTS, middlewares={"active": [AUTH]})
    monkeypatch.setenv("ADMIN_USERNAME", "root")
    monkeypatch.setenv("ADMIN_PASSWORD", "Very-Secret-Admin-1")
    result = app.test_cli_runner().invoke(args=["init-project", "--no-input"])
    assert result.exit_code == 0, result.output
    assert admin_rows(app) == [("root", "admin user")]
    again = app.test_cli_runner().invoke(args=["init-project", "--no-input"])
    assert again.exit_code == 0 and admin_rows(app) == [("root", "admin user")]
    client = app.test_client()
    login = client.post("/login", json={"username": "root", "password": "Very-Secret-Admin-1"})
    assert login.status_code == 200 and login.get_json()["data"]["user"]["roles"] == ["admin", "user"]
    dispose(app)


def test_accounts_init_prompts(tmp_path, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    app = make_app(f"sqlite:///{tmp_path}/a.sqlite3", apps=ACCOUNTS)
    result = app.test_cli_runner().invoke(
        args=["init-project"], input="boss\nVery-Secret-Admin-1\nVery-Secret-Admin-1\n"
    )
    assert result.exit_code == 0, result.output
    assert admin_rows(app) == [("boss", "admin user")]
    dispose(app)


def test_accounts_init_without_input_or_environment_exits_1(tmp_path, monkeypatch):
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    app = make_app(f"sqlite:///{tmp_path}/a.sqlite3", apps=ACCOUNTS)
    result = app.test_cli_runner().invoke(args=["init-project", "--no-input"])
    assert result.exit_code == 1
    assert "blueprints.accounts" in result.output and "--no-input" in result.output
    assert admin_rows(app) == []
    dispose(app)


def test_accounts_init_rejects_a_weak_password(tmp_path, monkeypatch):
    monkeypatch.setenv("ADMIN_USERNAME", "root")
    monkeypatch.setenv("ADMIN_PASSWORD", "short")
    app = make_app(f"sqlite:///{tmp_path}/a.sqlite3", apps=ACCOUNTS)
    result = app.test_cli_runner().invoke(args=["init-project", "--no-input"])
    assert result.exit_code == 1 and "admin password" in result.output
    assert admin_rows(app) == []
    dispose(app)


def test_accounts_init_before_the_tables_exist_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("ADMIN_USERNAME", "root")
    monkeypatch.setenv("ADMIN_PASSWORD", "Very-Secret-Admin-1")
    app = _app_without_tables(f"sqlite:///{tmp_path}/empty.sqlite3")
    result = app.test_cli_runner().invoke(args=["init-project", "--no-input"])
    assert result.exit_code == 1 and "flask create-db" in result.output
    dispose(app)


def test_create_db_no_tables_then_db_upgrade():
    """The README's PostgreSQL set-up: database only, then the migrations make the tables."""
    require_postgres()
    with temporary_database(create=False) as uri:
        first = flask_cli("create-db", "--no-tables", env={"FRAMEWORK__DATABASE__URI": uri})
        assert first.returncode == 0, first.stderr
        assert "Created database" in first.stdout and tables(uri) == set()
        upgrade = flask_cli("db", "upgrade", env={"FRAMEWORK__DATABASE__URI": uri})
        assert upgrade.returncode == 0, upgrade.stderr
        assert {"accounts_users", "alembic_version"} <= tables(uri)


def test_the_db_group_sets_flask_migrate_up_on_first_use(tmp_path):
    """``flask db`` is listed and answers with Flask-Migrate's own options and commands;
    ``migrate_extension`` gives Flask-Migrate's extension on the project's migrations folder."""
    from framework.db import migrate_extension

    app = _app_without_tables(f"sqlite:///{tmp_path}/lazy.sqlite3")
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["--help"])
    assert listing.exit_code == 0 and "Perform database migrations." in listing.output
    group = runner.invoke(args=["db", "--help"])
    assert group.exit_code == 0, group.output
    assert "--directory" in group.output and "upgrade" in group.output and "revision" in group.output
    upgrade = runner.invoke(args=["db", "upgrade", "--help"])
    assert upgrade.exit_code == 0 and "--sql" in upgrade.output
    extension = migrate_extension(app)
    assert extension is app.extensions["migrate"] and extension is migrate_extension(app)
    assert extension.directory == os.path.join(ROOT, "migrations")
    dispose(app)
