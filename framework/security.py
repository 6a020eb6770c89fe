"""Secure defaults for applications the framework owns.

``apply_secure_defaults`` runs in ``init_app``: session cookies are HttpOnly, SameSite=Lax
and Secure (unless the app runs in debug mode), and SQLAlchemy keeps statement
parameters (passwords, tokens) out of error messages and logs unless in debug mode.
A value written in ``[flask]`` always wins over these defaults.

``check_secret_key`` runs when the app starts serving (the ``startup`` event, fired
before a worker's first request): outside debug and testing a ``[flask] secret_key`` is
required, because Flask would otherwise sign sessions with nothing or fail on first use;
debug and testing runs get a generated key kept in the instance folder (``secret_key``).
Commands such as ``flask routes`` or ``flask create-db`` do not serve, so they work
without one.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from .config import ImproperlyConfigured
from .logging import get_logger

LOGGER = get_logger(__name__)

__all__ = ["apply_secure_defaults", "check_secret_key", "secret_key", "SECRET_KEY_ENV", "MIN_SECRET_KEY_LENGTH"]

#: The variable deployments set instead of writing the key into config.ini.
SECRET_KEY_ENV = "FRAMEWORK__FLASK__SECRET_KEY"
#: Shorter keys are refused outside debug: they can be guessed offline from a session cookie.
MIN_SECRET_KEY_LENGTH = 16


def apply_secure_defaults(app: Flask, flask_section: Mapping[str, Any]) -> None:
    """Harden the session cookie and SQLAlchemy's error messages, keeping explicit settings."""
    given = {key.upper() for key in flask_section}
    debug = bool(app.debug)
    defaults = {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not debug,
    }
    for name, value in defaults.items():
        if name not in given:
            app.config[name] = value
    if not debug and "SQLALCHEMY_ENGINE_OPTIONS" not in given:
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("hide_parameters", True)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def check_secret_key(app: Flask) -> None:
    """Raise ``ImproperlyConfigured`` when a serving app has no usable secret key."""
    secret_key(app)


def secret_key(app: Flask) -> str:
    """The app's secret key, the one place that decides where it comes from.

    ``[flask] secret_key`` (or ``FRAMEWORK__FLASK__SECRET_KEY``) when set. In debug and
    testing runs without one, a random key kept in ``<instance>/secret_key`` (mode 600), so
    every worker of the project and every restart signs with the same key; it is installed
    as ``SECRET_KEY``. Anywhere else a missing or short key is ``ImproperlyConfigured``.
    """
    key = app.config.get("SECRET_KEY")
    if not key and (app.debug or app.testing):
        key = app.config["SECRET_KEY"] = _instance_key(app)
    if not key:
        raise ImproperlyConfigured(
            f"[flask] secret_key is not set: set the environment variable {SECRET_KEY_ENV} "
            "(for example to the output of: python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or write secret_key in the [flask] section of a config file readable only by its "
            "owner; debug and testing runs keep a generated one in the instance folder")
    if len(key) < MIN_SECRET_KEY_LENGTH and not (app.debug or app.testing):
        raise ImproperlyConfigured(
            f"[flask] secret_key is too short ({len(key)} characters; at least "
            f"{MIN_SECRET_KEY_LENGTH} outside debug): use a long random value")
    return str(key)


def _instance_key(app: Flask) -> str:
    path = os.path.join(app.instance_path, "secret_key")
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        LOGGER.warning("no [flask] secret_key: generated %s (debug and testing only)", path)
    for _ in range(50):  # another worker may have created the file and still be writing it
        with open(path, encoding="utf-8") as handle:
            key = handle.read().strip()
        if key:
            return key
        time.sleep(0.01)
    raise ImproperlyConfigured(f"{path} is empty: delete it to have a new key generated")
