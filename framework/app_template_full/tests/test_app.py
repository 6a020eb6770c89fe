"""The $app app on its own, in a throwaway project around it."""

import logging

import pytest

from framework import create_app
from framework.db import db

APP_PACKAGE = __package__.rpartition(".")[0]


@pytest.fixture
def app(tmp_path):
    (tmp_path / "config.ini").touch(mode=0o600)
    app = create_app(
        tmp_path,
        config={
            "apps": {"active": [APP_PACKAGE]},
            "database": {"uri": f"sqlite:///{tmp_path / 'test.db'}"},
            "flask": {"testing": True},
        },
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_hello_world(client):
    response = client.get("$prefix/hello-world")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "Hello World!"


def test_home_page(client):
    response = client.get("$prefix/home")
    assert response.status_code == 200
    assert "<h1>Hello World!</h1>" in response.get_data(as_text=True)


def test_startup_hook(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get("$prefix/hello-world")
    assert "$app app ready" in caplog.messages
