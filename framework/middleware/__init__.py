"""Middlewares on four layers: application, request, handler and response.

A middleware is a class with any of the methods below; the ones it leaves out are
skipped. The project resolves ``[middlewares] active`` once at start-up and builds one
chain per layer, run in list order, each output feeding the next. Methods on the request
path may be ``def`` or ``async def``, static or instance methods.
"""

from __future__ import annotations

__all__ = ["Middleware"]


class Middleware:
    """Base class; override the layers you need.

    - ``process_application(application) -> application``: wraps the WSGI application.
    - ``process_request(request) -> (request, response | None)``: runs before the
      handler; a response in the second item answers at once.
    - ``process_handler(request, handler) -> handler``: may replace the handler.
    - ``process_response(request, response) -> response``: may change or replace it.

    An optional ``setup(fw)`` is called once with the ``Framework`` object when the
    middleware is loaded from ``[middlewares] active``, before any layer runs: the place
    to read the project's configuration (``fw.config``).
    """
