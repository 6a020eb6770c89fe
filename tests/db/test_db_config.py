"""``[database]`` handling and the helpers for scripts: database_url, get_db_engine, get_db_session."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
import sqlalchemy as sa

from framework import create_app
from framework.config import ImproperlyConfigured
from framework.db import Base, database_url, db, get_db_engine, get_db_session


def test_uri_wins():
    assert (
        database_url({"uri": "sqlite:////tmp/x.db", "host": "ignored", "name": "n"}) == "sqlite:////tmp/x.db"
    )


def test_server_keys_give_a_psycopg_url_with_escaped_password():
    url = database_url(
        {"host": "db.example", "port": "5433", "name": "shop", "username": "app", "password": "p@ss:word/"}
    )
    parsed = sa.engine.make_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.port, parsed.database, parsed.username, parsed.password) == (
        "db.example",
        5433,
        "shop",
        "app",
        "p@ss:word/",
    )


def test_driver_can_be_chosen():
    url = database_url({"host": "h", "name": "n", "driver": "psycopg2"})
    assert url.startswith("postgresql+psycopg2://h/n")


def test_default_is_a_sqlite_file_in_the_instance_folder(tmp_path):
    folder = tmp_path / "instance"
    url = database_url({}, str(folder))
    assert url == f"sqlite:///{folder}/framework.sqlite3"
    assert folder.is_dir()
    assert database_url({"name": "shop"}, str(folder)).endswith("/shop.sqlite3")


@pytest.mark.parametrize(
    "section, culprit",
    [
        ({"host": "h", "name": "n", "port": "five"}, "port"),
        ({"uri": "not a url"}, "uri"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_key(tmp_path, section, culprit):
    (tmp_path / "config.ini").write_text("[apps]\nactive =\n")
    with pytest.raises(ImproperlyConfigured, match=rf"\[database\] {culprit}"):
        create_app(tmp_path, config={"database": section})


def test_fresh_project_creates_its_sqlite_database_on_first_request(tmp_path):
    (tmp_path / "config.ini").write_text(
        "[apps]\nactive =\n    tests.db.dbapps.authors\n    tests.db.dbapps.books\n[database]\nuri =\n"
    )
    app = create_app(tmp_path)
    path = tmp_path / "instance" / "framework.sqlite3"
    assert app.extensions["framework"].config["database"]["uri"] == f"sqlite:///{path}"
    response = app.test_client().post("/books", json={"title": "Dune"})
    assert response.status_code == 201
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT title FROM dbtest_books")).scalars().all() == ["Dune"]
    engine.dispose()
    with app.app_context():
        db.engine.dispose()


def test_auto_create_can_be_turned_off(tmp_path):
    (tmp_path / "config.ini").write_text("[apps]\nactive =\n    tests.db.dbapps.books\n")
    app = create_app(tmp_path, config={"database": {"auto_create": "false"}})
    response = app.test_client().get("/books/count")
    assert response.status_code == 500  # no table: the generic server error, not 503
    assert response.get_json()["code"] == 1000
    with app.app_context():
        assert not sa.inspect(db.engine).has_table("dbtest_books")
        db.engine.dispose()


def test_base_is_the_model_class_of_db():
    from tests.db.dbapps.books.models import Book

    assert issubclass(Book, Base) and Base is db.Model
    assert "dbtest_books" in db.metadata.tables


def test_get_db_engine_and_session_for_scripts(database_uri):
    from tests.db.dbapps.authors.models import Author

    engine = get_db_engine({"uri": database_uri})
    Base.metadata.create_all(engine, tables=[Author.__table__])
    session = get_db_session(engine, scope_func=threading.get_ident)
    try:
        assert session() is session()
        session().add(Author(name="Herbert"))
        session().commit()
        other_thread = []
        worker = threading.Thread(target=lambda: other_thread.append(session()))
        worker.start()
        worker.join()
        assert other_thread[0] is not session()
        assert session().execute(sa.select(Author.name)).scalars().all() == ["Herbert"]
    finally:
        session.remove()
        engine.dispose()


def test_current_task_scope_works_inside_and_outside_a_loop(tmp_path):
    engine = get_db_engine({"uri": f"sqlite:///{tmp_path}/s.db"})
    session = get_db_session(engine, scope_func=asyncio.current_task)
    outside = session()  # no running loop: falls back to the thread

    async def two_tasks():
        async def grab():
            return session(), session()

        return await asyncio.gather(grab(), grab())

    (a1, a2), (b1, b2) = asyncio.run(two_tasks())
    assert a1 is a2 and b1 is b2 and a1 is not b1
    assert outside is not a1 and outside is not b1
    session.remove()
    engine.dispose()


def test_request_end_removes_the_request_session_after_the_request_is_popped(tmp_path):
    """Backendpy's listing 28: a session scoped by get_current_request, removed in request_end."""
    from framework import Backendpy

    (tmp_path / "config.ini").write_text("[apps]\nactive =\n")
    bp = Backendpy(str(tmp_path), config={"database": {"uri": f"sqlite:///{tmp_path}/r.db"}})
    engine = get_db_engine(bp.config["database"])
    session = get_db_session(engine, scope_func=bp.get_current_request)
    seen = []

    @bp.flask_app.get("/plain")
    def plain():
        seen.append(session())
        session().execute(sa.text("SELECT 1"))
        return "ok"

    @bp.event("request_end")
    def on_request_end():
        session.remove()

    client = bp.flask_app.test_client()
    for _ in range(20):  # more than the pool holds: a leaked session would block
        response = client.get("/plain")
        assert response.status_code == 200
        response.close()
    assert len(seen) == 20
    from flask import Request

    assert not any(isinstance(key, Request) for key in session.registry.registry)
    assert engine.pool.checkedout() == 0
    engine.dispose()
    with bp.flask_app.app_context():
        db.engine.dispose()


def test_the_resolved_uri_reaches_init_functions_and_scripts(tmp_path):
    (tmp_path / "config.ini").write_text("[apps]\nactive =\n[database]\nname = shop\n")
    app = create_app(tmp_path)
    config = app.extensions["framework"].config
    engine = get_db_engine(config["database"])
    assert str(engine.url) == f"sqlite:///{os.path.join(tmp_path, 'instance', 'shop.sqlite3')}"
    engine.dispose()
    with app.app_context():
        db.engine.dispose()


def test_every_request_returns_its_connection_and_only_one_teardown_removes_sessions(tmp_path):
    (tmp_path / "config.ini").write_text("[apps]\nactive =\n    tests.db.dbapps.books\n")
    app = create_app(tmp_path, config={"database": {"uri": f"sqlite:///{tmp_path}/pool.db"}})
    client = app.test_client()
    assert client.post("/books", json={"title": "Dune"}).status_code == 201
    for path in ("/books/count", "/session-identity", "/session-async"):
        assert client.get(path).status_code == 200, path
    assert client.get("/hello-nothing").status_code == 404  # no session opened at all
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
        assert not db.session.registry.has()
        db.engine.dispose()
    # the framework's session teardown stands in for Flask-SQLAlchemy's, not beside it
    assert db._teardown_session not in app.teardown_appcontext_funcs
