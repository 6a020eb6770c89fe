"""The issue's reproductions against the accounts app, on SQLite and PostgreSQL: a NUL or an
unpaired surrogate in the login's JSON, and values of the wrong type for the username that
``Unique`` checks, each answer 400 in the envelope (code 1002), never a 500."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import signup


def _refused(response, field: str) -> None:
    body = response.get_data()
    assert response.status_code == 400, body[:300]
    assert b"Traceback" not in body
    payload = response.get_json()
    assert payload["status"] == "error" and payload["code"] == 1002
    assert field in payload["data"], payload


@pytest.mark.parametrize(
    "raw,field",
    [
        (b'{"username": "ann\\u0000", "password": "x"}', "username"),
        (b'{"username": "ann", "password": "pw\\u0000"}', "password"),
        (b'{"username": "\\ud800", "password": "x"}', "username"),
        (b'{"username": "ann", "password": "\\udfff"}', "password"),
    ],
)
def test_login_with_nul_or_a_lone_surrogate_is_400(client, raw, field):
    _refused(client.post("/login", data=raw, content_type="application/json"), field)


@pytest.mark.parametrize("username", [1.5, {}, ["a"], "bob\u0000", "\ud800"])
def test_signup_with_a_username_unique_cannot_check_is_400(client, username):
    # (``true`` is turned into the text "True" by the app's own ToStringObject first)
    _refused(signup(client, username), "username")


def test_signup_still_refuses_a_taken_username(client):
    assert signup(client, "carol").status_code in (200, 201)
    _refused(signup(client, "carol"), "username")
