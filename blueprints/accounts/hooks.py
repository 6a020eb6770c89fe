"""The accounts app's hooks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from framework import signals
from framework.config import ImproperlyConfigured
from framework.hook import Hooks
from framework.logging import get_logger

from . import middleware
from .login_limit import login_rate_limit
from .models import User
from .passwords import dummy_hash
from .tokens import token_max_age

LOGGER = get_logger(__name__)
hooks = Hooks()


@hooks.event("user_created")
def log_user_created(username):
    LOGGER.info("user %s created", username)


def check_settings(fw: Any) -> None:
    """``startup``: stop on a bad ``[accounts]`` setting rather than failing at first login,
    and refuse to serve the users' routes without the ``AuthMiddleware`` that guards them
    (they would answer anyone: reads must fail closed); then make the dummy password hash
    and check that the users table is up to date.

    Connected to the signal itself (the sender is the project) since a hook gets no
    arguments for ``startup``.
    """
    if __package__ not in getattr(fw, "apps", {}):
        return
    token_max_age(fw.config)
    login_rate_limit(fw.config)
    if not middleware.is_active(fw):
        raise ImproperlyConfigured(
            f"[middlewares] active: the app {__package__!r} needs "
            f"{middleware.__name__}.AuthMiddleware there (without it its user routes would "
            f"answer without a token)"
        )
    dummy_hash()  # made now: the first login of an unknown user must not cost more than others
    check_schema(fw)


#: The revision before ``token_version``: a table made by ``create-db`` or ``auto_create``
#: earlier is stamped with it so that ``db upgrade`` only adds what is new.
REVISION_BEFORE_TOKEN_VERSIONS = "40499a70f657"


def check_schema(fw: Any) -> None:
    """Stop when the users table predates token versions (every token check would fail with a
    server error): say which migration command brings it up to date. A database that cannot be
    reached or has no table yet is left to the rest of start-up."""
    app = getattr(fw, "app", None)
    if app is None or "sqlalchemy" not in app.extensions:
        return
    table = User.__tablename__
    with app.app_context():
        try:
            inspector = sa.inspect(app.extensions["sqlalchemy"].engine)
            if not inspector.has_table(table):
                return
            columns = {column["name"] for column in inspector.get_columns(table)}
        except sa.exc.SQLAlchemyError:
            return
    if "token_version" not in columns:
        raise ImproperlyConfigured(
            f"[database] the table {table} has no token_version column (it predates login token "
            f"versions): run 'flask --app wsgi db upgrade'; for a database made by 'create-db' or "
            f"on start-up, run 'flask --app wsgi db stamp {REVISION_BEFORE_TOKEN_VERSIONS}' first"
        )


signals.startup.connect(check_settings, weak=False)
