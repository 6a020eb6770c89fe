"""Values a database refuses, sent by a client: on SQLite and on PostgreSQL each answers 400
in the error envelope (code 1002), never a query with a value of the wrong type, never a
500. ``String`` fields refuse NUL and unpaired surrogates per field; ``Unique``/``Exists``
check the value against the column's type before querying; a ``DataError`` from a
handler's own query is a 400."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Boolean as SABoolean
from sqlalchemy import Integer as SAInteger
from sqlalchemy import String as SAString
from sqlalchemy.orm import Mapped, mapped_column

from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import String
from framework.db import Base, db
from framework.response import JSON
from framework.router import Routes
from framework.testing.postgres import require_postgres, temporary_schema
from tests.data_handler.helpers import build_app


class HostileMember(Base):
    __tablename__ = "dh_hostile_members"
    id: Mapped[int] = mapped_column(SAInteger, primary_key=True)
    name: Mapped[str] = mapped_column(SAString(50), unique=True)
    active: Mapped[bool] = mapped_column(SABoolean, default=True)


class Signup(Data):
    name = String(processors=[v.Unique(model=HostileMember)])
    referrer = String(processors=[v.Exists(model=HostileMember, model_field_name="id")])
    active = String(processors=[v.Exists(model=HostileMember, model_field_name="active")])


class Note(Data):
    text = String()


routes = Routes()
statements: list[str] = []


@routes.post("/signup", data_handler=Signup)
def signup(request):
    return JSON(request.get_cleaned_data())


@routes.post("/asignup", data_handler=Signup)
async def asignup(request):
    return JSON(await request.get_cleaned_data())


@routes.post("/note", data_handler=Note)
def note(request):
    return JSON(request.get_cleaned_data())


@routes.post("/store")
def store(request):
    """Stores what it receives, unchecked: the database itself refuses bad values."""
    body = request.body.json
    db.session.add(HostileMember(id=body.get("id"), name=body.get("name")))
    db.session.commit()
    return JSON({"stored": True})


@routes.get("/cast")
def cast(request):
    value = request.params.get("v", "")
    return JSON({"n": db.session.execute(sa.text("SELECT CAST(:v AS INTEGER)"), {"v": value}).scalar()})


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[str, Any]]:
    """``(name, test client)`` on a fresh database holding members 1 (ann) and 2 (bob)."""
    if request.param == "sqlite":
        uri_context: Any = None
        uri = f"sqlite:///{tmp_path}/hostile.sqlite3"
    else:
        require_postgres()
        uri_context = temporary_schema()
        uri = uri_context.__enter__()
    app = build_app(routes, config={"database": {"uri": uri}})
    with app.app_context():
        engine = db.engine
        sa.event.listen(
            engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *rest: statements.append(statement),
        )
        HostileMember.__table__.create(engine)
        db.session.add_all([HostileMember(id=1, name="ann"), HostileMember(id=2, name="bob")])
        db.session.commit()
    statements.clear()
    try:
        yield request.param, app.test_client()
    finally:
        with app.app_context():
            for each in db.engines.values():
                each.dispose()
        if uri_context is not None:
            uri_context.__exit__(None, None, None)


def _envelope(response: Any, status: int = 400, code: int = 1002) -> dict[str, Any]:
    body = response.get_data()
    assert response.status_code == status, body[:500]
    assert b"Traceback" not in body
    payload = json.loads(body)
    assert payload["status"] == "error" and payload["code"] == code
    return payload


# ------------------------------------------------------------------ String fields
@pytest.mark.parametrize(
    "raw,message",
    [
        (b'{"text": "a\\u0000b"}', "NUL character not allowed"),
        (b'{"text": "\\ud800"}', "Invalid Unicode (unpaired surrogate)"),
        (b'{"text": "ok \\udfff tail"}', "Invalid Unicode (unpaired surrogate)"),
    ],
)
def test_string_fields_refuse_nul_and_unpaired_surrogates(backend, raw, message):
    _, client = backend
    response = client.post("/note", data=raw, content_type="application/json")
    assert _envelope(response)["data"] == {"text": [message]}


def test_string_fields_keep_paired_surrogates_and_ordinary_text(backend):
    _, client = backend
    response = client.post(
        "/note", data=b'{"text": "\\ud83d\\ude00 caf\\u00e9"}', content_type="application/json"
    )
    assert response.status_code == 200, response.get_data()


# --------------------------------------------------------------- Unique / Exists
@pytest.mark.parametrize("route", ["/signup", "/asignup"])
@pytest.mark.parametrize(
    "field,value",
    [
        ("name", True),
        ("name", 1.5),
        ("name", {}),
        ("name", ["a"]),
        ("name", 7),
        ("name", "a\u0000b"),
        ("referrer", "abc"),
        ("referrer", True),
        ("referrer", 1.5),
        ("referrer", [1]),
        ("referrer", 2**70),
        ("referrer", "99999999999999999999999"),
        ("active", "yes"),
        ("active", 1),
    ],
)
def test_unique_and_exists_refuse_a_value_the_column_cannot_hold_without_querying(
    backend, route, field, value
):
    _, client = backend
    response = client.post(route, json={field: value})
    payload = _envelope(response)
    # the String field's own check may answer first for text it refuses
    assert payload["data"][field] in (["Invalid value type"], ["NUL character not allowed"])
    queries = [s for s in statements if "dh_hostile_members" in s and "EXISTS" in s.upper()]
    assert not queries, queries


@pytest.mark.parametrize("route", ["/signup", "/asignup"])
def test_unique_and_exists_still_query_values_of_the_right_type(backend, route):
    _, client = backend
    statements.clear()
    assert client.post(route, json={"name": "cid", "referrer": 2, "active": True}).status_code == 200
    assert client.post(route, json={"referrer": "1"}).status_code == 200  # a form's digits
    response = client.post(route, json={"name": "ann", "referrer": 9})
    assert _envelope(response)["data"] == {
        "name": ["Unique value error"],
        "referrer": ["Value does not exist"],
    }
    assert [s for s in statements if "EXISTS" in s.upper()]  # the check the next test relies on


# -------------------------------------------------------- the database's own refusals
@pytest.mark.parametrize(
    "body",
    [
        {"id": 3, "name": "\ud800"},
        {"id": 2**70, "name": "big"},
    ],
)
def test_a_value_the_driver_cannot_send_is_400(backend, body):
    _, client = backend
    response = client.post("/store", data=json.dumps(body), content_type="application/json")
    payload = _envelope(response)
    assert "\\ud800" not in response.get_data(as_text=True)
    assert payload["data"] == {"request": ["A value is not valid for the database"]}


def test_nul_in_text_is_400_on_postgresql_and_stored_on_sqlite(backend):
    name, client = backend
    response = client.post("/store", data=b'{"id": 3, "name": "a\\u0000b"}', content_type="application/json")
    if name == "postgresql":  # text columns cannot hold NUL there
        _envelope(response)
    else:
        assert response.status_code == 200


def test_text_the_database_cannot_cast_is_400(backend):
    name, client = backend
    response = client.get("/cast?v=abc")
    if name == "postgresql":  # invalid input syntax for type integer
        _envelope(response)
    else:  # SQLite casts any text
        assert response.status_code == 200 and response.json == {"n": 0}
    assert client.get("/cast?v=12").json == {"n": 12}


def test_the_session_is_usable_after_a_refused_value(backend):
    _, client = backend
    _envelope(client.post("/store", data=b'{"id": 3, "name": "\\ud800"}', content_type="application/json"))
    assert client.post("/store", json={"id": 3, "name": "cid"}).status_code == 200


def test_a_hosts_own_sqlalchemy_instance_gets_the_same_answer():
    """Extension mode, the host registered its own Flask-SQLAlchemy: a value its driver
    cannot send is still the 400 envelope."""
    from flask_sqlalchemy import SQLAlchemy

    host_db = SQLAlchemy()
    host_routes = Routes()

    @host_routes.post("/host-store")
    def host_store(request):
        host_db.session.execute(sa.text("SELECT :v"), {"v": request.body.json["v"]})
        return JSON({"ok": True})

    def setup(flask_app):
        flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        host_db.init_app(flask_app)

    client = build_app(host_routes, setup=setup, config={"database": {}}).test_client()
    assert client.post("/host-store", json={"v": "fine"}).status_code == 200
    response = client.post("/host-store", data=b'{"v": "\\ud800"}', content_type="application/json")
    _envelope(response)
