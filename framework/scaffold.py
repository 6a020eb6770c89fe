"""``flask create-project`` and ``flask create-app``: write a new project or app to start from.

Both commands work without an application (Flask finds them through the ``flask.commands``
entry point group), write into the current folder and never overwrite anything. A project
starts with ``gunicorn wsgi:app`` and its generated tests pass under ``pytest``; ``--full``
adds an app with a model, a data handler, hooks, error codes, a template and an init_func.

The files written are real files shipped in the package (so ruff and mypy check the Python
ones like the rest of the code):

- ``project_template/``: a project; ``project_template_full/`` adds to it for ``--full``
  (a file named ``X.append`` is appended to ``X``). The project's ``apps/hello`` is
  ``app_template/`` with an empty URL prefix, the ``--full`` project's ``apps/blog`` is
  ``app_template_full/``.
- ``app_template/`` and ``app_template_full/``: an app package, plain and ``--full``; each
  is complete, so that its relative imports resolve for mypy.

Substitution is ``string.Template`` (``$name``; ``$$`` is a dollar sign) and explicit: in a
project template only files whose name ends in ``-tpl`` are rendered (the suffix is
dropped), everything else is copied byte for byte; in an app template every file is rendered,
its placeholders sitting only in strings and comments so that the Python stays valid. The
project's ``wsgi.py`` and ``gunicorn.conf.py`` are the repository's own, byte for byte.

Placeholders: ``$project``, ``$secret_key``, ``$apps`` (the ``[apps] active`` lines) and
``$version`` (the framework's) in a project; ``$app`` (the package name) and ``$prefix``
(its routes' URL prefix: empty for the project's own ``hello`` app, ``/<app>`` otherwise)
in an app. A full app's error codes are the literals of its ``errors.py``, moved to the
app's own block of 100 (``_renumber_codes``).

The same work is available to Python code as ``write_project`` and ``write_app``.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template as _TextTemplate

import click

__all__ = [
    "create_project",
    "create_app_command",
    "write_project",
    "write_app",
    "ScaffoldError",
    "validate_name",
    "package_path",
    "template_folder",
]

#: The app every project starts with, and the one ``--full`` adds.
HELLO_APP = "hello"
FULL_PROJECT_APP = "blog"
#: An app's first error code (the framework keeps the codes below it).
FIRST_APP_CODE = 1100
#: Files holding secrets are written readable by their owner only.
PRIVATE_FILES = frozenset({"config.ini"})
#: Template folders inside the ``framework`` package.
PROJECT_TEMPLATE = "project_template"
PROJECT_TEMPLATE_FULL = "project_template_full"
APP_TEMPLATE = "app_template"
APP_TEMPLATE_FULL = "app_template_full"
#: A project template file with this suffix is rendered; the suffix is dropped.
RENDERED_SUFFIX = "-tpl"
#: A ``--full`` project template file with this suffix is appended to the base file.
APPEND_SUFFIX = ".append"
#: Files stored under another name in the package: a ``.gitignore`` would apply to the
#: package's own folder in the framework's repository.
_PROJECT_RENAMES = {"gitignore": ".gitignore"}
#: An app template's test module, written as ``tests/test_<app>.py``.
_APP_TEST_MODULE = "tests/test_app.py"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: Top-level modules an app package must not shadow when it sits on ``sys.path`` itself.
_RESERVED_APP_NAMES = frozenset(
    {
        "framework",
        "flask",
        "werkzeug",
        "jinja2",
        "click",
        "sqlalchemy",
        "flask_sqlalchemy",
        "marshmallow",
        "gunicorn",
        "pytest",
        "tests",
    }
)


class ScaffoldError(click.ClickException):
    """A name or a target folder that cannot be used; nothing has been written."""


def validate_name(name: str, kind: str) -> str:
    """Return ``name`` if it can name a project or an app (a plain Python identifier).

    An app's name is imported as a package, so it must not be a keyword, a standard
    library module or one of the framework's own dependencies.
    """
    if not _NAME.match(name):
        raise ScaffoldError(
            f"{kind} name {name!r} is not a Python identifier: use letters, digits and "
            f"underscores, not starting with a digit (e.g. my_{kind})"
        )
    if keyword.iskeyword(name):
        raise ScaffoldError(f"{kind} name {name!r} is a Python keyword")
    if kind == "app" and (name in sys.stdlib_module_names or name in _RESERVED_APP_NAMES):
        raise ScaffoldError(f"app name {name!r} would shadow the module {name!r}; choose another")
    return name


def template_folder(name: str) -> Traversable:
    """The template folder ``name`` (e.g. ``"project_template"``) shipped in the package."""
    return files("framework") / name


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """Every file under ``folder`` as (path relative to it, file), in a stable order;
    byte-code caches (written beside the templates when the package is installed) are not
    template files."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__" or entry.name.endswith((".pyc", ".pyo")):
            continue
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _walk(entry, f"{relative}/")
        else:
            yield relative, entry


def _render(data: bytes, values: Mapping[str, str]) -> bytes:
    return _TextTemplate(data.decode("utf-8")).substitute(values).encode("utf-8")


def _renumber_codes(source: bytes, first: int) -> bytes:
    """``source`` (an app template's ``errors.py``, whose codes start at ``FIRST_APP_CODE``)
    with each module-level integer constant moved by ``first - FIRST_APP_CODE``."""
    offset = first - FIRST_APP_CODE
    if not offset:
        return source
    lines = source.splitlines(keepends=True)
    for statement in ast.parse(source).body:  # offsets count UTF-8 bytes
        value = statement.value if isinstance(statement, ast.Assign) else None
        if isinstance(value, ast.Constant) and type(value.value) is int and value.lineno == value.end_lineno:
            line = lines[value.lineno - 1]
            lines[value.lineno - 1] = (
                line[: value.col_offset] + str(value.value + offset).encode() + line[value.end_col_offset :]
            )
    return b"".join(lines)


def _app_files(app: str, *, full: bool, prefix: str, first_code: int = FIRST_APP_CODE) -> dict[str, bytes]:
    """The files of one app package, by path relative to the package folder."""
    values = {"app": app, "prefix": prefix}
    result = {}
    for relative, entry in _walk(template_folder(APP_TEMPLATE_FULL if full else APP_TEMPLATE)):
        data = _render(entry.read_bytes(), values)
        if relative == "errors.py":
            data = _renumber_codes(data, first_code)
        if relative == _APP_TEST_MODULE:
            relative = f"tests/test_{app}.py"
        result[relative] = data
    return result


def _project_files(project: str, *, full: bool) -> dict[str, bytes]:
    """The files of a project, by path relative to the project folder."""
    apps = [f"apps.{HELLO_APP}"] + ([f"apps.{FULL_PROJECT_APP}"] if full else [])
    values = {
        "project": project,
        "secret_key": secrets.token_hex(32),
        "apps": "\n".join(f"    {a}" for a in apps),
        "version": _framework_version(),
    }
    result: dict[str, bytes] = {}
    folders = [PROJECT_TEMPLATE] + ([PROJECT_TEMPLATE_FULL] if full else [])
    for folder in folders:
        for relative, entry in _walk(template_folder(folder)):
            data = entry.read_bytes()
            if relative.endswith(RENDERED_SUFFIX):
                relative = relative.removesuffix(RENDERED_SUFFIX)
                data = _render(data, values)
            relative = _PROJECT_RENAMES.get(relative, relative)
            if relative.endswith(APPEND_SUFFIX):
                relative = relative.removesuffix(APPEND_SUFFIX)
                data = result[relative] + data
            result[relative] = data
    for path, data in _app_files(HELLO_APP, full=False, prefix="").items():
        result[f"apps/{HELLO_APP}/{path}"] = data
    if full:
        for path, data in _app_files(FULL_PROJECT_APP, full=True, prefix=f"/{FULL_PROJECT_APP}").items():
            result[f"apps/{FULL_PROJECT_APP}/{path}"] = data
    return result


def _write_tree(target: Path, contents: Mapping[str, bytes | str]) -> None:
    """Create ``target`` (which must not exist) holding ``contents``; all or nothing."""
    try:
        target.mkdir()
    except FileExistsError:
        raise ScaffoldError(
            f"{target} already exists; nothing was written (choose another name or remove it)"
        ) from None
    except OSError as exc:
        raise ScaffoldError(f"cannot create {target}: {exc.strerror}") from None
    path = target
    try:
        for relative, data in contents.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = 0o600 if path.name in PRIVATE_FILES else 0o644
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with open(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise ScaffoldError(f"cannot write {path}: {exc.strerror or exc}; nothing was left behind") from None
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def write_project(parent: str | os.PathLike[str], name: str, *, full: bool = False) -> Path:
    """Write the project ``name`` into the folder ``parent`` and return its path.

    Its ``migrations/`` folder is Flask-Migrate's own (what ``flask db init`` writes), so
    ``flask --app wsgi db upgrade`` works from the start.
    """
    validate_name(name, "project")
    target = Path(parent).resolve() / name
    _write_tree(target, _project_files(name, full=full))
    try:
        _init_migrations(target / "migrations")
    except BaseException as exc:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, Exception):
            raise ScaffoldError(
                f"cannot write {target / 'migrations'}: {exc}; nothing was left behind"
            ) from None
        raise
    return target


def _init_migrations(directory: Path) -> None:
    """Flask-Migrate's migration environment in ``directory`` (``flask db init``'s files).

    ``directory`` may already hold ``versions/`` with revisions written by the scaffold.
    """
    import contextlib
    import io

    from alembic import command
    from flask_migrate import Config

    config = Config()
    config.set_main_option("script_location", str(directory))
    config.config_file_name = str(directory / "alembic.ini")
    versions = directory / "versions"
    revisions = {p.name: p.read_bytes() for p in versions.glob("*.py")} if versions.is_dir() else {}
    if versions.is_dir():
        shutil.rmtree(directory)  # Alembic wants to create the folder itself
    with contextlib.redirect_stdout(io.StringIO()):  # Alembic's "Creating directory ..." lines
        command.init(config, str(directory), template="flask")
    for name, text in revisions.items():
        (versions / name).write_bytes(text)


def _framework_version() -> str:
    from . import __version__

    return __version__


def _declared_codes(source: str) -> set[int]:
    """The numbers passed to ``ErrorCode(...)`` in ``source``, literal or via a module constant."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    constants: dict[str, int] = {}
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, int)
        ):
            value = statement.value.value
            constants.update((t.id, value) for t in statement.targets if isinstance(t, ast.Name))
    codes: set[int] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) != "ErrorCode":
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, int):
            codes.add(first.value)
        elif isinstance(first, ast.Name) and first.id in constants:
            codes.add(constants[first.id])
    return codes


def _used_error_codes(folder: Path) -> set[int]:
    """Error codes declared by the app packages beside a new one."""
    codes: set[int] = set()
    for package in folder.iterdir():
        if not (package / "__init__.py").is_file():
            continue
        for source in package.rglob("*.py"):
            try:
                text = source.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "ErrorCode" in text:
                codes |= _declared_codes(text)
    return codes


def _first_free_code(folder: Path) -> int:
    """A new app's first error code: the start of the first free block of 100 from 1100 up."""
    used = _used_error_codes(folder)
    base = FIRST_APP_CODE
    if used:
        base = max(base, (max(used) // 100 + 1) * 100)
    return base


def package_path(folder: Path, name: str) -> str:
    """The dotted import path of package ``name`` inside ``folder``: the names of the
    enclosing packages (folders with ``__init__.py``) come first."""
    parts = [name]
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def write_app(parent: str | os.PathLike[str], name: str, *, full: bool = False) -> Path:
    """Write the app package ``name`` into the folder ``parent`` and return its path.

    Its routes live under ``/<name>``; with ``full`` its error codes are the first block
    of 100 not used by the apps beside it.
    """
    validate_name(name, "app")
    folder = Path(parent).resolve()
    first_code = _first_free_code(folder) if full else FIRST_APP_CODE
    target = folder / name
    _write_tree(target, _app_files(name, full=full, prefix=f"/{name}", first_code=first_code))
    return target


def _find_config(folder: Path) -> Path | None:
    """The ``config.ini`` of the project holding ``folder``, looking up past packages."""
    while (folder / "__init__.py").is_file():
        folder = folder.parent
    config = folder / "config.ini"
    return config if config.is_file() else None


@click.command("create-project")
@click.option("--name", "-n", required=True, help="Project name: the folder to create.")
@click.option(
    "--full",
    "-f",
    is_flag=True,
    help="Add an app with a model, data handler, hooks, errors, template and init_func.",
)
def create_project(name: str, full: bool) -> None:
    """Create a new project in the folder NAME under the current directory."""
    target = write_project(os.getcwd(), name, full=full)
    click.echo(f"Created project {name!r} in {target}")
    click.echo("Next:")
    click.echo(f"  cd {name}")
    if full:
        click.echo("  flask --app wsgi create-db       # the blog's table")
        click.echo("  flask --app wsgi init-project    # the blog's welcome post")
    click.echo("  pytest")
    click.echo("  gunicorn wsgi:app                # http://127.0.0.1:8000/hello-world")


@click.command("create-app")
@click.option("--name", "-n", required=True, help="App name: the package to create.")
@click.option(
    "--full", "-f", is_flag=True, help="Add a model, data handler, hooks, errors, template and init_func."
)
def create_app_command(name: str, full: bool) -> None:
    """Create a new app package NAME in the current directory."""
    target = write_app(os.getcwd(), name, full=full)
    dotted = package_path(target.parent, name)
    click.echo(f"Created app {name!r} in {target}")
    config = _find_config(target.parent)
    where = str(config) if config else "your project's config.ini"
    click.echo(f"Switch it on in {where}:")
    click.echo("  [apps]")
    click.echo("  active =")
    click.echo(f"      {dotted}")
    if full:
        click.echo("then create its table: flask --app wsgi create-db")
