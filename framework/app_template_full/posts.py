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
