"""``Backendpy()`` in-process: one object that is a Flask app, a WSGI callable and an ASGI
callable (lifespan included), and the docs' dotted paths resolving as in Backendpy."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys

import pytest
from flask import Flask

from framework.asgi import to_asgi

from .helpers import base_env, copy_project

#: the docs project's models (``Base`` subclasses), imported once per test process
MODELS_PACKAGE = "project.apps.hello.db"


@pytest.fixture
def bp(tmp_path, monkeypatch):
    """The docs project's ``bp``, imported as a server imports it (``main`` from its folder)."""
    project = copy_project(tmp_path)
    monkeypatch.setenv("HOOK_LOG", str(tmp_path / "hooks.log"))
    monkeypatch.syspath_prepend(str(project))
    saved = list(sys.path)
    module = importlib.import_module("main")
    try:
        yield module.bp
    finally:
        sys.path[:] = saved
        # the models stay imported: their classes are mapped on the process-wide ``Base``,
        # and defining ``User`` a second time would replace the first (a warning, an error here)
        for name in [
            m
            for m in sys.modules
            if (m in ("main", "apps", "project") or m.startswith(("apps.", "project.")))
            and not m.startswith(MODELS_PACKAGE)
        ]:
            del sys.modules[name]


class Lifespan:
    """Drives an app's lifespan as a server does: startup, then requests, then shutdown."""

    def __init__(self, app) -> None:
        self.app = app
        self.queue: asyncio.Queue = asyncio.Queue()
        self.sent: asyncio.Queue = asyncio.Queue()
        self.task = None

    async def send(self, message) -> None:
        await self.sent.put(message["type"])

    async def startup(self) -> str:
        self.task = asyncio.create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, self.queue.get, self.send)
        )
        await self.queue.put({"type": "lifespan.startup"})
        return await asyncio.wait_for(self.sent.get(), 30)

    async def shutdown(self) -> str:
        await self.queue.put({"type": "lifespan.shutdown"})
        answer = await asyncio.wait_for(self.sent.get(), 30)
        await asyncio.wait_for(self.task, 30)
        return answer


async def _get(app, path: str, **call) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    received = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive():
        return next(received)

    messages = []

    async def send(message):
        messages.append(message)

    if call.get("keywords"):
        await app(scope=scope, receive=receive, send=send)
    elif call.get("asgi2"):
        await app(scope)(receive, send)
    else:
        await app(scope, receive, send)
    status = messages[0]["status"]
    return status, b"".join(m.get("body", b"") for m in messages[1:])


def test_it_is_a_flask_app_and_keeps_backendpys_names(bp):
    assert isinstance(bp, Flask) and bp.flask_app is bp
    assert bp.config["apps"]["active"] == ["project.apps.hello"]
    assert bp.context is bp.extensions["framework"].context
    assert "project.apps.hello" in bp.apps


def test_a_body_less_wsgi_answer_yields_a_chunk_and_is_closed(bp):
    """A server without ``wsgi.file_wrapper`` gets one empty chunk for a body-less answer
    (hypercorn's WSGI mode sends the status with the first chunk only), and closing the
    body still ends the request (``request_end`` fires once per request)."""
    ended = []

    @bp.event("request_end")
    async def on_request_end():
        ended.append(True)

    def call(method: str, path: str, environ: dict | None = None) -> tuple[str, list[bytes]]:
        from werkzeug.test import EnvironBuilder

        statuses: list[str] = []
        env = {**EnvironBuilder(path=path, method=method).get_environ(), **(environ or {})}
        body = bp(env, lambda status, headers, exc_info=None: statuses.append(status))
        try:
            return statuses[0] if statuses else "", list(body)
        finally:
            body.close()

    assert call("GET", "/redirect/hello-world") == ("307 TEMPORARY REDIRECT", [b""])
    assert call("HEAD", "/hello-world") == ("200 OK", [b""])
    assert call("GET", "/hello-world") == ("200 OK", [b"Hello World!"])
    assert len(ended) == 3
    # where the server has ``wsgi.file_wrapper`` (gunicorn) the body is handed over as is
    assert call("HEAD", "/hello-world", {"wsgi.file_wrapper": object}) == ("200 OK", [])
    assert len(ended) == 4


def test_wsgi_and_asgi_answer_the_same(bp, tmp_path):
    wsgi = bp.test_client().get("/json/hello-world")

    async def scenario():
        lifespan = Lifespan(bp)
        assert await lifespan.startup() == "lifespan.startup.complete"
        assert (tmp_path / "hooks.log").read_text().startswith("startup")  # before any request
        answers = [
            await _get(bp, "/json/hello-world"),
            await _get(bp, "/json/hello-world", keywords=True),
            await _get(bp, "/json/hello-world", asgi2=True),
        ]
        assert await lifespan.shutdown() == "lifespan.shutdown.complete"
        return answers

    for status, body in asyncio.run(scenario()):
        assert (status, body) == (wsgi.status_code, wsgi.data)
    assert (tmp_path / "hooks.log").read_text().split()[::2] == ["startup", "shutdown"]


def test_to_asgi_of_the_object_and_of_its_flask_app_are_alike(bp, tmp_path):
    for app in (to_asgi(bp), to_asgi(bp.flask_app)):
        (tmp_path / "hooks.log").unlink(missing_ok=True)
        fw = bp.extensions["framework"]
        fw.lifecycle.started_pid = None  # a fresh process, as far as the events go

        async def scenario(app=app):
            lifespan = Lifespan(app)
            started = await lifespan.startup()
            answer = await _get(app, "/hello-world")
            return [started, await lifespan.shutdown()], answer

        sent, answer = asyncio.run(scenario())
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert answer == (200, b"Hello World!")
        assert (tmp_path / "hooks.log").read_text().split()[::2] == ["startup", "shutdown"]


def test_a_wrong_call_is_a_type_error(bp):
    with pytest.raises(TypeError):
        bp()
    with pytest.raises(TypeError):
        bp({"type": "http"}, lambda: None, lambda m: None, nonsense=1)


# ---------------------------------------------------------------- dotted paths
def _routes(project, env=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "main:bp", "routes"],
        cwd=project,
        env=base_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("app_path", ["project.apps.hello", "apps.hello"])
def test_both_forms_of_an_apps_path(tmp_path, app_path):
    project = copy_project(tmp_path)
    result = _routes(project, {"FRAMEWORK__APPS__ACTIVE": app_path})
    assert result.returncode == 0, result.stderr
    assert "/hello-world" in result.stdout


def test_docs_paths_resolve_in_a_folder_of_another_name(tmp_path):
    project = copy_project(tmp_path, name="shop")
    config = project / "config.ini"
    config.write_text(config.read_text().replace("project.apps.", "shop.apps."))
    # the docs' listing names the project folder in its models path too
    main = project / "apps" / "hello" / "main.py"
    main.write_text(main.read_text().replace("project.apps.", "shop.apps."))
    result = _routes(project)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "setting, path",
    [
        ("FRAMEWORK__APPS__ACTIVE", "elsewhere.apps.hello"),
        ("FRAMEWORK__MIDDLEWARES__ACTIVE", "elsewhere.middlewares.Auth"),
    ],
)
def test_an_unknown_path_is_named(tmp_path, setting, path):
    project = copy_project(tmp_path)
    result = _routes(project, {setting: path})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and repr(path) in lines[0]
    assert "no package 'elsewhere' is importable" in lines[0]
