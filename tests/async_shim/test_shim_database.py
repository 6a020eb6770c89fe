"""The request's database session inside async handlers: the awaitable facade over the same
session as sync code, committed or rolled back with the request."""

from __future__ import annotations

import pytest

MODELS = """
    import sqlalchemy as sa

    from framework.db import Base


    class Note(Base):
        __tablename__ = 'note_{pkg}'
        id = sa.Column(sa.Integer, primary_key=True)
        text = sa.Column(sa.String(50), nullable=False)
"""

HANDLERS = """
    import asyncio

    import flask

    from framework.db import db
    from framework.response import JSON
    from framework.router import Routes

    from .models import Note

    routes = Routes()


    @routes.post('/notes')
    async def add(request):
        session = request.app.context['db_session']()
        await asyncio.sleep(0)
        session.add(Note(text=request.body.json['text']))
        await asyncio.sleep(0)
        await session.commit()
        return JSON({'same_session': session.sync_session is db.session(), 'path': flask.request.path},
                    status=201)


    @routes.post('/notes-then-fail')
    async def add_then_fail(request):
        session = request.app.context['db_session']()
        session.add(Note(text=request.body.json['text']))
        await session.flush()
        await asyncio.sleep(0)
        raise RuntimeError('after the flush')


    @routes.get('/notes')
    def list_notes(request):
        session = request.app.context['db_session']()
        return JSON([n.text for n in session.query(Note).order_by(Note.id)])
"""


@pytest.fixture
def notes_client(project):
    name = project.app_module(
        "notes",
        {
            "models.py": MODELS.replace("{pkg}", project.package),
            "handlers.py": HANDLERS,
            "main.py": "from framework.app import App\nfrom .handlers import routes\n"
            f"app = App(routes=[routes], models=['{project.package}.notes.models'])\n",
        },
    )
    project.config(f"[apps]\nactive = {name}\n")
    return project.create_app().test_client()


def test_async_handler_uses_the_request_session(notes_client):
    response = notes_client.post("/notes", json={"text": "first"})
    assert response.status_code == 201
    assert response.json == {"same_session": True, "path": "/notes"}
    assert notes_client.post("/notes", json={"text": "second"}).status_code == 201
    assert notes_client.get("/notes").json == ["first", "second"]


def test_async_handler_error_rolls_the_session_back(notes_client):
    notes_client.post("/notes", json={"text": "kept"})
    response = notes_client.post("/notes-then-fail", json={"text": "lost"})
    assert response.status_code == 500
    assert response.json["code"] == 1000
    assert notes_client.get("/notes").json == ["kept"]
