"""Secure defaults: a required secret key, hardened session cookies, debug off, no secrets
in logs, and a warning for a config file every user can read."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from framework import create_app
from framework.config import ImproperlyConfigured
from tests.liveserver import LiveServer

from .conftest import APP_PACKAGE, WSGI

SECRET = "s3cr3t-key-that-must-never-appear-in-a-log"


_SOURCE: list[Path] = []


def make_project(root: Path, flask_section: str = "", extra: str = "", mode: int = 0o600) -> Path:
    """A project using (a copy of) the security test app, with its own config.ini."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(_SOURCE[0] / APP_PACKAGE, root / APP_PACKAGE, symlinks=True)
    (root / "media").mkdir(exist_ok=True)
    (root / "wsgi.py").write_text(WSGI)
    config = root / "config.ini"
    config.write_text(f"[apps]\nactive = {APP_PACKAGE}\n\n[flask]\n{flask_section}\n{extra}\n")
    os.chmod(config, mode)
    return root


#: An app that declares ``App(needs_secret_key=True)``, added beside the test app.
SIGNER = "tests.serve.signer_app"
SIGNING = {"apps": {"active": [APP_PACKAGE, SIGNER]}}


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch, project):
    _SOURCE[:] = [project]
    monkeypatch.delenv("FRAMEWORK__FLASK__SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)


# ------------------------------------------------------------------------ secret key
def test_a_project_that_signs_stops_without_a_secret_key(tmp_path):
    with pytest.raises(ImproperlyConfigured) as info:
        create_app(make_project(tmp_path), config=SIGNING)
    message = str(info.value)
    assert "[flask] secret_key" in message and "FRAMEWORK__FLASK__SECRET_KEY" in message
    assert repr(SIGNER) in message  # names the app that needs it


def test_a_project_that_signs_nothing_serves_without_a_key(tmp_path):
    app = create_app(make_project(tmp_path))
    app.extensions["framework"].startup()
    assert app.test_client().get("/ok").status_code == 200


def test_commands_that_do_not_serve_work_without_a_key(tmp_path):
    app = create_app(make_project(tmp_path))
    result = app.test_cli_runner().invoke(args=["create-db"])
    assert result.exit_code == 0, result.output


def test_gunicorn_without_a_key_refuses_to_start(tmp_path):
    server = LiveServer(
        str(make_project(tmp_path)),
        env={"FRAMEWORK__FLASK__SECRET_KEY": None, "FRAMEWORK__APPS__ACTIVE": f"{APP_PACKAGE}\n{SIGNER}"},
    )
    try:
        try:
            server.start()  # the master may bind before the worker fails
        except RuntimeError:
            pass
        assert server.proc is not None and server.proc.wait(60) != 0
        assert "[flask] secret_key is not set" in server.log_text()
    finally:
        server.stop()
        server.close()


def test_gunicorn_takes_the_key_from_the_environment(tmp_path):
    with LiveServer(str(make_project(tmp_path)), env={"FRAMEWORK__FLASK__SECRET_KEY": SECRET}) as live:
        from tests.liveserver import http_get

        status, headers, _ = http_get(live.port, "/session")
        assert status == 200 and "session=" in headers["set-cookie"]
        status, _, body = http_get(live.port, "/crash")
        assert status == 500 and b"internal detail" not in body and b"Traceback" not in body
        log = live.log_text()
    assert SECRET not in log
    assert "RuntimeError" in log  # the traceback goes to the log, not to the client


def test_key_from_the_environment_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEWORK__FLASK__SECRET_KEY", SECRET)
    app = create_app(make_project(tmp_path))
    app.extensions["framework"].startup()
    assert app.config["SECRET_KEY"] == SECRET


def test_short_key_is_refused(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="too short"):
        create_app(make_project(tmp_path, "secret_key = change-me"), config=SIGNING)


@pytest.mark.parametrize("flask_section", ["debug = true", "testing = true"])
def test_debug_and_testing_need_no_key(tmp_path, flask_section):
    app = create_app(make_project(tmp_path, flask_section), config=SIGNING)
    app.extensions["framework"].startup()
    assert app.test_client().get("/ok").status_code == 200


# --------------------------------------------------------------------------- debug
def test_debug_is_off_unless_asked(tmp_path):
    app = create_app(make_project(tmp_path, f"secret_key = {SECRET}"))
    assert app.debug is False and app.config["DEBUG"] is False
    response = app.test_client().get("/crash")
    assert_envelope_500(response)


def test_debug_can_be_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEWORK__FLASK__DEBUG", "true")
    app = create_app(make_project(tmp_path))
    assert app.debug is True
    assert_envelope_500(app.test_client().get("/crash"))  # no traceback page even in debug


def assert_envelope_500(response) -> None:
    body = response.get_data()
    assert response.status_code == 500
    assert response.json == {"status": "error", "code": 1000, "message": "Server error"}
    assert b"Traceback" not in body and b"internal detail" not in body


# ------------------------------------------------------------------- session cookie
def session_cookie(app) -> str:
    response = app.test_client().get("/session", base_url="https://localhost")
    assert response.status_code == 200
    return response.headers["Set-Cookie"]


def test_session_cookie_flags(tmp_path):
    cookie = session_cookie(create_app(make_project(tmp_path, f"secret_key = {SECRET}")))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_session_cookie_is_not_secure_in_debug(tmp_path):
    cookie = session_cookie(create_app(make_project(tmp_path, f"debug = true\nsecret_key = {SECRET}")))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_explicit_cookie_settings_win(tmp_path):
    cookie = session_cookie(
        create_app(make_project(tmp_path, f"secret_key = {SECRET}\nsession_cookie_samesite = Strict"))
    )
    assert "SameSite=Strict" in cookie and "Secure" in cookie


# ------------------------------------------------------------------ secrets in logs
def test_secrets_never_logged(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("FRAMEWORK__FLASK__SECRET_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    app = create_app(make_project(tmp_path))
    app.extensions["framework"].startup()
    client = app.test_client()
    token = "token-value-that-must-stay-private"
    response = client.get(f"/db-param?token={token}")
    assert response.status_code == 500 and token.encode() not in response.get_data()
    assert client.get("/crash").status_code == 500
    text = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    assert "no_such_table" in caplog.text  # the failure itself is logged...
    assert SECRET not in text and token not in text  # ...without the key or the parameters


def test_database_password_never_logged(tmp_path, caplog):
    password = "pg-password-that-must-stay-private"
    app = create_app(
        make_project(
            tmp_path,
            f"secret_key = {SECRET}",
            "[database]\nhost = 127.0.0.1\nport = 1\nname = test\n"
            f"username = postgres\npassword = {password}\n",
        )
    )
    caplog.set_level(logging.DEBUG)
    response = app.test_client().get("/db-ping")
    assert response.status_code == 503 and response.json["code"] == 1009
    assert password not in caplog.text and password.encode() not in response.get_data()
    assert "database unreachable" in caplog.text


# --------------------------------------------------------- world-readable config
def test_world_readable_config_is_warned_about(tmp_path, caplog):
    root = make_project(tmp_path, f"secret_key = {SECRET}", mode=0o644)
    with caplog.at_level(logging.WARNING, logger="framework"):
        create_app(root)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(root / "config.ini") in m and "chmod 600" in m for m in warnings), warnings


def test_private_config_is_not_warned_about(tmp_path, caplog):
    root = make_project(tmp_path, f"secret_key = {SECRET}", mode=0o600)
    with caplog.at_level(logging.WARNING, logger="framework"):
        create_app(root)
    assert not [r for r in caplog.records if "readable by every user" in r.getMessage()]
