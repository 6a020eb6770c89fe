"""Management commands on the Flask CLI.

App-bound commands, added to every framework app's CLI by ``Framework.init_app``
(``flask --app wsgi --help`` lists them):

- ``flask create-db``: creates the PostgreSQL database when it is missing, then every table.
- ``flask init-project [--no-input]``: runs each active app's ``init_func(config)`` in
  ``[apps] active`` order (sync or async).
- ``flask db ...``: Flask-Migrate on the project's ``migrations/`` folder.
- ``flask worker [options]``, ``flask beat [options]``: Celery's worker and beat for the
  project (``framework.background``; the same as ``framework worker`` / ``framework beat``).
"""

from __future__ import annotations

import builtins
import getpass
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import _async
from .config import ShowsCause

__all__ = [
    "register_commands",
    "create_db_command",
    "init_project_command",
    "create_database",
    "InputRequired",
    "describe_failure",
]


class InputRequired(click.ClickException):
    """An init function asked for input while ``--no-input`` was given."""

    exit_code = 1


def create_database(url: str | sa.engine.URL) -> bool:
    """Create the PostgreSQL database that ``url`` names unless it exists; True if created.

    Connects to the ``postgres`` maintenance database with autocommit, since
    ``CREATE DATABASE`` cannot run inside a transaction. Other backends create their
    database on first connection and are left alone.
    """
    url = sa.engine.make_url(url)
    if url.get_backend_name() != "postgresql" or not url.database:
        return False
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).scalar()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote_identifier(url.database)
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        engine.dispose()


@click.command("create-db")
@click.option(
    "--no-tables", is_flag=True, help="Only create the database (then 'flask db upgrade' creates the tables)."
)
@with_appcontext
def create_db_command(no_tables: bool) -> None:
    """Create the database (PostgreSQL: when missing) and every model's table."""
    ext = current_app.extensions["sqlalchemy"]
    url = ext.engine.url
    try:
        if create_database(url):
            click.echo(f"Created database {url.database!r}")
        else:
            click.echo(f"Database {url.database!r} exists")
        if no_tables:
            return
        ext.create_all()
    except sa.exc.OperationalError as exc:
        raise click.ClickException(
            f"cannot reach the database {url.render_as_string(hide_password=True)}: {str(exc.orig).strip()}"
        ) from None
    tables = sorted(ext.metadata.tables)
    click.echo(f"Tables ready: {', '.join(tables) if tables else '(no models)'}")


def _refuse_input(prompt: Any = "", *args: Any, **kwargs: Any) -> str:
    text = str(prompt).strip()
    raise InputRequired(
        "input is needed"
        + (f" ({text!r})" if text else "")
        + " but --no-input was given; run without --no-input or provide the values another way"
    )


@contextmanager
def _no_input() -> Iterator[None]:
    """Make every prompt (``input``, ``click.prompt``, ``getpass``) raise ``InputRequired``."""
    import click.termui as termui

    saved = (
        builtins.input,
        termui.visible_prompt_func,
        termui.hidden_prompt_func,
        getpass.getpass,
        sys.stdin,
    )
    builtins.input = _refuse_input
    termui.visible_prompt_func = _refuse_input
    termui.hidden_prompt_func = _refuse_input
    getpass.getpass = _refuse_input
    sys.stdin = io.StringIO("")
    try:
        yield
    finally:
        (
            builtins.input,
            termui.visible_prompt_func,
            termui.hidden_prompt_func,
            getpass.getpass,
            sys.stdin,
        ) = saved


@click.command("init-project")
@click.option("--no-input", is_flag=True, help="Fail instead of prompting when an init function needs input.")
@with_appcontext
def init_project_command(no_input: bool) -> None:
    """Run every active app's init_func with the configuration, in [apps] active order."""
    fw = current_app.extensions["framework"]
    ran = 0
    for package, installed in fw.apps.items():
        func: Callable[..., Any] | None = installed.app.init_func
        if func is None:
            continue
        click.echo(f"Initializing {package} ...")
        try:
            if no_input:
                with _no_input():
                    _async.call(func, fw.config)
            else:
                _async.call(func, fw.config)
        except InputRequired as exc:
            raise InputRequired(f"app {package!r}: {exc.message}") from None
        except (EOFError, click.Abort):
            raise click.ClickException(
                f"app {package!r}: input ended before the init function finished"
            ) from None
        except click.ClickException:
            raise
        except Exception as exc:
            cause = _input_required_in(exc)
            if cause is not None:
                raise InputRequired(f"app {package!r}: {cause.message}") from None
            raise ShowsCause(f"app {package!r}: init_func failed: {describe_failure(exc)}") from exc
        ran += 1
    click.echo(f"Initialized {ran} app(s)")


def describe_failure(exc: BaseException) -> str:
    """``Type: message`` of ``exc``, naming the first error of its chain too when that one
    is another (an error raised while handling an earlier one must not hide it)."""
    text = f"{type(exc).__name__}: {exc}"
    seen = {id(exc)}
    first: BaseException | None = None
    current = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        first = current
        current = current.__cause__ or current.__context__
    if first is not None:
        text += f" (first error: {type(first).__name__}: {first})"
    return text


def _input_required_in(exc: BaseException) -> InputRequired | None:
    """The ``InputRequired`` an init function wrapped in its own exception, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, InputRequired):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def register_commands(app: Flask) -> None:
    """Add the framework's app-bound commands to ``app.cli`` (``flask db`` comes from Flask-Migrate)."""
    from .background import beat_command, worker_command

    for command in (create_db_command, init_project_command, worker_command, beat_command):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
