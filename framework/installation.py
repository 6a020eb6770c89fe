"""Installing a project's parts: App bundles as blueprints, their error codes, and the
middlewares of ``[middlewares] active``.

``install_app`` imports an app package (its ``main`` module's ``app = App(...)``), its models
modules and error lists, and registers its routes (each a view of ``framework.pipeline``)
on one blueprint named after the package; its hooks are connected to the project's
events. Every failure is ``ImproperlyConfigured`` naming the setting and the culprit.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask

from .app import App
from .config import ImproperlyConfigured
from .error import FRAMEWORK_CODE_LIMIT, ErrorCode
from .router import to_rule

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["InstalledApp", "install_app", "register_error", "load_middleware"]


@dataclass
class InstalledApp:
    """An active app as installed in one project."""

    package: str
    app: App
    blueprint: Blueprint
    path: str
    template_dirs: list[str] = field(default_factory=list)


def install_app(fw: Framework, flask_app: Flask, package: str) -> None:
    """Import the app ``package`` (its ``main`` module's ``app = App(...)``), its models
    and errors, and register its routes as one blueprint named after the package."""
    try:
        module = importlib.import_module(f"{package}.main")
    except ModuleNotFoundError as exc:
        if exc.name not in (package, f"{package}.main") and not package.startswith(f"{exc.name}."):
            raise ImproperlyConfigured(f"[apps] active: app {package!r} cannot be imported ({exc})") from exc
        try:
            module = importlib.import_module(package)
        except Exception as inner:
            raise ImproperlyConfigured(
                f"[apps] active: app {package!r} cannot be imported ({inner}){_path_hint(package, inner)}"
            ) from inner
    except Exception as exc:
        raise ImproperlyConfigured(f"[apps] active: app {package!r} cannot be imported ({exc})") from exc
    app = getattr(module, "app", None)
    if not isinstance(app, App):
        raise ImproperlyConfigured(f"[apps] active: module {module.__name__!r} has no 'app = App(...)'")
    name = package.rpartition(".")[2]
    if name in fw.apps_by_blueprint or name in flask_app.blueprints:
        other = fw.apps_by_blueprint.get(name)
        raise ImproperlyConfigured(
            f"[apps] active: apps {other.package if other else name!r} and {package!r} "
            f"both claim the blueprint name {name!r}"
        )
    path = os.path.dirname(os.path.abspath(importlib.import_module(package).__file__ or ""))
    project = os.path.basename(os.path.abspath(fw.root_path)) if fw.root_path else ""
    for model_module in app.models:
        try:
            importlib.import_module(_in_form_of(model_module, package, project))
        except Exception as exc:
            raise ImproperlyConfigured(
                f"app {package!r}: models module {model_module!r} cannot be imported ({exc})"
            ) from exc
    for error_list in app.errors:
        for error in error_list:
            register_error(fw, package, error)
    dirs = [os.path.join(path, d) for d in app.template_dirs]
    pipeline = fw.pipeline
    assert pipeline is not None, "the pipeline is built before the apps are installed"
    blueprint = Blueprint(name, package, root_path=path)
    endpoints: set[str] = set()
    for route in app.routes:
        endpoint = getattr(route.handler, "__name__", "handler")
        base, n = endpoint, 2
        while endpoint in endpoints:
            endpoint, n = f"{base}_{n}", n + 1
        endpoints.add(endpoint)
        view = pipeline.view(route, f"{name}.{endpoint}")
        blueprint.add_url_rule(
            to_rule(route.path), endpoint=endpoint, view_func=view, methods=list(route.methods)
        )
    installed = InstalledApp(package, app, blueprint, path, dirs)
    if not fw.owns_app:
        pipeline.install(blueprint)
    flask_app.register_blueprint(blueprint)
    fw.apps[package] = installed
    fw.apps_by_blueprint[name] = installed
    for hooks in app.hooks:
        for event_name, func, background in hooks.entries():
            fw.connect_hook(event_name, func, background=background)


def register_error(fw: Framework, package: str, error: ErrorCode) -> None:
    """Register an app's error code; a clash with the framework's range or another app stops start-up."""
    if error.code < FRAMEWORK_CODE_LIMIT:
        raise ImproperlyConfigured(
            f"app {package!r}: error code {error.code} is in the framework's range "
            f"(app codes start at {FRAMEWORK_CODE_LIMIT})"
        )
    owner = fw._error_owner.get(error.code)
    if owner is not None and owner != package:
        raise ImproperlyConfigured(f"error code {error.code} is claimed by both {owner!r} and {package!r}")
    fw._error_owner[error.code] = package
    fw.error_codes[error.code] = error


def load_middleware(fw: Framework, path: str) -> Any:
    """The middleware named by ``path`` in ``[middlewares] active``, created and set up."""
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except ImproperlyConfigured as exc:  # a misspelt layer method, found at class creation
        raise ImproperlyConfigured(f"[middlewares] active: {path!r}: {exc}") from None
    except Exception as exc:
        raise ImproperlyConfigured(
            f"[middlewares] active: {path!r} cannot be imported ({exc}){_path_hint(path, exc)}"
        ) from exc
    try:
        middleware = cls() if isinstance(cls, type) else cls
    except TypeError as exc:
        raise ImproperlyConfigured(
            f"[middlewares] active: {path!r} cannot be created without arguments ({exc})"
        ) from exc
    from .middleware import declared_layers

    try:
        declared_layers(middleware)  # before setup: a misspelt layer stops start-up first
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"[middlewares] active: {path!r}: {exc}") from None
    setup = getattr(middleware, "setup", None)
    if callable(setup):
        setup(fw)  # optional hook: the middleware reads the project's config here
    return middleware


def _in_form_of(module: str, package: str, project: str) -> str:
    """``module`` (inside the app ``package``) named in the same form as ``package``.

    A project folder ``project`` imports both as ``apps.hello`` and as
    ``project.apps.hello``; the docs' ``models=['project.apps.hello.db.models']`` of an app
    activated as ``apps.hello`` (whose handlers import the models relatively, as
    ``apps.hello.db.models``) would import the file a second time under the other name and
    define every table twice. Paths outside the app are left as they are.
    """
    prefix = f"{project}." if project else ""
    if not prefix:
        return module
    if module.startswith(prefix) == package.startswith(prefix):
        return module  # the same form already
    other = module[len(prefix) :] if module.startswith(prefix) else f"{prefix}{module}"
    return other if other.startswith(f"{package}.") else module


def _path_hint(path: str, exc: BaseException) -> str:
    """A hint when the first part of a dotted path is what cannot be found."""
    top = path.split(".", 1)[0]
    if isinstance(exc, ModuleNotFoundError) and exc.name == top:
        return (
            f"; no package {top!r} is importable: run from the project folder (a "
            "Backendpy() project imports as 'apps.x' and as '<folder name>.apps.x')"
        )
    return ""
