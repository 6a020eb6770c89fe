from sqlalchemy import func, select

from framework.response import Success
from framework.router import Routes

from .models import Book

routes = Routes()


@routes.post("/books")
def add_book(request):
    session = request.app.context["db_session"]()
    book = Book(title=request.body.json["title"])
    session.add(book)
    session.commit()
    return Success({"id": book.id}, status=201)


@routes.post("/books/fail")
def add_then_fail(request):
    """Adds a row, flushes it, then fails: the row must not survive."""
    session = request.app.context["db_session"]()
    session.add(Book(title=request.body.json["title"]))
    session.flush()
    raise RuntimeError("boom after flush")


@routes.post("/books/uncommitted")
def add_without_commit(request):
    session = request.app.context["db_session"]()
    session.add(Book(title=request.body.json["title"]))
    session.flush()
    return Success({"pending": True})


@routes.get("/books/count")
def count(request):
    session = request.app.context["db_session"]()
    return Success({"count": session.execute(select(func.count()).select_from(Book)).scalar_one()})


@routes.get("/session-identity")
def session_identity(request):
    """The session is one object per request, the same for every call."""
    first = request.app.context["db_session"]()
    second = request.app.context["db_session"]()
    return Success({"same": first is second, "id": id(first), "in_transaction": first.in_transaction()})


@routes.get("/session-async")
async def session_async(request):
    session = request.app.context["db_session"]()
    from flask import current_app

    flask_session = current_app.extensions["sqlalchemy"].session()
    total = (await session.execute(select(func.count()).select_from(Book))).scalar_one()
    return Success({"same": session.sync_session is flask_session, "count": total})


@routes.get("/no-such-table")
def no_such_table(request):
    from sqlalchemy import text

    request.app.context["db_session"]().execute(text("SELECT * FROM dbtest_missing_table"))
    return Success()
