from __future__ import annotations

import pytest

from tests.db.conftest import database_uri, dispose, make_app  # noqa: F401

ACCOUNTS = ["blueprints.hello", "blueprints.accounts"]
AUTH = "blueprints.accounts.middleware.AuthMiddleware"
PASSWORD = "Correct-Horse-9"


@pytest.fixture
def accounts_app(database_uri):  # noqa: F811 - the fixture imported above, requested by name
    app = make_app(
        database_uri,
        apps=ACCOUNTS,
        middlewares={"active": [AUTH]},
        flask={"secret_key": "accounts-test-key"},
        accounts={"token_max_age": "600"},
    )
    yield app
    dispose(app)


@pytest.fixture
def client(accounts_app):
    return accounts_app.test_client()


def signup(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/users", json={"username": username, "password": password, **extra})


def login(client, username: str, password: str = PASSWORD) -> dict:
    response = client.post("/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['data']['token']}"}
