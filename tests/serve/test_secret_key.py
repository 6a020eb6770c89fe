"""The secret key is required where something signs: then every server and command stops
at start-up with the message, never a 500 per request. The config-file permission warning
is given for files that hold a secret, once per process tree."""

from __future__ import annotations

import logging
import os

import pytest
import requests

from framework import Backendpy
from tests.liveserver import LiveServer, wait_until

from .helpers import SERVERS, copy_project, run, serve, server_env, tool

KEY = "a-long-enough-test-key-0123456789"


def add_signing_app(project) -> None:
    """An app declaring ``App(needs_secret_key=True)``, switched on in the project."""
    folder = project / "apps" / "signer"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "main.py").write_text("from framework.app import App\n\napp = App(needs_secret_key=True)\n")
    config = project / "config.ini"
    config.write_text(
        config.read_text().replace(
            "    project.apps.hello\n", "    project.apps.hello\n    project.apps.signer\n"
        )
    )


@pytest.mark.parametrize("server", list(SERVERS))
def test_a_signing_project_without_a_key_does_not_start(server, tmp_path):
    project = copy_project(tmp_path)
    add_signing_app(project)
    command = SERVERS[server]
    live = LiveServer(
        project,
        argv=[tool(command[0]), *command[1:]],
        env=server_env({"HOOK_LOG": str(tmp_path / "hooks.log")}),
    )
    try:
        code = live.launch().wait(60)  # it stops by itself: fails the test if it does not
    finally:
        live.stop()
        text = live.log_text()
        live.close()
    if not server.startswith("hypercorn"):  # hypercorn exits with 0 when its worker fails
        assert code != 0, text
    assert "[flask] secret_key is not set (app 'project.apps.signer' signs with it)" in text
    assert not (tmp_path / "hooks.log").exists()  # no startup hook ran: nothing was served


@pytest.mark.parametrize("server", ["uvicorn", "gunicorn", "flask"])
def test_a_signing_project_with_a_key_serves(server, tmp_path):
    project = copy_project(tmp_path)
    add_signing_app(project)
    env = {"HOOK_LOG": str(tmp_path / "hooks.log"), "FRAMEWORK__FLASK__SECRET_KEY": KEY}
    with serve(server, project, env=env) as (base, _):
        assert requests.get(base + "/hello-world", timeout=30).text == "Hello World!"


@pytest.mark.parametrize("command", [["framework", "create_db"], ["flask", "--app", "main:bp", "routes"]])
def test_commands_say_so_in_one_line(tmp_path, command):
    project = copy_project(tmp_path)
    add_signing_app(project)
    config = project / "config.ini"
    config.write_text(config.read_text() + "\n[flask]\nsecret_key = short\n")
    result = run(command, project, env={"FRAMEWORK__DATABASE__URI": f"sqlite:///{tmp_path}/x.db"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "secret_key is too short (app 'project.apps.signer' signs with it)" in lines[0]


def test_writing_the_session_without_a_key_is_a_named_error(tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("FRAMEWORK__FLASK__SECRET_KEY", raising=False)
    (tmp_path / "config.ini").write_text("[apps]\nactive =\n")
    bp = Backendpy(str(tmp_path))
    from flask import session

    @bp.get("/write")
    def write():
        session["user"] = 1
        return "written"

    @bp.get("/read")
    def read():
        return str(session.get("user"))

    client = bp.test_client()
    assert client.get("/read").text == "None"  # reading the empty session works
    with caplog.at_level(logging.ERROR, logger="framework"):
        response = client.get("/write")
    assert response.status_code == 500
    assert response.json == {"status": "error", "code": 1000, "message": "Server error"}
    logged = "\n".join(r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records)
    assert "wrote flask.session but [flask] secret_key is not set" in logged


# ----------------------------------------------------------- the permission warning
def readable(project, database: str) -> None:
    """Make the project's config.ini readable by everyone, with ``database`` added to its
    ``[database]`` section."""
    config = project / "config.ini"
    config.write_text(config.read_text().replace("[database]\n", f"[database]\n{database}"))
    os.chmod(config, 0o644)


def test_no_warning_for_a_readable_file_without_secrets(tmp_path):
    project = copy_project(tmp_path)
    readable(project, "")
    result = run(["flask", "--app", "main:bp", "routes"], project)
    assert result.returncode == 0 and "readable by every user" not in result.stderr


def test_warned_once_for_four_workers(tmp_path):
    project = copy_project(tmp_path)
    readable(project, "password = hunter2\n")
    live = LiveServer(
        project,
        argv=[tool("gunicorn"), "main:bp", "-w", "4", "--bind", "127.0.0.1:{port}"],
        env=server_env({"HOOK_LOG": str(tmp_path / "h.log")}),
    )
    try:
        live.start(wait=60)
        # every worker has imported the project once it has answered a request (or booted)
        assert wait_until(lambda: live.log_text().count("Booting worker") >= 4, timeout=60)
        assert wait_until(lambda: _answered(live.port), timeout=60)
    finally:
        live.stop()
        text = live.log_text()
        live.close()
    assert text.count("readable by every user") == 1, text
    assert "[database] password" in text and "hunter2" not in text


def _answered(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/hello-world", timeout=5).status_code == 200
    except requests.RequestException:
        return False
