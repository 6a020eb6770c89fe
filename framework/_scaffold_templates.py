"""The files written by ``flask create-project`` and ``flask create-app``.

Each constant is one file, written through ``string.Template``: ``$name`` placeholders
are filled in by ``framework.scaffold`` (``$$`` is a literal dollar sign). Python's
braces and Jinja's ``{{ }}`` pass through untouched, so the text reads as the file will.

Placeholders: ``$project`` (project name), ``$app`` (app package name), ``$prefix``
(URL prefix of the app's routes: empty for the project's own ``hello`` app, ``/<app>``
otherwise), ``$code`` and ``$code_exists`` (the app's error codes), ``$secret_key``.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- project

PROJECT_README = """\
# $project

A project on `framework` (a Backendpy-style framework on Flask).

## Install

```
python3 -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt   # the framework, gunicorn and pytest
```

## Run

```
gunicorn wsgi:app                 # http://127.0.0.1:8000/hello-world
uvicorn wsgi:asgi_app             # the same project under an ASGI server (pip install uvicorn)
flask --app wsgi run              # development server on port 5000
```

## Test

```
pytest
```

## Layout

- `config.ini`: the configuration (apps, database, logging...). Keep it private (`chmod 600`);
  `FRAMEWORK__<SECTION>__<KEY>` environment variables override its values.
- `wsgi.py`: `app = create_app(<this folder>)` for gunicorn and the flask CLI, and
  `asgi_app = to_asgi(app)` for uvicorn.
- `gunicorn.conf.py`: workers and bind address (`GUNICORN_BIND`, `WEB_CONCURRENCY`).
- `apps/`: the project's apps. Each is a package whose `main.py` defines `app = App(...)`;
  list it under `[apps] active` in `config.ini` to switch it on.
  Add one with `cd apps && flask create-app --name NAME [--full]`.
- `tests/`: tests of the whole project; each app carries its own tests in `apps/<app>/tests/`.
- `migrations/`: Flask-Migrate (Alembic) revisions of the apps' tables:
  `flask --app wsgi db migrate -m "..."` writes one after a model changes,
  `flask --app wsgi db upgrade` applies them.
- `requirements.txt`: what the project installs (`framework[test]` brings pytest).
"""

REQUIREMENTS_TXT = """\
# pip install -r requirements.txt
# the framework (with Flask, gunicorn, Flask-SQLAlchemy, Flask-Migrate) and pytest for the tests
framework[test]>=$version
"""

PROJECT_README_FULL = """
## Database

`apps/blog` keeps its posts in the database: a SQLite file in `instance/` unless
`[database]` in `config.ini` names another (`uri = postgresql+psycopg://user@host/name`).

```
flask --app wsgi create-db        # creates the database and every table
flask --app wsgi init-project     # runs each app's init_func (the blog's welcome post)
```

Or with migrations (`migrations/versions` holds the blog's first revision):

```
flask --app wsgi db upgrade       # creates the tables through the migrations
```

On SQLite the tables are also created when the project starts; on PostgreSQL run
`create-db` (or `flask --app wsgi db ...` migrations) first.

Then `POST /blog/posts` with `{"title": "...", "body": "..."}`, `GET /blog/posts`,
`GET /blog/posts/1` and the page `GET /blog/posts/page`.
"""

GITIGNORE = """\
__pycache__/
*.py[cod]
.pytest_cache/
instance/
media/
.venv/
"""

CONFIG_INI = """\
; $project configuration. A value written over several lines is a list.
; Environment variables FRAMEWORK__<SECTION>__<KEY> override any value here.

[networking]
allowed_hosts = *

[environment]
media_path = media

[apps]
active =
$apps

[middlewares]
active =

[database]
; empty: a SQLite file in the instance folder. Or: uri = postgresql+psycopg://user@localhost/$project
uri =

[flask]
secret_key = $secret_key

[logging]
level = INFO
"""

WSGI_PY = '''\
"""The project's entry point: ``gunicorn wsgi:app``, ``uvicorn wsgi:asgi_app``,
``flask --app wsgi ...``."""

import os

from framework import create_app
from framework.asgi import to_asgi

app = create_app(os.path.dirname(os.path.abspath(__file__)))
asgi_app = to_asgi(app)
'''

GUNICORN_CONF_PY = '''\
"""gunicorn settings, read from the project folder by ``gunicorn wsgi:app``.

The bind address and worker count come from the environment (GUNICORN_BIND,
WEB_CONCURRENCY, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT, GUNICORN_ACCESSLOG); the
worker hooks fire the framework's ``startup`` and ``shutdown`` events once per worker process.
"""

import multiprocessing
import os

from framework.serving import on_worker_exit, on_worker_init

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(4, multiprocessing.cpu_count() * 2))))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None


def post_worker_init(worker):
    on_worker_init(worker)


def worker_exit(server, worker):
    on_worker_exit(worker)
'''

PYTEST_INI = """\
[pytest]
testpaths = tests apps
pythonpath = .
addopts = -p no:cacheprovider
filterwarnings =
    error
"""

PROJECT_CONFTEST_PY = '''\
"""The project built as in production, on a throwaway SQLite database."""

import os

import pytest

from framework import create_app
from framework.db import db

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def app(tmp_path):
    app = create_app(ROOT, config={"database": {"uri": f"sqlite:///{tmp_path / 'test.db'}"},
                                   "flask": {"testing": True}})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
'''

PROJECT_TEST_APP_PY = '''\
"""The project as a whole: its configuration loads and its apps answer."""

import logging


def test_hello_world(client):
    response = client.get("/hello-world")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Hello World!"


def test_home_page_renders_the_template(client):
    response = client.get("/home")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<h1>Hello World!</h1>" in response.get_data(as_text=True)


def test_startup_hook_runs_before_the_first_request(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get("/hello-world")
    assert "hello app ready" in caplog.messages


def test_unknown_path_answers_in_the_error_envelope(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.get_json()["code"] == 1001
'''

PROJECT_TEST_BLOG_PY = '''\
"""The blog app inside the project: its table exists and its routes answer."""

import sqlalchemy

from framework.db import db


def test_blog_table_is_created(app):
    with app.app_context():
        db.create_all()
        assert sqlalchemy.inspect(db.engine).has_table("blog_posts")


def test_blog_posts_round_trip(app, client):
    with app.app_context():
        db.create_all()
    created = client.post("/blog/posts", json={"title": "First", "body": "Hi"})
    assert created.status_code == 201
    listed = client.get("/blog/posts")
    assert listed.status_code == 200
    assert [post["title"] for post in listed.get_json()["data"]] == ["First"]
'''

# --------------------------------------------------------------------------- any app

APP_MAIN_PY = '''\
"""The $app app: everything the framework needs to know about it."""

from framework.app import App

from .handlers import routes
from .hooks import hooks

app = App(
    routes=[routes],
    hooks=[hooks],
    template_dirs=["templates"])
'''

APP_HANDLERS_PY = '''\
"""The $app app's routes: a text response and a rendered template."""

from framework.response import HTML, Text
from framework.router import Routes
from framework.templating import Template

routes = Routes()


@routes.get("$prefix/hello-world")
async def hello_world(request):
    """Answer with a plain-text greeting."""
    return Text("Hello World!")


@routes.get("$prefix/home")
async def home(request):
    """Render templates/home.html."""
    context = {"message": "Hello World!"}
    return HTML(await Template("home.html").render(context))
'''

APP_HOOKS_PY = '''\
"""The $app app's hooks: functions run when an event fires."""

from framework.hook import Hooks
from framework.logging import get_logger

LOGGER = get_logger(__name__)
hooks = Hooks()


@hooks.event("startup")
async def announce_startup():
    LOGGER.info("$app app ready")
'''

HOME_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>$app</title>
</head>
<body>
  <h1>{{ message }}</h1>
</body>
</html>
"""

APP_TEST_PY = '''\
"""The $app app on its own, in a throwaway project around it."""

import logging

import pytest

from framework import create_app
from framework.db import db

APP_PACKAGE = __package__.rpartition(".")[0]


@pytest.fixture
def app(tmp_path):
    (tmp_path / "config.ini").touch(mode=0o600)
    app = create_app(tmp_path, config={
        "apps": {"active": [APP_PACKAGE]},
        "database": {"uri": f"sqlite:///{tmp_path / 'test.db'}"},
        "flask": {"testing": True}})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_hello_world(client):
    response = client.get("$prefix/hello-world")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "Hello World!"


def test_home_page(client):
    response = client.get("$prefix/home")
    assert response.status_code == 200
    assert "<h1>Hello World!</h1>" in response.get_data(as_text=True)


def test_startup_hook(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get("$prefix/hello-world")
    assert "$app app ready" in caplog.messages
'''

# ------------------------------------------------------------------ full app extras

FULL_APP_MAIN_PY = '''\
"""The $app app: everything the framework needs to know about it."""

from framework.app import App

from .errors import errors
from .handlers import routes
from .hooks import hooks
from .init import init_data
from .posts import routes as post_routes

app = App(
    routes=[routes, post_routes],
    hooks=[hooks],
    errors=[errors],
    models=[f"{__package__}.models"],
    template_dirs=["templates"],
    init_func=init_data)
'''

FULL_APP_HOOKS_PY = '''\
"""The $app app's hooks: functions run when an event fires."""

from framework.hook import Hooks
from framework.logging import get_logger

LOGGER = get_logger(__name__)
hooks = Hooks()


@hooks.event("startup")
async def announce_startup():
    LOGGER.info("$app app ready")


@hooks.event("post_created")
def log_new_post(post_id, title):
    """Fired by the create route with the new post's id and title."""
    LOGGER.info("post %s created: %s", post_id, title)
'''

MODELS_PY = '''\
"""The $app app's tables (imported at start-up through ``App(models=[...])``)."""

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from framework.db import Base


class Post(Base):
    __tablename__ = "${app}_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")

    def to_dict(self):
        return {"id": self.id, "title": self.title, "body": self.body}
'''

DATA_HANDLERS_PY = '''\
"""The $app app's input data: validated and cleaned before a handler sees it."""

from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import String


class PostCreationData(Data):
    title = String("title", required=True, processors=[v.NotNull(), v.Length(max=100)])
    body = String("body", processors=[v.Length(max=5000)])
'''

ERRORS_PY = '''\
"""The $app app's error codes (an app's codes start at 1100 and are its own)."""

from framework.error import ErrorCode, ErrorList
from framework.response import Status

POST_NOT_FOUND = $code
POST_EXISTS = $code_exists

errors = ErrorList(
    ErrorCode(POST_NOT_FOUND, "Post {} not found", Status.NOT_FOUND),
    ErrorCode(POST_EXISTS, "A post titled {!r} exists already", Status.BAD_REQUEST),
)
'''

POSTS_PY = '''\
"""The $app app's posts: create (with a data handler), list, detail and an HTML page."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from framework.db import db
from framework.error import Error
from framework.response import HTML, Status, Success
from framework.router import Routes
from framework.templating import Template

from .data_handlers import PostCreationData
from .errors import POST_EXISTS, POST_NOT_FOUND
from .models import Post

routes = Routes()


@routes.post("$prefix/posts", data_handler=PostCreationData)
def create_post(request):
    """Store a post from validated JSON; a taken title is the app's own error."""
    data = request.get_cleaned_data()
    post = Post(title=data["title"], body=data.get("body") or "")
    db.session.add(post)
    try:
        db.session.commit()
    except IntegrityError:  # the title is unique: checked by the database, so races are safe
        db.session.rollback()
        raise Error(POST_EXISTS, data["title"]) from None
    request.app.execute_event("post_created", {"post_id": post.id, "title": post.title})
    return Success(post.to_dict(), status=Status.CREATED)


@routes.get("$prefix/posts")
def list_posts(request):
    """Every post, oldest first."""
    posts = db.session.scalars(select(Post).order_by(Post.id))
    return Success([post.to_dict() for post in posts])


@routes.get("$prefix/posts/page")
def posts_page(request):
    """The posts as an HTML page (templates/posts.html)."""
    posts = db.session.scalars(select(Post).order_by(Post.id)).all()
    return HTML(Template("posts.html").render({"posts": posts}))


@routes.get("$prefix/posts/<id:int>")
def post_detail(request):
    """One post; the URL variable arrives as a string."""
    post_id = int(request.url_vars["id"])
    post = db.session.get(Post, post_id)
    if post is None:
        raise Error(POST_NOT_FOUND, post_id)
    return Success(post.to_dict())
'''

INIT_PY = '''\
"""The $app app's initialisation, run once per deployment by ``flask --app wsgi init-project``."""

from sqlalchemy import func, select

from framework.db import db
from framework.logging import get_logger

from .models import Post

LOGGER = get_logger(__name__)

WELCOME = {"title": "Welcome", "body": "The first post of $app."}


def init_data(config):
    """Write the welcome post unless the table has posts already."""
    if db.session.scalar(select(func.count()).select_from(Post)):
        LOGGER.warning("$app: posts exist already [SKIPPED]")
        return
    db.session.add(Post(**WELCOME))
    db.session.commit()
    LOGGER.info("$app: welcome post created")
'''

POSTS_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>$app posts</title>
</head>
<body>
  <h1>Posts</h1>
  <ul>
  {% for post in posts %}
    <li><strong>{{ post.title }}</strong>: {{ post.body }}</li>
  {% else %}
    <li>No posts yet.</li>
  {% endfor %}
  </ul>
</body>
</html>
"""

FULL_APP_TEST_PY = '''\
"""The $app app's posts: data handler, model, errors, hook, template and init_func."""

import logging

import pytest
import sqlalchemy

from framework import create_app
from framework.db import db

from ..errors import POST_EXISTS, POST_NOT_FOUND
from ..init import init_data
from ..models import Post

APP_PACKAGE = __package__.rpartition(".")[0]


@pytest.fixture
def app(tmp_path):
    (tmp_path / "config.ini").touch(mode=0o600)
    app = create_app(tmp_path, config={
        "apps": {"active": [APP_PACKAGE]},
        "database": {"uri": f"sqlite:///{tmp_path / 'test.db'}"},
        "flask": {"testing": True}})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_the_model_table_exists(app):
    with app.app_context():
        assert sqlalchemy.inspect(db.engine).has_table("${app}_posts")


def test_create_then_fetch_a_post(app, client):
    response = client.post("$prefix/posts", json={"title": "Hello", "body": "First post"})
    assert response.status_code == 201
    created = response.get_json()["data"]
    assert created["title"] == "Hello"
    with app.app_context():
        row = db.session.get(Post, created["id"])
        assert (row.title, row.body) == ("Hello", "First post")
    detail = client.get(f"$prefix/posts/{created['id']}")
    assert detail.status_code == 200
    assert detail.get_json() == {"status": "success", "data": created}


def test_data_handler_rejects_a_missing_title(client):
    response = client.post("$prefix/posts", json={"body": "no title"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 1002
    assert "title" in body["data"]


def test_data_handler_rejects_a_long_title(client):
    response = client.post("$prefix/posts", json={"title": "x" * 101})
    assert response.status_code == 400
    assert "title" in response.get_json()["data"]


def test_duplicate_title_gets_the_app_error(client):
    assert client.post("$prefix/posts", json={"title": "Twice"}).status_code == 201
    response = client.post("$prefix/posts", json={"title": "Twice"})
    assert response.status_code == 400
    assert response.get_json()["code"] == POST_EXISTS
    assert "Twice" in response.get_json()["message"]


def test_unknown_post_gets_the_app_error(client):
    response = client.get("$prefix/posts/999")
    assert response.status_code == 404
    assert response.get_json() == {
        "status": "error", "code": POST_NOT_FOUND, "message": "Post 999 not found"}


def test_post_created_hook_runs(client, caplog):
    with caplog.at_level(logging.INFO):
        response = client.post("$prefix/posts", json={"title": "Hooked"})
    post_id = response.get_json()["data"]["id"]
    assert f"post {post_id} created: Hooked" in caplog.messages


def test_posts_page_lists_posts_escaped(client):
    client.post("$prefix/posts", json={"title": "<b>bold</b>", "body": "text"})
    response = client.get("$prefix/posts/page")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page


def test_init_func_writes_the_welcome_post_once(app, client):
    fw = app.extensions["framework"]
    with app.app_context():
        init_data(fw.config)
        init_data(fw.config)
    titles = [post["title"] for post in client.get("$prefix/posts").get_json()["data"]]
    assert titles == ["Welcome"]
'''

BLOG_FIRST_REVISION_PY = '''\
"""The $app app's posts table.

Revision ID: 0001_${app}_posts
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_${app}_posts"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "${app}_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_${app}_posts")),
        sa.UniqueConstraint("title", name=op.f("uq_${app}_posts_title")),
    )


def downgrade():
    op.drop_table("${app}_posts")
'''
