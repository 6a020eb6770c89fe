"""Signed, expiring bearer tokens (itsdangerous, keyed by the app's ``SECRET_KEY``).

A token names the user's id and the user's ``token_version`` at the time of login; the
``AuthMiddleware`` accepts it only while that row exists with that version, so changing the
password, logging out or deleting the account revokes it at once on every instance that
shares the database.

The key comes from ``framework.security.secret_key``: the configured one, or in debug and
testing runs a generated key kept in the instance folder.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from framework.config import ImproperlyConfigured
from framework.logging import get_logger
from framework.security import secret_key

__all__ = ["issue_token", "read_token", "token_max_age", "TokenError", "TokenSubject", "DEFAULT_MAX_AGE"]

LOGGER = get_logger(__name__)

#: Seconds a token stays valid when ``[accounts] token_max_age`` is not set.
DEFAULT_MAX_AGE = 3600
_SALT = "framework.accounts.bearer"


class TokenError(Exception):
    """The token is malformed, forged or expired."""


class TokenSubject(NamedTuple):
    """What a valid token names: the account and its token version at login."""

    user_id: int
    version: str


def token_max_age(config: dict[str, Any]) -> int:
    """``[accounts] token_max_age`` in seconds (a positive whole number)."""
    raw = (config.get("accounts") or {}).get("token_max_age") or DEFAULT_MAX_AGE
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise ImproperlyConfigured(
            f"[accounts] token_max_age must be a positive number of seconds, got {raw!r}"
        )
    return value


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(current_app), salt=_SALT)


def issue_token(user_id: int, version: str) -> str:
    """A token naming ``user_id`` at ``version``, valid for ``token_max_age`` seconds from now."""
    return _serializer().dumps({"uid": user_id, "ver": version})


def read_token(token: str, max_age: int) -> TokenSubject:
    """The account ``token`` names; ``TokenError`` when it is forged, malformed or expired.

    Tokens from before token versions existed (no ``ver``) are refused: their holders log in again.
    """
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("expired") from None
    except BadSignature:
        raise TokenError("invalid") from None
    if not isinstance(payload, dict):
        raise TokenError("invalid")
    uid, version = payload.get("uid"), payload.get("ver")
    if type(uid) is not int or not isinstance(version, str) or not version:
        raise TokenError("invalid")
    return TokenSubject(uid, version)
