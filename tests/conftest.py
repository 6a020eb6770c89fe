"""Shared fixtures: build throw-away projects on disk and the Flask apps made from them."""

from __future__ import annotations

import functools
import os
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, slow_run

#: The docs' project is run by tests/serve and tests/db in its own processes, not collected.
collect_ignore_glob = ["docs_project/*"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="the full run: property tests with all their examples, randomised "
        "(the same as FRAMEWORK_TESTS_SLOW=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Pick the Hypothesis profile before any test module builds its settings: the everyday
    run tries fewer examples, the same ones each time; ``--slow`` tries them all, at random."""
    from hypothesis import HealthCheck, settings

    if config.getoption("--slow"):
        os.environ["FRAMEWORK_TESTS_SLOW"] = "1"  # seen by tests.helpers.examples and subprocesses
    settings.register_profile(
        "framework-default",
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("framework-slow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    if not config.getoption("hypothesis_profile", None):  # an explicit --hypothesis-profile wins
        settings.load_profile("framework-slow" if slow_run() else "framework-default")


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n logical`` (setup.cfg) starts two workers per CPU (``--maxprocesses`` caps them).

    Many tests spend most of their time waiting on processes they started (a server
    booting, a period going by, a graceful shutdown): with one worker per CPU a CPU was
    idle during those waits. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when it is set.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cpus


def _cheaper_password_hashing() -> None:
    """Hash passwords with scrypt at a lower work factor in the everyday run.

    Werkzeug's default (scrypt, N=2**15) costs about 0.1 s of CPU per hash and the suite
    registers and logs in users hundreds of times: that was close to half of the in-process
    CPU time. The hashes stay real scrypt hashes that ``check_password_hash`` verifies (it
    reads the parameters from the hash); only the default cost changes, and ``--slow`` keeps
    Werkzeug's. Patched here, before any app module binds the function by name.
    """
    import werkzeug.security as security

    real = security.generate_password_hash
    if getattr(real, "framework_tests_wrapper", False):
        return

    @functools.wraps(real)
    def generate_password_hash(password: str, method: str | None = None, salt_length: int = 16) -> str:
        if method is None:
            method = "scrypt" if slow_run() else "scrypt:1024:8:1"
        return real(password, method, salt_length)

    generate_password_hash.framework_tests_wrapper = True  # type: ignore[attr-defined]
    security.generate_password_hash = generate_password_hash


_cheaper_password_hashing()


def _compile_the_framework_once() -> None:
    """Write the framework's compiled modules (``framework/__pycache__``) before the run.

    Every server and command the suite starts imports the framework. Where
    ``PYTHONDONTWRITEBYTECODE`` is set, nothing writes those files, and each of the few
    hundred processes compiled the package from source again (about 0.08 s of CPU each).
    Python reads compiled files it finds whatever that variable says; ``compileall`` only
    writes the ones that are missing or out of date (the folder is in .gitignore).
    """
    import compileall

    compileall.compile_dir(ROOT / "framework", quiet=2)


if not os.environ.get("PYTEST_XDIST_WORKER"):  # once per run: the workers start after this
    _compile_the_framework_once()


#: Whether bytecode writing was off when the run started (``PYTHONDONTWRITEBYTECODE``).
_NO_BYTECODE = sys.dont_write_bytecode
# Until the collection ends, compiled modules are kept (see pytest_collection below).
sys.dont_write_bytecode = False


#: Test modules sharing the run's costliest module-scoped set-up (two gunicorn instances, a
#: Celery worker and beat, PostgreSQL and Redis of their own).
_RUN_FIRST = ("tests/scale/test_two_instances.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the modules of ``_RUN_FIRST`` at the head of the run.

    pytest-xdist's worksteal gives each worker a contiguous share of the collection and lets
    an idle worker take the tail of another's. At the tail of a share (where the alphabetical
    order put ``tests/scale``) a module was split between two workers, each building its
    set-up; at the head it runs in one worker, from the start of the run.
    """
    first = [item for item in items if item.nodeid.partition("::")[0] in _RUN_FIRST]
    if first:
        items[:] = first + [item for item in items if item.nodeid.partition("::")[0] not in _RUN_FIRST]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the compiled modules of the run's start-up: until the collection ends.

    pytest caches the assertion-rewritten modules it compiles (the test modules, and the
    packages of pytest plugins: Hypothesis, imported by ``pytest_configure`` above) in
    ``__pycache__`` unless bytecode writing is off; with ``PYTHONDONTWRITEBYTECODE`` set,
    each worker compiled them all again (about four seconds of CPU per process). From this
    module's import to the end of the collection (this hook runs even when it fails) they
    are kept; then the environment's setting is back, so modules the tests write and import
    while they run are left alone. (An xdist controller collects nothing and runs no test.)
    """
    sys.dont_write_bytecode = _NO_BYTECODE


# Serving outside debug/testing needs a secret key (framework.security). Apps built by the
# suite, and the servers it starts, get a throw-away one unless a test removes it.
os.environ.setdefault("FRAMEWORK__FLASK__SECRET_KEY", "test-secret-key-not-for-production")


class ProjectFactory:
    """Writes a project folder (config.ini + app packages) and builds its app.

    Each factory uses a unique top-level package name so that apps written by different
    tests never share modules in ``sys.modules``.
    """

    def __init__(self, base: Path) -> None:
        self.package = f"proj_{uuid.uuid4().hex[:10]}"
        self.root = base / "project"
        self.pkg_dir = base / self.package
        self.pkg_dir.mkdir(parents=True)
        (self.pkg_dir / "__init__.py").write_text("")
        self.root.mkdir()
        self.base = base

    def app_module(self, name: str, files: dict[str, str]) -> str:
        """Write app package ``<package>.<name>`` with ``files``; returns its dotted name."""
        folder = self.pkg_dir / name
        for rel, text in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        folder.mkdir(parents=True, exist_ok=True)
        parents = [p for p in folder.relative_to(self.pkg_dir).parents if str(p) != "."]
        dirs = [self.pkg_dir / p for p in parents] + [folder] + [p for p in folder.rglob("*") if p.is_dir()]
        for parent in dirs:
            init = parent / "__init__.py"
            if not init.exists() and not parent.name.startswith("templates"):
                init.write_text("")
        return f"{self.package}.{name.replace('/', '.')}"

    def module(self, rel: str, text: str) -> str:
        """Write a module under the package; returns its dotted name."""
        path = self.pkg_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return f"{self.package}.{rel[:-3].replace('/', '.')}"

    def config(self, text: str, name: str = "config.ini") -> Path:
        path = self.root / name
        path.write_text(textwrap.dedent(text).replace("{pkg}", self.package))
        os.chmod(path, 0o600)
        return path

    def create_app(self, **kwargs):
        from framework import create_app

        app = create_app(self.root, **kwargs)
        app.testing = True
        return app


@pytest.fixture
def project(tmp_path: Path) -> Iterator[ProjectFactory]:
    sys.path.insert(0, str(tmp_path))
    factory = ProjectFactory(tmp_path)
    try:
        yield factory
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == factory.package or m.startswith(factory.package + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="session", autouse=True)
def private_working_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Each pytest process (each xdist worker) runs its tests in a folder of its own.

    What lands in the working directory (the ``instance/`` folder and SQLite file of a
    Flask app whose root is the working directory, say) is then never shared with a
    parallel worker nor left in the checkout. Tests that serve the repository's own
    project give it a database of their own; the check after the run keeps it so.
    """
    instance = ROOT / "instance"
    had_instance = instance.exists()
    folder = tmp_path_factory.mktemp("cwd")
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(before)
    if not had_instance and instance.exists():
        pytest.fail(f"a test wrote {instance}: give the repository's project a database of its own")


@pytest.fixture
def hello_app(tmp_path: Path):
    """The repository's own project (wsgi.py's app, blueprints/hello), on a database of
    its own: tests never write the repository's ``instance/`` folder."""
    from framework import create_app

    app = create_app(ROOT, config={"database": {"uri": f"sqlite:///{tmp_path / 'hello.sqlite3'}"}})
    app.testing = True
    return app


@pytest.fixture
def hello_client(hello_app):
    return hello_app.test_client()


@pytest.fixture
def make_route_app(project: ProjectFactory) -> Callable[..., object]:
    """Build an app from a handlers module body (``routes = Routes()`` expected)."""

    def build(handlers: str, main_extra: str = "", config_extra: str = "", **app_kwargs):
        name = project.app_module(
            "web",
            {
                "handlers.py": handlers,
                "main.py": "from framework.app import App\nfrom .handlers import routes\n"
                + main_extra
                + "\napp = App(routes=[routes]"
                + "".join(f", {k}={v}" for k, v in app_kwargs.items())
                + ")\n",
            },
        )
        project.config(f"[apps]\nactive = {name}\n" + textwrap.dedent(config_extra))
        return project.create_app()

    return build


@pytest.fixture(scope="session")
def redis_server() -> Iterator[object]:
    """A private ``redis-server`` shared by the run (tests.redisserver); skipped where the
    binary is absent. Tests that need an empty server call ``redis_server.flush()``."""
    from tests.redisserver import RedisServer, redis_available

    if not redis_available():
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
