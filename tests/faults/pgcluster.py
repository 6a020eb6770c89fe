"""A throw-away PostgreSQL server for the fault tests, so they can stop and restart it.

``initdb`` makes a cluster in a fresh temporary folder; ``postgres`` serves it on a free
loopback port with its Unix socket inside that folder. The server process is a child of
the test process: started by it, stopped by its pid (a fast shutdown, SIGINT), restarted
the same way, and the folder is removed afterwards. Nothing here knows about the
machine's own PostgreSQL service, so its other users never notice.

PostgreSQL refuses to run as root. Under root (CI containers) the server runs as the
``postgres`` system user (or ``nobody``), which owns the temporary folder; ``subprocess``
drops the privileges itself, so no ``su``/``runuser`` process sits between this process
and the server.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from tests.liveserver import free_port, wait_until

__all__ = ["find_bindir", "PrivateCluster", "private_cluster"]

SUPERUSER = "postgres"


def find_bindir() -> str | None:
    """The folder holding ``initdb`` and ``postgres``: ``$FRAMEWORK_TEST_PG_BINDIR``, the
    ``PATH``, or the newest Debian-style ``/usr/lib/postgresql/<version>/bin``."""
    configured = os.environ.get("FRAMEWORK_TEST_PG_BINDIR")
    if configured:
        return configured
    found = shutil.which("initdb")
    if found:  # often a symlink into the versioned folder, next to pg_ctl and postgres
        folder = os.path.dirname(os.path.realpath(found))
        if os.path.exists(os.path.join(folder, "postgres")):
            return folder
    candidates = [
        os.path.dirname(p)
        for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if os.path.exists(os.path.join(os.path.dirname(p), "postgres"))
    ]

    def version(path: str) -> tuple[int, ...]:
        name = os.path.basename(os.path.dirname(path))
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    return max(candidates, key=version) if candidates else None


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user the server runs as under root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(
        "running as root and neither a 'postgres' nor a 'nobody' user exists "
        "to run the test's own PostgreSQL as"
    )


class PrivateCluster:
    """One PostgreSQL cluster owned by this test process.

    ``start()`` / ``stop()`` / ``restart()`` act on the server process this object started,
    by its pid. ``url(database)`` is a SQLAlchemy URL for it (superuser, trust auth on
    127.0.0.1 only). ``remove()`` stops the server and deletes the folder.
    """

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.user = _server_user()
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.folder = tempfile.mkdtemp(prefix="fw-test-pg-")
        self.data = os.path.join(self.folder, "data")
        self.log_path = os.path.join(self.folder, "server.log")
        atexit.register(self.remove)  # even if the test run ends without its teardown
        if self.user is not None:
            # the unprivileged user must reach the folder: make it theirs and traversable
            os.chmod(self.folder, 0o700)
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
            if not self._user_can_enter():
                raise RuntimeError(
                    f"user {self.user.pw_name!r} cannot enter {self.folder} "
                    "(set TMPDIR to a folder every user can traverse)"
                )

    def _user_can_enter(self) -> bool:
        probe = subprocess.run(["test", "-w", self.folder], **self._as_user(), check=False)
        return probe.returncode == 0

    def _as_user(self) -> dict[str, object]:
        """``subprocess`` arguments that run a command as the server's user."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        if self.user is None:
            return {"env": {**os.environ, **env}}
        env["HOME"] = self.folder
        env["USER"] = env["LOGNAME"] = self.user.pw_name
        return {
            "env": env,
            "user": self.user.pw_uid,
            "group": self.user.pw_gid,
            "extra_groups": [],
            "cwd": self.folder,
        }

    def _tool(self, name: str) -> str:
        return os.path.join(self.bindir, name)

    def init(self) -> PrivateCluster:
        """Create the cluster (``initdb``): trust authentication, no fsync of its files."""
        result = subprocess.run(
            [
                self._tool("initdb"),
                "-D",
                self.data,
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            timeout=180,
            check=False,
            **self._as_user(),
        )
        if result.returncode != 0:
            raise RuntimeError("initdb failed:\n" + (result.stdout + result.stderr).decode(errors="replace"))
        return self

    def start(self, timeout: float = 60.0) -> None:
        """Start the server (same port after the first start) and wait until it accepts
        connections."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if not self.port:
            self.port = free_port()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self._tool("postgres"),
                    "-D",
                    self.data,
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.folder}",
                    "-c",
                    "max_connections=50",
                    "-c",
                    "shared_buffers=16MB",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._as_user(),
            )
        wait_until(self._ready, timeout=timeout, what=f"the test's PostgreSQL on port {self.port}")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self.log_text()}")
        import psycopg

        try:
            psycopg.connect(
                host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", connect_timeout=5
            ).close()
        except psycopg.OperationalError:  # not listening yet, or still starting up
            return False
        return True

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 60.0) -> None:
        """Fast shutdown (SIGINT to the server's pid): open sessions are cut, committed
        data stays. Escalates to an immediate shutdown, then SIGKILL, if it hangs."""
        if not self.running:
            return
        assert self.proc is not None
        for signum, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 10.0)):
            self.proc.send_signal(signum)
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns its URL."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def log_text(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def remove(self) -> None:
        """Stop the server and delete the cluster's folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started private cluster, removed afterwards. Skips the test when PostgreSQL's
    server programs are not installed (fails instead under ``CI=true``)."""
    import pytest

    bindir = find_bindir()
    if bindir is None:
        message = (
            "PostgreSQL's server programs (initdb, postgres) are not installed; "
            "set FRAMEWORK_TEST_PG_BINDIR to their folder"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the fault tests must run)")
        pytest.skip(message)
    cluster = PrivateCluster(bindir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
