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


def _session_routes(app: flask.Flask) -> None:
    @app.get("/untouched")
    def untouched():
        return "untouched"

    @app.get("/read")
    def read():
        return str(flask.session.get("n"))

    @app.get("/write")
    def write():
        flask.session["n"] = 1
        return "written"

    @app.get("/clear")
    def clear():
        flask.session.clear()
        return "cleared"


def test_requests_without_cookies_get_the_same_session_headers_as_plain_flask(tmp_path):
    """The no-cookie and untouched-session shortcuts answer exactly as Flask does."""
    ours = make_app(tmp_path)
    plain = flask.Flask(__name__)
    for app in (ours, plain):
        app.config.update(
            SECRET_KEY="a-secret-key-0123456789", SESSION_COOKIE_SECURE=False, SESSION_COOKIE_SAMESITE="Lax"
        )
        _session_routes(app)

    def seen(app: flask.Flask, path: str, cookie: str | None) -> tuple:
        headers = {"Cookie": cookie} if cookie else {}
        answer = app.test_client(use_cookies=False).get(path, headers=headers)
        set_cookie = answer.headers.get("Set-Cookie", "")
        return (
            answer.text,
            answer.headers.get("Vary"),
            set_cookie.split("=", 1)[0],
            "Max-Age=0" in set_cookie or "Expires=Thu, 01 Jan 1970" in set_cookie,
        )

    written = ours.test_client().get("/write").headers["Set-Cookie"].split(";", 1)[0]
    cases = [
        (path, cookie)
        for path in ("/untouched", "/read", "/write", "/clear")
        for cookie in (None, "other=1", written)
    ]
    for path, cookie in cases:
        assert seen(ours, path, cookie) == seen(plain, path, cookie), (path, cookie)
    # the cases that matter, spelled out
    assert seen(ours, "/untouched", None) == ("untouched", None, "", False)
    assert seen(ours, "/read", None) == ("None", "Cookie", "", False)
    assert seen(ours, "/write", None) == ("written", "Cookie", "session", False)
    assert seen(ours, "/read", written) == ("1", "Cookie", "", False)  # not permanent: no refresh
    assert seen(ours, "/clear", written) == ("cleared", "Cookie", "session", True)


def test_no_secret_key_still_gives_flasks_null_session():
    app = FrameworkFlask(__name__)  # the class alone: no framework start-up check of the key
    _session_routes(app)
    client = app.test_client()
    assert client.get("/read").text == "None"  # reading a null session works
    assert client.get("/write").status_code == 500  # writing one is Flask's RuntimeError


def test_json_provider_writes_what_flasks_default_provider_writes(tmp_path):
    import datetime
    import decimal
    import uuid

    from flask.json.provider import DefaultJSONProvider

    app = make_app(tmp_path)
    flasks = DefaultJSONProvider(app)
    data = {
        "b": "Zoë",
        "a": [1, 2.5, None, True],
        "when": datetime.datetime(2024, 5, 1, 12, 30),
        "id": uuid.UUID(int=7),
        "n": decimal.Decimal("1.5"),
    }
    options = [{}, {"separators": (",", ":")}, {"indent": 2}, {"separators": [",", ":"]}, {"sort_keys": 0}]
    changes = ({}, {"sort_keys": False}, {"ensure_ascii": False}, {"sort_keys": True, "ensure_ascii": False})
    for settings in changes:
        for name, value in settings.items():  # changed while the app runs: read on every call
            setattr(app.json, name, value)
            setattr(flasks, name, value)
        for kwargs in options:
            for _ in range(2):  # a cached encoder gives the same text the second time
                assert app.json.dumps(data, **dict(kwargs)) == flasks.dumps(data, **dict(kwargs))


def test_views_answer_dicts_as_flask_does(tmp_path):
    app = make_app(tmp_path)

    @app.get("/dict")
    def answer():
        return {"z": 1, "a": ["Zoë"]}

    client = app.test_client()
    first = client.get("/dict")
    assert (first.status_code, first.mimetype) == (200, "application/json")
    assert first.data == b'{"a":["Zo\\u00eb"],"z":1}\n'
    app.json.sort_keys = False
    app.json.compact = False
    assert client.get("/dict").data == b'{\n  "z": 1,\n  "a": [\n    "Zo\\u00eb"\n  ]\n}\n'
