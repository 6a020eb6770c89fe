"""Reading the project's configuration.

The configuration is INI, as in Backendpy: sections of ``key = value`` where a value
written over several lines is a list. ``config.ini`` (or ``config.<env>.ini`` when an
environment is chosen) is read from the project folder, then ``FRAMEWORK__SECTION__KEY``
environment variables override it, then the mapping passed in code. The result is a dict
of dicts, read once at start-up.
"""

from __future__ import annotations

import configparser
import hashlib
import logging
import os
import re
import stat
import sys
import tempfile
import traceback
from collections.abc import Mapping
from typing import IO, Any

import click

__all__ = [
    "ImproperlyConfigured",
    "ShowsCause",
    "tracebacks_wanted",
    "load_config",
    "parse_value",
    "as_list",
    "as_bool",
    "ENV_VAR",
    "ENV_PREFIX",
]

#: Chooses ``config.<env>.ini`` (Backendpy's ``BACKENDPY_ENV`` is honoured too).
ENV_VAR = "FRAMEWORK_ENV"
#: ``FRAMEWORK__DATABASE__URI=...`` overrides ``[database] uri``.
ENV_PREFIX = "FRAMEWORK__"

Config = dict[str, dict[str, Any]]

DEFAULTS: Config = {
    "networking": {"allowed_hosts": ["*"], "stream_size": 32768, "trusted_proxies": 0},
    "environment": {},
    "apps": {"active": []},
    "middlewares": {"active": []},
    "logging": {"level": "INFO"},
    "flask": {},
}


#: Set (to 1) by ``framework --traceback``: command errors also print their traceback.
TRACEBACK_VAR = "FRAMEWORK_TRACEBACK"


def tracebacks_wanted() -> bool:
    """True when a failing command should print its traceback: ``framework --traceback``,
    or a debug run (``flask --debug``, ``FLASK_DEBUG=1``)."""
    return any(
        os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
        for name in (TRACEBACK_VAR, "FLASK_DEBUG")
    )


class ShowsCause(click.ClickException):
    """A command's error: one line, ``Error: <message>``; with ``tracebacks_wanted()`` the
    traceback of the error (and of the errors that led to it) comes first."""

    def show(self, file: IO[Any] | None = None) -> None:
        if tracebacks_wanted():
            traceback.print_exception(self, file=file or sys.stderr)  # with its causes
        super().show(file)


class ImproperlyConfigured(ShowsCause):
    """The project cannot start: the message names the setting or file at fault.

    A ``click.ClickException``: a command (``flask ...``, ``framework ...``) that meets one
    prints its message on one line and exits with status 1.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)


def parse_value(raw: str) -> str | list[str]:
    """An INI value: a multi-line value is a list of its non-empty lines."""
    if "\n" in raw:
        return [line.strip() for line in raw.splitlines() if line.strip()]
    return raw.strip()


def as_list(value: Any) -> list[str]:
    """A list setting: a list stays, a blank value is empty, one line is one item."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    value = str(value).strip()
    return [value] if value else []


def as_bool(value: Any) -> bool:
    """A boolean setting written as true/false, yes/no, on/off or 1/0."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def config_path(root_path: str, env: str | None) -> str:
    name = f"config.{env}.ini" if env else "config.ini"
    return os.path.join(root_path, name)


def read_ini(path: str) -> Config:
    """The sections of one INI file, values parsed with ``parse_value``."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        raise ImproperlyConfigured(f"configuration file not found: {path}") from None
    except configparser.Error as exc:
        raise ImproperlyConfigured(f"configuration file {path} is not valid INI: {exc}") from None
    result = {
        section: {key: parse_value(value) for key, value in parser.items(section)}
        for section in parser.sections()
    }
    secrets_held = secret_settings(result)
    if secrets_held:
        _warn_if_world_readable(path, secrets_held)
    return result


#: Setting names that hold a secret (``secret_key``, ``password``, ``aes_key``, ``api_token``...).
_SECRET_NAME = re.compile(r"secret|passw|(^|_)tokens?$|(^|_)key$", re.IGNORECASE)
#: A URL with a password in it (``postgresql://user:password@host/db``).
_URL_PASSWORD = re.compile(r"://[^/@:\s]*:[^/@\s]+@")
#: Config files already warned about in this process tree (inherited by worker processes).
WARNED_VAR = "FRAMEWORK_WARNED_READABLE"


def secret_settings(config: Config) -> list[str]:
    """The settings of ``config`` that hold a secret, as ``[section] key``."""
    found = []
    for section, values in config.items():
        for key, value in values.items():
            text = "\n".join(value) if isinstance(value, list) else str(value)
            if text.strip() and (_SECRET_NAME.search(key) or _URL_PASSWORD.search(text)):
                found.append(f"[{section}] {key}")
    return found


def _warn_if_world_readable(path: str, secrets_held: list[str]) -> None:
    """Warn that ``path`` holds secrets every user can read: once per process tree.

    Workers inherit the environment of the process that warned (``WARNED_VAR``); workers
    that read the file themselves (a server whose master never imports the project) agree
    through a marker file per process group, so ``gunicorn -w 4`` warns once, not four times.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not mode & stat.S_IROTH:
        return
    warned = [p for p in os.environ.get(WARNED_VAR, "").split(os.pathsep) if p]
    if path in warned:
        return
    os.environ[WARNED_VAR] = os.pathsep.join([*warned, path])
    if not _first_in_process_group(path):
        return
    logging.getLogger("framework").warning(
        "%s is readable by every user and holds %s (chmod 600 it)", path, ", ".join(secrets_held)
    )


def _first_in_process_group(path: str) -> bool:
    """True for the first process of this process group to ask about ``path``."""
    try:
        group = os.getpgrp()
    except (AttributeError, OSError):  # not POSIX: no groups to share the warning with
        return True
    try:  # the group leader's start time: a later group reusing the number is another one
        with open(f"/proc/{group}/stat", encoding="ascii") as handle:
            started = handle.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        started = ""
    folder = os.path.join(tempfile.gettempdir(), f"framework-{os.getuid()}")
    digest = hashlib.sha1(path.encode()).hexdigest()[:16]
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(
            os.path.join(folder, f"warned-{group}-{started}-{digest}"),
            os.O_WRONLY | os.O_CREAT | os.O_EXCL,
            0o600,
        )
    except FileExistsError:
        return False
    except OSError:
        return True
    os.close(fd)
    _prune_markers(folder)
    return True


def _prune_markers(folder: str) -> None:
    """Remove the markers of process groups that are gone, so the folder stays bounded by
    the groups alive now."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        group = name.split("-")[1] if name.startswith("warned-") else ""
        if group.isdigit() and not _group_alive(int(group)):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass


def _group_alive(group: int) -> bool:
    """Whether a process of the group ``group`` is still running.

    Asked with signal 0 to the group, which reaches every member: the group's leader may
    have exited while the others run on (a shell job whose shell left), and its ``/proc``
    entry would have called a live group gone.
    """
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's group (EPERM), or no way to ask: keep its marker
        return True
    return True


def env_overrides(environ: Mapping[str, str]) -> Config:
    """``FRAMEWORK__SECTION__KEY`` variables as a configuration mapping."""
    result: Config = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].split("__", 1)
        if len(parts) != 2 or not all(parts):
            continue
        result.setdefault(parts[0].lower(), {})[parts[1].lower()] = parse_value(value)
    return result


def merge(*layers: Mapping[str, Mapping[str, Any]] | None) -> Config:
    """Later layers win, key by key within each section."""
    result: Config = {}
    for layer in layers:
        for section, values in (layer or {}).items():
            if not isinstance(values, Mapping):
                raise ImproperlyConfigured(
                    f"configuration section [{section}] must be a mapping, got {values!r}"
                )
            result.setdefault(str(section).lower(), {}).update({str(k).lower(): v for k, v in values.items()})
    return result


def load_config(
    root_path: str | None = None,
    *,
    env: str | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    require_file: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read the whole configuration: defaults, INI file, environment, then ``config``.

    ``require_file=False`` (extension mode without a folder) skips the file.
    """
    environ = os.environ if environ is None else environ
    env = env if env is not None else (environ.get(ENV_VAR) or environ.get("BACKENDPY_ENV"))
    file_layer: Config = {}
    if root_path is not None and require_file:
        file_layer = read_ini(config_path(root_path, env))
    elif env and root_path is None and require_file:
        raise ImproperlyConfigured(f"environment {env!r} chosen but no project folder given")
    return merge(DEFAULTS, file_layer, env_overrides(environ), config)


def flask_settings(section: Mapping[str, Any]) -> dict[str, Any]:
    """``[flask]`` keys upper-cased, with numbers and booleans turned into Python values
    (the secret key always stays a string)."""
    result: dict[str, Any] = {}
    for key, value in section.items():
        name = key.upper()
        if isinstance(value, str) and name != "SECRET_KEY":
            lowered = value.lower()
            if lowered in ("true", "false", "yes", "no", "on", "off"):
                value = as_bool(value)
            elif lowered in ("none", "null"):
                value = None
            else:
                try:
                    value = int(value)
                except ValueError:
                    pass
        result[name] = value
    return result
