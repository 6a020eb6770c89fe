"""Middlewares on four layers: application, request, handler and response.

A middleware declares its layers by the methods it defines, among the four below; the
ones it leaves out are skipped. ``Middleware`` records them when the class is created
(``Middleware.layers``), and rejects any other public ``process_*`` method there, so a
misspelt name (``process_requests``) stops the program instead of being silently
ignored. An object in ``[middlewares] active`` that does not subclass ``Middleware`` is
checked by the same rule at start-up (``declared_layers``).

The project resolves ``[middlewares] active`` once at start-up and builds one chain per
layer, run in list order, each output feeding the next. Methods on the request path may be
``def`` or ``async def``, static or instance methods.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..config import ImproperlyConfigured

__all__ = ["Middleware", "LAYERS", "declared_layers"]

#: The layer methods, in the order a request meets them.
LAYERS = ("process_application", "process_request", "process_handler", "process_response")


class Middleware:
    """Base class; override the layers you need.

    - ``process_application(application) -> application``: wraps the WSGI application.
    - ``process_request(request) -> (request, response | None)``: runs before the
      handler; a response in the second item answers at once.
    - ``process_handler(request, handler) -> handler``: may replace the handler.
    - ``process_response(request, response) -> response``: may change or replace it.

    ``layers`` is the set of these a subclass defines (itself or through its bases),
    computed when the class is created. Any other public ``process_*`` attribute is an
    error then (``ImproperlyConfigured``): name a helper ``_process_...``. Setting one of
    the four to None in a subclass drops a layer it inherits.

    An optional ``setup(fw)`` is called once with the ``Framework`` object when the
    middleware is loaded from ``[middlewares] active``, before any layer runs: the place
    to read the project's configuration (``fw.config``).
    """

    #: The layer methods this class defines (a subset of ``LAYERS``).
    layers: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "layers" in cls.__dict__:
            raise ImproperlyConfigured(
                f"middleware {_name(cls)}: 'layers' is computed from the methods it defines "
                f"({', '.join(LAYERS)}); do not set it"
            )
        cls.layers = _find_layers(cls, _name(cls))


def declared_layers(middleware: Any) -> frozenset[str]:
    """The layers ``middleware`` (an instance, or any object used as one) declares.

    A ``Middleware`` declares them with its class; any other object by the layer methods
    it has. Either way, a public ``process_*`` attribute that is not one of ``LAYERS``
    raises ``ImproperlyConfigured`` naming the class, the attribute and the allowed names.
    """
    owner = middleware if isinstance(middleware, type) else type(middleware)
    found = _find_layers(middleware, _name(owner))
    if isinstance(middleware, Middleware) and found != type(middleware).layers:
        raise ImproperlyConfigured(
            f"middleware {_name(owner)}: its instance has the layers {sorted(found)} but its "
            f"class declares {sorted(type(middleware).layers)}; define layer methods in the class"
        )
    return found


def _find_layers(target: Any, name: str) -> frozenset[str]:
    """The layer methods ``target`` has; raises on a stray ``process_*`` attribute."""
    layers = set()
    for attr in dir(target):
        if not attr.startswith("process_"):
            continue
        value = getattr(target, attr, None)
        if attr not in LAYERS:
            raise ImproperlyConfigured(
                f"middleware {name}: {attr!r} is not a middleware layer; the layer methods "
                f"are {', '.join(LAYERS)} (name a helper method '_{attr}')"
            )
        if value is None:
            continue
        if not callable(value):
            raise ImproperlyConfigured(
                f"middleware {name}: {attr} must be a method, got {type(value).__name__}"
            )
        layers.add(attr)
    return frozenset(layers)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
