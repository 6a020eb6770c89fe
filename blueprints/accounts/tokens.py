"""Signed, expiring bearer tokens (itsdangerous, keyed by the app's ``SECRET_KEY``).

The key comes from ``framework.security.secret_key``: the configured one, or in debug and
testing runs a generated key kept in the instance folder.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from framework.config import ImproperlyConfigured
from framework.logging import get_logger
from framework.security import secret_key

__all__ = ["issue_token", "read_token", "token_max_age", "TokenError", "DEFAULT_MAX_AGE"]

LOGGER = get_logger(__name__)

#: Seconds a token stays valid when ``[accounts] token_max_age`` is not set.
DEFAULT_MAX_AGE = 3600
_SALT = "framework.accounts.bearer"


class TokenError(Exception):
    """The token is malformed, forged or expired."""


def token_max_age(config: dict[str, Any]) -> int:
    """``[accounts] token_max_age`` in seconds (a positive whole number)."""
    raw = (config.get("accounts") or {}).get("token_max_age") or DEFAULT_MAX_AGE
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise ImproperlyConfigured(
            f"[accounts] token_max_age must be a positive number of seconds, got {raw!r}")
    return value


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(current_app), salt=_SALT)


def issue_token(user_id: int) -> str:
    """A token naming ``user_id``, valid for ``token_max_age`` seconds from now."""
    return _serializer().dumps({"uid": user_id})


def read_token(token: str, max_age: int) -> int:
    """The user id in ``token``; ``TokenError`` when it is forged, malformed or expired."""
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("expired") from None
    except BadSignature:
        raise TokenError("invalid") from None
    uid = payload.get("uid") if isinstance(payload, dict) else None
    if not isinstance(uid, int):
        raise TokenError("invalid")
    return uid
