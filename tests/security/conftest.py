"""A throw-away project for the bad-input corpus, served by the test client and by gunicorn."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework import create_app
from tests.liveserver import LiveServer

APP_PACKAGE = "fw_security_app"
MAX_BODY = 8192

CONFIG = f"""\
[networking]
allowed_hosts =
    localhost
    127.0.0.1
    example.com

[environment]
media_path = media

[apps]
active = {APP_PACKAGE}

[middlewares]
active = {APP_PACKAGE}.middleware.BadHeaders

[flask]
secret_key = security-tests-only
max_content_length = {MAX_BODY}

[logging]
level = WARNING
"""

HANDLERS = '''\
import os

from framework.error import Error
from framework.response import HTML, JSON, File, Redirect, Text
from framework.router import Routes
from framework.templating import Template

from .data import FormData, ItemData, MemberData

routes = Routes()


@routes.get("/ok")
def ok(request):
    """The worker's pid: the same pid before and after a bad request means it survived."""
    return JSON({"pid": os.getpid()})


@routes.get("/file")
def media_file(request):
    return File(request.params.get("path", ""))


@routes.get("/media/<name>")
def media_by_name(request):
    return File(request.url_vars["name"])


@routes.get("/page")
def page(request):
    name = request.args.get("name", "page.html")  # Flask's args keep a blank name (params drop it)
    return HTML(Template(name).render({"who": request.params.get("who", "")}))


@routes.get("/go")
def go(request):
    return Redirect(request.params.get("to", "/"))


@routes.post("/echo")
def echo(request):
    data = request.body.json
    if data is None:
        raise Error(1006)
    return JSON({"type": type(data).__name__})


@routes.post("/aecho")
async def aecho(request):
    data = request.body.json
    return JSON({"type": type(data).__name__})


@routes.post("/form")
def form(request):
    return JSON({"fields": sorted(request.body.form), "files": sorted(request.body.files)})


@routes.post("/raw")
def raw(request):
    return JSON({"length": len(request.body.content)})


@routes.post("/ignore")
def ignore(request):
    return JSON({"ignored": True})


@routes.post("/items/<id:int>", data_handler=ItemData)
def item(request):
    return JSON(request.get_cleaned_data())


@routes.post("/aitems/<id:int>", data_handler=ItemData)
async def aitem(request):
    return JSON(await request.get_cleaned_data())


@routes.post("/forms", data_handler=FormData)
def form_data(request):
    return JSON(request.get_cleaned_data())


@routes.get("/session")
def session_cookie(request):
    from flask import session

    session["seen"] = True
    return JSON({"ok": True})


@routes.get("/db-param")
def db_param(request):
    import sqlalchemy as sa

    from framework.db import db

    token = request.params.get("token", "")
    db.session.execute(sa.text("SELECT * FROM no_such_table WHERE token = :token"), {"token": token})
    return JSON({"ok": True})


@routes.get("/db-ping")
def db_ping(request):
    import sqlalchemy as sa

    from framework.db import db

    return JSON({"one": db.session.execute(sa.text("SELECT 1")).scalar()})


@routes.get("/crash")
def crash(request):
    raise RuntimeError("internal detail that must not reach the client")


@routes.get("/host")
def host(request):
    return Text(request.host)


@routes.get("/query")
def query(request):
    return JSON(request.params)


@routes.get("/header")
def header(request):
    return JSON({"value": request.headers.get("X-Probe")})


#: Header names and values no server may send, set by a handler.
BAD_HEADERS = {
    "nul-value": ("X-Bad", "a\\x00b"),
    "crlf-name": ("X-Bad\\r\\nInjected", "yes"),
    "lf-name": ("X-Bad\\nInjected", "yes"),
    "nul-name": ("X-Bad\\x00", "yes"),
    "space-name": ("X Bad", "yes"),
    "esc-value": ("X-Bad", "a\\x1bb"),
    "non-latin1-value": ("X-Bad", "\\u20ac"),
}


@routes.get("/bad-header/<kind>")
def bad_header(request):
    name, value = BAD_HEADERS[request.url_vars["kind"]]
    response = JSON({"sent": True})
    response.headers[name] = value
    return response


@routes.post("/members", data_handler=MemberData)
def add_member(request):
    from framework.db import db

    from .models import Member

    data = request.get_cleaned_data()
    db.session.add(Member(name=data["name"]))
    db.session.commit()
    return JSON({"name": data["name"]})


@routes.post("/members/raw")
def add_member_raw(request):
    """Stores the body unchecked: the database's own refusals are the test."""
    from framework.db import db

    from .models import Member

    body = request.body.json or {}
    db.session.add(Member(id=body.get("id"), name=body.get("name")))
    db.session.commit()
    return JSON({"stored": True})
'''

DATA = '''\
from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import (TYPE_FORM_FIELD, TYPE_HEADER, TYPE_PARAM, TYPE_URL_VAR,
                                           Boolean, Dict, Float, Integer, List, String)

from .models import Member


class ItemData(Data):
    """Every location and a spread of validators and filters."""

    id = Integer(field_type=TYPE_URL_VAR, required=True, processors=[v.Limit(min=1, max=10**6)])
    name = String(required=True, processors=[f.ToStringObject(), v.Length(min=1, max=20), f.Escape()])
    count = Integer(default=0, processors=[v.Limit(min=0, max=100)])
    big = Integer()
    ratio = Float(processors=[v.Limit(min=0, max=1)])
    active = Boolean()
    email = String(processors=[f.ToStringObject(), v.EmailAddress()])
    website = String(processors=[f.ToStringObject(), v.Url()])
    uid = String(processors=[f.ToStringObject(), v.UUID()])
    color = String(processors=[v.In(["red", "green", "blue"])])
    when = String(processors=[f.ToStringObject(), v.DateTime(), f.ParseDateTime()])
    day = String(processors=[f.ToStringObject(), v.Date()])
    code = String(processors=[f.ToStringObject(), v.MatchRegex(r"^[A-Z]{3}-\\d{2}$")])
    blob = String(processors=[f.ToStringObject(), f.DecodeBase64()])
    price = String(processors=[f.ToDecimalObject(places=2)])
    tags = List(processors=[[f.ToStringObject(), v.Length(max=10)]])
    meta = Dict(processors=[v.DictInnerTypes({"k": str})])
    page = Integer(field_type=TYPE_PARAM, default=1, processors=[v.Limit(min=1, max=1000)])
    token = String(name="X-Token", field_type=TYPE_HEADER, processors=[v.Length(max=32)])


class MemberData(Data):
    """Unique and Exists on a real table (the project's SQLite file)."""

    name = String(required=True, processors=[v.Unique(model=Member)])
    sponsor = String(processors=[v.Exists(model=Member, model_field_name="id")])


class FormData(Data):
    title = String(field_type=TYPE_FORM_FIELD, required=True, processors=[v.Length(max=50)])
    amount = Integer(field_type=TYPE_FORM_FIELD, processors=[v.Limit(min=0)])
'''

MAIN = """\
from framework.app import App

from .handlers import routes

app = App(routes=[routes], template_dirs=["templates"], models=["fw_security_app.models"])
"""

MODELS = """\
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from framework.db import Base


class Member(Base):
    __tablename__ = "security_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
"""

MIDDLEWARE = '''\
from framework.middleware import Middleware


class BadHeaders(Middleware):
    """Sets headers no server may send, on the paths that ask for it: one through the
    response layer, one straight into the WSGI answer (past Werkzeug's own checks)."""

    @staticmethod
    def process_response(request, response):
        if request.path == "/mw-bad-header":
            response.headers["X-From-Middleware"] = "a\\x00b"
        return response

    @staticmethod
    def process_application(application):
        def wrapped(environ, start_response):
            if environ.get("PATH_INFO") != "/wsgi-bad-header":
                return application(environ, start_response)

            def splitting(status, headers, exc_info=None):
                return start_response(status, [*headers, ("X-Split", "a\\r\\nSet-Cookie: evil=1")],
                                      exc_info)

            return application(environ, splitting)

        return wrapped
'''

WSGI = """\
import os

from framework import create_app
from framework.asgi import to_asgi

app = create_app(os.path.dirname(os.path.abspath(__file__)))
asgi_app = to_asgi(app)
"""


def build_project(root: Path) -> Path:
    """Write the project: config, app package, templates, media with traps around it."""
    (root / "config.ini").write_text(CONFIG)
    os.chmod(root / "config.ini", 0o600)
    (root / "wsgi.py").write_text(WSGI)
    package = root / APP_PACKAGE
    (package / "templates" / "pages").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(MAIN)
    (package / "handlers.py").write_text(HANDLERS)
    (package / "data.py").write_text(DATA)
    (package / "models.py").write_text(MODELS)
    (package / "middleware.py").write_text(MIDDLEWARE)
    (package / "templates" / "page.html").write_text("<p>Hello {{ who }}</p>")
    (package / "templates" / "pages" / "inner.html").write_text("<p>inner</p>")
    (root / "secret.txt").write_text("TOP SECRET outside media")
    (root / "outside.html").write_text("TOP SECRET template outside the app")
    media = root / "media"
    (media / "sub").mkdir(parents=True)
    (media / "hello.txt").write_text("hello from media")
    (media / "sub" / "inner.txt").write_text("inner file")
    os.symlink(root / "secret.txt", media / "escape.txt")
    os.symlink(root, media / "rootlink")
    os.symlink(package / "templates" / "page.html", package / "templates" / "link.html")
    os.symlink(root / "outside.html", package / "templates" / "escape.html")
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = build_project(tmp_path_factory.mktemp("secproject"))
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


@pytest.fixture(scope="session")
def app(project: Path):
    flask_app = create_app(project, config={"flask": {"testing": True}})
    return flask_app


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def server(project: Path) -> Iterator[LiveServer]:
    """One gunicorn worker serving the project (the pid check proves it survives)."""
    with LiveServer(str(project), workers=1) as live:
        yield live


@pytest.fixture(scope="session")
def asgi_server(project: Path) -> Iterator[LiveServer]:
    """The same project through ``to_asgi`` under uvicorn."""
    with LiveServer(str(project), "wsgi:asgi_app", kind="uvicorn") as live:
        yield live


def assert_envelope(response, status: int | None = None, code: int | None = None) -> dict:
    """A 4xx in the error envelope, no traceback, no internals."""
    body = response.get_data()
    assert 400 <= response.status_code < 500, (response.status_code, body[:300])
    if status is not None:
        assert response.status_code == status, body[:300]
    assert b"Traceback" not in body and b'File "' not in body
    assert response.mimetype == "application/json", body[:300]
    payload = json.loads(body)
    assert payload["status"] == "error"
    if code is not None:
        assert payload["code"] == code, payload
    return payload


def assert_raw_envelope(
    status: int,
    headers: dict[str, str],
    body: bytes,
    expected_status: int | None = None,
    code: int | None = None,
) -> dict:
    """The same checks on a response read from a socket."""
    assert 400 <= status < 500, (status, body[:300])
    if expected_status is not None:
        assert status == expected_status, body[:300]
    assert b"Traceback" not in body
    assert headers.get("content-type", "").startswith("application/json"), (headers, body[:300])
    payload = json.loads(body)
    assert payload["status"] == "error"
    if code is not None:
        assert payload["code"] == code, payload
    return payload
