"""The accounts app over HTTP: users CRUD, login, the auth middleware, the hook."""

from __future__ import annotations

import os

import sqlalchemy as sa
from itsdangerous import TimestampSigner
from werkzeug.security import check_password_hash

from framework import signals
from framework.db import db

from .conftest import PASSWORD, dispose, login, signup


def stored_user(app, username):
    from blueprints.accounts.models import User

    with app.app_context():
        return db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()


def test_create_user_stores_a_hashed_password(accounts_app, client):
    response = signup(client, "alice", first_name="Alice")
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert data["username"] == "alice" and data["first_name"] == "Alice" and data["roles"] == ["user"]
    assert "password" not in data and "password_hash" not in data
    user = stored_user(accounts_app, "alice")
    assert user.password_hash != PASSWORD and check_password_hash(user.password_hash, PASSWORD)


def test_user_created_hook_fires_with_the_username(client):
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    signals.event("user_created").connect(receiver)
    try:
        signup(client, "bob")
        signup(client, "bob")  # rejected: no event
    finally:
        signals.event("user_created").disconnect(receiver)
    assert heard == [{"username": "bob"}]


def test_duplicate_username_is_400_1002(client):
    assert signup(client, "carol").status_code == 201
    response = signup(client, "carol")
    assert response.status_code == 400
    assert response.get_json() == {
        "status": "error",
        "code": 1002,
        "message": "Unexpected data",
        "data": {"username": ["Username already taken"]},
    }


def test_password_policy_and_username_rules(client):
    response = signup(client, "1x", password="short")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 1002 and set(body["data"]) == {"username", "password"}
    assert signup(client, "dave", password="aaaaaaaaaaaa").status_code == 400
    missing = client.post("/users", json={})
    assert missing.status_code == 400 and set(missing.get_json()["data"]) == {"username", "password"}


def add_admin(app, username="root"):
    from werkzeug.security import generate_password_hash

    from blueprints.accounts.models import User

    with app.app_context():
        db.session.add(
            User(username=username, password_hash=generate_password_hash(PASSWORD), roles="admin user")
        )
        db.session.commit()
    return username


def test_login_and_detail(accounts_app, client):
    user_id = signup(client, "erin").get_json()["data"]["id"]
    headers = login(client, "erin")
    response = client.get(f"/users/{user_id}", headers=headers)
    assert response.status_code == 200 and response.get_json()["data"]["username"] == "erin"
    admin = login(client, add_admin(accounts_app))  # others' accounts, missing ones included, are 403
    assert client.get("/users/999999", headers=admin).get_json() == {
        "status": "error",
        "code": 1101,
        "message": "User 999999 not found",
    }


def test_login_with_a_wrong_password_or_unknown_user_is_401(client):
    signup(client, "frank")
    for payload in (
        {"username": "frank", "password": "Wrong-Horse-99"},
        {"username": "nobody", "password": PASSWORD},
    ):
        response = client.post("/login", json=payload)
        assert response.status_code == 401 and response.get_json()["code"] == 1100


def test_protected_routes_need_a_valid_token(client):
    user_id = signup(client, "gina").get_json()["data"]["id"]
    no_token = client.get(f"/users/{user_id}")
    assert no_token.status_code == 401 and no_token.get_json()["code"] == 1103
    assert no_token.headers["WWW-Authenticate"] == "Bearer"
    forged = client.get(f"/users/{user_id}", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401 and forged.get_json()["code"] == 1102
    basic = client.get(f"/users/{user_id}", headers={"Authorization": "Basic Z2luYTp4"})
    assert basic.status_code == 401 and basic.get_json()["code"] == 1103


def test_public_routes_stay_open(client):
    assert client.get("/hello-world").status_code == 200
    assert client.get("/home").status_code == 200


def test_an_expired_token_is_refused(client, monkeypatch):
    signup(client, "hank")
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 601)
    headers = login(client, "hank")  # issued 601 s ago; token_max_age is 600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    response = client.get("/users", headers=headers)
    assert response.status_code == 401 and response.get_json()["code"] == 1102


def test_token_of_a_deleted_user_is_refused(client):
    user_id = signup(client, "ivan").get_json()["data"]["id"]
    headers = login(client, "ivan")
    assert client.delete(f"/users/{user_id}", headers=headers).get_json() == {"status": "success"}
    assert client.get("/users", headers=headers).status_code == 401


def test_list_is_paginated(accounts_app, client):
    for i in range(4):
        signup(client, f"user{i}")
    headers = login(client, add_admin(accounts_app, "user4"))  # the full list is for admins
    page = client.get("/users?page=2&per_page=2", headers=headers).get_json()["data"]
    assert [u["username"] for u in page["items"]] == ["user2", "user3"]
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 2, 5, 3)
    last = client.get("/users?page=3&per_page=2", headers=headers).get_json()["data"]
    assert [u["username"] for u in last["items"]] == ["user4"]
    for query in ("page=0", "per_page=101", "page=x"):
        bad = client.get(f"/users?{query}", headers=headers)
        assert bad.status_code == 400 and bad.get_json()["code"] == 1002


def test_update_own_account(accounts_app, client):
    user_id = signup(client, "judy").get_json()["data"]["id"]
    headers = login(client, "judy")
    response = client.patch(
        f"/users/{user_id}", headers=headers, json={"last_name": "Hopps", "password": "New-Password-42"}
    )
    assert response.status_code == 200 and response.get_json()["data"]["last_name"] == "Hopps"
    assert client.post("/login", json={"username": "judy", "password": PASSWORD}).status_code == 401
    headers = login(client, "judy", "New-Password-42")  # the new password revoked the old token
    same_name = client.patch(f"/users/{user_id}", headers=headers, json={"username": "judy"})
    assert same_name.status_code == 200


def test_update_to_a_taken_username_is_400(client):
    signup(client, "kate")
    user_id = signup(client, "liam").get_json()["data"]["id"]
    headers = login(client, "liam")
    response = client.patch(f"/users/{user_id}", headers=headers, json={"username": "kate"})
    assert response.status_code == 400
    assert response.get_json()["data"] == {"username": ["Username already taken"]}


def test_users_cannot_change_or_delete_others(accounts_app, client):
    victim = signup(client, "mona").get_json()["data"]["id"]
    signup(client, "nick")
    headers = login(client, "nick")
    assert client.patch(f"/users/{victim}", headers=headers, json={"first_name": "X"}).status_code == 403
    response = client.delete(f"/users/{victim}", headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == 1104
    assert stored_user(accounts_app, "mona") is not None


def test_an_admin_may_delete_anyone(accounts_app, client):
    victim = signup(client, "oscar").get_json()["data"]["id"]
    headers = login(client, add_admin(accounts_app))
    assert client.delete(f"/users/{victim}", headers=headers).status_code == 200
    assert stored_user(accounts_app, "oscar") is None
    assert client.get(f"/users/{victim}", headers=headers).status_code == 404


def test_auth_middleware_without_the_accounts_app_stops_start_up(tmp_path):
    import pytest

    from framework import create_app
    from framework.config import ImproperlyConfigured
    from tests.db.conftest import ROOT

    app = create_app(
        ROOT,
        config={"apps": {"active": ["blueprints.hello"]}, "database": {"uri": f"sqlite:///{tmp_path}/x.db"}},
    )
    with pytest.raises(ImproperlyConfigured, match="needs the app 'blueprints.accounts'"):
        app.extensions["framework"].startup()


def test_a_bad_token_max_age_stops_start_up(tmp_path):
    import pytest

    from framework import create_app
    from framework.config import ImproperlyConfigured
    from tests.db.conftest import ROOT

    app = create_app(
        ROOT,
        config={"accounts": {"token_max_age": "soon"}, "database": {"uri": f"sqlite:///{tmp_path}/x.db"}},
    )
    with pytest.raises(ImproperlyConfigured, match=r"\[accounts\] token_max_age"):
        app.extensions["framework"].startup()


def test_without_a_secret_key_one_is_kept_in_the_instance_folder(tmp_path, monkeypatch):
    import shutil

    from framework import create_app
    from tests.db.conftest import ROOT

    # serving without a key is refused outside debug/testing (framework.security)
    monkeypatch.delenv("FRAMEWORK__FLASK__SECRET_KEY", raising=False)
    testing = {"flask": {"testing": True}}
    project = tmp_path / "project"
    shutil.copy(os.path.join(ROOT, "config.ini"), project.mkdir() or project / "config.ini")
    first = create_app(project, config=testing)
    second = create_app(project, config=testing)  # another worker of the same project
    assert not first.config.get("SECRET_KEY")
    client = first.test_client()
    signup(client, "quinn")
    headers = login(client, "quinn")
    key_file = project / "instance" / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert second.test_client().get("/users", headers=headers).status_code == 200
    dispose(first)
    dispose(second)


def test_listing_with_a_huge_page_number_is_400_not_500(client):
    # found by the schemathesis run: the OFFSET overflowed the database's integer (500)
    signup(client, "paula")
    headers = login(client, "paula")
    for query in ("page=99999999999999999999", "page=9223372036854775807", "per_page=10&page=10000001"):
        response = client.get(f"/users?{query}", headers=headers)
        assert response.status_code == 400, (query, response.get_json())
        assert response.get_json()["code"] == 1002 and "page" in response.get_json()["data"]
    assert client.get("/users?page=1000000", headers=headers).status_code == 200


def test_user_id_beyond_any_database_integer_is_404_not_500(client):
    signup(client, "oscar")
    headers = login(client, "oscar")
    for user_id in ("99999999999999999999", "9223372036854775808", "-9223372036854775809"):
        response = client.get(f"/users/{user_id}", headers=headers)
        assert response.status_code in (400, 404), (user_id, response.get_json())
        assert response.get_json()["status"] == "error"
