"""Async handlers written as Backendpy's database chapter writes them: the session from
``request.app.context['db_session']()`` awaited (uses the books app's model)."""

import re

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from framework.db import db
from framework.exception import BadRequest, NotFound
from framework.response import Success
from framework.router import Routes

from ..books.models import Book

routes = Routes()


def _count():
    return select(func.count()).select_from(Book)


@routes.post("/awaited/books")
async def add(request):
    session = request.app.context["db_session"]()
    book = Book(title=request.body.json["title"])
    session.add(book)
    await session.flush()
    shared = session.sync_session is db.session()
    await session.commit()
    await session.refresh(book)
    return Success({"id": book.id, "title": book.title, "same_session": shared}, status=201)


@routes.get("/awaited/books/<id:int>")
async def detail(request):
    session = request.app.context["db_session"]()
    book = await session.get(Book, int(request.url_vars["id"]))
    if book is None:
        raise NotFound({"id": request.url_vars["id"]})
    return Success({"id": book.id, "title": book.title})


@routes.delete("/awaited/books/<id:int>")
async def remove(request):
    session = request.app.context["db_session"]()
    book = await session.get(Book, int(request.url_vars["id"]))
    await session.delete(book)
    await session.commit()
    return Success()


@routes.get("/awaited/titles")
async def titles(request):
    session = request.app.context["db_session"]()
    result = await session.scalars(select(Book.title).order_by(Book.id))
    return Success(result.all())


@routes.post("/awaited/rolled-back")
async def rolled_back(request):
    """A flushed row is visible to db.session (same transaction), then rolled back."""
    session = request.app.context["db_session"]()
    before = (await session.execute(_count())).scalar_one()
    session.add(Book(title="draft"))
    await session.flush()
    seen_by_db_session = db.session.execute(_count()).scalar_one()
    await session.rollback()
    after = (await session.execute(_count())).scalar_one()
    return Success({"before": before, "seen_by_db_session": seen_by_db_session, "after": after})


@routes.get("/awaited/session-kinds")
async def session_kinds(request):
    facade = request.app.context["db_session"]()
    return Success(
        {
            "async": type(facade).__name__,
            "same_facade": facade is request.app.context["db_session"](),
            "flask_session": type(db.session()).__name__,
        }
    )


@routes.get("/awaited/sync-kind")
def sync_kind(request):
    return Success(type(request.app.context["db_session"]()).__name__)


@routes.get("/awaited/slow")
async def slow(request):
    """A query that waits until the test cancels it (``pg_cancel_backend``)."""
    token = request.params.get("token", "")
    if not re.fullmatch(r"[0-9a-f]{8,32}", token):
        raise BadRequest({"token": "hex"})
    session = request.app.context["db_session"]()
    try:
        await session.execute(text(f"SELECT pg_sleep(600) /* slow-{token} */"))
    except OperationalError:
        await session.rollback()
        return Success({"cancelled": True})
    return Success({"cancelled": False})


@routes.get("/awaited/fast")
async def fast(request):
    session = request.app.context["db_session"]()
    return Success((await session.execute(text("SELECT 41 + 1"))).scalar_one())


def _sync_helper(request):
    """A plain ``def`` helper (as a middleware or validator is) called from async code."""
    session = request.app.context["db_session"]()
    return type(session).__name__, session.execute(text("SELECT 7")).scalar_one()


@routes.get("/awaited/helper-kind")
async def helper_kind(request):
    return Success(list(_sync_helper(request)))
