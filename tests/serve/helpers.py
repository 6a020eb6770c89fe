"""The ported docs project (``tests/docs_project``) in a temporary folder, and server
processes serving it.

Each server runs with the command line the docs show (only the prefix changed), from inside
the project folder, on a free port; it is stopped by its own pid.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.liveserver import LiveServer

SOURCE = Path(__file__).resolve().parent.parent / "docs_project" / "project"
BIN = os.path.dirname(sys.executable)
#: the SQLite file of a copied project, inside its folder
DB_FILE = "docs.sqlite3"


def copy_project(
    parent: Path, name: str = "project", source: Path = SOURCE, database: Mapping[str, str] | None = None
) -> Path:
    """The docs project (or ``source``, a copy of it) copied to ``parent/name``, its
    config.ini readable by its owner only.

    The docs leave the database to fill in (``your_db_name``...): the copy's ``[database]``
    section and the ``DATABASE`` of its test_db.py listing both get ``database``, by
    default a SQLite file ``docs.sqlite3`` in the copy's folder.
    """
    target = parent / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    if database is None:
        database = {"uri": f"sqlite:///{target / DB_FILE}"}
    config = target / "config.ini"
    section = "".join(f"{key} = {value}\n" for key, value in database.items())
    config.write_text(
        re.sub(r"\[database\]\n(?:[^\n\[]+\n)*", lambda _: f"[database]\n{section}", config.read_text())
    )
    os.chmod(config, 0o600)
    test_db = target / "apps" / "hello" / "tests" / "test_db.py"
    test_db.write_text(
        re.sub(
            r"DATABASE = \{.*?\}", lambda _: f"DATABASE = {dict(database)!r}", test_db.read_text(), flags=re.S
        )
    )
    return target


def point_api_tests(project: Path, port: int | str) -> None:
    """The docs' test_api.py listing talks to 127.0.0.1:8000: make it ``port``."""
    api = project / "apps" / "hello" / "tests" / "test_api.py"
    api.write_text(api.read_text().replace("8000", str(port)))


#: what the docs' init function asks for on the command line
INIT_INPUT = "Ada\nLovelace\nada\nsecret\n"


def prepared_project(parent: Path) -> Path:
    """A copy of the docs project whose database ``framework create_db`` created and
    ``framework init_project`` (the docs' async ``init_func``, answering its prompts) filled."""
    project = copy_project(parent)
    created = run(["framework", "create_db"], project)
    assert created.returncode == 0, created.stderr
    assert "Tables ready: users" in created.stdout, created.stdout
    init = run(["framework", "init_project"], project, input=INIT_INPUT)
    assert init.returncode == 0, init.stderr
    assert "Initialized 1 app(s)" in init.stdout, init.stdout
    return project


def tool(name: str) -> str:
    """The console script ``name`` installed beside this interpreter."""
    return os.path.join(BIN, name)


#: server name -> its command line; ``{port}`` is filled in by ``LiveServer``
SERVERS: dict[str, list[str]] = {
    "uvicorn": ["uvicorn", "main:bp", "--host", "127.0.0.1", "--port", "{port}"],
    "hypercorn": ["hypercorn", "main:bp", "--bind", "127.0.0.1:{port}"],
    "hypercorn-asgi": ["hypercorn", "asgi:main:bp", "--bind", "127.0.0.1:{port}"],
    "daphne": ["daphne", "-b", "127.0.0.1", "-p", "{port}", "main:bp"],
    "gunicorn-uvicorn": [
        "gunicorn",
        "main:bp",
        "-w",
        "2",
        "-k",
        "uvicorn.workers.UvicornWorker",
        "--bind",
        "127.0.0.1:{port}",
    ],
    "gunicorn": ["gunicorn", "main:bp", "--bind", "127.0.0.1:{port}"],
    "flask": ["flask", "--app", "main:bp", "run", "--host", "127.0.0.1", "--port", "{port}"],
}
#: servers that speak the ASGI lifespan to this object (startup fires before any request);
#: hypercorn tells ASGI from WSGI with ``inspect.iscoroutinefunction``, which a callable
#: answering both can satisfy from Python 3.12 (``inspect.markcoroutinefunction``) only;
#: daphne does not speak the lifespan protocol
LIFESPAN = {"uvicorn", "gunicorn-uvicorn", "hypercorn-asgi"} | (
    {"hypercorn"} if sys.version_info >= (3, 12) else set()
)


def base_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment of a server or command: no secret key, nothing on PYTHONPATH (the
    project must be found the way Backendpy finds it), plus ``extra`` (None removes)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "FRAMEWORK__FLASK__SECRET_KEY", "FLASK_APP", "FLASK_DEBUG")
        and not k.startswith("GUNICORN")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def server_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """``base_env(extra)`` as ``LiveServer``'s overlay: what it leaves out is removed."""
    env = base_env(extra)
    removed: dict[str, str | None] = {key: None for key in os.environ if key not in env}
    return {**removed, "PYTHONPATH": None, "FRAMEWORK__FLASK__SECRET_KEY": None, **env}


@contextmanager
def serve(
    name: str, project: Path, env: Mapping[str, str | None] | None = None, log: Path | None = None
) -> Iterator[tuple[str, LiveServer]]:
    """Run ``name``'s command in ``project`` (a ``LiveServer``); yield its base URL and the
    server. Its output is kept in ``log`` (default ``<project's parent>/<name>.log``)."""
    argv = [tool(SERVERS[name][0]), *SERVERS[name][1:]]
    live = LiveServer(project, argv=argv, env=server_env(env))
    try:
        live.start(wait=60)
        yield live.url, live
    finally:
        live.stop()
        (log or project.parent / f"{name}.log").write_text(live.log_text())
        live.close()


def hook_lines(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    return [
        (event, int(pid))
        for event, pid in (line.split() for line in path.read_text().splitlines() if line.strip())
    ]


def run(
    args: list[str], cwd: Path, env: Mapping[str, str | None] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [tool(args[0]), *args[1:]]
    return subprocess.run(
        command, cwd=cwd, env=base_env(env), capture_output=True, text=True, input=input, timeout=120
    )
