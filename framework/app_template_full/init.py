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
