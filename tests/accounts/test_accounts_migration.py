"""``flask db upgrade`` of a database made before token versions: existing accounts keep
working after a new login, old tokens are refused, and ids are not given again."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from blueprints.accounts.passwords import hash_password
from framework import create_app
from framework.config import ImproperlyConfigured
from framework.testing.postgres import require_postgres, temporary_database
from tests.db.conftest import ROOT

from .conftest import ACCOUNTS, AUTH, PASSWORD, dispose, login, signup

BEFORE_TOKEN_VERSIONS = "40499a70f657"
SECRET = "accounts-migration-test-key"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.sqlite3"
        return
    require_postgres()
    with temporary_database() as uri:
        yield uri


def db_upgrade(uri: str, revision: str = "head") -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", revision],
        cwd=ROOT,
        env={**os.environ, "FRAMEWORK__DATABASE__URI": uri},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_upgrading_a_database_from_before_token_versions(empty_database):
    uri = empty_database
    db_upgrade(uri, BEFORE_TOKEN_VERSIONS)
    engine = sa.create_engine(uri)
    with engine.begin() as conn:
        for name in ("old1", "old2", "old3"):
            conn.execute(
                sa.text(
                    "INSERT INTO accounts_users (username, password_hash, roles, created_at) "
                    "VALUES (:u, :h, 'user', :t)"
                ),
                {"u": name, "h": hash_password(PASSWORD), "t": datetime.now(UTC)},
            )
        old3 = conn.execute(sa.text("SELECT id FROM accounts_users WHERE username = 'old3'")).scalar_one()
    db_upgrade(uri)
    engine.dispose()

    app = create_app(
        ROOT,
        config={
            "apps": {"active": ACCOUNTS},
            "middlewares": {"active": [AUTH]},
            "database": {"uri": uri},
            "flask": {"secret_key": SECRET},
        },
    )
    client = app.test_client()
    with app.test_request_context():
        from blueprints.accounts import tokens

        signer = URLSafeTimedSerializer(tokens.secret_key(app), salt=tokens._SALT)
        old_token = signer.dumps({"uid": old3})
    refused = client.get(f"/users/{old3}", headers={"Authorization": f"Bearer {old_token}"})
    assert refused.status_code == 401 and refused.get_json()["code"] == 1102
    headers = login(client, "old3")
    assert client.get(f"/users/{old3}", headers=headers).status_code == 200
    assert client.delete(f"/users/{old3}", headers=headers).status_code == 200
    newcomer = signup(client, "newcomer")
    assert newcomer.status_code == 201 and newcomer.get_json()["data"]["id"] > old3
    assert client.get(f"/users/{old3}", headers=headers).status_code == 401
    dispose(app)


def test_a_table_from_before_token_versions_stops_start_up_with_the_command_to_run(tmp_path):
    uri = f"sqlite:///{tmp_path}/created.sqlite3"
    engine = sa.create_engine(uri)
    with engine.begin() as conn:  # the table as create-db made it before this release
        conn.execute(
            sa.text(
                "CREATE TABLE accounts_users (id INTEGER PRIMARY KEY, username VARCHAR(32) NOT NULL UNIQUE, "
                "password_hash VARCHAR(255) NOT NULL, first_name VARCHAR(50), last_name VARCHAR(50), "
                "roles VARCHAR(200) NOT NULL, created_at DATETIME NOT NULL)"
            )
        )
    engine.dispose()
    app = create_app(
        ROOT,
        config={
            "apps": {"active": ACCOUNTS},
            "middlewares": {"active": [AUTH]},
            "database": {"uri": uri},
            "flask": {"secret_key": SECRET},
        },
    )
    with pytest.raises(
        ImproperlyConfigured,
        match=r"accounts_users has no token_version column.*"
        r"db upgrade.*db stamp 40499a70f657",
    ):
        app.extensions["framework"].startup()
    dispose(app)
