"""Fixtures of the command tests."""

from __future__ import annotations

# the database fixture of tests/db, for the commands that need a database
from tests.db.conftest import database_uri  # noqa: F401
