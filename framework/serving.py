"""Glue for servers that manage worker processes (gunicorn's worker hooks).

``gunicorn.conf.py`` calls ``on_worker_init`` after a worker has loaded the application
and ``on_worker_exit`` when it exits, so ``startup`` fires before the worker serves its
first request and ``shutdown`` once when it stops.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from flask import Flask

__all__ = ["find_framework", "on_worker_init", "on_worker_exit"]


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
        worker.log.error("startup hook failed, stopping the worker: %s: %s",
                         type(exc).__name__, exc, exc_info=exc)
        sys.exit(3)  # gunicorn's "worker failed to boot": the arbiter stops
    gc.freeze()


def on_worker_exit(worker: Any) -> None:
    """Fire ``shutdown`` as the worker exits."""
    fw = find_framework(getattr(worker, "wsgi", None))
    if fw is not None:
        fw.shutdown()
