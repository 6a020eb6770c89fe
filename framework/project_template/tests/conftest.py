"""The project built as in production, on a throwaway SQLite database."""

import os

import pytest

from framework import create_app
from framework.db import db

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def app(tmp_path):
    app = create_app(
        ROOT, config={"database": {"uri": f"sqlite:///{tmp_path / 'test.db'}"}, "flask": {"testing": True}}
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
