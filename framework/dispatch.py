"""The per-request path of framework routes.

A request crosses each layer once: request middlewares -> handler middlewares -> handler
(sync, or async on the thread's loop) -> response middlewares. The chains are built once
at start-up (``MiddlewareChains``); each route's view is built once at registration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response as _WerkzeugResponse

from . import _async, _compat, signals
from .error import FORBIDDEN, Error
from .router import Route

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["MiddlewareChains", "make_view", "START_PENDING", "RESPONSE_DONE"]

#: Request attribute: ``request_start`` is left to the async view's coroutine.
START_PENDING = "_framework_start_pending"
#: Response attribute: the response middlewares already ran inside the view.
RESPONSE_DONE = "_framework_response_done"


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

    def apply_response(self, request: Any, response: Any) -> Any:
        for process in self.response:
            response = _async.call(process, request, response)
        return response

    async def aapply_response(self, request: Any, response: Any) -> Any:
        for process in self.response:
            response = process(request, response)
            if _async.is_awaitable(response):
                response = await response
        return response


def make_view(fw: Framework, route: Route) -> Callable[..., Any]:
    """The Flask view function for ``route``."""
    handler = route.handler
    data_handler = route.data_handler
    chains = fw.chains
    run_async = chains.any_async or _async.is_async_callable(handler)
    only_ssl = route.only_ssl
    request_chain, handler_chain = chains.request, chains.handler
    response_in_view = run_async and chains.async_response

    def sync_path(request: Any) -> Any:
        for process in request_chain:
            request, response = _async.call(process, request)
            if response is not None:
                return response
        current = handler
        for process in handler_chain:
            current = _async.call(process, request, current)
        result = current(request)
        if _async.is_awaitable(result):
            return _async.run(result)
        return result

    async def async_path(request: Any) -> Any:
        # One coroutine, one start of the loop, for everything async on the request's
        # way: the request_start hooks (deferred here by Framework._before_request), the
        # middlewares, the handler, and, when they are async, the response middlewares.
        # Each step's result is awaited inline (no ``acall`` coroutine per step).
        if request.__dict__.pop(START_PENDING, False):
            await fw._asend(signals.request_start, {})
        response = None
        for process in request_chain:
            result = process(request)
            if _async.is_awaitable(result):
                result = await result
            request, response = result
            if response is not None:
                break
        else:
            current = handler
            for process in handler_chain:
                current = process(request, current)
                if _async.is_awaitable(current):
                    current = await current
            response = current(request)
            if _async.is_awaitable(response):
                response = await response
        if response_in_view and isinstance(response, _WerkzeugResponse):
            response = await chains.aapply_response(request, response)
            response.__dict__[RESPONSE_DONE] = True  # Framework._after_request skips it
        return response

    def view(**_url_vars: str) -> Any:
        request = _compat.current_request()
        if only_ssl and not request.is_secure:
            raise Error(FORBIDDEN, data={"message": "This route is served over HTTPS only"})
        request.data_handler = data_handler
        if run_async:
            return _async.run(async_path(request))
        return sync_path(request)

    view.__name__ = getattr(handler, "__name__", "view")
    view.__doc__ = getattr(handler, "__doc__", None)
    view.__wrapped__ = handler  # type: ignore[attr-defined]
    view.route = route  # type: ignore[attr-defined]
    view.runs_async = run_async  # type: ignore[attr-defined]
    return view
