"""The accounts app's hooks."""

from typing import Any

from framework import signals
from framework.hook import Hooks
from framework.logging import get_logger

from .tokens import token_max_age

LOGGER = get_logger(__name__)
hooks = Hooks()


@hooks.event("user_created")
def log_user_created(username):
    LOGGER.info("user %s created", username)


def check_settings(fw: Any) -> None:
    """``startup``: stop on a bad ``[accounts]`` setting rather than failing at first login.

    Connected to the signal itself (the sender is the project) since a hook gets no
    arguments for ``startup``.
    """
    if __package__ in getattr(fw, "apps", {}):
        token_max_age(fw.config)


signals.startup.connect(check_settings, weak=False)
