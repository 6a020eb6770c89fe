"""Backendpy's listings of sections 4.10 (database), 4.13 (testing) and 4.14 (init scripts),
with only the import prefix changed to ``framework`` (the awaited ``session.get``,
``db_session.remove()`` and ``engine.dispose()`` included). They live in ``docs_project/`` as
the docs lay them out; here they are copied to a temporary folder with the docs' placeholders (database
name, user, password, port 8000) filled in, then run in their own processes against
PostgreSQL and a real server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import sqlalchemy as sa

from framework.testing.postgres import require_postgres, temporary_database
from tests.liveserver import LiveServer

from .conftest import ROOT

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docs_project")


def copy_project(target, replacements: dict[str, str]) -> None:
    for folder, _dirs, files in os.walk(SOURCE):
        relative = os.path.relpath(folder, SOURCE)
        os.makedirs(os.path.join(target, relative), exist_ok=True)
        for name in files:
            if name.endswith(".pyc"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                text = handle.read()
            for old, new in replacements.items():
                text = text.replace(old, new)
            with open(os.path.join(target, relative, name), "w", encoding="utf-8") as handle:
                handle.write(text)


def env_for(folder) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), ROOT]),
            "PYTHONDONTWRITEBYTECODE": "1"}


def python(folder, code: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=folder, env=env_for(folder),
                          input=input, capture_output=True, text=True, timeout=120)


@contextmanager
def server(folder, module: str) -> Iterator[str]:
    """``module``'s ``bp`` on werkzeug's threaded server, in its own process."""
    code = ("import sys\n"
            "from werkzeug.serving import make_server\n"
            f"from {module} import bp\n"
            "make_server('127.0.0.1', int(sys.argv[1]), bp, threaded=True).serve_forever()\n")
    with LiveServer(folder, argv=[sys.executable, "-c", code, "{port}"],
                    env={"PYTHONPATH": env_for(folder)["PYTHONPATH"],
                         "PYTHONDONTWRITEBYTECODE": "1"}) as live:
        yield live.url


def cli(folder, module: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """A framework command on ``module``'s project (``flask create-db`` etc.)."""
    code = (f"from {module} import bp\n"
            f"r = bp.flask_app.test_cli_runner().invoke(args={list(args)!r}, input={input!r})\n"
            "print(r.output)\n"
            "raise SystemExit(r.exit_code)\n")
    return python(folder, code)


def test_docs_listings_4_10_4_13_4_14(tmp_path):
    require_postgres()
    with temporary_database() as uri:
        url = sa.engine.make_url(uri)
        copy_project(tmp_path, {"your_db_name": url.database, "your_db_user": url.username or "postgres",
                                "your_db_password": url.password or ""})

        # 4.10.2 "Create database and models with command line"; 4.14 init_project with input()
        created = cli(tmp_path, "project.main", "create-db")
        assert created.returncode == 0, created.stdout + created.stderr
        init = cli(tmp_path, "project.main", "init-project", input="Ada\nLovelace\nada\nsecret\n")
        assert init.returncode == 0, init.stdout + init.stderr
        again = cli(tmp_path, "project.main", "init-project", "--no-input")
        assert again.returncode == 0 and "Users created already [SKIPPED]" in again.stdout + again.stderr

        # 4.10.2 set_database_hooks + listing 34, and 4.13 listings 38 and 39 against it
        with server(tmp_path, "project.main") as base:
            assert requests.get(f"{base}/users/1", timeout=30).json() == {
                "status": "success", "data": {"id": 1, "first_name": "Ada", "last_name": "Lovelace"}}
            assert requests.get(f"{base}/users/x", timeout=30).status_code == 404
            port = base.rsplit(":", 1)[1]
            api = tmp_path / "project" / "apps" / "hello" / "tests" / "test_api.py"
            api.write_text(api.read_text().replace("8000", port))
            tests = subprocess.run(
                [sys.executable, "-m", "unittest", "-v", "project.apps.hello.tests.test_db",
                 "project.apps.hello.tests.test_api"],
                cwd=tmp_path, env=env_for(tmp_path), capture_output=True, text=True, timeout=120)
            assert tests.returncode == 0, tests.stderr
            assert "Ran 2 tests" in tests.stderr and "OK" in tests.stderr
            assert requests.get(f"{base}/hello-world", timeout=30).json()["data"] == {"users": 2}

        # 4.10.1 custom engine and session set up by startup/shutdown/request_end hooks
        with server(tmp_path, "project.main_custom") as base:
            for _ in range(25):  # more than the pool holds: sessions must be removed
                response = requests.get(f"{base}/users/2", timeout=30)
                assert response.json()["data"]["last_name"] == "Hamdollahi Oskouei"
