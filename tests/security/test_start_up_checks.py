"""What start-up guarantees: a private SQLite file, a warning each time debug serves, and a
refusal of ``[cors]`` settings that would hand any site a user's credentials."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from framework import create_app
from framework.config import ImproperlyConfigured
from framework.db import create_private_file
from tests.liveserver import LiveServer, http_get, wait_until

MINIMAL_CONFIG = """\
[flask]
secret_key = start-up-checks-only-start-up-checks-only

[logging]
level = WARNING
"""

DEBUG_WARNING = "debug mode is on"


def _project(root: Path, extra: str = "") -> Path:
    (root / "config.ini").write_text(MINIMAL_CONFIG + extra)
    os.chmod(root / "config.ini", 0o600)
    return root


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# ----------------------------------------------------------------- the SQLite file
def test_the_default_sqlite_file_is_private(tmp_path):
    root = _project(tmp_path)
    app = create_app(root)
    database = root / "instance" / "framework.sqlite3"
    assert _mode(database) == 0o600
    assert _mode(root / "instance") & 0o077 == 0
    # it is a working database, and writing to it keeps the mode
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        engine.dispose()
    assert _mode(database) == 0o600


def test_a_named_sqlite_file_is_private_too(tmp_path):
    root = _project(tmp_path, "\n[database]\nname = accounts\n")
    create_app(root)
    assert _mode(root / "instance" / "accounts.sqlite3") == 0o600


def test_an_existing_file_is_left_as_it_is(tmp_path):
    path = tmp_path / "kept.sqlite3"
    path.write_bytes(b"")
    os.chmod(path, 0o640)
    create_private_file(str(path))
    assert _mode(path) == 0o640


# ----------------------------------------------------------------------- debug mode
def test_debug_logs_a_warning_at_each_start(tmp_path, caplog):
    root = _project(tmp_path)
    with caplog.at_level(logging.WARNING, logger="framework"):
        for _ in range(2):  # two starts (two workers, or two runs)
            app = create_app(root, config={"flask": {"debug": "true"}})
            app.extensions["framework"].startup()
    warnings = [r for r in caplog.records if DEBUG_WARNING in r.getMessage()]
    assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)


def test_no_debug_warning_without_debug(tmp_path, caplog):
    root = _project(tmp_path)
    with caplog.at_level(logging.WARNING, logger="framework"):
        create_app(root).extensions["framework"].startup()
    assert not [r for r in caplog.records if DEBUG_WARNING in r.getMessage()]


def test_debug_warning_under_gunicorn_once_per_worker(tmp_path):
    root = _project(tmp_path)
    (root / "wsgi.py").write_text(
        "import os\nfrom framework import create_app\n"
        "app = create_app(os.path.dirname(os.path.abspath(__file__)))\n"
    )
    with LiveServer(str(root), workers=2, env={"FRAMEWORK__FLASK__DEBUG": "true"}) as live:
        assert http_get(live.port, "/missing")[0] == 404
        # both workers boot on their own: poll the log
        wait_until(
            lambda: live.log_text().count(DEBUG_WARNING) >= 2, timeout=30, what="both workers' warning"
        )
        log = live.log_text()
    assert log.count(DEBUG_WARNING) == 2, log[-2000:]


# ------------------------------------------------------------------------------ CORS
def test_cors_star_with_credentials_stops_create_app(tmp_path):
    root = _project(
        tmp_path,
        "\n[middlewares]\nactive = framework.middleware.defaults.cors.CORSMiddleware\n"
        "\n[cors]\nallowed_origins = *\nallow_credentials = true\n",
    )
    with pytest.raises(
        ImproperlyConfigured,
        match=r"\[cors\] allowed_origins = \* cannot go with "
        r"allow_credentials",
    ):
        create_app(root)
