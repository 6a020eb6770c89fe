"""AsyncTestCase through unittest's public API: what unittest offers still works with
``async def`` tests (skips, expected failures, ``debug()``, cleanups added anywhere)."""

from __future__ import annotations

import asyncio
import unittest

import pytest

from framework.testing import AsyncTestCase


def run_case(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


@pytest.fixture
def project_root(tmp_path):
    (tmp_path / "config.ini").write_text("[apps]\nactive =\n")
    return str(tmp_path)


def test_skips_and_expected_failures_of_async_tests(project_root):
    ran = []

    class Marked(AsyncTestCase):
        project_root = None

        @unittest.skip("not today")
        async def test_skipped(self):
            ran.append("skipped ran")

        @unittest.expectedFailure
        async def test_expected(self):
            await asyncio.sleep(0)
            self.assertEqual(1, 2)

        @unittest.expectedFailure
        async def test_unexpected_success(self):
            await asyncio.sleep(0)

        async def test_plain(self):
            await asyncio.sleep(0)
            ran.append("plain")

    Marked.project_root = project_root
    result = run_case(Marked)
    assert ran == ["plain"]
    assert [why for _, why in result.skipped] == ["not today"]
    assert len(result.expectedFailures) == 1 and len(result.unexpectedSuccesses) == 1
    assert not result.errors and not result.failures


def test_cleanups_added_in_the_test_run_on_its_loop_and_the_instance_is_left_clean(project_root):
    events = []

    class Cleaning(AsyncTestCase):
        async def test_adds_cleanup(self):
            loop = asyncio.get_running_loop()

            async def cleanup(tag):
                events.append((tag, asyncio.get_running_loop() is loop))

            self.addCleanup(cleanup, "async")
            self.addCleanup(events.append, "sync")

    Cleaning.project_root = project_root
    case = Cleaning("test_adds_cleanup")
    result = unittest.TestResult()
    case.run(result)
    assert result.wasSuccessful(), result.errors
    assert events == ["sync", ("async", True)]  # cleanups run last-in first-out
    assert not {"setUp", "tearDown", "test_adds_cleanup"} & set(vars(case))


def test_debug_runs_async_set_up_test_and_tear_down(project_root):
    events = []

    class Debugged(AsyncTestCase):
        async def setUp(self):
            self.loop = asyncio.get_running_loop()
            events.append("setUp")

        async def test_it(self):
            events.append(("test", asyncio.get_running_loop() is self.loop))

        async def tearDown(self):
            events.append(("tearDown", asyncio.get_running_loop() is self.loop))

    Debugged.project_root = project_root
    Debugged("test_it").debug()
    assert events == ["setUp", ("test", True), ("tearDown", True)]


def test_a_failing_async_test_is_reported_as_a_failure(project_root):
    class Failing(AsyncTestCase):
        async def test_fails(self):
            await asyncio.sleep(0)
            self.fail("inside the coroutine")

    Failing.project_root = project_root
    result = run_case(Failing)
    assert len(result.failures) == 1 and "inside the coroutine" in result.failures[0][1]
