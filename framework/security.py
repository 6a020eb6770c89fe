"""Secure defaults for applications the framework owns.

``apply_secure_defaults`` runs in ``init_app``: session cookies are HttpOnly, SameSite=Lax
and Secure (unless the app runs in debug mode), and SQLAlchemy keeps statement
parameters (passwords, tokens) out of error messages and logs unless in debug mode.
A value written in ``[flask]`` always wins over these defaults.

``check_secret_key`` runs when the app starts serving (the ``startup`` event, fired
before a worker's first request): outside debug and testing a ``[flask] secret_key`` is
required, because Flask would otherwise sign sessions with nothing or fail on first use.
Commands such as ``flask routes`` or ``flask create-db`` do not serve, so they work
without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from .config import ImproperlyConfigured

__all__ = ["apply_secure_defaults", "check_secret_key", "SECRET_KEY_ENV", "MIN_SECRET_KEY_LENGTH"]

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
    if app.debug or app.testing:
        return
    key = app.config.get("SECRET_KEY")
    if not key:
        raise ImproperlyConfigured(
            f"[flask] secret_key is not set: set the environment variable {SECRET_KEY_ENV} "
            "(for example to the output of: python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or write secret_key in the [flask] section of a config file readable only by its "
            "owner; debug and testing runs do not need one")
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"[flask] secret_key is too short ({len(key)} characters; at least "
            f"{MIN_SECRET_KEY_LENGTH} outside debug): use a long random value")
