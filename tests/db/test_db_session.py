"""One session per request, rolled back on error; cross-app relations; 503 when the
database is unreachable. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from framework import Backendpy, Framework
from framework.db import db, set_database_hooks

from .conftest import BOOK_APPS, ROOT, dispose, make_app


@pytest.fixture
def app(database_uri):
    flask_app = make_app(database_uri)
    yield flask_app
    dispose(flask_app)


def count(client) -> int:
    return client.get("/books/count").get_json()["data"]["count"]


def test_committed_rows_are_stored(app):
    client = app.test_client()
    assert client.post("/books", json={"title": "Dune"}).status_code == 201
    assert count(client) == 1


def test_an_unhandled_error_rolls_the_request_back(app):
    client = app.test_client()
    response = client.post("/books/fail", json={"title": "Lost"})
    assert response.status_code == 500
    assert response.get_json() == {"status": "error", "code": 1000, "message": "Server error"}
    assert count(client) == 0
    assert client.post("/books", json={"title": "Kept"}).status_code == 201
    assert count(client) == 1


def test_uncommitted_work_does_not_outlive_the_request(app):
    client = app.test_client()
    assert client.post("/books/uncommitted", json={"title": "Draft"}).status_code == 200
    assert count(client) == 0


def test_one_session_per_request(app):
    client = app.test_client()
    first = client.get("/session-identity").get_json()["data"]
    assert first["same"] is True
    assert first["in_transaction"] is False
    with app.test_request_context():
        fw = app.extensions["framework"]
        one = fw.context["db_session"]()
        assert one is fw.context["db_session"]() is db.session()
    with app.test_request_context():
        assert fw.context["db_session"]() is not one


def test_async_handlers_share_the_request_session(app):
    client = app.test_client()
    client.post("/books", json={"title": "A"})
    data = client.get("/session-async").get_json()["data"]
    assert data == {"same": True, "count": 1}


def test_models_of_different_apps_relate(app):
    from tests.db.dbapps.authors.models import Author
    from tests.db.dbapps.books.models import Book

    with app.app_context():
        author = Author(name="Le Guin")
        db.session.add(Book(title="The Dispossessed", author=author))
        db.session.commit()
        found = db.session.execute(
            sa.select(Book.title).join(Book.author).where(Author.name == "Le Guin")
        ).scalar_one()
        assert found == "The Dispossessed"
        assert [b.title for b in db.session.get(Author, author.id).books] == ["The Dispossessed"]


def test_a_bad_statement_is_a_server_error_not_503(app):
    response = app.test_client().get("/no-such-table")
    assert response.status_code == 500
    assert response.get_json()["code"] == 1000


@pytest.mark.parametrize(
    "uri",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=3",
        "sqlite:////nonexistent-folder/for/sure/db.sqlite3",
    ],
)
def test_unreachable_database_answers_503_in_the_envelope(uri, caplog):
    flask_app = create_app_on(uri)
    response = flask_app.test_client().get("/books/count")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "code": 1009, "message": "Service unavailable"}
    assert "database unreachable" in caplog.text
    dispose(flask_app)


def create_app_on(uri):
    from framework import create_app

    return create_app(
        ROOT, config={"apps": {"active": BOOK_APPS}, "middlewares": {"active": []}, "database": {"uri": uri}}
    )


def test_extension_mode_installs_the_database_on_the_host(database_uri):
    host = Flask("host")

    @host.get("/host")
    def host_route():
        return {"host": True}

    Framework(host, config={"apps": {"active": BOOK_APPS}, "database": {"uri": database_uri}})
    with host.app_context():
        db.create_all()
    client = host.test_client()
    assert client.get("/host").get_json() == {"host": True}
    assert client.post("/books", json={"title": "Ext"}).status_code == 201
    assert count(client) == 1
    dispose(host)


def test_extension_mode_keeps_the_hosts_database_uri(tmp_path):
    host = Flask("host2")
    host.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path}/host.db"
    fw = Framework(host, config={"apps": {"active": BOOK_APPS}})
    assert fw.config["database"]["uri"] == f"sqlite:///{tmp_path}/host.db"
    with host.app_context():
        assert str(db.engine.url) == f"sqlite:///{tmp_path}/host.db"
    dispose(host)


def test_extension_mode_answers_503_on_framework_routes_only():
    host = Flask("host3")

    @host.get("/host-db")
    def host_db():
        db.session.execute(sa.text("SELECT 1"))
        return "ok"

    Framework(
        host,
        config={
            "apps": {"active": BOOK_APPS},
            "database": {"uri": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=3"},
        },
    )
    client = host.test_client()
    response = client.get("/books/count")
    assert response.status_code == 503 and response.get_json()["code"] == 1009
    assert client.get("/host-db").status_code == 500  # the host's own error handling
    dispose(host)


def test_set_database_hooks_is_harmless_on_a_backendpy_project(tmp_path, database_uri):
    (tmp_path / "config.ini").write_text(
        "[apps]\nactive =\n    tests.db.dbapps.authors\n    tests.db.dbapps.books\n"
    )
    bp = Backendpy(str(tmp_path), config={"database": {"uri": database_uri}})
    set_database_hooks(bp)
    set_database_hooks(bp)
    with bp.flask_app.app_context():
        db.create_all()
    client = bp.flask_app.test_client()
    assert client.post("/books", json={"title": "Ported"}).status_code == 201
    assert count(client) == 1
    dispose(bp.flask_app)
