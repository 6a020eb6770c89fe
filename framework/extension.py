"""The ``Framework`` extension: the project object of a Flask application.

It wires the parts together once, in ``init_app``: the configuration
(``framework.config``), the apps and middlewares (``framework.installation``), the
request's way (``framework.pipeline``), the events (``framework.events``), the process
lifecycle (``framework.lifecycle``), templates (``framework.templating``), the database,
the CLI and the OpenAPI document. Its public methods delegate to those modules. Per-app
state lives on this object, reachable as ``app.extensions["framework"]`` and
``request.app``; nothing process-wide is changed for a host application.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from flask import Flask, has_request_context

from . import _compat, background, events, installation, operations, templating
from .config import Config, ImproperlyConfigured, as_list, flask_settings, load_config
from .error import BASE_ERRORS, ErrorCode
from .form_limits import max_form_fields
from .header_check import HeaderCheck
from .installation import InstalledApp
from .lifecycle import Lifecycle, exit_on_sigterm
from .logging import allow_level, get_logger, resolve_format, resolve_level, set_format, set_level
from .openapi import init_openapi
from .pipeline import MiddlewareChains, Pipeline
from .request import Request, RequestMixin
from .router import CONVERTERS
from .security import apply_secure_defaults, check_secret_key

__all__ = ["Framework", "InstalledApp", "HookReceiver"]

HookReceiver = events.HookReceiver  # importable here as before

LOGGER = get_logger("framework")


class Framework:
    """The project: configuration, apps, middlewares, events.

    ``Framework(app, config=...)`` or ``Framework(config=...).init_app(app)`` adds the
    framework to an existing Flask app; ``create_app()`` builds a Flask app owned by it.
    ``config`` has the INI file's shape (``{'apps': {'active': [...]}}``); ``root_path``
    names a folder holding ``config.ini`` instead; without either, the host's
    ``app.config['FRAMEWORK']`` mapping is read.
    """

    #: The request class installed on owned apps (a host's class is extended instead).
    request_class = Request

    def __init__(
        self,
        app: Flask | None = None,
        *,
        root_path: str | None = None,
        env: str | None = None,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        owns_app: bool = False,
    ) -> None:
        self.root_path = root_path
        self.env = env
        self._config_arg = config
        self.owns_app = owns_app
        self.config: Config = {}
        #: Lives as long as the process (Backendpy's ``bp.context``).
        self.context: dict[str, Any] = {}
        self.app: Flask | None = None
        self.apps: dict[str, InstalledApp] = {}
        self.apps_by_blueprint: dict[str, InstalledApp] = {}
        self.error_codes: dict[int, ErrorCode] = {e.code: e for e in BASE_ERRORS}
        self._error_owner: dict[int, str] = {}
        self.middlewares: list[Any] = []
        self.pipeline: Pipeline | None = None
        self.chains = MiddlewareChains([])
        self.media_path = ""
        #: ``[logging] level``: what this project logs in its own context.
        self.log_level: int | None = None
        #: ``[logging] format`` (``text``/``json``) in its own context; None: the process's.
        self.log_format: str | None = None
        self._templates: dict[str | None, jinja2.Environment] = {}
        self.lifecycle = Lifecycle(self)
        if app is not None:
            self.init_app(app)

    # ------------------------------------------------------------------ set-up
    def init_app(self, app: Flask) -> None:
        """Install the framework on ``app``; raises ``ImproperlyConfigured`` on a bad setting."""
        if self.app is not None:
            raise RuntimeError(
                "this Framework object is already bound to an application; create one Framework per Flask app"
            )
        if "framework" in app.extensions:
            raise ImproperlyConfigured(f"the Flask app {app.name!r} already has a Framework")
        self.app = app
        overrides = self._config_arg
        if overrides is None and self.root_path is None:
            overrides = app.config.get("FRAMEWORK")
        self.config = load_config(
            self.root_path, env=self.env, config=overrides, require_file=self.root_path is not None
        )
        app.extensions["framework"] = self
        if app.test_client_class is None:  # a host's own test client class is kept
            from .test_client import FrameworkClient

            app.test_client_class = FrameworkClient
        app.config.update(flask_settings(self.config.get("flask", {})))
        if self.owns_app:
            apply_secure_defaults(app, self.config.get("flask", {}))
        try:
            self.log_level = resolve_level(self.config["logging"].get("level", "INFO"))
        except ValueError as exc:
            raise ImproperlyConfigured(f"[logging] level: {exc}") from None
        allow_level(self.log_level)  # this project's records, in its context
        if self.owns_app:  # the framework owns the process: its default level too
            set_level(self.log_level)
        self._set_log_format(self.config["logging"].get("format"))
        base = self.root_path or app.root_path
        background.init_background(self)  # [celery], checked before anything is installed
        self.media_path = os.path.abspath(
            os.path.join(base, self.config["environment"].get("media_path") or "media")
        )
        self._install_request_class(app)
        for _kind, (name, converter) in CONVERTERS.items():
            if converter is not None:
                app.url_map.converters[name] = converter
        self.middlewares = [
            installation.load_middleware(self, path)
            for path in as_list(self.config["middlewares"].get("active"))
        ]
        self.pipeline = Pipeline(self, self.middlewares)
        self.chains = self.pipeline.chains
        self._install_form_limit(app)
        for package in as_list(self.config["apps"].get("active")):
            installation.install_app(self, app, package)
        if self.owns_app:
            # a project whose apps sign needs its key before it serves anything (every
            # server, with or without a lifespan or worker hooks, imports the project first)
            check_secret_key(app)
        from .cli import register_commands
        from .db import init_database

        init_database(self, app)
        from .cache import init_cache

        init_cache(self, app)  # framework.cache: this app's backend, from [cache] and [redis]
        register_commands(app)
        if self.owns_app:
            self.pipeline.install(app)
        from .ratelimit import init_rate_limits

        init_rate_limits(self, app)  # [ratelimit], App/Route(rate_limit=...): Flask-Limiter
        self._install_proxy_fix(app)
        init_openapi(self, app)
        if self.owns_app:  # a host application's process is left alone
            exit_on_sigterm()
        for middleware, layers in self.chains.declared:
            if "process_application" in layers:
                app.wsgi_app = middleware.process_application(app.wsgi_app)  # type: ignore[method-assign]
        # outermost: whatever a handler or middleware set, no server sends a broken header
        app.wsgi_app = HeaderCheck(app.wsgi_app)  # type: ignore[method-assign]
        # health and metrics endpoints; the request id layer, outermost of all
        operations.install(self, app)

    def _set_log_format(self, raw: Any) -> None:
        if raw is not None and str(raw).strip():
            try:
                self.log_format = resolve_format(raw)
            except ValueError as exc:
                raise ImproperlyConfigured(f"[logging] format: {exc}") from None
        if self.owns_app:  # the framework's handler writes every record in that format
            set_format(self.log_format or "text")

    def _install_request_class(self, app: Flask) -> None:
        if issubclass(app.request_class, RequestMixin):
            return
        if app.request_class is Flask.request_class:
            app.request_class = self.request_class
        else:
            host = app.request_class
            app.request_class = type(host.__name__, (RequestMixin, host), {})

    def _install_form_limit(self, app: Flask) -> None:
        """``[networking] max_form_fields``: Flask's ``MAX_FORM_PARTS``, which the request's
        form parser applies to multipart and url-encoded bodies (413 past it). A host app
        keeps its own ``MAX_FORM_PARTS`` unless the setting is given."""
        raw = self.config["networking"].get("max_form_fields")
        if raw is None and not self.owns_app:
            return
        try:
            app.config["MAX_FORM_PARTS"] = max_form_fields(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"[networking] max_form_fields must be a number of fields ({exc})"
            ) from None

    def _install_proxy_fix(self, app: Flask) -> None:
        raw = self.config["networking"].get("trusted_proxies") or 0
        try:
            count = int(raw)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                f"[networking] trusted_proxies must be a number of proxies, got {raw!r}"
            ) from None
        if count > 0:
            from werkzeug.middleware.proxy_fix import ProxyFix

            app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
                app.wsgi_app,
                x_for=count,
                x_proto=count,
                x_host=count,
                x_port=count,
                x_prefix=count,
            )

    # ------------------------------------------------------------------ events
    def connect_hook(self, event: str, func: Callable[..., Any], background: bool = False) -> None:
        """Run ``func`` (sync or async) with the event's arguments when ``event`` fires
        (with ``background``, on a worker: ``framework.background``)."""
        events.connect_hook(self, event, func, background)

    def event(
        self, name: str, background: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator for a project-level hook (``@fw.event('startup')``)."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self.connect_hook(name, func, background)
            return func

        return register

    def execute_event(
        self, name: str, args: Mapping[str, Any] | None = None, background: bool = False
    ) -> Any:
        """Fire ``name`` with ``args`` as keyword arguments.

        Called from an ``async def`` function it returns a coroutine to await (Backendpy's
        ``await request.app.execute_event(...)``); called from plain code, a sync helper
        of an async handler included, the hooks run before it returns, and what it
        returns may still be awaited (it completes at once).

        With ``background=True`` the hooks are queued for a worker and it returns at once
        (``framework.background``); arguments that JSON cannot carry raise ``TypeError`` or
        ``ValueError`` here, and nothing is queued.
        """
        return events.execute_event(self, name, args, sys._getframe(1).f_code.co_flags, background)

    def startup(self) -> None:
        """Fire ``startup`` once in this process (a failing hook raises)."""
        self.lifecycle.startup()

    def shutdown(self) -> None:
        """Fire ``shutdown`` once, if ``startup`` fired in this process."""
        self.lifecycle.shutdown()

    @staticmethod
    def get_current_request() -> Any:
        """The current request object, or None outside a request (a session scope key)."""
        return _compat.current_request() if has_request_context() else None

    # --------------------------------------------------------------- templates
    def blueprint_for_module(self, module: str) -> str | None:
        """The blueprint name of the app whose package holds ``module``."""
        return templating.blueprint_for_module(self, module)

    def template_environment(self, blueprint: str | None) -> jinja2.Environment:
        """A Jinja environment searching ``blueprint``'s folders first (cached)."""
        return templating.environment(self, blueprint)
