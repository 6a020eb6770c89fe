"""The Flask class of framework-owned apps keeps Flask's behaviour for registered functions."""

from __future__ import annotations

import os

import flask

from framework import create_app
from framework.flask_app import FrameworkFlask


def make_app(tmp_path) -> flask.Flask:
    config = tmp_path / "config.ini"
    config.write_text("[apps]\nactive =\n[logging]\nlevel = WARNING\n")
    os.chmod(config, 0o600)
    return create_app(tmp_path, config={"database": {"uri": "sqlite://"}})


def test_owned_apps_use_the_framework_flask_class(tmp_path):
    assert isinstance(make_app(tmp_path), FrameworkFlask)


def test_sync_and_async_functions_keep_running_on_every_request(tmp_path):
    app = make_app(tmp_path)
    seen: list[str] = []

    @app.before_request
    def sync_before():
        seen.append("sync before")

    @app.before_request
    async def async_before():
        seen.append("async before")

    @app.get("/sync")
    def sync_view():
        @flask.after_this_request
        def per_request(response):  # a new function each request, never registered
            response.headers["X-Once"] = "yes"
            return response

        return "sync"

    @app.get("/async")
    async def async_view():
        return "async"

    @app.after_request
    async def async_after(response):
        response.headers["X-After"] = "async"
        return response

    client = app.test_client()
    for _ in range(3):
        sync = client.get("/sync")
        assert (sync.text, sync.headers["X-Once"], sync.headers["X-After"]) == ("sync", "yes", "async")
        answer = client.get("/async")
        assert (answer.text, answer.headers["X-After"]) == ("async", "async")
        assert "X-Once" not in answer.headers
    assert seen == ["sync before", "async before"] * 6


def test_session_cookies_still_signed_and_follow_a_new_secret_key(tmp_path):
    app = make_app(tmp_path)
    app.secret_key = "first-secret-key-0123456789"

    @app.get("/set")
    def set_value():
        flask.session["n"] = flask.session.get("n", 0) + 1
        return str(flask.session["n"])

    client = app.test_client()
    assert [client.get("/set").text for _ in range(3)] == ["1", "2", "3"]
    app.secret_key = "second-secret-key-0123456789"  # old cookies no longer verify
    assert client.get("/set").text == "1"
    app.config["SECRET_KEY_FALLBACKS"] = ["second-secret-key-0123456789"]
    app.secret_key = "third-secret-key-0123456789"  # signed with a fallback: still read
    assert client.get("/set").text == "2"
