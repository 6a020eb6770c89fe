"""``create-project`` and ``create-app`` through click's runner: what they write and refuse."""

from __future__ import annotations

import configparser
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from framework import scaffold
from framework.scaffold import create_app_command, create_project

BASIC_PROJECT = {
    ".gitignore",
    "README.md",
    "config.ini",
    "wsgi.py",
    "gunicorn.conf.py",
    "pytest.ini",
    "apps/__init__.py",
    "tests/conftest.py",
    "tests/test_app.py",
    "apps/hello/__init__.py",
    "apps/hello/main.py",
    "apps/hello/handlers.py",
    "apps/hello/hooks.py",
    "apps/hello/templates/home.html",
    "apps/hello/tests/__init__.py",
    "apps/hello/tests/test_hello.py",
    "requirements.txt",
    # Flask-Migrate's environment, as ``flask db init`` writes it
    "migrations/README",
    "migrations/alembic.ini",
    "migrations/env.py",
    "migrations/script.py.mako",
}
FULL_EXTRAS = {
    "models.py",
    "data_handlers.py",
    "errors.py",
    "posts.py",
    "init.py",
    "templates/posts.html",
    "tests/test_posts.py",
}


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def active_apps(project: Path) -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(project / "config.ini")
    return parser["apps"]["active"].split()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_create_project_writes_the_project_layout(runner, in_tmp):
    result = runner.invoke(create_project, ["--name", "demo"])
    assert result.exit_code == 0, result.output
    project = in_tmp / "demo"
    assert files_under(project) == BASIC_PROJECT
    assert active_apps(project) == ["apps.hello"]
    assert "app = create_app(" in (project / "wsgi.py").read_text()
    assert "post_worker_init" in (project / "gunicorn.conf.py").read_text()
    assert '@routes.get("/hello-world")' in (project / "apps/hello/handlers.py").read_text()
    assert "cd demo" in result.output and "gunicorn wsgi:app" in result.output


def test_config_ini_is_private_and_holds_a_fresh_secret_key(runner, in_tmp):
    assert runner.invoke(create_project, ["--name", "one"]).exit_code == 0
    assert runner.invoke(create_project, ["--name", "two"]).exit_code == 0
    keys = []
    for name in ("one", "two"):
        config = in_tmp / name / "config.ini"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        parser = configparser.ConfigParser()
        parser.read(config)
        keys.append(parser["flask"]["secret_key"])
    assert len(keys[0]) == 64 and keys[0] != keys[1]


def test_full_project_adds_the_blog_app(runner, in_tmp):
    result = runner.invoke(create_project, ["--name", "demo", "--full"])
    assert result.exit_code == 0, result.output
    project = in_tmp / "demo"
    blog = {f"apps/blog/{f}" for f in FULL_EXTRAS} | {
        f"apps/blog/{f}"
        for f in (
            "__init__.py",
            "main.py",
            "handlers.py",
            "hooks.py",
            "templates/home.html",
            "tests/__init__.py",
            "tests/test_blog.py",
        )
    }
    assert files_under(project) == BASIC_PROJECT | blog | {
        "tests/test_blog.py",
        "migrations/versions/0001_blog_posts.py",
    }
    assert active_apps(project) == ["apps.hello", "apps.blog"]
    main = (project / "apps/blog/main.py").read_text()
    for part in (
        "errors=[errors]",
        "hooks=[hooks]",
        'models=[f"{__package__}.models"]',
        'template_dirs=["templates"]',
        "init_func=init_data",
    ):
        assert part in main
    assert "from framework.db import Base" in (project / "apps/blog/models.py").read_text()
    assert "POST_NOT_FOUND = 1100" in (project / "apps/blog/errors.py").read_text()
    assert "create-db" in result.output and "init-project" in result.output


def test_generated_python_files_compile(runner, in_tmp):
    assert runner.invoke(create_project, ["--name", "demo", "--full"]).exit_code == 0
    sources = sorted((in_tmp / "demo").rglob("*.py"))
    assert len(sources) > 20
    for source in sources:
        compile(source.read_text(), str(source), "exec")


@pytest.mark.parametrize("command", [create_project, create_app_command])
def test_an_existing_folder_is_never_overwritten(runner, in_tmp, command):
    (in_tmp / "demo").mkdir()
    (in_tmp / "demo" / "keep.txt").write_text("mine")
    result = runner.invoke(command, ["--name", "demo"])
    assert result.exit_code == 1
    assert "already exists" in result.output and "nothing was written" in result.output
    assert files_under(in_tmp / "demo") == {"keep.txt"}
    assert (in_tmp / "demo" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("command", [create_project, create_app_command])
def test_an_existing_file_of_that_name_is_refused(runner, in_tmp, command):
    (in_tmp / "demo").write_text("a file")
    result = runner.invoke(command, ["--name", "demo", "--full"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert (in_tmp / "demo").read_text() == "a file"


@pytest.mark.parametrize("command", [create_project, create_app_command])
@pytest.mark.parametrize("name", ["1demo", "my-app", "my app", "", "demo.app", "../demo", "dèmo"])
def test_a_name_that_is_not_an_identifier_is_refused(runner, in_tmp, command, name):
    result = runner.invoke(command, ["--name", name])
    assert result.exit_code == 1
    assert "is not a Python identifier" in result.output
    assert os.listdir(in_tmp) == []


@pytest.mark.parametrize("command", [create_project, create_app_command])
def test_a_keyword_is_refused(runner, in_tmp, command):
    result = runner.invoke(command, ["--name", "class"])
    assert result.exit_code == 1
    assert "keyword" in result.output
    assert os.listdir(in_tmp) == []


@pytest.mark.parametrize("name", ["json", "framework", "flask"])
def test_an_app_may_not_shadow_a_module(runner, in_tmp, name):
    result = runner.invoke(create_app_command, ["--name", name])
    assert result.exit_code == 1
    assert f"would shadow the module {name!r}" in result.output
    assert os.listdir(in_tmp) == []


def test_the_name_option_is_required(runner, in_tmp):
    result = runner.invoke(create_project, [])
    assert result.exit_code == 2
    assert "--name" in result.output


def test_create_app_writes_a_package_with_prefixed_routes(runner, in_tmp):
    result = runner.invoke(create_app_command, ["--name", "shop"])
    assert result.exit_code == 0, result.output
    app = in_tmp / "shop"
    assert files_under(app) == {
        "__init__.py",
        "main.py",
        "handlers.py",
        "hooks.py",
        "templates/home.html",
        "tests/__init__.py",
        "tests/test_shop.py",
    }
    assert "app = App(" in (app / "main.py").read_text()
    assert '@routes.get("/shop/hello-world")' in (app / "handlers.py").read_text()
    assert "your project's config.ini" in result.output
    assert "      shop" in result.output


def test_create_app_full_adds_the_extras(runner, in_tmp):
    assert runner.invoke(create_app_command, ["--name", "shop", "--full"]).exit_code == 0
    app = in_tmp / "shop"
    assert files_under(app) >= FULL_EXTRAS
    assert '__tablename__ = "shop_posts"' in (app / "models.py").read_text()
    assert '@routes.post("/shop/posts", data_handler=PostCreationData)' in (app / "posts.py").read_text()


def test_create_app_inside_a_project_names_its_import_path_and_config(runner, in_tmp, monkeypatch):
    assert runner.invoke(create_project, ["--name", "demo"]).exit_code == 0
    monkeypatch.chdir(in_tmp / "demo" / "apps")
    result = runner.invoke(create_app_command, ["--name", "shop", "--full"])
    assert result.exit_code == 0, result.output
    assert str(in_tmp / "demo" / "config.ini") in result.output
    assert "      apps.shop\n" in result.output
    assert "create-db" in result.output


def test_full_apps_side_by_side_get_distinct_error_codes(runner, in_tmp, monkeypatch):
    assert runner.invoke(create_project, ["--name", "demo", "--full"]).exit_code == 0
    apps = in_tmp / "demo" / "apps"
    monkeypatch.chdir(apps)
    assert runner.invoke(create_app_command, ["--name", "shop", "--full"]).exit_code == 0
    assert runner.invoke(create_app_command, ["--name", "news", "--full"]).exit_code == 0
    codes = {name: (apps / name / "errors.py").read_text() for name in ("blog", "shop", "news")}
    assert "POST_NOT_FOUND = 1100" in codes["blog"] and "POST_EXISTS = 1101" in codes["blog"]
    assert "POST_NOT_FOUND = 1200" in codes["shop"] and "POST_EXISTS = 1201" in codes["shop"]
    assert "POST_NOT_FOUND = 1300" in codes["news"]


def test_a_failed_write_leaves_nothing_behind(runner, in_tmp, monkeypatch):
    # the second file needs "wsgi.py" to be a folder: writing it fails half-way
    monkeypatch.setattr(
        scaffold, "_project_files", lambda name, full: {"wsgi.py": "app = None\n", "wsgi.py/oops.py": ""}
    )
    result = runner.invoke(create_project, ["--name", "demo"])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "nothing was left behind" in result.output
    assert os.listdir(in_tmp) == []


def test_write_project_and_write_app_serve_python_callers(tmp_path):
    project = scaffold.write_project(tmp_path, "demo", full=True)
    app = scaffold.write_app(project / "apps", "shop")
    assert project == tmp_path / "demo" and app == project / "apps" / "shop"
    assert scaffold.package_path(project / "apps", "shop") == "apps.shop"
    assert scaffold.package_path(tmp_path, "loose") == "loose"


def test_literal_error_codes_of_a_hand_written_app_are_seen(runner, in_tmp):
    legacy = in_tmp / "legacy"
    (legacy / "controllers").mkdir(parents=True)
    (legacy / "__init__.py").write_text("")
    (legacy / "controllers" / "errors.py").write_text(
        "from framework.error import ErrorCode, ErrorList\n"
        "errors = ErrorList(ErrorCode(1500, 'a'), ErrorCode(1501, 'b'))\n"
    )
    assert runner.invoke(create_app_command, ["--name", "shop", "--full"]).exit_code == 0
    assert "POST_NOT_FOUND = 1600" in (in_tmp / "shop" / "errors.py").read_text()
