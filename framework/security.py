"""Secure defaults for applications the framework owns.

``apply_secure_defaults`` runs in ``init_app``: session cookies are HttpOnly, SameSite=Lax
and Secure (unless the app runs in debug mode), and SQLAlchemy keeps statement
parameters (passwords, tokens) out of error messages and logs unless in debug mode.
A value written in ``[flask]`` always wins over these defaults.

A secret key is required only where something signs with it: an active app that declares
``App(needs_secret_key=True)`` (the accounts app's tokens do). ``check_secret_key`` runs
when the project is built and again at ``startup``, so a missing or short key stops every
server and command with one message naming the app, before any request; a project that
signs nothing serves without a key. Debug and testing runs get a generated key kept in the
instance folder (``secret_key``). A handler that writes Flask's session while no key is
set gets ``SessionUnavailable`` (logged with the fix, answered as the 500 envelope): which
handlers write the session cannot be known before they run.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Flask
from flask.sessions import NullSession

from .config import ImproperlyConfigured
from .logging import get_logger

LOGGER = get_logger(__name__)

__all__ = [
    "apply_secure_defaults",
    "check_secret_key",
    "secret_key",
    "apps_needing_secret_key",
    "SessionUnavailable",
    "NoKeySession",
    "SECRET_KEY_ENV",
    "MIN_SECRET_KEY_LENGTH",
]

#: The variable deployments set instead of writing the key into config.ini.
SECRET_KEY_ENV = "FRAMEWORK__FLASK__SECRET_KEY"
#: Shorter keys are refused outside debug: they can be guessed offline from a session cookie.
MIN_SECRET_KEY_LENGTH = 16


def apply_secure_defaults(app: Flask, flask_section: Mapping[str, Any]) -> None:
    """Harden the session cookie and SQLAlchemy's error messages, keeping explicit settings;
    without a key, writing the session raises ``SessionUnavailable``."""
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
    interface = vars(app).get("session_interface")  # the app's own, not Flask's shared one
    if interface is not None and getattr(interface, "null_session_class", None) is NullSession:
        interface.null_session_class = NoKeySession  # names the missing key on a write
    if not debug and "SQLALCHEMY_ENGINE_OPTIONS" not in given:
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("hide_parameters", True)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def apps_needing_secret_key(app: Flask) -> list[str]:
    """The active apps of ``app``'s project that sign with the secret key."""
    fw = app.extensions.get("framework")
    if fw is None:
        return []
    return [
        package for package, installed in fw.apps.items() if getattr(installed.app, "needs_secret_key", False)
    ]


def check_secret_key(app: Flask) -> None:
    """Raise ``ImproperlyConfigured`` when an app of the project signs and the key is
    missing or short (debug and testing runs get a generated one on first use)."""
    signers = apps_needing_secret_key(app)
    if not signers or app.debug or app.testing:
        return
    named = ", ".join(repr(p) for p in signers)
    _validate(app.config.get("SECRET_KEY"), f" (app {named} signs with it)")


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
    if not (app.debug or app.testing):
        _validate(key, "")
    return str(key)


def _validate(key: Any, why: str) -> None:
    if not key:
        raise ImproperlyConfigured(
            f"[flask] secret_key is not set{why}: set the environment variable {SECRET_KEY_ENV} "
            "(for example to the output of: python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or write secret_key in the [flask] section of a config file readable only by its "
            "owner; debug and testing runs keep a generated one in the instance folder"
        )
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"[flask] secret_key is too short{why} ({len(key)} characters; at least "
            f"{MIN_SECRET_KEY_LENGTH} outside debug): use a long random value"
        )


class SessionUnavailable(ImproperlyConfigured):
    """A handler wrote ``flask.session`` while no secret key is set."""


class NoKeySession(NullSession):
    """Flask's session when no key is set: reading works (it is empty), writing raises
    ``SessionUnavailable`` with the fix instead of Flask's generic ``RuntimeError``."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise SessionUnavailable(
            "a handler wrote flask.session but [flask] secret_key is not set, so the session "
            f"cookie cannot be signed: set {SECRET_KEY_ENV} or [flask] secret_key"
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse


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
