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
    app = create_app(
        tmp_path,
        config={
            "apps": {"active": [APP_PACKAGE]},
            "database": {"uri": f"sqlite:///{tmp_path / 'test.db'}"},
            "flask": {"testing": True},
        },
    )
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
        assert row is not None
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
    assert response.get_json() == {"status": "error", "code": POST_NOT_FOUND, "message": "Post 999 not found"}


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
