"""``[accounts] login_rate_limit``: login attempts counted per client address and per
username (blueprints/accounts/login_limit.py); either spent answers 429, code 1011."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from framework.config import ImproperlyConfigured
from framework.error import RATE_LIMITED, envelope

from .conftest import ACCOUNTS, AUTH, PASSWORD, dispose, make_app, signup

REFUSED = envelope(RATE_LIMITED, "Too many requests")


def accounts(tmp_path: Any, **accounts_settings: str) -> Any:
    return make_app(
        f"sqlite:///{tmp_path}/accounts.sqlite3",
        apps=ACCOUNTS,
        middlewares={"active": [AUTH]},
        flask={"secret_key": "accounts-test-key"},
        accounts=accounts_settings,
    )


@pytest.fixture
def limited(tmp_path: Any) -> Iterator[Any]:
    app = accounts(tmp_path, login_rate_limit="2/minute")
    yield app
    dispose(app)


def attempt(client: Any, username: str, address: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/login", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_one_username_from_many_addresses_is_limited(limited):
    client = limited.test_client()
    signup(client, "alice")
    answers = [attempt(client, "alice", f"198.51.100.{i}", password="wrong-Password-1") for i in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[-1].get_json() == REFUSED
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    # the right password does not get past the spent limit either
    assert attempt(client, "alice", "198.51.100.9").status_code == 429
    # another username is not affected
    signup(client, "bob")
    assert attempt(client, "bob", "198.51.100.10").status_code == 200


def test_one_address_trying_many_usernames_is_limited(limited):
    client = limited.test_client()
    signup(client, "carol")
    answers = [attempt(client, name, "203.0.113.5") for name in ("carol", "nobody-1", "nobody-2")]
    assert [a.status_code for a in answers] == [200, 401, 429]  # a success counts too
    assert answers[-1].get_json() == REFUSED
    assert attempt(client, "carol", "203.0.113.6").status_code == 200  # another address


def test_the_default_allows_ten_a_minute(tmp_path):
    app = accounts(tmp_path)
    try:
        client = app.test_client()
        codes = [attempt(client, "nobody", "192.0.2.1").status_code for _ in range(11)]
        assert codes == [401] * 10 + [429]
    finally:
        dispose(app)


def test_a_blank_setting_or_ratelimit_disabled_turns_it_off(tmp_path):
    for app in (
        accounts(tmp_path, login_rate_limit=""),
        make_app(
            f"sqlite:///{tmp_path}/off.sqlite3",
            apps=ACCOUNTS,
            middlewares={"active": [AUTH]},
            flask={"secret_key": "accounts-test-key"},
            accounts={"login_rate_limit": "1/minute"},
            ratelimit={"enabled": "false"},
        ),
    ):
        try:
            client = app.test_client()
            assert [attempt(client, "nobody", "192.0.2.1").status_code for _ in range(3)] == [401] * 3
        finally:
            dispose(app)


def test_a_bad_setting_stops_start_up_naming_it(tmp_path):
    app = accounts(tmp_path, login_rate_limit="ten a minute")
    try:
        with pytest.raises(ImproperlyConfigured, match=r"\[accounts\] login_rate_limit"):
            app.extensions["framework"].startup()
    finally:
        dispose(app)
