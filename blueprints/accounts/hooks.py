"""The accounts app's hooks."""

from __future__ import annotations

from typing import Any

from framework import signals
from framework.config import ImproperlyConfigured
from framework.hook import Hooks
from framework.logging import get_logger

from . import middleware
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
    (they would answer anyone: reads must fail closed); then make the dummy password hash.

    Connected to the signal itself (the sender is the project) since a hook gets no
    arguments for ``startup``.
    """
    if __package__ not in getattr(fw, "apps", {}):
        return
    token_max_age(fw.config)
    if not middleware.is_active(fw):
        raise ImproperlyConfigured(
            f"[middlewares] active: the app {__package__!r} needs "
            f"{middleware.__name__}.AuthMiddleware there (without it its user routes would "
            f"answer without a token)")
    dummy_hash()  # made now: the first login of an unknown user must not cost more than others


signals.startup.connect(check_settings, weak=False)
