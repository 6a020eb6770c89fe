"""PostgreSQL tests skip with a reason when the server is down, and fail instead under CI=true."""

from __future__ import annotations

import pytest

from framework.testing.postgres import postgres_error, require_postgres

DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=3"


def test_down_server_skips_with_the_reason(monkeypatch):
    monkeypatch.setenv("FRAMEWORK_TEST_POSTGRES_URL", DOWN)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL at .*127.0.0.1:1.* is down"):
        require_postgres()


def test_down_server_fails_under_ci(monkeypatch):
    monkeypatch.setenv("FRAMEWORK_TEST_POSTGRES_URL", DOWN)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: PostgreSQL tests must run"):
        require_postgres()


def test_error_text_names_the_failure():
    assert "127.0.0.1" in postgres_error(DOWN) or "refused" in postgres_error(DOWN).lower()
