"""Backendpy's listings of sections 4.10 (database), 4.13 (testing) and 4.14 (init scripts)
on PostgreSQL, with only the import prefix changed to ``framework`` (the awaited
``session.get``, ``db_session.remove()`` and ``engine.dispose()`` included). They are part of
the docs project (``tests/docs_project``, which tests/serve runs on SQLite under every server);
here a copy gets the docs' placeholders (database name, user, password, port 8000) filled in
for a temporary PostgreSQL database and runs in its own processes: the ``framework``
commands, a server, and the docs' tests with ``python -m unittest`` as the listings run them.
"""

from __future__ import annotations

import subprocess
import sys

import requests
import sqlalchemy as sa

from framework.testing.postgres import require_postgres, temporary_database
from tests.liveserver import LiveServer
from tests.serve.helpers import INIT_INPUT, base_env, copy_project, point_api_tests, run, server_env


def werkzeug_server(project, module: str) -> LiveServer:
    """``module``'s ``bp`` (``main`` or ``main_custom``) on werkzeug's threaded server, in
    its own process, run from the project folder."""
    code = (
        "import sys\n"
        "from werkzeug.serving import make_server\n"
        f"from {module} import bp\n"
        "make_server('127.0.0.1', int(sys.argv[1]), bp, threaded=True).serve_forever()\n"
    )
    return LiveServer(project, argv=[sys.executable, "-c", code, "{port}"], env=server_env())


def test_docs_listings_4_10_4_13_4_14_on_postgres(tmp_path):
    require_postgres()
    with temporary_database() as uri:
        url = sa.engine.make_url(uri)
        project = copy_project(
            tmp_path,
            database={
                "host": url.host or "localhost",
                "port": str(url.port or 5432),
                "name": url.database,
                "username": url.username or "postgres",
                "password": url.password or "",
            },
        )

        # 3.5.1 / 4.10.2 create_db; 3.5.2 / 4.14 init_project, answering the init function
        created = run(["framework", "create_db"], project)
        assert created.returncode == 0, created.stderr
        init = run(["framework", "init_project"], project, input=INIT_INPUT)
        assert init.returncode == 0, init.stderr
        again = run(["framework", "init_project"], project)
        assert again.returncode == 0 and "Users created already [SKIPPED]" in again.stderr

        # 4.10.2 set_database_hooks + listing 34, and 4.13 listings 38 and 39 against it
        with werkzeug_server(project, "main") as live:
            base = live.url
            assert requests.get(f"{base}/users/1", timeout=30).json() == {
                "status": "success",
                "data": {"id": 1, "first_name": "Ada", "last_name": "Lovelace"},
            }
            assert requests.get(f"{base}/users/x", timeout=30).status_code == 404
            point_api_tests(project, live.port)
            tests = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "unittest",
                    "-v",
                    "project.apps.hello.tests.test_db",
                    "project.apps.hello.tests.test_api",
                ],
                cwd=tmp_path,
                env=base_env(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert tests.returncode == 0, tests.stderr
            assert "Ran 2 tests" in tests.stderr and "OK" in tests.stderr
            assert requests.get(f"{base}/db/hello-world", timeout=30).json()["data"] == {"users": 2}

        # 4.10.1 custom engine and session set up by startup/shutdown/request_end hooks
        with werkzeug_server(project, "main_custom") as live:
            for _ in range(25):  # more than the pool holds: sessions must be removed
                response = requests.get(f"{live.url}/users/2", timeout=30)
                assert response.json()["data"]["last_name"] == "Hamdollahi Oskouei"
