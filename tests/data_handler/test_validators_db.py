"""``Unique`` and ``Exists`` against a Flask-SQLAlchemy model on SQLite, through both
session sources: ``request.app.context['db_session']`` and Flask-SQLAlchemy's ``db.session``."""

from __future__ import annotations

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer as SAInteger
from sqlalchemy import String as SAString
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import String


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Users(db.Model):
    __tablename__ = "dh_users"
    id: Mapped[int] = mapped_column(SAInteger, primary_key=True)
    user_name: Mapped[str] = mapped_column(SAString(50), unique=True)
    email: Mapped[str] = mapped_column(SAString(100))


class Creation(Data):
    username = String("username", processors=[v.Unique(model=Users, model_field_name="user_name")])
    email = String("email", processors=[v.Unique(model=Users, message="Email taken")])


class Edit(Data):
    id = String("id", processors=[v.Integer(), f.ToIntegerObject()])
    username = String(
        "username", processors=[v.Unique(model=Users, model_field_name="user_name", exclude_self_by_field=id)]
    )


class Reference(Data):
    user = String("user", processors=[v.Exists(model=Users, model_field_name="id")])


def _setup(flask_app):
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(flask_app)
    with flask_app.app_context():
        db.create_all()
        db.session.add_all(
            [Users(id=1, user_name="ann", email="ann@x.io"), Users(id=2, user_name="bob", email="bob@x.io")]
        )
        db.session.commit()


@pytest.fixture(params=["flask_sqlalchemy", "context"])
def client(request, client_for):
    def make(data_class):
        def setup(flask_app):
            _setup(flask_app)

        client = client_for(data_class, setup=setup)
        if request.param == "context":
            fw = client.application.extensions["framework"]
            fw.context["db_session"] = lambda: db.session
        return client

    return make


def test_unique(client):
    c = client(Creation)
    assert c.post("/x", json={"username": "cid", "email": "c@x.io"}).status_code == 200
    response = c.post("/x", json={"username": "ann", "email": "bob@x.io"})
    assert response.status_code == 400
    assert response.json["data"] == {"username": ["Unique value error"], "email": ["Email taken"]}


def test_unique_excluding_self(client):
    c = client(Edit)
    assert c.post("/x", json={"id": "1", "username": "ann"}).status_code == 200
    taken = c.post("/x", json={"id": "2", "username": "ann"})
    assert taken.json["data"] == {"username": ["Unique value error"]}
    assert c.post("/x", json={"username": "ann"}).status_code == 400


def test_exists(client):
    c = client(Reference)
    assert c.post("/x", json={"user": 2}).status_code == 200
    assert c.post("/x", json={"user": 9}).json["data"] == {"user": ["Value does not exist"]}
    assert c.post("/x", json={"user": None}).status_code == 200


def test_unique_and_exists_through_the_framework_database(client_for):
    """With the project's own database layer (``framework.db``): no session set up by hand."""
    from framework.db import Base as FrameworkBase
    from framework.db import db as framework_db

    class Account(FrameworkBase):
        __tablename__ = "dh_accounts"
        id: Mapped[int] = mapped_column(SAInteger, primary_key=True)
        login: Mapped[str] = mapped_column(SAString(50))

    class Signup(Data):
        login = String("login", processors=[v.Unique(model=Account)])
        referrer = String("referrer", processors=[v.Exists(model=Account, model_field_name="id")])

    client = client_for(Signup)
    with client.application.app_context():
        framework_db.create_all()
        framework_db.session.add(Account(id=1, login="ann"))
        framework_db.session.commit()
    assert client.post("/x", json={"login": "bob", "referrer": 1}).status_code == 200
    response = client.post("/x", json={"login": "ann", "referrer": 2})
    assert response.json["data"] == {"login": ["Unique value error"], "referrer": ["Value does not exist"]}
