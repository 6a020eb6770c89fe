"""The accounts app's tables."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, String

from framework.db import Base

__all__ = ["User", "new_token_version"]


def _now() -> datetime:
    return datetime.now(UTC)


def new_token_version() -> str:
    """A fresh random token version: unguessable, and never shared by two accounts in practice,
    so a token cannot match another account even where an id was reused."""
    return secrets.token_urlsafe(16)


class User(Base):
    """An account; ``roles`` is a space-separated list (``admin``, ``user``).

    ``token_version`` is named by every login token and replaced on a password change and on
    logout, which revokes all the tokens issued before. Ids are never reused (AUTOINCREMENT on
    SQLite; PostgreSQL sequences never go back), so a deleted account's token names no one.
    """

    __tablename__ = "accounts_users"
    __table_args__ = {"sqlite_autoincrement": True}

    id = Column(Integer(), primary_key=True)
    username = Column(String(32), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    first_name = Column(String(50))
    last_name = Column(String(50))
    roles = Column(String(200), nullable=False, default="user")
    created_at = Column(DateTime(timezone=True), nullable=False, default=_now)
    token_version = Column(String(32), nullable=False, default=new_token_version)

    def revoke_tokens(self) -> None:
        """Invalidate every token issued to this account so far (commit to take effect)."""
        self.token_version = new_token_version()

    @property
    def role_list(self) -> list[str]:
        return (self.roles or "").split()

    def to_dict(self) -> dict[str, Any]:
        """The public view of the account (never the password hash)."""
        created = self.created_at
        return {
            "id": self.id,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "roles": self.role_list,
            "created_at": created.isoformat() if created is not None else None,
        }
