"""``flask --app wsgi openapi`` prints a valid document, whether the URLs are on or not."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from openapi_spec_validator import validate

from .conftest import ROOT, SAMPLE_APPS


def test_command_prints_the_document(make_app, tmp_path):
    app = make_app(apps=SAMPLE_APPS, openapi={"enabled": "false", "title": "CI"})
    result = app.test_cli_runner().invoke(args=["openapi"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    validate(document)
    assert document["info"]["title"] == "CI"
    assert "/users/{id}" in document["paths"]
    target = tmp_path / "openapi.json"
    result = app.test_cli_runner().invoke(args=["openapi", "--output", str(target), "--indent", "0"])
    assert result.exit_code == 0 and result.output == ""
    assert json.loads(target.read_text(encoding="utf-8")) == document
    assert target.read_text(encoding="utf-8").count("\n") == 1  # one line


def test_real_flask_command_on_the_project(tmp_path):
    """The command as a CI pipeline runs it: the project's wsgi.py and config.ini as they
    are (both sample apps, the auth middleware), URLs off since debug is off."""
    env = dict(
        os.environ,
        FRAMEWORK__DATABASE__URI=f"sqlite:///{tmp_path / 'cli.sqlite'}",
        PYTHONPATH=ROOT,
        PYTHONWARNINGS="ignore",
    )
    env.pop("FLASK_DEBUG", None)
    completed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "openapi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    validate(document)
    paths = set(document["paths"])
    assert {"/hello-world", "/home", "/users", "/users/{id}", "/login"} <= paths
    assert [tag["name"] for tag in document["tags"]] == ["hello", "accounts"]
    assert document["paths"]["/users/{id}"]["delete"]["security"] == [{"bearerAuth": []}]
