"""Installing the OpenAPI support on one application (called by ``Framework.init_app``)."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from flask import Flask

from ..config import ImproperlyConfigured
from ..logging import get_logger
from .cli import openapi_command
from .settings import read_settings
from .views import OpenAPIState, make_blueprint, swagger_ui_folder

if TYPE_CHECKING:
    from ..extension import Framework

__all__ = ["init_openapi", "EXTENSION_KEY"]

#: ``app.extensions[EXTENSION_KEY]`` holds the ``OpenAPIState``.
EXTENSION_KEY = "framework.openapi"
LOGGER = get_logger("framework.openapi")


def init_openapi(fw: Framework, app: Flask) -> None:
    """Read ``[openapi]``, add the ``openapi`` command and, when enabled, the two URLs.

    Enabled by default only in debug mode. When it is on by default but apispec or
    swagger-ui-bundle is missing, a warning is logged and the URLs are left out; when
    ``enabled = true`` is written, a missing package stops start-up.
    """
    settings = read_settings(fw.config.get("openapi"), debug=app.debug, default_title=app.name)
    state = OpenAPIState(fw, settings)
    app.extensions[EXTENSION_KEY] = state
    if "openapi" not in app.cli.commands:
        app.cli.add_command(openapi_command)
    if not settings.enabled:
        return
    try:
        if importlib.util.find_spec("apispec") is None:
            raise ImproperlyConfigured("[openapi] enabled needs the apispec package: pip install apispec")
        assets = swagger_ui_folder()
    except ImproperlyConfigured as exc:
        if settings.explicit:
            raise
        LOGGER.warning("%s; /openapi.json and /docs are off", exc)
        return
    app.register_blueprint(make_blueprint(state, assets), url_prefix=settings.path_prefix or None)
