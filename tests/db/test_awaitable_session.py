"""Backendpy's awaited database API: ``await session.get(...)`` and friends on the request's own
Flask-SQLAlchemy session, ``await db_session.remove()``, ``await engine.dispose()``."""

from __future__ import annotations

import asyncio
import textwrap

import pytest
import sqlalchemy as sa

from framework.db import Base, db, get_db_engine, get_db_session

from .conftest import BOOK_APPS, dispose, make_app

AWAITED_APPS = [*BOOK_APPS, "tests.db.dbapps.awaited"]


@pytest.fixture
def client(database_uri):
    app = make_app(database_uri, AWAITED_APPS)
    yield app.test_client()
    dispose(app)


def test_awaited_crud_on_the_request_session(client):
    created = client.post("/awaited/books", json={"title": "Dune"})
    assert created.status_code == 201
    assert created.json["data"]["title"] == "Dune" and created.json["data"]["same_session"] is True
    book_id = created.json["data"]["id"]
    assert client.get(f"/awaited/books/{book_id}").json["data"] == {"id": book_id, "title": "Dune"}
    assert client.post("/awaited/books", json={"title": "Emma"}).status_code == 201
    assert client.get("/awaited/titles").json["data"] == ["Dune", "Emma"]
    assert client.delete(f"/awaited/books/{book_id}").status_code == 200
    assert client.get(f"/awaited/books/{book_id}").status_code == 404
    assert client.get("/awaited/titles").json["data"] == ["Emma"]


def test_the_facade_shares_the_transaction_of_db_session(client):
    assert client.post("/awaited/books", json={"title": "kept"}).status_code == 201
    assert client.post("/awaited/rolled-back").json["data"] == {
        "before": 1,
        "seen_by_db_session": 2,
        "after": 1,
    }


def test_async_code_gets_the_facade_and_sync_code_the_plain_session(client):
    assert client.get("/awaited/session-kinds").json["data"] == {
        "async": "AwaitableSession",
        "same_facade": True,
        "flask_session": "Session",
    }
    assert client.get("/awaited/sync-kind").json["data"] == "Session"
    # a plain def helper called from an async handler still gets the synchronous session
    assert client.get("/awaited/helper-kind").json["data"] == ["Session", 7]


def test_unique_validator_in_an_async_handler_queries_through_the_facade(project, tmp_path):
    name = project.app_module(
        "uniq",
        {
            "models.py": textwrap.dedent(f"""
            import sqlalchemy as sa
            from framework.db import Base

            class Tag(Base):
                __tablename__ = 'tag_{project.package}'
                id = sa.Column(sa.Integer, primary_key=True)
                name = sa.Column(sa.String(20), unique=True)
        """),
            "handlers.py": textwrap.dedent("""
            from framework.data_handler.data import Data
            from framework.data_handler.fields import String
            from framework.data_handler import validators as v
            from framework.response import Success
            from framework.router import Routes
            from .models import Tag

            routes = Routes()

            class TagData(Data):
                name = String('name', required=True, processors=[v.Unique(Tag)])

            @routes.post('/tags', data_handler=TagData)
            async def add(request):
                data = await request.get_cleaned_data()
                session = request.app.context['db_session']()
                session.add(Tag(name=data['name']))
                await session.commit()
                return Success(data)
        """),
            "main.py": "from framework.app import App\nfrom .handlers import routes\n"
            f"app = App(routes=[routes], models=['{project.package}.uniq.models'])\n",
        },
    )
    project.config(f"[apps]\nactive = {name}\n[database]\nuri = sqlite:///{tmp_path}/u.db\n")
    app = project.create_app()
    client = app.test_client()
    assert client.post("/tags", json={"name": "red"}).status_code == 200
    taken = client.post("/tags", json={"name": "red"})
    assert taken.status_code == 400 and "name" in taken.json["data"]
    dispose(app)


def test_scripts_await_the_session_remove_and_dispose(database_uri):
    """Backendpy's listing 38/41 shape: a task-scoped session in plain asyncio code."""
    from tests.db.dbapps.authors.models import Author

    engine = get_db_engine({"uri": database_uri})
    Base.metadata.create_all(engine, tables=[Author.__table__])
    session = get_db_session(engine, scope_func=asyncio.current_task)

    async def script():
        session().add(Author(name="Ursula"))
        await session().commit()
        # methods called on the scoped object act on the current task's session
        names = (await session.scalars(sa.select(Author.name))).all()
        first = await session.get(Author, 1)
        await session.remove()
        await engine.dispose()
        return names, first.name

    assert asyncio.run(script()) == (["Ursula"], "Ursula")
    assert engine.pool.checkedout() == 0
    # called plainly (sync code) the same objects keep SQLAlchemy's sync API
    assert session().execute(sa.select(Author.name)).scalars().all() == ["Ursula"]
    session.remove()
    engine.dispose()


def test_a_failing_async_init_func_reports_its_own_error(project, tmp_path):
    """The awaited ``remove()``/``dispose()`` in a ``finally`` no longer hide the first error."""
    name = project.app_module(
        "initfail",
        {
            "main.py": textwrap.dedent("""
            from asyncio import current_task
            from framework.app import App
            from framework.db import get_db_engine, get_db_session

            async def init_data(config):
                db_engine = get_db_engine(config['database'], echo=False)
                db_session = get_db_session(db_engine, current_task)
                try:
                    await db_session.execute(__import__('sqlalchemy').text('SELECT * FROM no_such_table'))
                finally:
                    await db_session.remove()
                    await db_engine.dispose()

            app = App(init_func=init_data)
        """)
        },
    )
    project.config(f"[apps]\nactive = {name}\n[database]\nuri = sqlite:///{tmp_path}/i.db\n")
    app = project.create_app()
    result = app.test_cli_runner().invoke(args=["init-project"])
    assert result.exit_code != 0
    assert "no_such_table" in result.output
    assert "can't be used in 'await' expression" not in result.output
    with app.app_context():
        db.engine.dispose()


def test_the_project_context_holds_the_engine_as_in_backendpy(database_uri):
    app = make_app(database_uri, AWAITED_APPS)
    fw = app.extensions["framework"]
    with app.app_context():
        assert fw.context["db_engine"] is db.engine

    async def shutdown():
        await fw.context["db_engine"].dispose()

    asyncio.run(shutdown())
    assert fw.context["db_engine"].pool.checkedout() == 0
    dispose(app)
