"""The ``[openapi]`` configuration section, read once at start-up.

Keys: ``enabled`` (default: on when the Flask app runs in debug mode, off otherwise),
``title`` (default: the Flask app's name), ``version`` (default ``0.1.0``),
``description``, ``servers`` (a list of URLs) and ``path_prefix`` (put in front of
``/openapi.json`` and ``/docs``; empty by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import ImproperlyConfigured, as_bool, as_list

__all__ = ["OpenAPISettings", "read_settings", "DOCUMENT_PATH", "DOCS_PATH"]

#: Where the document and the page are served, after ``path_prefix``.
DOCUMENT_PATH = "/openapi.json"
DOCS_PATH = "/docs"
DEFAULT_VERSION = "0.1.0"


@dataclass(frozen=True)
class OpenAPISettings:
    """What ``[openapi]`` says, checked."""

    enabled: bool
    #: True when ``enabled`` was written in the configuration rather than defaulted.
    explicit: bool
    title: str
    version: str
    description: str
    servers: tuple[str, ...]
    path_prefix: str


def read_settings(section: Mapping[str, Any] | None, *, debug: bool, default_title: str) -> OpenAPISettings:
    """Check ``[openapi]`` and fill in defaults; a bad value raises ``ImproperlyConfigured``."""
    section = section or {}
    raw_enabled = section.get("enabled")
    explicit = raw_enabled is not None and str(raw_enabled).strip() != ""
    if explicit:
        try:
            enabled = as_bool(raw_enabled)
        except ValueError:
            raise ImproperlyConfigured(
                f"[openapi] enabled must be true or false, got {raw_enabled!r}"
            ) from None
    else:
        enabled = debug
    title = _text(section, "title") or default_title
    version = _text(section, "version") or DEFAULT_VERSION
    servers = tuple(as_list(section.get("servers")))
    for server in servers:
        if not server.startswith(("http://", "https://", "/")) or any(c.isspace() for c in server):
            raise ImproperlyConfigured(
                f"[openapi] servers: {server!r} is not an absolute URL or a path starting with '/'"
            )
    prefix = _text(section, "path_prefix").rstrip("/")
    if prefix and (not prefix.startswith("/") or any(c in prefix for c in "<>{}?# \t")):
        raise ImproperlyConfigured(
            f"[openapi] path_prefix must be a plain path starting with '/', got {prefix!r}"
        )
    return OpenAPISettings(
        enabled=enabled,
        explicit=explicit,
        title=title,
        version=version,
        description=_text(section, "description"),
        servers=servers,
        path_prefix=prefix,
    )


def _text(section: Mapping[str, Any], key: str) -> str:
    value = section.get(key)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        raise ImproperlyConfigured(f"[openapi] {key} must be one line, got {value!r}")
    return str(value).strip()
