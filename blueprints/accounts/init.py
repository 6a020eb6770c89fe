"""``flask init-project``: creates the first admin account.

The username and password come from ``ADMIN_USERNAME`` / ``ADMIN_PASSWORD`` when set,
otherwise from prompts. Skipped when an admin already exists.
"""

from __future__ import annotations

import os
from typing import Any

import click
import sqlalchemy as sa

from framework.db import get_db_engine, get_db_session
from framework.logging import get_logger

from .data import PASSWORD_POLICY
from .models import User
from .passwords import hash_password

LOGGER = get_logger(__name__)


def _check(value: str, validator: Any, what: str) -> str:
    message = validator(value, {"name": what, "request": None})
    if message:
        raise click.ClickException(f"admin {what}: {message}")
    return value


def init_data(config: dict[str, Any]) -> None:
    """Create the admin account unless one exists."""
    from framework.data_handler import validators as v

    engine = get_db_engine(config["database"])
    session = get_db_session(engine)
    try:
        if not sa.inspect(engine).has_table(User.__tablename__):
            raise click.ClickException(
                f"table {User.__tablename__} is missing: run 'flask create-db' or 'flask db upgrade' first"
            )
        admins = session().execute(sa.select(User).where(User.roles.contains("admin"))).scalars().first()
        if admins is not None:
            LOGGER.warning("an admin user exists already [SKIPPED]")
            return
        username = os.environ.get("ADMIN_USERNAME") or click.prompt("Admin username")
        password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
            "Admin password", hide_input=True, confirmation_prompt=True
        )
        _check(username, v.UserNamePolicy(), "username")
        _check(password, PASSWORD_POLICY, "password")
        session().add(User(username=username, password_hash=hash_password(password), roles="admin user"))
        try:
            session().commit()
        except sa.exc.IntegrityError:
            raise click.ClickException(f"admin username: {username!r} is taken") from None
        LOGGER.info("admin user %s created", username)
        click.echo(f"Admin user {username!r} created")
    finally:
        session.remove()
        engine.dispose()
