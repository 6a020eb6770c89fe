"""The two documentation URLs: ``/openapi.json`` and the ``/docs`` page.

The page is Swagger UI, served from the files of the installed ``swagger-ui-bundle``
package under ``/docs/``, so it works with no network: nothing on it comes from
anywhere but this application (the online spec validator is switched off too).
"""

from __future__ import annotations

import html
import json
import os
import threading
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request, send_from_directory, url_for

from ..config import ImproperlyConfigured
from ..response import JSON
from .settings import DOCS_PATH, DOCUMENT_PATH, OpenAPISettings

if TYPE_CHECKING:
    from ..extension import Framework

__all__ = ["OpenAPIState", "make_blueprint", "swagger_ui_folder", "BLUEPRINT_NAME"]

BLUEPRINT_NAME = "framework_openapi"
#: The Swagger UI files the page uses; nothing else in the package folder is served.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-16x16.png", "favicon-32x32.png"})


class OpenAPIState:
    """One application's OpenAPI settings and its document, built once on first use."""

    def __init__(self, fw: Framework, settings: OpenAPISettings) -> None:
        self.fw = fw
        self.settings = settings
        self._documents: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def document(self, script_root: str = "") -> dict[str, Any]:
        """The document; ``script_root`` becomes its server when none is configured."""
        key = "" if self.settings.servers else script_root
        found = self._documents.get(key)
        if found is None:
            from .document import build_document

            with self._lock:
                found = self._documents.get(key)
                if found is None:
                    found = build_document(self.fw, self.settings, servers=[key] if key else None)
                    self._documents[key] = found
        return found


def swagger_ui_folder() -> str:
    """The folder of the installed Swagger UI files; raises ``ImproperlyConfigured``."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        raise ImproperlyConfigured(
            "[openapi] the /docs page needs the swagger-ui-bundle package: pip install swagger-ui-bundle"
        ) from None
    folder: str = str(swagger_ui_path)
    if not os.path.isfile(os.path.join(folder, "swagger-ui-bundle.js")):
        raise ImproperlyConfigured(f"[openapi] Swagger UI files not found in {folder}")
    return folder


def make_blueprint(state: OpenAPIState, assets_folder: str) -> Blueprint:
    """A blueprint serving the document, the page and the page's files."""
    blueprint = Blueprint(BLUEPRINT_NAME, __name__)
    title = state.settings.title

    @blueprint.get(DOCUMENT_PATH)
    def document() -> Any:
        return JSON(state.document(request.script_root))

    @blueprint.get(DOCS_PATH)
    def docs() -> Any:
        page = _PAGE.format(
            title=html.escape(title),
            css=html.escape(url_for(".asset", filename="swagger-ui.css")),
            icon=html.escape(url_for(".asset", filename="favicon-32x32.png")),
            bundle=html.escape(url_for(".asset", filename="swagger-ui-bundle.js")),
            init=html.escape(url_for(".init_script")),
        )
        return Response(page, mimetype="text/html")

    @blueprint.get(DOCS_PATH + "/init.js")
    def init_script() -> Any:
        script = _INIT_SCRIPT.format(url=json.dumps(url_for(".document")))
        return Response(script, mimetype="text/javascript")

    @blueprint.get(DOCS_PATH + "/<filename>")
    def asset(filename: str) -> Any:
        if filename not in ASSETS:
            from ..error import NOT_FOUND, Error

            return Error(NOT_FOUND)
        return send_from_directory(assets_folder, filename, max_age=86400)

    return blueprint


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API documentation</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""

# validatorUrl null: Swagger UI would otherwise send the document to an online validator.
_INIT_SCRIPT = """window.addEventListener("load", function () {{
  window.ui = SwaggerUIBundle({{
    url: {url},
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  }});
}});
"""
