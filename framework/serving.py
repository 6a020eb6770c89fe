"""Glue for servers that manage worker processes (gunicorn's worker hooks and settings).

``gunicorn.conf.py`` calls ``on_worker_init`` after a worker has loaded the application
and ``on_worker_exit`` when it exits, so ``startup`` fires before the worker serves its
first request and ``shutdown`` once when it stops. ``forwarded_allow_ips`` gives the
server's proxy trust to match the project's ``[networking] trusted_proxies``.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask

from .config import ImproperlyConfigured, config_path, load_config

__all__ = [
    "find_framework",
    "on_worker_init",
    "on_worker_exit",
    "trusted_proxies",
    "forwarded_allow_ips",
    "DEFAULT_PROXY_IPS",
]

#: Where a trusted proxy is assumed to connect from, unless ``FORWARDED_ALLOW_IPS`` says.
DEFAULT_PROXY_IPS = "127.0.0.1,::1"


def trusted_proxies(root_path: str, environ: Mapping[str, str] | None = None) -> int:
    """``[networking] trusted_proxies`` of the project in ``root_path`` (0 when it has no
    configuration file or the value is not a count: the application itself reports that)."""
    environ = os.environ if environ is None else environ
    env = environ.get("FRAMEWORK_ENV") or environ.get("BACKENDPY_ENV")
    has_file = os.path.isfile(config_path(root_path, env or None))
    logger = logging.getLogger("framework")
    quiet, logger.disabled = logger.disabled, True  # the application warns about the file
    try:
        config = load_config(root_path, env=env, require_file=has_file, environ=environ)
        return max(0, int(config["networking"].get("trusted_proxies") or 0))
    except (ImproperlyConfigured, TypeError, ValueError):
        return 0
    finally:
        logger.disabled = quiet


def forwarded_allow_ips(root_path: str, environ: Mapping[str, str] | None = None) -> str:
    """The peers a server may take ``X-Forwarded-Proto`` (the scheme) from: nobody unless the
    project trusts proxies; then ``$FORWARDED_ALLOW_IPS``, else the local host."""
    environ = os.environ if environ is None else environ
    if trusted_proxies(root_path, environ) == 0:
        return ""
    return environ.get("FORWARDED_ALLOW_IPS") or DEFAULT_PROXY_IPS


def find_framework(wsgi: Any) -> Any:
    """The ``Framework`` behind a loaded WSGI object (a Flask app or a Backendpy project)."""
    if isinstance(wsgi, Flask):
        return wsgi.extensions.get("framework")
    flask_app = getattr(wsgi, "app", None)
    if isinstance(flask_app, Flask):
        return flask_app.extensions.get("framework")
    return None


def on_worker_init(worker: Any) -> None:
    """Fire ``startup`` in a fresh worker; a failing hook stops the worker with its error.

    Then everything the worker has built so far (modules, the app, what the startup hooks
    created) is moved out of the cyclic garbage collector's reach with ``gc.freeze()``: it
    lives as long as the worker anyway, and a full collection would otherwise scan it all
    again and again while serving (a project's imports hold about three times as many
    objects as plain Flask's, which made each request pay about 2 us for it).
    """
    fw = find_framework(getattr(worker, "wsgi", None))
    if fw is None:
        return
    try:
        fw.startup()
    except Exception as exc:
        worker.log.error(
            "startup hook failed, stopping the worker: %s: %s", type(exc).__name__, exc, exc_info=exc
        )
        sys.exit(3)  # gunicorn's "worker failed to boot": the arbiter stops
    gc.freeze()


def on_worker_exit(worker: Any) -> None:
    """Fire ``shutdown`` as the worker exits."""
    fw = find_framework(getattr(worker, "wsgi", None))
    if fw is not None:
        fw.shutdown()
