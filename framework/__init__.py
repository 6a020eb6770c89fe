"""A Backendpy-style framework on Flask: apps, routes, data handlers, hooks, middlewares."""

from .cache import cache as cache
from .config import ImproperlyConfigured as ImproperlyConfigured
from .extension import Framework as Framework
from .factory import create_app as create_app
from .project import Backendpy as Backendpy
from .schedule import Schedule as Schedule

__version__ = "0.1.0"
