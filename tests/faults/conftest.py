"""A throw-away project for the fault tests: rows in a database, a slow route, lifecycle hooks
that write to a file, served by real gunicorn workers.

``/slow`` stays in flight until the test releases it (or its time is up): a test sees it
start through a marker file and decides when it ends, so nothing depends on how long a
fixed pause lasts."""

from __future__ import annotations

import json
import os
import textwrap
import threading
from pathlib import Path
from typing import Any

from tests.liveserver import http_get, wait_until

__all__ = ["write_project", "create_tables", "child_pids", "wait_until", "Background", "get_json"]


APP_PACKAGE = "fw_faults_app"

FILES = {
    "wsgi.py": """\
        import os

        from framework import create_app

        app = create_app(os.path.dirname(os.path.abspath(__file__)))
        """,
    f"{APP_PACKAGE}/__init__.py": "",
    f"{APP_PACKAGE}/main.py": """\
        from framework.app import App

        from .handlers import routes
        from .hooks import hooks

        app = App(routes=[routes], hooks=[hooks], models=[__package__ + ".models"])
        """,
    f"{APP_PACKAGE}/models.py": """\
        import sqlalchemy as sa

        from framework.db import Base


        class FaultRow(Base):
            __tablename__ = "fault_rows"

            id = sa.Column(sa.Integer, primary_key=True)
            value = sa.Column(sa.String(80), nullable=False, unique=True)
        """,
    f"{APP_PACKAGE}/hooks.py": """\
        import os

        from framework.hook import Hooks

        hooks = Hooks()


        def record(line):
            path = os.environ.get("FAULTS_EVENTS_FILE")
            if path:
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(line + "\\n")


        @hooks.event("startup")
        def started():
            record(f"startup {os.getpid()}")


        @hooks.event("shutdown")
        async def stopped():
            record(f"shutdown {os.getpid()}")
        """,
    f"{APP_PACKAGE}/handlers.py": """\
        import os
        import time

        import sqlalchemy as sa

        from framework.db import db
        from framework.response import JSON, Success
        from framework.router import Routes

        from .models import FaultRow

        routes = Routes()


        @routes.get("/ok")
        def ok(request):
            return JSON({"pid": os.getpid()})


        @routes.get("/slow")
        def slow(request):
            # in flight until the test creates the file ``release`` (at most ``seconds``)
            marker = request.params.get("marker")
            if marker:
                with open(marker, "w", encoding="utf-8") as handle:
                    handle.write(str(os.getpid()))
            release = request.params.get("release")
            deadline = time.monotonic() + float(request.params.get("seconds", "2"))
            while time.monotonic() < deadline and not (release and os.path.exists(release)):
                time.sleep(0.01)
            return JSON({"pid": os.getpid(), "done": True, "padding": "x" * 100000})


        @routes.post("/rows")
        def add_row(request):
            row = FaultRow(value=request.body.json["value"])
            db.session.add(row)
            db.session.commit()
            return Success({"id": row.id, "pid": os.getpid()}, status=201)


        @routes.get("/rows/cut")
        def cut(request):
            # open a transaction, then have the server drop this connection under it
            pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
            with killer.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.dispose()
            return JSON({"terminated": pid})


        @routes.get("/rows/count")
        def count(request):
            total = db.session.execute(sa.select(sa.func.count()).select_from(FaultRow)).scalar()
            return JSON({"count": total, "pid": os.getpid()})
        """,
}


def write_project(root: Path, database_uri: str | None = None) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    database = f"uri = {database_uri}\n" if database_uri else ""
    (root / "config.ini").write_text(
        f"[apps]\nactive = {APP_PACKAGE}\n\n[database]\n{database}\n"
        "[flask]\nsecret_key = faults-tests-secret-key\n\n[logging]\nlevel = WARNING\n"
    )
    os.chmod(root / "config.ini", 0o600)
    (root / "instance").mkdir(exist_ok=True)
    return root


def create_tables(root: Path) -> None:
    """Create the project's tables (in this process, then let go of the connections)."""
    import sys

    from framework import create_app

    sys.path.insert(0, str(root))
    try:
        app = create_app(root, config={"flask": {"testing": True}})
        sqlalchemy = app.extensions["sqlalchemy"]
        with app.app_context():
            sqlalchemy.create_all()
            for engine in sqlalchemy.engines.values():
                engine.dispose()
    finally:
        sys.path.remove(str(root))


def child_pids(pid: int) -> set[int]:
    """The live child processes of ``pid`` (gunicorn's workers), read from /proc."""
    children = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.add(int(entry))
    return children


class Background(threading.Thread):
    """Runs ``func`` in a thread and keeps its result or exception."""

    def __init__(self, func: Any) -> None:
        super().__init__(daemon=True)
        self.func = func
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.func()
        except BaseException as exc:  # handed to the test
            self.error = exc


def get_json(port: int, path: str, timeout: float = 30.0) -> tuple[int, Any]:
    status, _, body = http_get(port, path, timeout=timeout)
    return status, json.loads(body)
