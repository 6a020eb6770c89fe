"""Routes: decorator-based or listed, as in Backendpy.

``Routes`` collects ``Route`` objects; an app's routes become URL rules on its blueprint.
URL variables are written ``<name>`` or ``<name:type>`` with type ``str``, ``int``,
``float`` or ``uuid``; the type decides what matches, and the value reaches the handler
as a string (``request.url_vars``), exactly as in Backendpy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.routing import BaseConverter

from .config import ImproperlyConfigured

__all__ = ["Route", "Routes", "CONVERTERS", "to_rule"]

Handler = Callable[..., Any]


class _MatchOnly(BaseConverter):
    """Matches its pattern and keeps the text as it is."""

    part_isolating = True

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: Any) -> str:
        return super().to_url(str(value))


class IntText(_MatchOnly):
    regex = r"-?\d+"
    weight = 50


class FloatText(_MatchOnly):
    regex = r"-?\d+(?:\.\d+)?"
    weight = 50


class UUIDText(_MatchOnly):
    regex = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    weight = 50


#: URL-variable type -> (converter name in the Werkzeug map, converter class)
CONVERTERS: dict[str, tuple[str, type[BaseConverter] | None]] = {
    "str": ("default", None),
    "int": ("fw_int", IntText),
    "float": ("fw_float", FloatText),
    "uuid": ("fw_uuid", UUIDText),
}

_VARIABLE = re.compile(r"<([^<>:]+)(?::([^<>]*))?>")


def to_rule(path: str) -> str:
    """Translate a Backendpy path (``/users/<id:int>``) into a Werkzeug rule."""

    def replace(match: re.Match[str]) -> str:
        name, kind = match.group(1).strip(), (match.group(2) or "str").strip()
        if not name.isidentifier():
            raise ImproperlyConfigured(f"route {path!r}: {name!r} is not a valid variable name")
        if kind not in CONVERTERS:
            raise ImproperlyConfigured(
                f"route {path!r}: unknown URL variable type {kind!r} (use one of {', '.join(CONVERTERS)})"
            )
        converter = CONVERTERS[kind][0]
        return f"<{name}>" if converter == "default" else f"<{converter}:{name}>"

    if not path.startswith("/"):
        raise ImproperlyConfigured(f"route {path!r} must start with '/'")
    return _VARIABLE.sub(replace, path)


class Route:
    """One URL path, its methods and its handler.

    ``rate_limit`` (``"5/minute"``, Flask-Limiter's syntax; a list or ``;`` for several)
    limits this route per client, over the app's and the project's limits (see
    ``framework.ratelimit``); the ``Routes`` decorators take it as a keyword too.
    """

    __slots__ = ("path", "methods", "handler", "data_handler", "only_ssl", "openapi", "rate_limit", "options")

    def __init__(
        self,
        path: str,
        methods: Iterable[str],
        handler: Handler,
        data_handler: type | None = None,
        only_ssl: bool = False,
        openapi: bool = True,
        rate_limit: str | Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        if isinstance(methods, str):
            methods = (methods,)
        self.path = path
        self.methods = tuple(m.upper() for m in methods)
        self.handler = handler
        self.data_handler = data_handler
        self.only_ssl = only_ssl
        #: False keeps the route out of the OpenAPI document.
        self.openapi = openapi
        self.rate_limit = rate_limit
        self.options = options

    def __repr__(self) -> str:
        handler = getattr(self.handler, "__name__", self.handler)
        return f"<Route {','.join(self.methods)} {self.path} -> {handler}>"


class Routes:
    """An ordered collection of ``Route``s with decorators to add to it."""

    def __init__(self, *routes: Route) -> None:
        self._routes: list[Route] = list(routes)

    def route(
        self,
        path: str,
        methods: Iterable[str] = ("GET",),
        data_handler: type | None = None,
        only_ssl: bool = False,
        **options: Any,
    ) -> Callable[[Handler], Handler]:
        """Decorate a handler answering ``path`` for ``methods``."""

        def register(handler: Handler) -> Handler:
            self._routes.append(Route(path, methods, handler, data_handler, only_ssl, **options))
            return handler

        return register

    def get(
        self, path: str, data_handler: type | None = None, only_ssl: bool = False, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route(path, ("GET",), data_handler, only_ssl, **options)

    def post(
        self, path: str, data_handler: type | None = None, only_ssl: bool = False, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route(path, ("POST",), data_handler, only_ssl, **options)

    def put(
        self, path: str, data_handler: type | None = None, only_ssl: bool = False, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route(path, ("PUT",), data_handler, only_ssl, **options)

    def patch(
        self, path: str, data_handler: type | None = None, only_ssl: bool = False, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route(path, ("PATCH",), data_handler, only_ssl, **options)

    def delete(
        self, path: str, data_handler: type | None = None, only_ssl: bool = False, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route(path, ("DELETE",), data_handler, only_ssl, **options)

    def head(
        self, path: str, data_handler: type | None = None, only_ssl: bool = False, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route(path, ("HEAD",), data_handler, only_ssl, **options)

    def options(
        self, path: str, data_handler: type | None = None, only_ssl: bool = False, **options: Any
    ) -> Callable[[Handler], Handler]:
        return self.route(path, ("OPTIONS",), data_handler, only_ssl, **options)

    def append(self, route: Route) -> None:
        self._routes.append(route)

    def extend(self, routes: Iterable[Route]) -> None:
        self._routes.extend(routes)

    def merge(self, other: Routes) -> Routes:
        """A new ``Routes`` holding this one's routes followed by ``other``'s."""
        return Routes(*self._routes, *other)

    def __add__(self, other: Routes) -> Routes:
        return self.merge(other)

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def __repr__(self) -> str:
        return f"<Routes {self._routes!r}>"
