"""``Backendpy``: the porting name for a project object that is itself the application.

``bp = Backendpy()`` in a project's ``main.py`` reads the ``config.ini`` beside that
module. The object is a Flask application (so ``flask --app main:bp ...`` finds it), a
WSGI callable (``gunicorn main:bp``) and an ASGI 3 callable with the lifespan protocol
(``uvicorn main:bp``, ``hypercorn main:bp``, ``daphne main:bp``); which one a server wants
is told by how it calls the object. ``bp.config['database']``, ``bp.context``,
``bp.event``, ``bp.execute_event`` and ``bp.get_current_request`` work as in Backendpy.

As Backendpy does, the project folder's parent goes on ``sys.path``, so the docs' dotted
paths (``project.apps.hello``) import when the server runs inside the project folder,
beside the shorter ``apps.hello``.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask

from .extension import Framework
from .flask_app import FrameworkFlask

__all__ = ["Backendpy", "add_project_paths"]


def add_project_paths(root: str) -> None:
    """Make ``root``'s packages importable both ways: ``apps.hello`` (``root`` on
    ``sys.path``) and ``<folder name>.apps.hello`` (its parent on ``sys.path``).

    Appended, so nothing already importable is shadowed by a folder of the same name.
    """
    for path in (root, os.path.dirname(root)):
        if path and path not in sys.path:
            sys.path.append(path)


class Backendpy(FrameworkFlask):
    """A Flask app that owns its ``Framework`` and answers both WSGI and ASGI calls.

    :param root_path: the project folder (default: the folder of the module creating it).
    :param env: chooses ``config.<env>.ini`` (default: ``$FRAMEWORK_ENV``).
    :param config: ``{section: {key: value}}`` applied over the file.
    """

    #: asgiref's marker: one call ``(scope, receive, send)``, not ASGI 2's two steps.
    _asgi_single_callable = True

    def __init__(
        self,
        root_path: str | None = None,
        *,
        env: str | None = None,
        config: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if root_path is None:
            caller = inspect.stack(0)[1].filename
            root_path = os.path.dirname(os.path.abspath(caller)) if os.path.isfile(caller) else os.getcwd()
        root = os.path.abspath(root_path)
        add_project_paths(root)
        super().__init__(
            os.path.basename(root) or "project",
            root_path=root,
            instance_path=os.path.join(root, "instance"),
            static_folder=None,
        )
        self._asgi: Any = None
        self._asgi_lock = threading.Lock()
        #: The project object (``request.app`` in handlers).
        self.framework = Framework(self, root_path=root, env=env, config=config, owns_app=True)
        # ``bp.config['database']`` as in Backendpy: the sections beside Flask's settings
        for section, values in self.framework.config.items():
            self.config.setdefault(section, values)

    # ------------------------------------------------------- Backendpy's names
    @property
    def flask_app(self) -> Flask:
        """The Flask application: this object itself (kept for code written against it)."""
        return self

    @property
    def context(self) -> dict[str, Any]:
        """Lives as long as the process; the same dict as ``request.app.context``."""
        return self.framework.context

    @property
    def apps(self) -> Mapping[str, Any]:
        return self.framework.apps

    @property
    def event(self) -> Callable[[str], Callable[[Callable[..., Any]], Callable[..., Any]]]:
        """Decorator for a project-level hook (``@bp.event('startup')``)."""
        return self.framework.event

    @property
    def execute_event(self) -> Callable[..., Any]:
        # the bound method itself: it looks at its caller's frame to know if it is awaited
        return self.framework.execute_event

    @property
    def get_current_request(self) -> Callable[[], Any]:
        return self.framework.get_current_request

    def startup(self) -> None:
        """Fire ``startup`` once in this process (servers with a lifespan do it for you)."""
        self.framework.startup()

    def shutdown(self) -> None:
        """Fire ``shutdown`` once, if ``startup`` fired in this process."""
        self.framework.shutdown()

    # ----------------------------------------------------------------- serving
    def asgi_app(self) -> Any:
        """The ASGI application serving this project (``to_asgi(bp)``), built once."""
        adapter = self._asgi
        if adapter is None:
            from .asgi import to_asgi

            with self._asgi_lock:
                if self._asgi is None:
                    self._asgi = to_asgi(self)
                adapter = self._asgi
        return adapter

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``(environ, start_response)``: WSGI; ``(scope, receive, send)``, positional or
        by name: ASGI 3; ``(scope)``: ASGI 2 (what a server that cannot tell a class-based
        ASGI 3 app from an ASGI 2 one calls), which returns the ``(receive, send)``
        coroutine function."""
        if kwargs:
            names = _ASGI_ARGUMENTS[len(args) :]
            unknown = set(kwargs) - set(names)
            if unknown:
                raise TypeError(f"Backendpy() got unexpected argument(s) {sorted(unknown)}")
            args += tuple(kwargs[name] for name in names if name in kwargs)
            if len(args) == 2:  # (scope, receive=...) is not a call anything makes
                raise TypeError("Backendpy() needs scope, receive and send")
        if len(args) == 2:
            body = self.wsgi_app(*args)
            # a server with ``wsgi.file_wrapper`` (gunicorn) may send that object with
            # sendfile: hand it over untouched
            return body if "wsgi.file_wrapper" in args[0] else _AtLeastOneChunk(body)
        if len(args) == 3:
            return self.asgi_app()(*args)
        if len(args) == 1 and isinstance(args[0], Mapping) and "type" in args[0]:
            return functools.partial(self.asgi_app(), args[0])
        raise TypeError(
            "Backendpy() is called as WSGI (environ, start_response) or "
            f"ASGI (scope, receive, send), not with {len(args)} argument(s)"
        )


_ASGI_ARGUMENTS = ("scope", "receive", "send")


class _AtLeastOneChunk:
    """A WSGI body that yields ``b""`` when the wrapped one yields nothing.

    Hypercorn's WSGI mode (``hypercorn main:bp`` on Python 3.11) sends the status and
    headers with the first chunk only: a body-less answer (a redirect, 204, 304, HEAD)
    ended in its "Unexpected message" error and a 500. ``close()`` is passed on, so
    ``request_end`` still fires when the server is done with the body.
    """

    __slots__ = ("_body",)

    def __init__(self, body: Any) -> None:
        self._body = body

    def __iter__(self) -> Any:
        empty = True
        for chunk in self._body:
            empty = False
            yield chunk
        if empty:
            yield b""

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


def _mark_coroutine_function(func: Callable[..., Any]) -> Callable[..., Any]:
    """Let servers that inspect the callable (hypercorn, uvicorn) see an ASGI 3 app."""
    mark = getattr(inspect, "markcoroutinefunction", None)  # Python 3.12+
    return mark(func) if mark is not None else func


Backendpy.__call__ = _mark_coroutine_function(Backendpy.__call__)  # type: ignore[method-assign]
