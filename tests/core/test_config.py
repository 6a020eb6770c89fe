"""Configuration: INI parsing, environments, overrides, [flask], and start-up errors."""

from __future__ import annotations

import pytest

from framework import Framework, ImproperlyConfigured, create_app
from framework.config import load_config, parse_value


def test_multiline_value_is_a_list_and_single_line_a_string(tmp_path):
    (tmp_path / "config.ini").write_text(
        "[networking]\nallowed_hosts =\n    127.0.0.1:8000\n    localhost:8000\nstream_size = 32768\n"
        "[accounts]\naes_key = 111\n"
    )
    config = load_config(str(tmp_path), environ={})
    assert config["networking"]["allowed_hosts"] == ["127.0.0.1:8000", "localhost:8000"]
    assert config["networking"]["stream_size"] == "32768"
    assert config["accounts"] == {"aes_key": "111"}
    assert parse_value("a\n\n b \n") == ["a", "b"]


def test_environment_variable_chooses_the_env_file(tmp_path):
    (tmp_path / "config.ini").write_text("[custom]\nwhich = main\n")
    (tmp_path / "config.dev.ini").write_text("[custom]\nwhich = dev\n")
    assert load_config(str(tmp_path), environ={})["custom"]["which"] == "main"
    assert load_config(str(tmp_path), environ={"FRAMEWORK_ENV": "dev"})["custom"]["which"] == "dev"
    assert load_config(str(tmp_path), environ={"BACKENDPY_ENV": "dev"})["custom"]["which"] == "dev"
    assert load_config(str(tmp_path), env="dev", environ={})["custom"]["which"] == "dev"


def test_env_overrides_beat_the_file_and_the_mapping_beats_both(tmp_path):
    (tmp_path / "config.ini").write_text("[database]\nhost = file\nport = 1\n")
    environ = {"FRAMEWORK__DATABASE__HOST": "env", "FRAMEWORK__DATABASE__PASSWORD": "s3cret"}
    config = load_config(str(tmp_path), environ=environ, config={"database": {"port": "2"}})
    assert config["database"] == {"host": "env", "port": "2", "password": "s3cret"}


def test_flask_section_is_copied_upper_cased_and_typed(project, monkeypatch):
    monkeypatch.delenv("FRAMEWORK__FLASK__SECRET_KEY", raising=False)  # set for the suite in conftest
    project.config("[flask]\nsecret_key = 1234\nmax_content_length = 100\njson_sort_keys = false\n")
    app = project.create_app()
    assert app.config["SECRET_KEY"] == "1234"
    assert app.config["MAX_CONTENT_LENGTH"] == 100
    assert app.config["JSON_SORT_KEYS"] is False


def test_fw_config_and_context_reach_handlers(make_route_app):
    app = make_route_app(
        """
        from framework.router import Routes
        from framework.response import JSON
        routes = Routes()

        @routes.get('/cfg')
        async def cfg(request):
            request.app.context['hits'] = request.app.context.get('hits', 0) + 1
            return JSON({'host': request.app.config['database']['host'],
                         'hits': request.app.context['hits']})
    """,
        config_extra="[database]\nhost = db.example\n",
    )
    client = app.test_client()
    assert client.get("/cfg").json == {"host": "db.example", "hits": 1}
    assert client.get("/cfg").json == {"host": "db.example", "hits": 2}
    assert app.extensions["framework"].config["database"]["host"] == "db.example"


def test_missing_config_file_names_the_path(tmp_path):
    with pytest.raises(ImproperlyConfigured, match=r"config\.ini"):
        create_app(tmp_path)
    with pytest.raises(ImproperlyConfigured, match=r"config\.prod\.ini"):
        create_app(tmp_path, env="prod")


def test_invalid_ini_names_the_file(tmp_path):
    (tmp_path / "config.ini").write_text("no section header\n")
    with pytest.raises(ImproperlyConfigured, match="not valid INI"):
        create_app(tmp_path)


def test_app_that_cannot_be_imported(project):
    project.config("[apps]\nactive = no_such_package.app\n")
    with pytest.raises(ImproperlyConfigured, match="'no_such_package.app' cannot be imported"):
        project.create_app()


def test_app_whose_import_fails_inside(project):
    name = project.app_module("broken", {"main.py": "import not_installed_dependency\n"})
    project.config(f"[apps]\nactive = {name}\n")
    with pytest.raises(ImproperlyConfigured, match="not_installed_dependency"):
        project.create_app()


def test_app_module_without_app(project):
    name = project.app_module("noapp", {"main.py": "x = 1\n"})
    project.config(f"[apps]\nactive = {name}\n")
    with pytest.raises(ImproperlyConfigured, match=r"noapp\.main' has no 'app = App"):
        project.create_app()


def test_middleware_path_that_does_not_resolve(project):
    project.config("[middlewares]\nactive = framework.middleware.NoSuchMiddleware\n")
    with pytest.raises(ImproperlyConfigured, match="NoSuchMiddleware"):
        project.create_app()


def test_unknown_url_variable_type(make_route_app):
    with pytest.raises(ImproperlyConfigured, match="unknown URL variable type 'date'"):
        make_route_app("""
            from framework.router import Routes
            routes = Routes()

            @routes.get('/d/<day:date>')
            def day(request):
                return 'x'
        """)


def test_two_apps_claiming_one_error_code(project):
    errors = """
        from framework.error import ErrorCode, ErrorList
        errors = ErrorList(ErrorCode(1200, 'Mine'))
    """
    main = "from framework.app import App\nfrom .errors import errors\napp = App(errors=[errors])\n"
    a = project.app_module("one", {"errors.py": errors, "main.py": main})
    b = project.app_module("two", {"errors.py": errors, "main.py": main})
    project.config(f"[apps]\nactive =\n    {a}\n    {b}\n")
    with pytest.raises(ImproperlyConfigured, match=r"error code 1200 is claimed by both '.*one' and '.*two'"):
        project.create_app()


def test_app_codes_below_1100_are_refused(project):
    a = project.app_module(
        "low",
        {
            "main.py": "from framework.app import App\nfrom framework.error import ErrorCode, ErrorList\n"
            "app = App(errors=[ErrorList(ErrorCode(1001, 'mine'))])\n"
        },
    )
    project.config(f"[apps]\nactive = {a}\n")
    with pytest.raises(ImproperlyConfigured, match="1001 is in the framework's range"):
        project.create_app()


def test_two_apps_claiming_one_blueprint_name(project):
    main = "from framework.app import App\napp = App()\n"
    a = project.app_module("shop/items", {"main.py": main})
    b = project.app_module("blog/items", {"main.py": main})
    project.config(f"[apps]\nactive =\n    {a}\n    {b}\n")
    with pytest.raises(ImproperlyConfigured, match="both claim the blueprint name 'items'"):
        project.create_app()


def test_bad_logging_level(project):
    project.config("[logging]\nlevel = LOUD\n")
    with pytest.raises(ImproperlyConfigured, match=r"\[logging\] level"):
        project.create_app()


def test_framework_reads_host_config_mapping(tmp_path):
    from flask import Flask

    host = Flask(__name__, instance_path=str(tmp_path / "instance"))
    host.config["FRAMEWORK"] = {"custom": {"x": "1"}}
    fw = Framework(host)
    assert fw.config["custom"] == {"x": "1"}
    assert host.extensions["framework"] is fw
