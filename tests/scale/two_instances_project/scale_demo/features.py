"""Which scale-out features this framework has (they arrive on separate branches): the
app declares only the routes and hooks whose feature is there, so it starts either way."""

import importlib
import importlib.util


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _framework_has(name: str) -> bool:
    return hasattr(importlib.import_module("framework"), name) or _has_module(f"framework.{name}")


RATELIMIT = _has_module("framework.ratelimit")
BACKGROUND = _has_module("framework.background")
CACHE = _framework_has("cache")
SCHEDULES = _framework_has("Schedule")
