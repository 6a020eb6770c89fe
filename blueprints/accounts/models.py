"""The accounts app's tables."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, DateTime, Integer, String

from framework.db import Base

__all__ = ["User"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class User(Base):
    """An account; ``roles`` is a space-separated list (``admin``, ``user``)."""

    __tablename__ = "accounts_users"

    id = Column(Integer(), primary_key=True)
    username = Column(String(32), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    first_name = Column(String(50))
    last_name = Column(String(50))
    roles = Column(String(200), nullable=False, default="user")
    created_at = Column(DateTime(timezone=True), nullable=False, default=_now)

    @property
    def role_list(self) -> list[str]:
        return (self.roles or "").split()

    def to_dict(self) -> dict[str, Any]:
        """The public view of the account (never the password hash)."""
        created = self.created_at
        return {"id": self.id, "username": self.username, "first_name": self.first_name,
                "last_name": self.last_name, "roles": self.role_list,
                "created_at": created.isoformat() if created is not None else None}
