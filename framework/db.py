"""The database layer: Flask-SQLAlchemy with Backendpy's helpers.

``db`` is one ``flask_sqlalchemy.SQLAlchemy`` shared by every app of a project; ``Base``
is its model class (``db.Model``), so models of different apps share one metadata and may
relate to each other. ``[database]`` chooses the engine:

- ``uri = postgresql+psycopg://user:pw@host/name`` (any SQLAlchemy URL), or
- ``host``, ``port``, ``name``, ``username``, ``password`` (+ ``driver``, default
  ``psycopg``) for PostgreSQL, or
- nothing: a SQLite file in the app's instance folder (``name`` names the file).

Each request gets one session (Flask-SQLAlchemy's scoped session, keyed by the request's
app context): whatever it has not committed is rolled back when the request ends, with or
without an error, and the session is removed at teardown. ``request.app.context['db_session']()``
returns it, as in Backendpy. ``get_db_engine`` and ``get_db_session`` build the same
objects outside a request, for scripts, init functions and tests.

Backendpy code awaits its session, its ``remove()`` and its engine's ``dispose()``: in async
code the session handed out by ``db_session()`` and ``get_db_session`` is an awaitable
facade over the same synchronous session (``framework.async_session``); ``db.session``
stays synchronous for Flask-style code.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

from . import signals
from .async_session import AwaitableScopedSession, awaitable_dispose
from .config import ImproperlyConfigured, as_bool
from .error import INVALID_DATA, REQUEST_ERROR, SERVER_ERROR, SERVICE_UNAVAILABLE, Error
from .logging import get_logger

if TYPE_CHECKING:
    from .extension import Framework

__all__ = [
    "db",
    "Base",
    "database_url",
    "get_db_engine",
    "get_db_session",
    "init_database",
    "migrate_extension",
    "set_database_hooks",
    "install_error_handlers",
    "is_connection_error",
    "create_private_file",
    "watch_data_errors",
    "DEFAULT_SQLITE_NAME",
    "DEFAULT_DRIVER",
]

LOGGER = get_logger("framework.db")

#: The SQLite file (in the instance folder) used when ``[database]`` names no server.
DEFAULT_SQLITE_NAME = "framework"
#: The PostgreSQL driver used when ``[database] driver`` is not set.
DEFAULT_DRIVER = "psycopg"

#: Constraint names Alembic can find again when it alters or drops them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _ModelBase(DeclarativeBase):
    """SQLAlchemy 2 declarative base that Flask-SQLAlchemy turns into ``db.Model``."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=_ModelBase)
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Base(_ModelBase, _FlaskModel):
        """``db.Model`` spelt as a class, so that type checkers accept it as a base class."""

else:
    #: The model base of every app (``class User(Base): __tablename__ = 'users'``).
    Base = db.Model

_SERVER_KEYS = ("host", "port", "username", "password")


def database_url(section: Mapping[str, Any] | None, instance_path: str | None = None) -> str:
    """The SQLAlchemy URL that a ``[database]`` section describes.

    ``uri`` wins; otherwise a ``host`` (or other server key) means PostgreSQL (without a
    ``name``, libpq's default database: the user's name); otherwise a
    SQLite file ``<name or 'framework'>.sqlite3`` in ``instance_path`` (created when missing).
    """
    section = section or {}
    uri = str(section.get("uri") or "").strip()
    if uri:
        try:
            sa.engine.make_url(uri)
        except sa_exc.ArgumentError:
            raise ImproperlyConfigured(f"[database] uri is not a database URL: {uri!r}") from None
        return uri
    name = str(section.get("name") or "").strip()
    if any(str(section.get(key) or "").strip() for key in _SERVER_KEYS):
        port_raw = str(section.get("port") or "").strip()
        try:
            port = int(port_raw) if port_raw else None
        except ValueError:
            raise ImproperlyConfigured(f"[database] port must be a number, got {port_raw!r}") from None
        driver = str(section.get("driver") or DEFAULT_DRIVER).strip()
        url = sa.engine.URL.create(
            f"postgresql+{driver}" if "+" not in driver and driver != "postgresql" else driver,
            username=str(section.get("username") or "") or None,
            password=str(section.get("password") or "") or None,
            host=str(section.get("host") or "") or None,
            port=port,
            database=name or None,
        )
        return url.render_as_string(hide_password=False)
    folder = os.path.abspath(instance_path or "instance")
    path = os.path.join(folder, f"{name or DEFAULT_SQLITE_NAME}.sqlite3")
    create_private_file(path)
    return sa.engine.URL.create("sqlite", database=path).render_as_string()


def create_private_file(path: str) -> None:
    """Create ``path`` empty, readable by its owner only (0600), unless it exists; its
    folder, when missing, is created for the owner only (0700).

    The SQLite file holds password hashes and tokens' secrets: SQLite itself would create
    it 0644 (and its journals take the file's mode), so the framework creates it first.
    An empty file is an empty SQLite database.
    """
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def get_db_engine(config: Mapping[str, Any], echo: bool = False) -> sa.Engine:
    """A SQLAlchemy engine for a ``[database]`` section (scripts, init functions, tests).

    After start-up ``fw.config['database']['uri']`` holds the URL the app uses, so
    ``get_db_engine(config['database'])`` reaches the app's own database. The engine is a
    plain ``sqlalchemy.Engine`` whose ``dispose()`` may also be awaited, as Backendpy's
    listings do (``await engine.dispose()``).
    """
    url = database_url(config)
    options: dict[str, Any] = {"echo": echo}
    if url.startswith("postgresql"):
        options["pool_pre_ping"] = True
    engine = sa.create_engine(url, **options)
    watch_data_errors(engine)
    return awaitable_dispose(engine)


def get_db_session(engine: sa.Engine, scope_func: Callable[[], Any] | None = None) -> AwaitableScopedSession:
    """A scoped session factory bound to ``engine``; ``scope_func`` keys the scope.

    Call it for the session of the current scope and ``.remove()`` it when done (both may
    be awaited: in async code the session is the ``AwaitableSession`` facade, so
    ``await db_session().get(User, 1)`` and ``await db_session.remove()`` run as in Backendpy).
    ``asyncio.current_task`` and ``fw.get_current_request`` (as in Backendpy) work: where
    ``scope_func`` finds no scope (no running loop, no request), the thread's last scope is
    used, else the thread itself, so ``remove()`` in a ``request_end`` hook (which runs after
    the request is popped) removes that request's session.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    if scope_func is None:
        return AwaitableScopedSession(scoped_session(factory))
    last = threading.local()

    def scope() -> Any:
        try:
            key = scope_func()
        except RuntimeError:  # asyncio.current_task() outside a running loop
            key = None
        if key is None:
            # Between scopes (a request_end hook runs after the request has been popped):
            # this thread's last scope, so ``remove()`` there removes the request's session.
            return getattr(last, "key", None) or ("thread", threading.get_ident())
        last.key = key
        return key

    return AwaitableScopedSession(scoped_session(factory, scopefunc=scope))


def _request_scoped_session() -> scoped_session:
    """Flask-SQLAlchemy's scoped session of the current app (``db.session``)."""
    return current_app.extensions["sqlalchemy"].session


#: ``fw.context['db_session']``: the request's own session (awaitable facade in async code).
request_session = AwaitableScopedSession(_request_scoped_session)


def init_database(fw: Framework, app: Flask) -> None:
    """Install ``db`` on ``app`` from ``fw.config['database']`` (called by ``init_app``).

    A host app that already configured ``SQLALCHEMY_DATABASE_URI`` keeps it when
    ``[database]`` is empty; a host that registered its own Flask-SQLAlchemy instance keeps
    it and the framework's ``db_session`` returns that instance's session.
    """
    section = fw.config.setdefault("database", {})
    existing = app.extensions.get("sqlalchemy")
    if existing is None:
        explicit = any(str(section.get(k) or "").strip() for k in ("uri", "name", *_SERVER_KEYS))
        if explicit or not app.config.get("SQLALCHEMY_DATABASE_URI"):
            app.config["SQLALCHEMY_DATABASE_URI"] = database_url(section, app.instance_path)
        uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        if uri.startswith("postgresql"):
            options.setdefault("pool_pre_ping", True)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        try:
            app.config.setdefault("SQLALCHEMY_ECHO", as_bool(section.get("echo", False)))
        except ValueError as exc:
            raise ImproperlyConfigured(f"[database] echo: {exc}") from None
        known = list(app.teardown_appcontext_funcs)
        db.init_app(app)
        # in place of Flask-SQLAlchemy's own teardown (the one init_app added, a method of
        # ``db``), which removes the session without the connection-loss handling below,
        # and even when no session was opened
        _replace_teardown(app, known, db, _session_remover(db))
        _install_migrate(fw, app)
    else:
        uri = str(app.config.get("SQLALCHEMY_DATABASE_URI") or "")
    with app.app_context():  # the host's own instance too: its values come from our clients
        for engine in app.extensions["sqlalchemy"].engines.values():
            watch_data_errors(engine)
    fw.context["db_session"] = request_session
    with app.app_context():  # Backendpy keeps the engine there too; dispose() may be awaited
        engine = app.extensions["sqlalchemy"].engine
        fw.context["db_engine"] = awaitable_dispose(engine)
    # the URL the engine really opened: Flask-SQLAlchemy puts a relative SQLite path in the
    # instance folder, and ``get_db_engine(config['database'])`` (an init_func) must open
    # that same file, not one relative to the working directory
    if engine.url.get_backend_name() == "sqlite":
        uri = engine.url.render_as_string(hide_password=False)
    section["uri"] = uri
    app.teardown_request(_rollback_on_error)
    embedded = uri.startswith("sqlite")
    try:
        auto = as_bool(section.get("auto_create", embedded))
    except ValueError as exc:
        raise ImproperlyConfigured(f"[database] auto_create: {exc}") from None
    if auto and not embedded:
        # every worker of every instance would change a shared schema as it starts, racing
        # the others and the deployment's own migration
        raise ImproperlyConfigured(
            "[database] auto_create: tables are created at start-up only in a SQLite file; "
            f"for {engine.url.get_backend_name()} run 'framework migrate' once per deployment"
        )
    if auto:
        signals.startup.connect(_create_tables, sender=fw, weak=False)


def _install_migrate(fw: Framework, app: Flask) -> None:
    """``flask db ...`` on the project's ``migrations/`` folder, Flask-Migrate set up on first use.

    Flask-Migrate imports Alembic, a large share of a process's start-up; most processes
    (server workers, most commands) never migrate, so the ``db`` command group and
    ``app.extensions["migrate"]`` are made when a migration command runs or
    ``migrate_extension`` is called (``framework migrate`` does), not at every start.
    """
    directory = os.path.join(fw.root_path or app.root_path, "migrations")
    app.extensions[_MIGRATE_DIRECTORY] = directory
    app.cli.add_command(_MigrateCommands(app), name="db")


#: ``app.extensions`` key of the migration folder ``migrate_extension`` sets Flask-Migrate up on.
_MIGRATE_DIRECTORY = "framework.migrate_directory"


def migrate_extension(app: Flask) -> Any:
    """Flask-Migrate's ``app.extensions["migrate"]`` of ``app``, set up on first call
    (``None`` when the framework did not install the database: a host's own instance)."""
    existing = app.extensions.get("migrate")
    if existing is not None or _MIGRATE_DIRECTORY not in app.extensions:
        return existing
    from flask_migrate import Migrate

    # (Migrate also puts its own ``db`` group in place of ``_MigrateCommands``: the same one)
    Migrate(app, db, directory=app.extensions[_MIGRATE_DIRECTORY], render_as_batch=True, compare_type=True)
    return app.extensions["migrate"]


class _MigrateCommands(click.Group):
    """``flask db``: Flask-Migrate's command group, imported (with Alembic) when it runs.

    Click makes a sub-command's context with the command's own ``make_context``: this one
    hands the arguments to Flask-Migrate's group, whose context (and so whose options,
    sub-commands and help) the rest of the run uses.
    """

    def __init__(self, app: Flask) -> None:
        super().__init__("db", help="Perform database migrations.")
        self._app = app

    def _target(self) -> click.Group:
        migrate_extension(self._app)
        from flask_migrate.cli import db as commands

        return commands

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        return self._target().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return ctx.command.invoke(ctx) if ctx.command is not self else super().invoke(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._target().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._target().list_commands(ctx)


def _rollback_on_error(exc: BaseException | None) -> None:
    """Roll the request's session back when the request ended in an unhandled error."""
    if exc is not None:
        ext = current_app.extensions.get("sqlalchemy")
        if ext is not None:
            ext.session.rollback()


def _replace_teardown(
    app: Flask, known: list[Callable[..., Any]], owner: Any, new: Callable[..., Any]
) -> None:
    """Put ``new`` where the app's teardown functions hold one that is not in ``known``
    and is a method of ``owner`` (or add it)."""
    funcs = app.teardown_appcontext_funcs
    for index, func in enumerate(funcs):
        if getattr(func, "__self__", None) is owner and func not in known:
            funcs[index] = new
            return
    funcs.append(new)


def _session_remover(ext: Any) -> Callable[[BaseException | None], None]:
    """The app-context teardown that removes the request's session of ``ext``.

    A connection that died meanwhile (the database restarted) must not turn the answer
    already made into a server error, nor leave a broken session behind for the thread's
    next request. A request that never opened a session costs one registry lookup.
    """
    scoped = ext.session
    registry = scoped.registry

    def remove_session(exc: BaseException | None) -> None:
        if not registry.has():
            return  # the request never opened a session: nothing to close
        try:
            scoped.remove()
        except Exception as error:
            if is_connection_error(error):
                LOGGER.warning(
                    "database connection lost while closing the session: %s",
                    str(getattr(error, "orig", error)).strip().splitlines()[0],
                )
            else:
                LOGGER.error("closing the database session failed", exc_info=error)
            registry.clear()

    return remove_session


def _create_tables(fw: Framework) -> None:
    """``startup``: create missing tables of a SQLite file (the embedded default, one
    machine; ``[database] auto_create = false`` turns it off). Never for a server database:
    its schema changes once per deployment (``framework migrate``)."""
    app = fw.app
    if app is None:
        return
    with app.app_context():
        ext = app.extensions["sqlalchemy"]
        try:
            ext.create_all()
        except sa_exc.DatabaseError:
            # another worker created a table between our check and our CREATE: check again
            ext.create_all()


def set_database_hooks(bp: Any) -> None:
    """Backendpy's ``set_database_hooks(bp)``: make sure the database is installed.

    The framework installs it in ``init_app`` already, so this only repairs a project object
    whose database is missing; calling it twice is harmless.
    """
    fw = bp
    app = getattr(bp, "app", None)
    if isinstance(bp, Flask):
        app, fw = bp, bp.extensions.get("framework")
    if fw is None or app is None:
        raise TypeError("set_database_hooks() needs the project object (Backendpy or Framework)")
    if "db_session" not in fw.context:
        init_database(fw, app)


# ----------------------------------------------------------------- errors
def is_connection_error(exc: BaseException) -> bool:
    """True for a failure to reach the database (not for a bad statement)."""
    if not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return False
    return exc.statement is None or bool(getattr(exc, "connection_invalidated", False))


def _driver_data_error(context: sa.engine.ExceptionContext) -> None:
    """``handle_error``: a value the driver cannot send (an unpaired surrogate in text,
    an integer too large for SQLite) becomes the ``DataError`` a server would raise for
    it, instead of escaping as a bare ``UnicodeEncodeError`` or ``OverflowError``."""
    original = context.original_exception
    if context.sqlalchemy_exception is not None or context.statement is None:
        return
    if isinstance(original, (UnicodeEncodeError, OverflowError)):
        hide = bool(getattr(context.engine, "hide_parameters", False))
        raise sa_exc.DataError(
            context.statement, context.parameters, original, hide_parameters=hide
        ) from original


def watch_data_errors(engine: sa.Engine) -> None:
    """Have ``engine`` report values its driver cannot encode as ``DataError`` (once)."""
    if not sa.event.contains(engine, "handle_error", _driver_data_error):
        sa.event.listen(engine, "handle_error", _driver_data_error)


def _data_error(exc: sa_exc.DBAPIError) -> Any:
    """A value the database refused (invalid text for its type, out of range, NUL in
    text...): the client's data, answered 400 (code 1002) without the database's words."""
    from flask import request

    reason = str(getattr(exc, "orig", exc)).strip().splitlines()
    LOGGER.warning(
        "database refused a value in %s %s: %s: %s",
        request.method,
        request.path,
        type(getattr(exc, "orig", exc)).__name__,
        reason[0] if reason else "",
    )
    return Error(INVALID_DATA, data={"request": ["A value is not valid for the database"]})


def _integrity_error(exc: sa_exc.DBAPIError) -> Any:
    """A row the database's constraints refuse (a duplicate of a unique value sent by two
    clients at once, a missing required value): 409 in the envelope (code 1010)."""
    from flask import request

    reason = str(getattr(exc, "orig", exc)).strip().splitlines()
    LOGGER.warning(
        "database constraint refused a row in %s %s: %s",
        request.method,
        request.path,
        reason[0] if reason else type(exc).__name__,
    )
    error = Error(REQUEST_ERROR, data={"request": ["The data conflicts with stored data"]})
    error.status_code = 409
    return error


def _database_error(exc: sa_exc.DBAPIError) -> Any:
    from flask import request

    if is_connection_error(exc):
        LOGGER.error(
            "database unreachable during %s %s: %s",
            request.method,
            request.path,
            str(exc.orig).strip() or type(exc.orig).__name__,
        )
        return Error(SERVICE_UNAVAILABLE)
    LOGGER.error("unhandled %s in %s %s", type(exc).__name__, request.method, request.path, exc_info=exc)
    return Error(SERVER_ERROR)


def install_error_handlers(scaffold: Any) -> None:
    """Answer database connection failures with 503 (code 1009), values the database
    refuses with 400 (code 1002) and rows its constraints refuse with 409 (code 1010), on
    ``scaffold``'s routes."""
    scaffold.register_error_handler(sa_exc.DataError, _data_error)
    scaffold.register_error_handler(sa_exc.IntegrityError, _integrity_error)
    scaffold.register_error_handler(sa_exc.OperationalError, _database_error)
    scaffold.register_error_handler(sa_exc.InterfaceError, _database_error)
