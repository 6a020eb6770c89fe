"""Password hashing for the accounts app (Werkzeug's ``generate_password_hash``, scrypt).

``verify_password`` runs the hash whether or not the account exists: for an unknown username
it checks a dummy hash made the same way as the stored ones, so a login attempt costs the same
and its timing does not tell which usernames exist.
"""

from __future__ import annotations

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

__all__ = ["hash_password", "verify_password", "dummy_hash"]


def hash_password(password: str) -> str:
    """The hash to store for ``password``."""
    return generate_password_hash(password)


@cache
def dummy_hash() -> str:
    """A hash of a random password nobody knows, made like the stored ones (once per process;
    the app's ``startup`` makes it, so no login pays for it)."""
    return hash_password(secrets.token_urlsafe(32))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; ``None`` (no such account) checks the dummy
    hash all the same and answers False."""
    if stored_hash is None:
        check_password_hash(dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)
