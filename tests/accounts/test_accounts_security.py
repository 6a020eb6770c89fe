"""The accounts app against a hostile client (issue 12, deliverables 1, 2 and 7): token
versions and revocation, ids never reused, login cost for unknown users, the user list for
admins only, start-up without the middleware, and OPTIONS requests."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from framework.config import ImproperlyConfigured
from framework.db import db

from .conftest import ACCOUNTS, AUTH, PASSWORD, dispose, login, make_app, signup

ME_AND_PROBE = ACCOUNTS + ["tests.accounts.probe"]


def make_admin(app, username: str = "root") -> None:
    from blueprints.accounts.models import User
    from blueprints.accounts.passwords import hash_password

    with app.app_context():
        db.session.add(User(username=username, password_hash=hash_password(PASSWORD), roles="admin user"))
        db.session.commit()


def user_row(app, user_id: int):
    with app.app_context():
        return db.session.execute(
            sa.text("SELECT id, username, first_name FROM accounts_users WHERE id = :id"), {"id": user_id}
        ).first()


# ------------------------------------------------------------- 1. tokens and ids
def test_a_deleted_users_token_never_acts_on_the_next_account(accounts_app, client):
    """The reported takeover: alice deletes herself, bob registers; alice's token gets nothing."""
    alice_id = signup(client, "alice").get_json()["data"]["id"]
    alice = login(client, "alice")
    assert client.delete(f"/users/{alice_id}", headers=alice).status_code == 200
    bob_id = signup(client, "bob").get_json()["data"]["id"]
    assert bob_id > alice_id  # the id is not given again
    for user_id in {alice_id, bob_id}:
        read = client.get(f"/users/{user_id}", headers=alice)
        assert read.status_code == 401 and read.get_json()["code"] == 1102
        write = client.patch(f"/users/{user_id}", headers=alice, json={"first_name": "Pwned"})
        assert write.status_code == 401 and write.get_json()["code"] == 1102
    assert user_row(accounts_app, bob_id) == (bob_id, "bob", None)


def test_a_token_does_not_match_a_new_account_even_on_a_reused_id(accounts_app, client):
    """Where an id is given again anyway (a database from before AUTOINCREMENT, a restore),
    the token version still tells the accounts apart."""
    alice_id = signup(client, "alice").get_json()["data"]["id"]
    alice = login(client, "alice")
    client.delete(f"/users/{alice_id}", headers=alice)
    from blueprints.accounts.models import User
    from blueprints.accounts.passwords import hash_password

    with accounts_app.app_context():
        db.session.add(User(id=alice_id, username="bob", password_hash=hash_password(PASSWORD)))
        db.session.commit()
    assert client.get(f"/users/{alice_id}", headers=alice).status_code == 401
    assert client.patch(f"/users/{alice_id}", headers=alice, json={"first_name": "X"}).status_code == 401
    assert user_row(accounts_app, alice_id) == (alice_id, "bob", None)
    assert client.get(f"/users/{alice_id}", headers=login(client, "bob")).status_code == 200


def test_ids_are_never_reused(accounts_app, client):
    first = signup(client, "first").get_json()["data"]["id"]
    last = signup(client, "last").get_json()["data"]["id"]
    make_admin(accounts_app)
    assert client.delete(f"/users/{last}", headers=login(client, "root")).status_code == 200
    newest = signup(client, "newest").get_json()["data"]["id"]
    assert newest > last > first


def test_a_password_change_revokes_every_earlier_token(client):
    user_id = signup(client, "judy").get_json()["data"]["id"]
    phone, laptop = login(client, "judy"), login(client, "judy")
    changed = client.patch(f"/users/{user_id}", headers=phone, json={"password": "New-Password-42"})
    assert changed.status_code == 200
    for headers in (phone, laptop):
        response = client.get(f"/users/{user_id}", headers=headers)
        assert response.status_code == 401 and response.get_json()["code"] == 1102
    fresh = login(client, "judy", "New-Password-42")
    assert client.get(f"/users/{user_id}", headers=fresh).status_code == 200


def test_changing_other_fields_keeps_the_token(client):
    user_id = signup(client, "kim").get_json()["data"]["id"]
    headers = login(client, "kim")
    assert client.patch(f"/users/{user_id}", headers=headers, json={"first_name": "Kim"}).status_code == 200
    assert client.get(f"/users/{user_id}", headers=headers).status_code == 200


def test_logout_revokes_the_users_tokens_and_no_one_elses(client):
    user_id = signup(client, "lena").get_json()["data"]["id"]
    signup(client, "milo")
    lena, lena_elsewhere, milo = login(client, "lena"), login(client, "lena"), login(client, "milo")
    response = client.post("/logout", headers=lena)
    assert response.status_code == 200 and response.get_json() == {"status": "success"}
    for headers in (lena, lena_elsewhere):
        refused = client.get(f"/users/{user_id}", headers=headers)
        assert refused.status_code == 401 and refused.get_json()["code"] == 1102
        assert client.post("/logout", headers=headers).status_code == 401
    assert client.get("/users", headers=milo).status_code == 200
    assert client.get(f"/users/{user_id}", headers=login(client, "lena")).status_code == 200


def test_a_logout_is_seen_by_another_instance_on_the_same_database(database_uri):
    """Two instances of the project (two workers, two machines) share the database, where the
    token version lives: a logout through one is refused at once by the other."""
    one, other = (
        make_app(
            database_uri,
            apps=ACCOUNTS,
            middlewares={"active": [AUTH]},
            flask={"secret_key": "accounts-test-key"},
        )
        for _ in range(2)
    )
    first, second = one.test_client(), other.test_client()
    user_id = signup(first, "uma").get_json()["data"]["id"]
    headers = login(first, "uma")
    assert second.get(f"/users/{user_id}", headers=headers).status_code == 200
    assert first.post("/logout", headers=headers).status_code == 200
    refused = second.get(f"/users/{user_id}", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["code"] == 1102
    dispose(one)
    dispose(other)


def test_logout_without_a_token_is_401(client):
    response = client.post("/logout")
    assert response.status_code == 401 and response.get_json()["code"] == 1103
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_without_a_version_is_refused(accounts_app, client):
    """A token of the old form (the user id alone), even correctly signed, acts on no one."""
    user_id = signup(client, "nora").get_json()["data"]["id"]
    with accounts_app.test_request_context():
        from blueprints.accounts import tokens

        signer = URLSafeTimedSerializer(tokens.secret_key(accounts_app), salt=tokens._SALT)
        old = signer.dumps({"uid": user_id})
    response = client.get(f"/users/{user_id}", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401 and response.get_json()["code"] == 1102


# -------------------------------------------------- 2. login cost, listing, start-up
@pytest.fixture
def scrypt_calls(monkeypatch):
    """Every run of the password hash (Werkzeug's default method calls ``hashlib.scrypt``),
    with its cost parameters."""
    calls: list[tuple[int, int, int]] = []
    real = hashlib.scrypt

    def counting(password, *, salt, n, r, p, maxmem=0, dklen=64):
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def test_login_runs_the_same_password_hash_for_an_unknown_user(client, scrypt_calls):
    signup(client, "olga")  # also starts the app
    scrypt_calls.clear()
    wrong = client.post("/login", json={"username": "olga", "password": "Wrong-Horse-99"})
    assert wrong.status_code == 401 and wrong.get_json()["code"] == 1100
    known = list(scrypt_calls)
    scrypt_calls.clear()
    unknown = client.post("/login", json={"username": "nobody-at-all", "password": "Wrong-Horse-99"})
    assert unknown.status_code == 401 and unknown.get_json() == wrong.get_json()
    assert len(known) == 1 and scrypt_calls == known  # one hash, same cost parameters


def test_the_user_list_is_for_admins_others_see_themselves(accounts_app, client):
    for name in ("pam", "quentin", "rita"):
        signup(client, name)
    make_admin(accounts_app)
    mine = client.get("/users", headers=login(client, "quentin"))
    assert mine.status_code == 200
    page = mine.get_json()["data"]
    assert [u["username"] for u in page["items"]] == ["quentin"]
    assert (page["total"], page["pages"]) == (1, 1)
    everyone = client.get("/users?per_page=100", headers=login(client, "root")).get_json()["data"]
    assert [u["username"] for u in everyone["items"]] == ["pam", "quentin", "rita", "root"]
    assert everyone["total"] == 4


def test_reading_another_account_is_403_for_a_non_admin(accounts_app, client):
    pam = signup(client, "pam").get_json()["data"]["id"]
    signup(client, "quentin")
    make_admin(accounts_app)
    other = client.get(f"/users/{pam}", headers=login(client, "quentin"))
    assert other.status_code == 403 and other.get_json()["code"] == 1104
    assert "pam" not in other.get_data(as_text=True)
    missing = client.get("/users/999999", headers=login(client, "quentin"))
    assert missing.status_code == 403  # the same answer: existence is not told
    admin = client.get(f"/users/{pam}", headers=login(client, "root"))
    assert admin.status_code == 200 and admin.get_json()["data"]["username"] == "pam"


def test_the_accounts_app_without_its_middleware_refuses_to_start(tmp_path):
    app = make_app(
        f"sqlite:///{tmp_path}/t.sqlite3",
        apps=ACCOUNTS,
        middlewares={"active": []},
        flask={"secret_key": "accounts-test-key"},
    )
    with pytest.raises(
        ImproperlyConfigured,
        match=r"\[middlewares\] active: .*"
        r"blueprints\.accounts\.middleware\.AuthMiddleware",
    ):
        app.extensions["framework"].startup()
    dispose(app)


def test_without_its_middleware_the_user_routes_answer_no_one(tmp_path):
    app = make_app(
        f"sqlite:///{tmp_path}/t.sqlite3",
        apps=ACCOUNTS,
        middlewares={"active": []},
        flask={"secret_key": "accounts-test-key"},
    )
    make_admin(app, "secret-admin")
    client = app.test_client()
    for _ in range(2):  # the refusal holds on every request, not only the first
        response = client.get("/users")
        assert response.status_code == 500
        assert response.get_json() == {"status": "error", "code": 1000, "message": "Server error"}
    dispose(app)


def test_the_app_and_its_middleware_together_start(accounts_app):
    accounts_app.extensions["framework"].startup()  # raises when refused


# ------------------------------------------------------------------ 7. OPTIONS
@pytest.fixture
def probe_client(database_uri):
    app = make_app(
        database_uri,
        apps=ME_AND_PROBE,
        middlewares={"active": [AUTH]},
        flask={"secret_key": "accounts-test-key"},
    )
    yield app.test_client()
    dispose(app)


def test_an_options_route_needs_a_token(probe_client):
    response = probe_client.options("/probe")
    assert response.status_code == 401 and response.get_json()["code"] == 1103
    assert "handler_ran" not in response.get_data(as_text=True)
    user_id = signup(probe_client, "sam").get_json()["data"]["id"]
    allowed = probe_client.options("/probe", headers=login(probe_client, "sam"))
    assert allowed.status_code == 200
    assert allowed.get_json()["data"] == {
        "handler_ran": True,
        "auth": {"user_id": user_id, "user_roles": ["user"]},
    }


def test_a_cors_preflight_passes_without_a_token(probe_client):
    response = probe_client.options(
        "/probe", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 200 and response.get_json()["data"]["auth"] is None
