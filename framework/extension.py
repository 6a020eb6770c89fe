"""The ``Framework`` extension: the project object of a Flask application.

It reads the configuration, installs the active apps as blueprints, resolves the
middlewares, registers the error envelope and the request lifecycle, and fires the
events. Everything is set up once in ``init_app``; per-app state lives on this object,
reachable as ``app.extensions["framework"]`` and ``request.app``.
"""

from __future__ import annotations

import atexit
import contextvars
import functools
import importlib
import inspect
import os
import signal as _signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from flask import Blueprint, Flask, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import ClosingIterator

from . import _async, _compat, signals
from .app import App
from .config import Config, ImproperlyConfigured, as_list, flask_settings, load_config
from .dispatch import RESPONSE_DONE, START_PENDING, MiddlewareChains, make_view
from .error import (
    BASE_ERRORS,
    BODY_TOO_LARGE,
    DISALLOWED_HOST,
    FRAMEWORK_CODE_LIMIT,
    HTTP_STATUS_CODES,
    REQUEST_ERROR,
    SERVER_ERROR,
    Error,
    ErrorCode,
)
from .exception import ExceptionResponse
from .form_limits import max_form_fields
from .header_check import HeaderCheck
from .logging import get_logger, set_level
from .openapi import init_openapi
from .request import Request, RequestMixin
from .router import CONVERTERS, to_rule
from .security import apply_secure_defaults, check_secret_key

__all__ = ["Framework", "InstalledApp"]

LOGGER = get_logger("framework")


@dataclass
class InstalledApp:
    """An active app as installed in one project."""

    package: str
    app: App
    blueprint: Blueprint
    path: str
    template_dirs: list[str] = field(default_factory=list)


class HookReceiver:
    """Connects a hook function to a signal: keyword arguments in, failures logged."""

    __slots__ = ("fw", "event", "func", "is_async")

    def __init__(self, fw: Framework, event: str, func: Callable[..., Any]) -> None:
        self.fw, self.event, self.func = fw, event, func
        self.is_async = _async.is_async_callable(func)

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        try:
            if self.is_async:
                _async.run(self.func(**kwargs))
            else:
                _async.call(self.func, **kwargs)
        except Exception:
            _receiver_failed(self.event, self.func)

    async def acall(self, kwargs: dict[str, Any]) -> None:
        try:
            result = self.func(**kwargs)
            if _async.is_awaitable(result):
                await result
        except Exception:
            _receiver_failed(self.event, self.func)


def _receiver_failed(event: str, func: Any) -> None:
    """Log the exception being handled, naming the event and the hook; re-raise it for
    ``startup`` (a worker whose start-up failed must not serve)."""
    name = getattr(func, "__qualname__", None) or repr(func)
    module = getattr(func, "__module__", None)
    if module:
        name = f"{module}.{name}"
    if event == "startup":
        exc = sys.exc_info()[1]
        if exc is not None:
            exc.add_note(f"raised by the startup hook {name}")
        raise  # noqa: PLE0704 - called from an ``except`` block
    LOGGER.exception("hook %s for event %r failed", name, event)


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

    def __init__(self, app: Flask | None = None, *, root_path: str | None = None,
                 env: str | None = None, config: Mapping[str, Mapping[str, Any]] | None = None,
                 owns_app: bool = False) -> None:
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
        self.chains = MiddlewareChains([])
        self.media_path = ""
        #: Endpoints whose view runs as a coroutine (request_start fires inside it).
        self._async_endpoints: set[str] = set()
        self._allowed_hosts: frozenset[str] | None = None
        self._templates: dict[str | None, jinja2.Environment] = {}
        self._lifecycle_lock = threading.Lock()
        self._started_pid: int | None = None
        self._stopped = False
        if app is not None:
            self.init_app(app)

    # ------------------------------------------------------------------ set-up
    def init_app(self, app: Flask) -> None:
        """Install the framework on ``app``; raises ``ImproperlyConfigured`` on a bad setting."""
        if self.app is not None:
            raise RuntimeError("this Framework object is already bound to an application; "
                               "create one Framework per Flask app")
        if "framework" in app.extensions:
            raise ImproperlyConfigured(f"the Flask app {app.name!r} already has a Framework")
        self.app = app
        overrides = self._config_arg
        if overrides is None and self.root_path is None:
            overrides = app.config.get("FRAMEWORK")
        self.config = load_config(self.root_path, env=self.env, config=overrides,
                                  require_file=self.root_path is not None)
        app.extensions["framework"] = self
        if app.test_client_class is None:  # a host's own test client class is kept
            from .test_client import FrameworkClient

            app.test_client_class = FrameworkClient
        app.config.update(flask_settings(self.config.get("flask", {})))
        if self.owns_app:
            apply_secure_defaults(app, self.config.get("flask", {}))
        try:
            set_level(self.config["logging"].get("level", "INFO"))
        except ValueError as exc:
            raise ImproperlyConfigured(f"[logging] level: {exc}") from None
        base = self.root_path or app.root_path
        self.media_path = os.path.abspath(os.path.join(
            base, self.config["environment"].get("media_path") or "media"))
        self._install_request_class(app)
        for _kind, (name, converter) in CONVERTERS.items():
            if converter is not None:
                app.url_map.converters[name] = converter
        self.middlewares = [self._load_middleware(path)
                            for path in as_list(self.config["middlewares"].get("active"))]
        self.chains = MiddlewareChains(self.middlewares)
        self._install_form_limit(app)
        allowed = as_list(self.config["networking"].get("allowed_hosts")) or ["*"]
        self._allowed_hosts = None if "*" in allowed else frozenset(h.lower() for h in allowed)
        for package in as_list(self.config["apps"].get("active")):
            self._install_app(app, package)
        if self.owns_app:
            # a project whose apps sign needs its key before it serves anything (every
            # server, with or without a lifespan or worker hooks, imports the project first)
            check_secret_key(app)
        from .cli import register_commands
        from .db import init_database

        init_database(self, app)
        register_commands(app)
        if self.owns_app:
            self._install_request_lifecycle(app)
        self._install_proxy_fix(app)
        init_openapi(self, app)
        _exit_on_sigterm()
        for middleware, layers in self.chains.declared:
            if "process_application" in layers:
                app.wsgi_app = middleware.process_application(app.wsgi_app)  # type: ignore[method-assign]
        # outermost: whatever a handler or middleware set, no server sends a broken header
        app.wsgi_app = HeaderCheck(app.wsgi_app)  # type: ignore[method-assign]

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
                f"[networking] max_form_fields must be a number of fields ({exc})") from None

    def _install_proxy_fix(self, app: Flask) -> None:
        raw = self.config["networking"].get("trusted_proxies") or 0
        try:
            count = int(raw)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                f"[networking] trusted_proxies must be a number of proxies, got {raw!r}") from None
        if count > 0:
            from werkzeug.middleware.proxy_fix import ProxyFix

            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count,  # type: ignore[method-assign]
                                    x_host=count, x_port=count, x_prefix=count)

    def _load_middleware(self, path: str) -> Any:
        module_name, _, class_name = path.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ImproperlyConfigured as exc:  # a misspelt layer method, found at class creation
            raise ImproperlyConfigured(f"[middlewares] active: {path!r}: {exc}") from None
        except Exception as exc:
            raise ImproperlyConfigured(
                f"[middlewares] active: {path!r} cannot be imported ({exc}){_path_hint(path, exc)}") from exc
        try:
            middleware = cls() if isinstance(cls, type) else cls
        except TypeError as exc:
            raise ImproperlyConfigured(
                f"[middlewares] active: {path!r} cannot be created without arguments ({exc})") from exc
        from .middleware import declared_layers

        try:
            declared_layers(middleware)  # before setup: a misspelt layer stops start-up first
        except ImproperlyConfigured as exc:
            raise ImproperlyConfigured(f"[middlewares] active: {path!r}: {exc}") from None
        setup = getattr(middleware, "setup", None)
        if callable(setup):
            setup(self)  # optional hook: the middleware reads the project's config here
        return middleware

    def _install_app(self, flask_app: Flask, package: str) -> None:
        try:
            module = importlib.import_module(f"{package}.main")
        except ModuleNotFoundError as exc:
            if exc.name not in (package, f"{package}.main") and not package.startswith(f"{exc.name}."):
                raise ImproperlyConfigured(f"[apps] active: app {package!r} cannot be imported ({exc})") from exc
            try:
                module = importlib.import_module(package)
            except Exception as inner:
                raise ImproperlyConfigured(f"[apps] active: app {package!r} cannot be imported "
                                           f"({inner}){_path_hint(package, inner)}") from inner
        except Exception as exc:
            raise ImproperlyConfigured(f"[apps] active: app {package!r} cannot be imported ({exc})") from exc
        app = getattr(module, "app", None)
        if not isinstance(app, App):
            raise ImproperlyConfigured(
                f"[apps] active: module {module.__name__!r} has no 'app = App(...)'")
        name = package.rpartition(".")[2]
        if name in self.apps_by_blueprint or name in flask_app.blueprints:
            other = self.apps_by_blueprint.get(name)
            raise ImproperlyConfigured(
                f"[apps] active: apps {other.package if other else name!r} and {package!r} "
                f"both claim the blueprint name {name!r}")
        path = os.path.dirname(os.path.abspath(importlib.import_module(package).__file__ or ""))
        project = os.path.basename(os.path.abspath(self.root_path)) if self.root_path else ""
        for model_module in app.models:
            try:
                importlib.import_module(_in_form_of(model_module, package, project))
            except Exception as exc:
                raise ImproperlyConfigured(
                    f"app {package!r}: models module {model_module!r} cannot be imported ({exc})") from exc
        for error_list in app.errors:
            for error in error_list:
                self._register_error(package, error)
        dirs = [os.path.join(path, d) for d in app.template_dirs]
        blueprint = Blueprint(name, package, root_path=path)
        endpoints: set[str] = set()
        for route in app.routes:
            endpoint = getattr(route.handler, "__name__", "handler")
            base, n = endpoint, 2
            while endpoint in endpoints:
                endpoint, n = f"{base}_{n}", n + 1
            endpoints.add(endpoint)
            view = make_view(self, route)
            if view.runs_async:  # type: ignore[attr-defined]
                self._async_endpoints.add(f"{name}.{endpoint}")
            blueprint.add_url_rule(to_rule(route.path), endpoint=endpoint,
                                   view_func=view, methods=list(route.methods))
        installed = InstalledApp(package, app, blueprint, path, dirs)
        if not self.owns_app:
            self._install_request_lifecycle(blueprint)
        flask_app.register_blueprint(blueprint)
        self.apps[package] = installed
        self.apps_by_blueprint[name] = installed
        for hooks in app.hooks:
            for event_name, func in hooks:
                self.connect_hook(event_name, func)

    def _register_error(self, package: str, error: ErrorCode) -> None:
        if error.code < FRAMEWORK_CODE_LIMIT:
            raise ImproperlyConfigured(
                f"app {package!r}: error code {error.code} is in the framework's range "
                f"(app codes start at {FRAMEWORK_CODE_LIMIT})")
        owner = self._error_owner.get(error.code)
        if owner is not None and owner != package:
            raise ImproperlyConfigured(
                f"error code {error.code} is claimed by both {owner!r} and {package!r}")
        self._error_owner[error.code] = package
        self.error_codes[error.code] = error

    # --------------------------------------------------------- request lifecycle
    def _install_request_lifecycle(self, scaffold: Any) -> None:
        """Error envelope and per-request hooks: app-wide when the framework owns the app,
        else on each of its blueprints only (the host's routes keep their own)."""
        self._install_blueprint_handlers(scaffold)
        scaffold.before_request(self._before_request)
        scaffold.after_request(self._after_request)

    def _install_blueprint_handlers(self, scaffold: Any) -> None:
        scaffold.register_error_handler(ExceptionResponse, _exception_response)
        scaffold.register_error_handler(HTTPException, _http_error)
        scaffold.register_error_handler(Exception, _server_error)
        from .db import install_error_handlers

        install_error_handlers(scaffold)

    def _before_request(self) -> Any:
        if self._started_pid != _process.pid:
            self.startup()
        req = _compat.current_request()
        allowed = self._allowed_hosts
        if allowed is not None:
            host = req.host.lower()
            if host not in allowed and host.rpartition(":")[0] not in allowed:
                return Error(DISALLOWED_HOST)
        if req.environ.get("CONTENT_LENGTH"):  # no header (a GET): nothing to parse
            limit = req.max_content_length
            if limit is not None and (req.content_length or 0) > limit:
                # refuse before anything reads the body, on every route (not only those that read it)
                return Error(BODY_TOO_LARGE)
        if signals.request_start.receivers:
            if req.endpoint in self._async_endpoints:
                # fired first thing in the view's coroutine: one start of the loop
                req.__dict__[START_PENDING] = True
            else:
                self._send(signals.request_start, {})
        return None

    def _after_request(self, response: Any) -> Any:
        chains = self.chains
        req = _compat.current_request()
        if req.__dict__.pop(START_PENDING, False):  # the view never ran
            self._send(signals.request_start, {})
        if chains.response and not response.__dict__.get(RESPONSE_DONE):
            response = chains.apply_response(req, response)
        if signals.request_end.receivers:
            # Runs when the server closes the body, after Flask has popped the request
            # context: a copy of the context keeps ``flask.request`` and ``g`` readable.
            _on_close(response, contextvars.copy_context().run, self._request_ended)
        return response

    def _request_ended(self) -> None:
        self._send(signals.request_end, {})

    # ------------------------------------------------------------------ events
    def connect_hook(self, event: str, func: Callable[..., Any]) -> None:
        """Run ``func`` (sync or async) with the event's arguments when ``event`` fires."""
        signals.event(event).connect(HookReceiver(self, event, func), sender=self, weak=False)

    def event(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator for a project-level hook (``@fw.event('startup')``)."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self.connect_hook(name, func)
            return func

        return register

    def execute_event(self, name: str, args: Mapping[str, Any] | None = None) -> Any:
        """Fire ``name`` with ``args`` as keyword arguments.

        Called from an ``async def`` function it returns a coroutine to await (Backendpy's
        ``await request.app.execute_event(...)``); called from plain code, a sync helper
        of an async handler included, the hooks run before it returns, and what it
        returns may still be awaited (it completes at once).
        """
        kwargs = dict(args or {})
        if sys._getframe(1).f_code.co_flags & _ASYNC_CODE:
            return self._asend(signals.event(name), kwargs)
        self._send(signals.event(name), kwargs)
        return _FIRED

    async def _asend(self, signal: Any, kwargs: dict[str, Any]) -> None:
        """``_send`` for async code: async receivers are awaited on the running loop."""
        for receiver in signal.receivers_for(self):
            if type(receiver) is HookReceiver:
                await receiver.acall(kwargs)
            else:
                try:
                    await _async.acall(receiver, self, **kwargs)
                except Exception:
                    _receiver_failed(signal.name, receiver)

    def _send(self, signal: Any, kwargs: dict[str, Any]) -> None:
        """Call ``signal``'s receivers for this project in order; one failing receiver
        is logged and the others still run (``startup`` raises instead)."""
        for receiver in signal.receivers_for(self):
            if type(receiver) is HookReceiver:
                receiver(self, **kwargs)
            else:
                try:
                    _async.call(receiver, self, **kwargs)
                except Exception:
                    _receiver_failed(signal.name, receiver)

    def startup(self) -> None:
        """Fire ``startup`` once in this process (a failing hook raises)."""
        pid = os.getpid()
        if self._started_pid == pid:
            return
        with self._lifecycle_lock:
            if self._started_pid == pid:
                return
            self._stopped = False
            if self.owns_app and self.app is not None:
                check_secret_key(self.app)
            if self.app is not None and self.app.debug:
                LOGGER.warning(
                    "debug mode is on in process %d: tracebacks and the interactive debugger "
                    "can reach clients; never serve it on a network ([flask] debug)", pid)
            self._send(signals.startup, {})
            self._started_pid = pid
        atexit.register(self.shutdown)
        _exit_on_sigterm()

    def shutdown(self) -> None:
        """Fire ``shutdown`` once, if ``startup`` fired in this process."""
        with self._lifecycle_lock:
            if self._started_pid != os.getpid() or self._stopped:
                return
            self._stopped = True
        self._send(signals.shutdown, {})

    @staticmethod
    def get_current_request() -> Any:
        """The current request object, or None outside a request (a session scope key)."""
        return request._get_current_object() if has_request_context() else None

    # --------------------------------------------------------------- templates
    def blueprint_for_module(self, module: str) -> str | None:
        """The blueprint name of the app whose package holds ``module``."""
        for installed in self.apps.values():
            if module == installed.package or module.startswith(installed.package + "."):
                return installed.blueprint.name
        return None

    def template_environment(self, blueprint: str | None) -> jinja2.Environment:
        """A Jinja environment searching ``blueprint``'s folders first (cached)."""
        env = self._templates.get(blueprint)
        if env is None:
            first = self.apps_by_blueprint.get(blueprint) if blueprint else None
            ordered = ([first] if first else []) + [i for i in self.apps.values() if i is not first]
            loaders: list[jinja2.BaseLoader] = [
                jinja2.FileSystemLoader(i.template_dirs) for i in ordered if i.template_dirs]
            app = self.app or current_app
            if app.jinja_loader is not None:
                loaders.append(app.jinja_loader)
            env = app.jinja_env.overlay(loader=jinja2.ChoiceLoader(loaders), autoescape=True)
            self._templates[blueprint] = env
        return env


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
    other = module[len(prefix):] if module.startswith(prefix) else f"{prefix}{module}"
    return other if other.startswith(f"{package}.") else module


def _path_hint(path: str, exc: BaseException) -> str:
    """A hint when the first part of a dotted path is what cannot be found."""
    top = path.split(".", 1)[0]
    if isinstance(exc, ModuleNotFoundError) and exc.name == top:
        return (f"; no package {top!r} is importable: run from the project folder (a "
                "Backendpy() project imports as 'apps.x' and as '<folder name>.apps.x')")
    return ""


class _Process:
    """This process's id, kept current across forks without a system call per request."""

    pid = os.getpid()

    @classmethod
    def forked(cls) -> None:
        cls.pid = os.getpid()


_process = _Process
os.register_at_fork(after_in_child=_Process.forked)

class _Fired:
    """What ``execute_event`` returns to plain code: the hooks have run; awaiting it
    (from an async caller that went through a sync helper) completes at once."""

    __slots__ = ()

    def __await__(self) -> Any:
        return iter(())

    def __repr__(self) -> str:
        return "<event fired>"


_FIRED = _Fired()

#: Code flags of a function whose body may ``await`` (``async def``, async generators).
_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _on_close(response: Any, *callback: Any) -> None:
    """Call ``callback[0](*callback[1:])`` once the server has closed ``response``'s body.

    A pass-through body (a file sent with the server's ``wsgi.file_wrapper``) is handed to
    the server as it is, bypassing ``call_on_close``, so its own ``close`` is chained
    instead (keeping the server's sendfile path).
    """
    call = _once(functools.partial(*callback))
    if not response.direct_passthrough:
        response.call_on_close(call)
        return
    body = response.response
    close = getattr(body, "close", None)

    def closing() -> None:
        try:
            if close is not None:
                close()
        finally:
            call()

    try:
        body.close = closing
    except AttributeError:
        response.response = ClosingIterator(body, call)  # closes ``body`` first itself


def _once(func: Callable[[], Any]) -> Callable[[], None]:
    """``func`` guarded to run at most once (a body closed twice fires ``request_end`` once)."""
    done = False

    def call() -> None:
        nonlocal done
        if not done:
            done = True
            func()

    return call


_sigterm_installed = False


def _exit_on_sigterm() -> None:
    """Under the development server, turn SIGTERM into a normal exit so ``shutdown`` fires.

    Servers that handle SIGTERM themselves (gunicorn, uvicorn) are left alone.
    """
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if _signal.getsignal(_signal.SIGTERM) is _signal.SIG_DFL:
        _signal.signal(_signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(SystemExit(0)))
    _sigterm_installed = True


def _exception_response(exc: ExceptionResponse) -> ExceptionResponse:
    return exc


def _http_error(exc: HTTPException) -> Any:
    if exc.code is None or exc.code < 400:
        return exc
    code = HTTP_STATUS_CODES.get(exc.code, SERVER_ERROR if exc.code >= 500 else REQUEST_ERROR)
    error = Error(code)
    if code in (SERVER_ERROR, REQUEST_ERROR):
        error.status_code = exc.code
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            error.headers[name] = value
    return error


def _server_error(exc: Exception) -> Any:
    LOGGER.error("unhandled %s in %s %s", type(exc).__name__,
                 request.method if has_request_context() else "-",
                 request.path if has_request_context() else "-", exc_info=exc)
    return Error(SERVER_ERROR)
