"""framework.testing: TestCase, AsyncTestCase, the pytest plugin, and utils.http.Client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import textwrap
import unittest

from framework.testing import AsyncTestCase, TestCase
from framework.utils.http import Client
from tests.helpers import pytest_command

from .conftest import BOOK_APPS, ROOT, dispose, live_server, make_app


def write_project(folder) -> str:
    (folder / "config.ini").write_text("[apps]\nactive =\n" + "".join(f"    {a}\n" for a in BOOK_APPS))
    return str(folder)


def run_cases(*cases) -> unittest.TestResult:
    suite = unittest.TestSuite()
    for case in cases:
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    result = unittest.TestResult()
    suite.run(result)
    return result


def test_testcase_gives_each_class_a_fresh_database(tmp_path):
    root = write_project(tmp_path)
    seen = {}

    class First(TestCase):
        project_root = root

        def test_insert(self):
            self.assertEqual(self.client.post("/books", json={"title": "A"}).status_code, 201)
            self.assertEqual(self.client.post("/books", json={"title": "B"}).status_code, 201)
            seen["first"] = self.client.get("/books/count").get_json()["data"]["count"]
            seen["first_uri"] = self.app.config["SQLALCHEMY_DATABASE_URI"]
            seen["testing"] = self.app.testing

    class Second(TestCase):
        project_root = root

        def test_count(self):
            seen["second"] = self.client.get("/books/count").get_json()["data"]["count"]
            seen["second_uri"] = self.app.config["SQLALCHEMY_DATABASE_URI"]

    result = run_cases(First, Second)
    assert result.wasSuccessful(), result.errors + result.failures
    assert seen["first"] == 2 and seen["second"] == 0 and seen["testing"] is True
    assert seen["first_uri"] != seen["second_uri"]
    assert not os.path.exists(seen["first_uri"].removeprefix("sqlite:///"))  # cleaned up
    assert not (tmp_path / "instance").exists()  # the project's own database is untouched


def test_testcase_config_is_applied(tmp_path):
    root = write_project(tmp_path)
    seen = {}

    class Configured(TestCase):
        project_root = root
        config = {"flask": {"secret_key": "from-test"}}

        def test_it(self):
            seen["key"] = self.app.config["SECRET_KEY"]

    assert run_cases(Configured).wasSuccessful()
    assert seen["key"] == "from-test"


def test_async_testcase_runs_setup_test_teardown_and_cleanups_on_one_loop(tmp_path):
    root = write_project(tmp_path)
    events = []

    class Async(AsyncTestCase):
        project_root = root

        async def setUp(self):
            self.loop = asyncio.get_running_loop()
            events.append("setUp")
            self.addCleanup(self.cleanup)

        async def cleanup(self):
            events.append(("cleanup", asyncio.get_running_loop() is self.loop))

        async def test_one(self):
            events.append(("test", asyncio.get_running_loop() is self.loop))
            response = self.client.post("/books", json={"title": "Async"})
            self.assertEqual(response.status_code, 201)

        async def tearDown(self):
            events.append(("tearDown", asyncio.get_running_loop() is self.loop))

    class SyncSetUp(AsyncTestCase):
        project_root = root

        def setUp(self):
            events.append("sync setUp")

        async def test_fails(self):
            await asyncio.sleep(0)
            self.assertEqual(1, 2)

    result = run_cases(Async, SyncSetUp)
    assert events == ["setUp", ("test", True), ("tearDown", True), ("cleanup", True), "sync setUp"]
    assert result.testsRun == 2 and len(result.failures) == 1 and not result.errors
    assert "SyncSetUp" in str(result.failures[0][0])


def test_pytest_plugin_fixtures_and_project_override(tmp_path):
    root = write_project(tmp_path)
    (tmp_path / "test_with_plugin.py").write_text(
        textwrap.dedent("""
        def test_client_fixture(client, app):
            assert app.testing
            assert client.post("/books", json={"title": "P"}).status_code == 201
            assert client.get("/books/count").get_json()["data"]["count"] == 1

        def test_fresh_database_per_test(client):
            assert client.get("/books/count").get_json()["data"]["count"] == 0
    """)
    )
    own = tmp_path / "own"
    own.mkdir()
    (own / "conftest.py").write_text(
        textwrap.dedent("""
        import pytest

        @pytest.fixture
        def app():
            return "the project's own app"
    """)
    )
    (own / "test_own.py").write_text('def test_own(app):\n    assert app == "the project\'s own app"\n')
    from importlib.metadata import entry_points

    installed = any(ep.value == "framework.testing.plugin" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "framework.testing.plugin"]  # the entry point loads it
    result = subprocess.run(
        pytest_command(*load, "-W", "error", str(tmp_path)),
        cwd=root,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_http_client_talks_to_a_running_server(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/c.sqlite3")
    with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        with Client("127.0.0.1", port) as session:
            created = session.post("/books", json={"title": "Over HTTP"})
            counted = session.get("/books/count")
            missing = session.get("/nowhere")
        one_shot = Client("127.0.0.1", port).get("/books/count", params={"x": "1"})
    assert created.status == 201 and created.data["data"]["id"] == 1
    assert counted.data == {"status": "success", "data": {"count": 1}}
    assert missing.status == 404 and missing.data["code"] == 1001
    assert one_shot.status == 200 and created.headers["content-type"].startswith("application/json")
    dispose(app)


def test_testcase_from_a_config_mapping_alone(tmp_path):
    seen = {}

    class FromMapping(TestCase):
        project_root = str(tmp_path)  # no config.ini here
        config = {"apps": {"active": BOOK_APPS}}

        def test_it(self):
            seen["created"] = self.client.post("/books", json={"title": "M"}).status_code
            seen["count"] = self.client.get("/books/count").get_json()["data"]["count"]

    result = run_cases(FromMapping)
    assert result.wasSuccessful(), result.errors + result.failures
    assert seen == {"created": 201, "count": 1}
