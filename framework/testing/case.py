"""``TestCase`` and ``AsyncTestCase``: unittest classes with the project's app at hand.

``self.app`` (the Flask app) and ``self.client`` (its test client) are built on first use,
once per test class, from the project folder (``project_root``, default: the nearest folder
above the test module holding ``config.ini``, else the working directory) with ``config``
applied on top and a fresh SQLite database in a temporary folder whose tables are created.
A test that assigns ``self.client`` itself (Backendpy's listing does) never builds the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import shutil
import sys
import tempfile
import unittest
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from flask import Flask

__all__ = ["TestCase", "AsyncTestCase", "build_test_app", "find_project_root"]


def find_project_root(start: str | None) -> str:
    """The nearest folder at or above ``start`` holding ``config.ini`` (else the cwd, where
    a missing ``config.ini`` means the class's ``config`` alone describes the project)."""
    folder = os.path.abspath(start) if start else os.getcwd()
    while True:
        if os.path.isfile(os.path.join(folder, "config.ini")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.getcwd()
        folder = parent


def build_test_app(
    root: str | None, config: Mapping[str, Mapping[str, Any]] | None, database_folder: str
) -> Flask:
    """The project's app with ``config`` applied, a SQLite database in ``database_folder``
    (unless ``config`` names a database) and every model's table created.

    Without a ``config.ini`` in ``root`` the app is built from ``config`` alone.
    """
    from .. import Framework, create_app

    overrides: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (config or {}).items()}
    # testing from the start: a project whose apps sign gets a generated key, not a refusal
    overrides.setdefault("flask", {}).setdefault("testing", True)
    database = overrides.setdefault("database", {})
    if not any(database.get(k) for k in ("uri", "host")):
        database["uri"] = "sqlite:///" + os.path.join(database_folder, "test.sqlite3")
    if root is not None and os.path.isfile(os.path.join(root, "config.ini")):
        app = create_app(root, config=overrides)
    else:
        from ..flask_app import FrameworkFlask

        app = FrameworkFlask(
            "framework_test", instance_path=os.path.join(database_folder, "instance"), static_folder=None
        )
        Framework(app, config=overrides, owns_app=True)
    app.config["TESTING"] = True
    ext = app.extensions.get("sqlalchemy")
    if ext is not None:
        with app.app_context():
            ext.create_all()
    return app


def dispose_test_app(app: Flask) -> None:
    """Close the app's database connections."""
    ext = app.extensions.get("sqlalchemy")
    if ext is not None:
        with app.app_context():
            for engine in ext.engines.values():
                engine.dispose()


class _ClassApp:
    """``self.app`` / ``self.client``: built once per class on first read; an instance
    may still assign its own value (a non-data descriptor)."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __get__(self, obj: Any, cls: type[TestCase]) -> Any:
        app = cls._framework_app()
        if self.what == "app":
            return app
        client = cls.__dict__.get("_fw_client")
        if client is None:
            client = app.test_client()
            cls._fw_client = client
        return client


class TestCase(unittest.TestCase):
    """``unittest.TestCase`` with ``self.app`` and ``self.client`` for the project.

    Class attributes: ``project_root`` (a folder holding ``config.ini``) and ``config``
    (``{section: {key: value}}`` applied last).
    """

    project_root: str | None = None
    config: Mapping[str, Mapping[str, Any]] | None = None

    app: Flask = _ClassApp("app")  # type: ignore[assignment]
    client: Any = _ClassApp("client")
    # set on the class itself by the first read of ``app`` / ``client``
    _fw_app: ClassVar[Flask]
    _fw_client: ClassVar[Any]

    @classmethod
    def _framework_app(cls) -> Flask:
        app = cls.__dict__.get("_fw_app")
        if app is None:
            root = cls.project_root
            if root is None:
                module = sys.modules.get(cls.__module__)
                root = find_project_root(os.path.dirname(getattr(module, "__file__", "") or ""))
            folder = tempfile.mkdtemp(prefix="framework-test-")
            try:
                app = build_test_app(root, cls.config, folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            cls._fw_app = app
            cls.addClassCleanup(cls._framework_cleanup, app, folder)
        return app

    @classmethod
    def _framework_cleanup(cls, app: Flask, folder: str) -> None:
        dispose_test_app(app)
        shutil.rmtree(folder, ignore_errors=True)
        if cls.__dict__.get("_fw_app") is app:
            del cls._fw_app
            if cls.__dict__.get("_fw_client") is not None:
                del cls._fw_client


async def _await(awaitable: Any) -> Any:
    return await awaitable


class AsyncTestCase(TestCase):
    """``TestCase`` whose ``setUp``, ``tearDown``, tests and cleanups may be ``async def``.

    Each test runs on one event loop (created for the test, closed after it), so objects
    made in ``setUp`` can be awaited in the test and in ``tearDown``. Only unittest's
    public API is used: for the time of ``run`` (or ``debug``) the instance's ``setUp``,
    ``tearDown`` and test method are shadowed by wrappers that run what they return on
    that loop, and ``addCleanup`` wraps each cleanup the same way.
    """

    _runner: asyncio.Runner | None = None

    def run(self, result: Any = None) -> Any:
        with asyncio.Runner() as runner, self._on_loop(runner):
            return super().run(result)

    def debug(self) -> None:
        with asyncio.Runner() as runner, self._on_loop(runner):
            super().debug()

    def addCleanup(self, function: Any, /, *args: Any, **kwargs: Any) -> None:
        super().addCleanup(self._awaiting(function), *args, **kwargs)

    @contextlib.contextmanager
    def _on_loop(self, runner: asyncio.Runner) -> Iterator[None]:
        self._runner = runner
        names = ("setUp", "tearDown", self.id().rpartition(".")[2])
        shadowed = []
        for name in dict.fromkeys(names):
            method = getattr(self, name, None)
            if callable(method) and name not in self.__dict__:
                setattr(self, name, self._awaiting(method))
                shadowed.append(name)
        try:
            yield
        finally:
            for name in shadowed:
                self.__dict__.pop(name, None)
            self._runner = None

    def _awaiting(self, function: Any) -> Any:
        """``function`` made synchronous: an awaitable it returns is run to completion on
        the test's loop (on a new one outside ``run``)."""

        @functools.wraps(function)  # keeps unittest's skip and expected-failure marks
        def call(*args: Any, **kwargs: Any) -> Any:
            value = function(*args, **kwargs)
            if inspect.isawaitable(value):
                runner = self._runner
                if runner is None:
                    return asyncio.run(_await(value))
                return runner.run(_await(value))
            return value

        return call
