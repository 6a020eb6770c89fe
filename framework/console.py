"""The ``framework`` command: Backendpy's ``backendpy`` command with its prefix changed.

``framework create_project --name X [--full]``, ``framework create_app --name X [--full]``,
``framework create_db`` and ``framework init_project`` run the same code as the Flask
commands (``flask create-project``, ``create-app``, ``create-db``, ``init-project``).
``framework migrate`` brings the database schema up to date once per deployment
(``framework.migrate``: Flask-Migrate's upgrade under a lock, safe when two deploy jobs
run it at once). The last three work on the project in the current folder: its ``main.py``'s ``bp`` (the
Backendpy layout), else its ``wsgi.py``'s ``app``, else a project built from the folder's
``config.ini``; ``FRAMEWORK_ENV`` chooses ``config.<env>.ini`` as for every server.
``framework worker [options]`` and ``framework beat [options]`` start Celery's worker and
scheduler for that project (``framework.background``), the options going to Celery.

A configuration error prints one line and exits with status 1; ``--traceback`` (or a debug
run) prints the traceback too.
"""

from __future__ import annotations

import importlib
import os
import sys

import click
from flask import Flask

from .background import CELERY_OPTIONS
from .config import TRACEBACK_VAR, ImproperlyConfigured
from .migrate import DEFAULT_WAIT
from .project import add_project_paths

__all__ = ["main", "load_project", "ENTRY_POINTS"]

#: Where a project's application is looked for, in order: (module, attribute).
ENTRY_POINTS = (("main", "bp"), ("wsgi", "app"))


def load_project(folder: str | None = None) -> Flask:
    """The application of the project in ``folder`` (default: the current folder)."""
    root = os.path.abspath(folder or os.getcwd())
    # ``import main`` as servers do when run from here: this folder first, so that another
    # project's main.py or wsgi.py on PYTHONPATH is not taken for this one
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    add_project_paths(root)
    for module_name, attribute in ENTRY_POINTS:
        if not os.path.isfile(os.path.join(root, f"{module_name}.py")):
            continue
        module = importlib.import_module(module_name)
        app = getattr(module, attribute, None)
        if isinstance(app, Flask):
            return app
        raise ImproperlyConfigured(
            f"{os.path.join(root, module_name + '.py')} has no {attribute!r} application "
            f"(expected {attribute} = {'Backendpy()' if attribute == 'bp' else 'create_app(...)'})"
        )
    if os.path.isfile(os.path.join(root, "config.ini")) or os.environ.get("FRAMEWORK_ENV"):
        from .factory import create_app

        return create_app(root)
    raise ImproperlyConfigured(
        f"no project in {root}: no main.py (bp = Backendpy()), wsgi.py or config.ini here; "
        "run the command from the project folder"
    )


@click.group("framework", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--traceback", is_flag=True, help="Print the traceback of a failing command.")
def main(traceback: bool) -> None:
    """Create projects and apps, set up a project's database and data."""
    if traceback:
        os.environ[TRACEBACK_VAR] = "1"


def _add_scaffold_commands() -> None:
    """The scaffold commands need no project: the Flask ones, under Backendpy's names."""
    from .scaffold import create_app_command, create_project

    main.add_command(create_project, name="create_project")
    main.add_command(create_app_command, name="create_app")


@main.command("create_db")
@click.option(
    "--no-tables", is_flag=True, help="Only create the database (then 'flask db upgrade' creates the tables)."
)
@click.pass_context
def create_db(ctx: click.Context, no_tables: bool) -> None:
    """Create the project's database (PostgreSQL: when missing) and its tables."""
    from .cli import create_db_command

    with load_project().app_context():
        ctx.invoke(create_db_command, no_tables=no_tables)


@main.command("init_project")
@click.option("--no-input", is_flag=True, help="Fail instead of prompting when an init function needs input.")
@click.pass_context
def init_project(ctx: click.Context, no_input: bool) -> None:
    """Run every active app's init_func with the configuration."""
    from .cli import init_project_command

    with load_project().app_context():
        ctx.invoke(init_project_command, no_input=no_input)


@main.command("worker", context_settings=CELERY_OPTIONS)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker for the project's background hooks (options: celery worker's)."""
    from .background import run_worker

    run_worker(load_project().extensions["framework"], list(celery_args))


@main.command("beat", context_settings=CELERY_OPTIONS)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Run Celery beat, sending the periods of the apps' schedules (options: celery beat's)."""
    from .background import run_beat

    run_beat(load_project().extensions["framework"], list(celery_args))


@main.command("migrate")
@click.option("--revision", default="head", show_default=True, help="The revision to upgrade to.")
@click.option(
    "--wait",
    type=click.FloatRange(min=1),
    default=DEFAULT_WAIT,
    show_default=True,
    help="Seconds to wait for another migration of the same database to finish.",
)
def migrate(revision: str, wait: float) -> None:
    """Upgrade the database schema (once per deployment, before the new instances start)."""
    import sqlalchemy as sa
    from alembic.util import CommandError

    from .migrate import MigrationLockTimeout, migrate_database

    app = load_project()
    try:
        result = migrate_database(app, revision=revision, wait=wait)
    except (MigrationLockTimeout, CommandError) as exc:  # CommandError: an unknown revision...
        raise click.ClickException(str(exc)) from None
    except sa.exc.OperationalError as exc:
        raise click.ClickException(f"cannot reach the database: {str(exc.orig).strip()}") from None
    if not result.migrations:
        names = ", ".join(result.created) or "none, all exist"
        click.echo(f"No migrations in the project: tables created: {names}")
    elif result.changed:
        click.echo(f"Database upgraded from {_revisions(result.before)} to {_revisions(result.after)}")
    else:
        click.echo(f"Database already at {_revisions(result.after)}")


def _revisions(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "(empty)"


_add_scaffold_commands()
