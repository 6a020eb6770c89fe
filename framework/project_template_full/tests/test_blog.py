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
