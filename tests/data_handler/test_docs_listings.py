"""The data handler listings of Backendpy's docs (section 4.7), run with the import prefix
``backendpy`` changed to ``framework`` and nothing else, except where noted:

- the docs elide imports and the model with ``...``; the elided names (``TYPE_URL_VAR``,
  ``Users``) are supplied in the namespace;
- the handler body ``...`` of Listing 21 is filled with ``return data``;
- the edit example has a stray bracket in the docs (``f.ToIntegerObject()]])``), fixed here.
"""

from __future__ import annotations

import base64
import io
import sys
import textwrap
import types

import pytest
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer as SAInteger
from sqlalchemy import String as SAString
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

LISTING_20 = """
from backendpy.data_handler.data import Data
from backendpy.data_handler.fields import String
from backendpy.data_handler import validators as v
from backendpy.data_handler import filters as f
...

class UserCreationData(Data):
    group = String('group', required=True, processors=[v.NotNull()], field_type=TYPE_URL_VAR)
    first_name = String('first_name', processors=[v.Length(max=50)])
    last_name = String('last_name', processors=[v.Length(max=50)])
    email = String('email', processors=[v.EmailAddress()])
    username = String('username', processors=[v.Unique(model=Users)])
    password = String('password', processors=[v.PasswordStrength()])
    password_re = String('password_re')
"""

LISTING_21 = """
from backendpy.router import Routes
from .data_handlers import UserCreationData

routes = Routes()

@routes.post('/users', data_handler=UserCreationData)
async def user_creation(request):
    data = await request.get_cleaned_data()
    ...
"""

EXAMPLES = """
from backendpy.data_handler.data import Data
from backendpy.data_handler.fields import String
from backendpy.data_handler import validators as v
from backendpy.data_handler import filters as f

class Token(Data):
    token_type = String('token_type', required=True, processors=[v.NotNull(), v.In(['basic',
    'bearer'])])

class Image(Data):
    image = String('image', processors=[v.NotNull(), v.RestrictedFile(extensions=('jpg',
    'jpeg', 'png'), min_size=1, max_size=2048)])

class Images(Data):
    images = String('images', processors=[list((v.NotNull(), v.RestrictedFile(extensions=(
    'jpg', 'jpeg', 'png'), min_size=1, max_size=2048)))])

class Create(Data):
    username = String('username', processors=[v.Unique(model=Users)])

class CreateRenamed(Data):
    username = String('username', processors=[v.Unique(model=Users, model_field_name='user_name')])

class Edit(Data):
    id = String('id', processors=[v.Integer(), f.ToIntegerObject()]])
    username = String('username', processors=[v.Unique(model=Users, model_field_name='user_name', exclude_self_by_field=id)])

class Avatar(Data):
    image = String('image', processors=(v.NotNull(), f.DecodeBase64(), v.
    RestrictedFile(extensions=('jpg', 'jpeg', 'png'), min_size=1, max_size=2048), f.
    ModifyImage(format='JPEG')))
"""  # noqa: E501 - Backendpy's docs listing, kept verbatim


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Users(db.Model):
    __tablename__ = "docs_users"
    id: Mapped[int] = mapped_column(SAInteger, primary_key=True)
    username: Mapped[str] = mapped_column(SAString(50))
    user_name: Mapped[str] = mapped_column(SAString(50))


def port(source: str) -> str:
    """The porting promise: change the import prefix, nothing else."""
    return textwrap.dedent(source).replace("backendpy", "framework")


def run_listing(source: str, namespace: dict) -> dict:
    exec(compile(source, "<listing>", "exec"), namespace)  # noqa: S102
    return namespace


def _setup(flask_app):
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(flask_app)
    with flask_app.app_context():
        db.create_all()
        db.session.add(Users(id=1, username="taken", user_name="taken"))
        db.session.commit()


@pytest.fixture
def listing_20():
    from framework.data_handler.fields import TYPE_URL_VAR

    return run_listing(port(LISTING_20), {"TYPE_URL_VAR": TYPE_URL_VAR, "Users": Users})


@pytest.fixture
def examples():
    source = port(EXAMPLES).replace("f.ToIntegerObject()]])", "f.ToIntegerObject()])")
    return run_listing(source, {"Users": Users})


def test_listing_20_and_21(listing_20, app_for):
    package = types.ModuleType("docs_listing_pkg")
    package.__path__ = []
    data_handlers = types.ModuleType("docs_listing_pkg.data_handlers")
    data_handlers.UserCreationData = listing_20["UserCreationData"]
    sys.modules["docs_listing_pkg"] = package
    sys.modules["docs_listing_pkg.data_handlers"] = data_handlers
    source = port(LISTING_21).replace("    ...\n", "    return data\n")
    handlers = run_listing(
        source, {"__name__": "docs_listing_pkg.handlers", "__package__": "docs_listing_pkg"}
    )
    routes = handlers["routes"]

    @routes.post("/groups/<group>/users", data_handler=listing_20["UserCreationData"])
    async def user_creation_in_group(request):
        return await request.get_cleaned_data()

    client = app_for(routes, _setup).test_client()
    body = {
        "first_name": "Ann",
        "email": "ann@example.com",
        "username": "ann",
        "password": "Corr3ct-Horse",
        "password_re": "Corr3ct-Horse",
    }
    # The docs' route has no <group> in its path, so the URL-variable field is absent.
    response = client.post("/users", json=body)
    assert response.status_code == 400
    assert response.json["data"] == {"group": ["Required"]}

    response = client.post("/groups/admins/users", json=body)
    assert response.status_code == 200, response.json
    assert response.json == {**body, "group": "admins"}

    response = client.post(
        "/groups/admins/users",
        json={"first_name": "x" * 51, "email": "not-an-email", "username": "taken", "password": "weak"},
    )
    assert response.json["data"] == {
        "first_name": ["Length error: max: 50"],
        "email": ["Invalid email address"],
        "username": ["Unique value error"],
        "password": ["Weak password"],
    }


def test_token_type(examples, client_for):
    client = client_for(examples["Token"])
    assert client.post("/x", json={"token_type": "bearer"}).json == {"token_type": "bearer"}
    assert client.post("/x", json={"token_type": "digest"}).json["data"] == {"token_type": ["Value error"]}
    assert client.post("/x", json={}).json["data"] == {"token_type": ["Required"]}


def _png(size=2000):
    return b"\x89PNG\r\n\x1a\n" + b"\0" * size


def test_image_and_images(examples, client_for):
    image = client_for(examples["Image"])
    assert image.post("/x", json={"image": None}).json["data"] == {"image": ["Null value"]}

    # The docs declare JSON fields; run the same processors on uploads.
    from framework.data_handler.data import Data
    from framework.data_handler.fields import TYPE_FILE, String

    class Uploads(Data):
        images = String(
            "images", field_type=TYPE_FILE, processors=examples["Images"]._plan.entries[0].field.processors
        )

    client = client_for(Uploads)
    ok = client.post("/x", data={"images[]": [(io.BytesIO(_png()), "a.png"), (io.BytesIO(_png()), "b.png")]})
    assert ok.status_code == 200
    small = client.post("/x", data={"images[]": [(io.BytesIO(_png(10)), "a.png")]})
    assert small.json["data"] == {"images": ["File error: min size: 1 KiB"]}


def test_unique_examples(examples, client_for):
    for name in ("Create", "CreateRenamed"):
        client = client_for(examples[name], setup=_setup)
        assert client.post("/x", json={"username": "free"}).status_code == 200
        taken = client.post("/x", json={"username": "taken"})
        assert taken.json["data"] == {"username": ["Unique value error"]}


def test_edit_example_excludes_self(examples, client_for):
    client = client_for(examples["Edit"], setup=_setup)
    assert client.post("/x", json={"id": "1", "username": "taken"}).json == {"id": 1, "username": "taken"}
    assert client.post("/x", json={"id": "2", "username": "taken"}).status_code == 400


def test_filters_example(examples, client_for):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(out, format="PNG", compress_level=0)
    client = client_for(examples["Avatar"])
    response = client.post("/x", json={"image": base64.b64encode(out.getvalue()).decode()})
    assert response.status_code == 200
    assert response.json["image"].startswith("b'\\xff\\xd8")
