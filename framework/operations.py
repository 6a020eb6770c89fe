"""What a load balancer and an operator can ask an instance, wired in one place.

``install`` is called once by ``Framework.init_app``, after everything else: it adds the
health endpoints (``framework.health``), the metrics endpoint and its measuring layer
(``framework.metrics``), and the request id layer (``framework.request_id``), outermost,
so every answer carries the id.

The endpoints are *operational*: registered on the Flask app itself (not on an app's
blueprint), marked ``framework_operational = True`` (the rate limiter leaves such views
alone), and exempt from the request pipeline: no allowed-hosts check (a load balancer
probes by IP address, with a ``Host`` no list names), no middleware, no ``request_start``
or ``request_end``. In extension mode a host's own ``before_request`` functions still run
for them; a host can skip them for views carrying the attribute.

A path setting names a plain path (``/healthz``); an empty value turns the endpoint off.
A path set in the configuration that is also a route of the project stops start-up; a
default path that the project already answers itself (a ported project's own
``/healthz``) is left to the project's route.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask

from .config import ImproperlyConfigured
from .logging import get_logger

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["install", "operational_path", "register_operational", "OPERATIONAL_ATTRIBUTE"]

LOGGER = get_logger("framework")

#: The attribute marking an operational view function.
OPERATIONAL_ATTRIBUTE = "framework_operational"

_PLAIN_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def install(fw: Framework, app: Flask) -> None:
    """Health, metrics and the request id for ``app`` (``Framework.init_app`` calls it last)."""
    from .health import install_health
    from .metrics import install_metrics
    from .request_id import RequestIdMiddleware

    install_health(fw, app)
    install_metrics(fw, app)
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]


def operational_path(fw: Framework, section: str, key: str, default: str | None) -> str | None:
    """The path ``[section] key`` names, or None when the endpoint is off.

    ``default`` applies when the key is absent and the framework owns the app; a host
    application gets the endpoint only when it names the path (its own routes may already
    answer there).
    """
    values = fw.config.get(section) or {}
    raw = values.get(key)
    if raw is None:
        raw = default if fw.owns_app else None
    if raw is None:
        return None
    path = str(raw).strip()
    if not path:
        return None
    if not _PLAIN_PATH.fullmatch(path) or "//" in path:
        raise ImproperlyConfigured(
            f"[{section}] {key} must be a plain URL path starting with '/' "
            f"(no variables, no spaces), got {path!r}"
        )
    return path


def register_operational(
    fw: Framework, app: Flask, setting: str, path: str, endpoint: str, view: Callable[..., Any]
) -> bool:
    """Serve ``view`` at ``path`` as an operational endpoint (see the module's docstring);
    False when a default path is left to the project's own route.

    ``setting`` (``"[health] live_path"``) names the culprit when ``path`` is taken.
    """
    section, _, key = setting.strip("[").partition("] ")
    explicit = (fw.config.get(section) or {}).get(key) is not None
    for rule in app.url_map.iter_rules():
        if rule.rule == path:
            owner: Any = app.view_functions.get(rule.endpoint)
            setting_of = getattr(owner, "framework_setting", None)
            if not explicit and setting_of is None:
                LOGGER.info("%s: the project's route %r answers %s itself", setting, rule.endpoint, path)
                return False
            what = f"the setting {setting_of}" if setting_of else f"the route {rule.endpoint!r}"
            raise ImproperlyConfigured(f"{setting} {path!r} is also {what}: choose another path")
    setattr(view, OPERATIONAL_ATTRIBUTE, True)
    view.framework_setting = setting  # type: ignore[attr-defined]
    app.add_url_rule(path, endpoint=endpoint, view_func=view, methods=["GET"])
    if fw.pipeline is not None:
        fw.pipeline.exempt(endpoint)
    return True
