"""Where ``MiddlewareChains`` and ``make_view`` were defined: the request's way is now
``framework.pipeline``'s; these names stay importable from here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .pipeline import MiddlewareChains
from .router import Route

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["MiddlewareChains", "make_view"]


def make_view(fw: Framework, route: Route, endpoint: str | None = None) -> Callable[..., Any]:
    """The Flask view function for ``route`` (``Pipeline.view``)."""
    assert fw.pipeline is not None, "the Framework is not installed on an app yet"
    name = getattr(route.handler, "__name__", "view")
    return fw.pipeline.view(route, endpoint or name)
