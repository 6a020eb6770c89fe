"""The ``framework`` command (Backendpy's ``backendpy`` with its prefix changed) and the
Flask CLI on ``--app main:bp``, run as a user runs them: in a project folder, as processes."""

from __future__ import annotations

import configparser
import sqlite3

import pytest

from .helpers import DB_FILE, INIT_INPUT, copy_project, prepared_project, run


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path)


def test_help_lists_backendpys_commands(tmp_path):
    result = run(["framework", "--help"], tmp_path)
    assert result.returncode == 0
    for command in ("create_project", "create_app", "create_db", "init_project"):
        assert command in result.stdout


@pytest.mark.parametrize("full", [False, True])
def test_create_project_then_its_commands(tmp_path, full):
    created = run(["framework", "create_project", "--name", "shop", *(["--full"] if full else [])], tmp_path)
    assert created.returncode == 0, created.stderr
    folder = tmp_path / "shop"
    assert (folder / "config.ini").is_file() and (folder / "apps" / "hello" / "main.py").is_file()
    app = run(["framework", "create_app", "-n", "orders", *(["-f"] if full else [])], folder / "apps")
    assert app.returncode == 0, app.stderr
    assert (folder / "apps" / "orders" / "main.py").is_file()
    assert "apps.orders" in app.stdout  # how to switch it on
    # the generated project is found from its folder (wsgi.py), with a SQLite database
    env = {"FRAMEWORK__DATABASE__URI": f"sqlite:///{tmp_path / 'shop.sqlite3'}"}
    db = run(["framework", "create_db"], folder, env=env)
    assert db.returncode == 0, db.stderr
    assert "Tables ready" in db.stdout
    init = run(["framework", "init_project", "--no-input"], folder, env=env)
    assert init.returncode == 0, init.stderr
    assert "Initialized" in init.stdout


def test_create_project_refuses_an_existing_folder(tmp_path):
    (tmp_path / "taken").mkdir()
    result = run(["framework", "create_project", "--name", "taken"], tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "already exists" in result.stderr


def test_create_db_and_init_project_find_main_bp(tmp_path):
    """``framework create_db`` makes the models' tables; ``framework init_project`` runs the
    docs' async ``init_func``, which asks for the admin user and stores it; run again, it
    finds the user and skips."""
    project = prepared_project(tmp_path)
    with sqlite3.connect(project / DB_FILE) as connection:
        rows = connection.execute("SELECT id, first_name, last_name FROM users").fetchall()
    assert rows == [(1, "Ada", "Lovelace")]
    again = run(["framework", "init_project"], project)
    assert again.returncode == 0, again.stderr
    assert "Users created already [SKIPPED]" in again.stderr


def test_init_func_opens_the_apps_own_relative_sqlite_file(project):
    """A relative SQLite path lies in the instance folder (Flask-SQLAlchemy's rule); the
    docs' init function, which opens ``get_db_engine(config['database'])`` itself, must
    reach that same file (it used to open one in the working directory: no such table)."""
    env = {"FRAMEWORK__DATABASE__URI": "sqlite:///relative.sqlite3"}
    assert run(["framework", "create_db"], project, env=env).returncode == 0
    init = run(["framework", "init_project"], project, env=env, input=INIT_INPUT)
    assert init.returncode == 0, init.stderr
    assert not (project / "relative.sqlite3").exists()
    with sqlite3.connect(project / "instance" / "relative.sqlite3") as connection:
        assert connection.execute("SELECT first_name FROM users").fetchall() == [("Ada",)]


def test_framework_env_chooses_the_config_file(project, tmp_path):
    text = (
        (project / "config.ini")
        .read_text()
        .replace("    project.apps.hello\n", "    project.apps.hello\n    project.apps.missing_in_staging\n")
    )
    (project / "config.staging.ini").write_text(text)
    plain = run(["framework", "create_db"], project)
    assert plain.returncode == 0, plain.stderr
    staging = run(["framework", "create_db"], project, env={"FRAMEWORK_ENV": "staging"})
    assert staging.returncode == 1
    assert "project.apps.missing_in_staging" in staging.stderr


def test_outside_a_project_says_where_to_run_it(tmp_path):
    result = run(["framework", "create_db"], tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no project in" in lines[0] and "Traceback" not in result.stderr


# ------------------------------------------------------------ configuration errors
def break_middleware(project) -> str:
    config = project / "config.ini"
    config.write_text(
        config.read_text().replace("middlewares.auth.AuthMiddleware", "middlewares.auth.NoSuchMiddleware")
    )
    return "apps.hello.middlewares.auth.NoSuchMiddleware"


@pytest.mark.parametrize(
    "command",
    [
        ["framework", "create_db"],
        ["framework", "init_project"],
        ["flask", "--app", "main:bp", "routes"],
        ["flask", "--app", "main:bp", "init-project"],
        ["flask", "--app", "main:bp", "db", "current"],
        ["flask", "--app", "main:bp", "run"],
    ],
)
def test_a_configuration_error_is_one_line_and_a_failure(project, command):
    culprit = break_middleware(project)
    result = run(command, project)
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and culprit in lines[0]


def test_traceback_on_request(project):
    break_middleware(project)
    result = run(["framework", "--traceback", "init_project"], project)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "AttributeError" in result.stderr
    debug = run(["flask", "--app", "main:bp", "--debug", "routes"], project)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_init_project_names_the_first_error(project):
    init = project / "apps" / "hello" / "controllers" / "init.py"
    init.write_text(
        "async def init_data(config):\n"
        "    try:\n"
        "        {}['missing']\n"
        "    except KeyError:\n"
        "        await None  # the second error, raised while handling the first\n"
    )
    result = run(["framework", "init_project"], project)
    assert result.returncode == 1
    assert "TypeError" in result.stderr and "first error: KeyError: 'missing'" in result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------- the Flask CLI
def test_flask_cli_accepts_main_bp(project, tmp_path):
    routes = run(["flask", "--app", "main:bp", "routes"], project)
    assert routes.returncode == 0, routes.stderr
    assert "/hello-world" in routes.stdout and "/v4/login" in routes.stdout
    for args in (["create-db"], ["init-project"], ["db", "--help"]):
        result = run(["flask", "--app", "main:bp", *args], project, input=INIT_INPUT)
        assert result.returncode == 0, (args, result.stderr)
    with sqlite3.connect(project / DB_FILE) as connection:
        assert connection.execute("SELECT first_name FROM users").fetchall() == [("Ada",)]


def test_scaffolded_config_holds_a_key_readable_by_its_owner_only(tmp_path):
    assert run(["framework", "create_project", "-n", "keyed"], tmp_path).returncode == 0
    config = tmp_path / "keyed" / "config.ini"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config)
    assert len(parser["flask"]["secret_key"]) >= 32
    assert oct(config.stat().st_mode & 0o777) == "0o600"
