"""The request pipeline: every step of a request's way through the framework, in order.

    host check -> size check -> request_start -> HTTPS-only check
    -> request middlewares -> handler middlewares -> handler (its data handler runs on
    request.get_cleaned_data()) -> response middlewares -> ... body sent -> request_end

A framework route's view runs the steps from the host check to the response middlewares
itself (``Pipeline.view``); they are written once, as a generator that yields what needs
awaiting (``framework.drive``), driven from sync code for a sync route, or as one coroutine
(one start of the thread's loop) when the handler or a request-path middleware is async.
When there are response middlewares, an exception on the way becomes its error response
here (Flask's ``handle_user_exception``, with the handlers of ``install``), so they see
error responses too; without any, Flask does the same a step later.

Any other request the pipeline covers (an unknown URL, a host route of an app the
framework owns) takes the same steps through Flask's ``before_request`` and
``after_request`` hooks, which skip what a framework route's view does: who runs a step is
decided by the endpoint alone. ``request_end`` is tied to the closing of the body.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import has_request_context
from flask import request as _request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as _WerkzeugResponse
from werkzeug.wsgi import ClosingIterator

from . import _async, _compat, events, signals
from .config import as_list
from .drive import Steps, drive_async, drive_sync
from .error import (
    BODY_TOO_LARGE,
    DISALLOWED_HOST,
    FORBIDDEN,
    HTTP_STATUS_CODES,
    REQUEST_ERROR,
    SERVER_ERROR,
    Error,
)
from .exception import ExceptionResponse
from .lifecycle import process
from .logging import get_logger
from .router import Route

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["Pipeline", "MiddlewareChains"]

LOGGER = get_logger("framework")

_NO_ARGS: dict[str, Any] = {}


class MiddlewareChains:
    """The active middlewares' methods, one list per layer, from the layers each declares
    (``framework.middleware.declared_layers``: a stray ``process_*`` method raises
    ``ImproperlyConfigured`` here, at start-up)."""

    def __init__(self, middlewares: list[Any]) -> None:
        from .middleware import declared_layers

        #: Each middleware with the layers it declares (the application layer is applied
        #: by the extension, once).
        self.declared = [(m, declared_layers(m)) for m in middlewares]
        declared = self.declared
        self.request = [m.process_request for m, layers in declared if "process_request" in layers]
        self.handler = [m.process_handler for m, layers in declared if "process_handler" in layers]
        self.response = [m.process_response for m, layers in declared if "process_response" in layers]
        #: True when a request-path method is async: run the whole path as one coroutine.
        self.any_async = any(_async.is_async_callable(f) for f in self.request + self.handler)
        #: True when a response middleware is async: an async view runs the response
        #: layer inside its own coroutine rather than starting the loop once more.
        self.async_response = any(_async.is_async_callable(f) for f in self.response)

    def respond(self, request: Any, response: Any) -> Steps[Any]:
        """The response layer, each output feeding the next (the rule both faces drive)."""
        for process_response in self.response:
            response = process_response(request, response)
            if _async.is_awaitable(response):
                response = yield response
        return response

    def apply_response(self, request: Any, response: Any) -> Any:
        return drive_sync(self.respond(request, response))

    async def aapply_response(self, request: Any, response: Any) -> Any:
        return await drive_async(self.respond(request, response))


class Pipeline:
    """The request's way for one project: built once at start-up by ``Framework.init_app``."""

    def __init__(self, fw: Framework, middlewares: list[Any]) -> None:
        self.fw = fw
        self.chains = MiddlewareChains(middlewares)
        allowed = as_list(fw.config["networking"].get("allowed_hosts")) or ["*"]
        #: None when every host is allowed.
        self.allowed_hosts = None if "*" in allowed else frozenset(h.lower() for h in allowed)
        #: Endpoints of framework routes: their views run the steps themselves.
        self.views: set[str] = set()
        #: Operational endpoints (health, metrics: ``framework.operations``): none of the
        #: steps run for them, ``request_start``/``request_end`` included.
        self.operational: set[str] = set()

    def exempt(self, endpoint: str) -> None:
        """Run none of the steps for ``endpoint`` (an operational endpoint)."""
        self.views.add(endpoint)
        self.operational.add(endpoint)

    # ------------------------------------------------------------- installation
    def install(self, scaffold: Any) -> None:
        """Error envelope and per-request hooks: app-wide when the framework owns the app,
        else on each of its blueprints only (the host's routes keep their own)."""
        install_error_handlers(scaffold)
        scaffold.before_request(self.before_request)
        scaffold.after_request(self.after_request)

    # -------------------------------------------------------------- the steps
    def refusal(self, req: Any) -> Any:
        """The host and size checks: an error response, or None to go on."""
        allowed = self.allowed_hosts
        if allowed is not None:
            host = req.host.lower()
            if host not in allowed and host.rpartition(":")[0] not in allowed:
                return Error(DISALLOWED_HOST)
        if req.environ.get("CONTENT_LENGTH"):  # no header (a GET): nothing to parse
            limit = req.max_content_length
            if limit is not None and (req.content_length or 0) > limit:
                # refuse before anything reads the body, on every route (not only those that read it)
                return Error(BODY_TOO_LARGE)
        return None

    def view(self, route: Route, endpoint: str) -> Callable[..., Any]:
        """The Flask view of ``route`` (registered under ``endpoint``): it runs every step
        from the host check to the response middlewares."""
        fw, chains = self.fw, self.chains
        handler = route.handler
        data_handler = route.data_handler
        run_async = chains.any_async or _async.is_async_callable(handler)
        only_ssl = route.only_ssl
        request_chain, handler_chain = chains.request, chains.handler
        has_response_chain = bool(chains.response)
        # Async response middlewares of an async route run in the route's coroutine;
        # sync ones run after it, as plain code (never inside the loop).
        respond_inside = has_response_chain and (not run_async or chains.async_response)
        respond_after = has_response_chain and not respond_inside
        refusal, respond = self.refusal, chains.respond
        is_awaitable = _async.is_awaitable

        def serve(request: Any) -> Steps[Any]:
            try:
                response = refusal(request)
                if response is None:
                    if signals.request_start.receivers:
                        yield from events.deliver(fw, signals.request_start, _NO_ARGS)
                    if only_ssl and not request.is_secure:
                        raise Error(FORBIDDEN, data={"message": "This route is served over HTTPS only"})
                    for process_request in request_chain:
                        result = process_request(request)
                        if is_awaitable(result):
                            result = yield result
                        request, response = result
                        if response is not None:
                            break
                    else:
                        current = handler
                        for process_handler in handler_chain:
                            current = process_handler(request, current)
                            if is_awaitable(current):
                                current = yield current
                        response = current(request)
                        if is_awaitable(response):
                            response = yield response
            except Exception as exc:
                if not has_response_chain:
                    raise  # Flask turns it into its error response, as for any view
                response = fw.app.handle_user_exception(exc)  # type: ignore[union-attr]
            if has_response_chain and not isinstance(response, _WerkzeugResponse):
                response = fw.app.make_response(response)  # type: ignore[union-attr]
            if respond_inside:
                response = yield from respond(request, response)
            return response

        if not (run_async or request_chain or handler_chain or has_response_chain):
            # No middleware and a plain handler: the steps as plain calls, which is what
            # driving ``serve`` comes to when nothing receives ``request_start``, without
            # a generator to make and drive per request.
            request_start = signals.request_start
            run = _async.run

            def plain_view(**_url_vars: str) -> Any:
                request: Any = _compat.current_request()
                request.data_handler = data_handler
                if request_start.receivers:
                    return drive_sync(serve(request))
                response = refusal(request)
                if response is None:
                    if only_ssl and not request.is_secure:
                        raise Error(FORBIDDEN, data={"message": "This route is served over HTTPS only"})
                    response = handler(request)
                    if is_awaitable(response):  # a def handler that returned an awaitable
                        response = run(response)
                return response

            return self._named(plain_view, route, endpoint, run_async)

        def view(**_url_vars: str) -> Any:
            request: Any = _compat.current_request()
            request.data_handler = data_handler
            if run_async:
                response = _async.run(drive_async(serve(request)))
                if respond_after:
                    response = drive_sync(respond(request, response))
                return response
            return drive_sync(serve(request))

        return self._named(view, route, endpoint, run_async)

    def _named(
        self, view: Callable[..., Any], route: Route, endpoint: str, run_async: bool
    ) -> Callable[..., Any]:
        """``view`` registered as ``endpoint``'s, carrying its handler's name and route."""
        handler = route.handler
        self.views.add(endpoint)
        view.__name__ = getattr(handler, "__name__", "view")
        view.__doc__ = getattr(handler, "__doc__", None)
        view.__wrapped__ = handler  # type: ignore[attr-defined]
        view.route = route  # type: ignore[attr-defined]
        view.runs_async = run_async  # type: ignore[attr-defined]
        return view

    def before_request(self) -> Any:
        """Start the process's project if needed; for a request that is not a framework
        route's, the host and size checks and ``request_start``."""
        fw = self.fw
        if fw.lifecycle.started_pid != process.pid:
            fw.startup()
        req = _compat.current_request()
        if req.endpoint in self.views:
            return None  # the view runs them
        refused = self.refusal(req)
        if refused is not None:
            return refused
        if signals.request_start.receivers:
            events.send(fw, signals.request_start, _NO_ARGS)
        return None

    def after_request(self, response: Any) -> Any:
        """The response middlewares for a request that is not a framework route's; for
        every request, ``request_end`` once its body is closed."""
        if self.chains.response:
            req = _compat.current_request()
            if req.endpoint not in self.views:
                response = drive_sync(self.chains.respond(req, response))
        if signals.request_end.receivers and _compat.current_request().endpoint not in self.operational:
            # Runs when the server closes the body, after Flask has popped the request
            # context: a copy of the context keeps ``flask.request`` and ``g`` readable.
            _on_close(response, _RequestEnd(self.fw, contextvars.copy_context()))
        return response


def install_error_handlers(scaffold: Any) -> None:
    """The error envelope for what a handler raises: ``ExceptionResponse`` as it is,
    HTTP errors as their envelope, anything else as a logged 500."""
    scaffold.register_error_handler(ExceptionResponse, _exception_response)
    scaffold.register_error_handler(HTTPException, _http_error)
    scaffold.register_error_handler(Exception, _server_error)
    from .db import install_error_handlers as install_db_error_handlers

    install_db_error_handlers(scaffold)


class _RequestEnd:
    """Fires ``request_end`` for ``fw`` in ``context`` (a copy of the request's), at most
    once (a body closed twice fires it once)."""

    __slots__ = ("fw", "context", "pending")

    def __init__(self, fw: Any, context: contextvars.Context) -> None:
        self.fw, self.context, self.pending = fw, context, True

    def __call__(self) -> None:
        if self.pending:
            self.pending = False
            self.context.run(events.send, self.fw, signals.request_end, _NO_ARGS)


def _on_close(response: Any, call: Callable[[], None]) -> None:
    """Call ``call()`` once the server has closed ``response``'s body.

    A pass-through body (a file sent with the server's ``wsgi.file_wrapper``) is handed to
    the server as it is, bypassing ``call_on_close``, so its own ``close`` is chained
    instead (keeping the server's sendfile path).
    """
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


def _exception_response(exc: ExceptionResponse) -> ExceptionResponse:
    return exc


def _http_error(exc: HTTPException) -> Any:
    if exc.code is None or exc.code < 400:
        return exc
    if exc.response is not None:  # it brings its own answer (a rate limit's 429 envelope)
        return exc.response
    code = HTTP_STATUS_CODES.get(exc.code, SERVER_ERROR if exc.code >= 500 else REQUEST_ERROR)
    error = Error(code)
    if code in (SERVER_ERROR, REQUEST_ERROR):
        error.status_code = exc.code
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            error.headers[name] = value
    return error


def _server_error(exc: Exception) -> Any:
    LOGGER.error(
        "unhandled %s in %s %s",
        type(exc).__name__,
        _request.method if has_request_context() else "-",
        _request.path if has_request_context() else "-",
        exc_info=exc,
    )
    return Error(SERVER_ERROR)
