"""Backendpy's awaited database API over synchronous SQLAlchemy sessions.

Backendpy code awaits its session (``await session.get(User, 1)``,
``await db_session.remove()``, ``await engine.dispose()``). Here the session is the
request's ordinary Flask-SQLAlchemy session, so the awaited API is a facade in the manner of
SQLAlchemy's own ``AsyncSession``: one synchronous implementation, and thin methods that
return awaitables. There is no second engine, pool or transaction: ``AwaitableSession``
wraps the very session ``db.session`` returns.

The blocking call runs when the method is called, in the calling thread. That is the
request's own worker thread: the shim (``framework._async``) runs an async handler on a
loop that belongs to that thread, and every server the framework runs under gives each
in-flight request its own thread or process (gunicorn's workers, the threads of
``framework.asgi.to_asgi``'s pool, the development server's threads). A slow query therefore
holds up only its own request, never the server's event loop. Handing it to yet another
thread would gain nothing and would lose Flask's context locals and the session's thread.

Each awaited method does its work when called and returns an already-finished awaitable,
so a forgotten ``await`` on ``commit()`` still commits and no "never awaited" warning is
left behind.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from . import _async

__all__ = ["Ready", "AwaitableSession", "AwaitableScopedSession", "awaitable_dispose"]

T = TypeVar("T")

#: ``session.info`` key under which a session keeps its facade (one facade per session).
_FACADE_KEY = "framework.awaitable_session"


class Ready(Generic[T]):
    """An awaitable whose result is already known: ``await Ready(x)`` is ``x``."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, T]:
        return self.value
        yield  # pragma: no cover - makes this a generator, as __await__ must be

    def __repr__(self) -> str:
        return f"<Ready {self.value!r}>"


def _awaited(name: str) -> Callable[..., Ready[Any]]:
    def method(self: AwaitableSession, *args: Any, **kwargs: Any) -> Ready[Any]:
        return Ready(getattr(self.sync_session, name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``await session.{name}(...)``: ``Session.{name}`` of the wrapped session."
    return method


class _TransactionContext:
    """``async with session.begin():`` over the sync session's ``begin()``."""

    __slots__ = ("_sync",)

    def __init__(self, sync_context: Any) -> None:
        self._sync = sync_context

    async def __aenter__(self) -> Any:
        return self._sync.__enter__()

    async def __aexit__(self, *exc_info: Any) -> Any:
        return self._sync.__exit__(*exc_info)


class AwaitableSession:
    """An ``AsyncSession``-shaped facade over a synchronous ``Session``.

    The methods ``AsyncSession`` awaits are awaited here too (``execute``, ``scalar``,
    ``scalars``, ``get``, ``get_one``, ``merge``, ``delete``, ``refresh``, ``flush``,
    ``commit``, ``rollback``, ``close``, ``connection``, ``run_sync``); the plain ones
    (``add``, ``add_all``, ``expunge``, ``in_transaction``, ...) are the session's own.
    ``sync_session`` is the wrapped session, as on ``AsyncSession``.
    """

    __slots__ = ("sync_session",)

    def __init__(self, sync_session: Session) -> None:
        self.sync_session = sync_session

    execute = _awaited("execute")
    scalar = _awaited("scalar")
    scalars = _awaited("scalars")
    get = _awaited("get")
    get_one = _awaited("get_one")
    merge = _awaited("merge")
    delete = _awaited("delete")
    refresh = _awaited("refresh")
    flush = _awaited("flush")
    commit = _awaited("commit")
    rollback = _awaited("rollback")
    close = _awaited("close")
    invalidate = _awaited("invalidate")
    reset = _awaited("reset")
    connection = _awaited("connection")

    def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Ready[T]:
        """``await session.run_sync(fn, ...)``: ``fn(sync_session, ...)``."""
        return Ready(fn(self.sync_session, *args, **kwargs))

    def begin(self) -> _TransactionContext:
        """``async with session.begin():`` commits at the end, rolls back on an error."""
        return _TransactionContext(self.sync_session.begin())

    def begin_nested(self) -> _TransactionContext:
        """``async with session.begin_nested():`` a SAVEPOINT."""
        return _TransactionContext(self.sync_session.begin_nested())

    async def __aenter__(self) -> AwaitableSession:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.sync_session.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sync_session, name)

    def __contains__(self, instance: object) -> bool:
        return instance in self.sync_session

    def __iter__(self) -> Any:
        return iter(self.sync_session)

    def __repr__(self) -> str:
        return f"<AwaitableSession over {self.sync_session!r}>"


def facade_of(session: Session) -> AwaitableSession:
    """The one facade of ``session`` (``s() is s()`` holds for the facade too)."""
    facade = session.info.get(_FACADE_KEY)
    if facade is None:
        facade = session.info[_FACADE_KEY] = AwaitableSession(session)
    return facade


class AwaitableScopedSession:
    """Backendpy's scoped session: ``db_session()`` gives the current scope's session.

    Called from an ``async def`` function it returns the ``AwaitableSession`` facade; from
    a plain ``def`` (a sync handler, a middleware or validator, a script) the plain
    ``Session``, even when that function runs inside a coroutine, so sync code keeps
    SQLAlchemy's synchronous API. ``remove()`` closes and forgets the
    scope's session and may be awaited or called plainly. Session methods called on the
    scoped object itself (``await db_session.execute(...)``) act on the current scope's
    session, as with SQLAlchemy's ``async_scoped_session``.

    ``scoped`` is a SQLAlchemy ``scoped_session``, or a callable returning one (the
    request session of whichever Flask app is current).
    """

    def __init__(self, scoped: Any) -> None:
        self._scoped = scoped

    @property
    def scoped(self) -> Any:
        """The synchronous ``scoped_session`` behind this object."""
        scoped = self._scoped
        return scoped if hasattr(scoped, "registry") else scoped()

    @property
    def registry(self) -> Any:
        return self.scoped.registry

    def __call__(self) -> Any:
        return self._for_caller(_caller_is_async(1))

    def _for_caller(self, is_async: bool) -> Any:
        session = self.scoped()
        return facade_of(session) if is_async else session

    def remove(self) -> Ready[None]:
        """Close the current scope's session and forget it (awaitable or plain)."""
        try:
            scoped = self.scoped
        except RuntimeError:  # no application context: there is no request session left
            return Ready(None)
        scoped.remove()
        return Ready(None)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._for_caller(_caller_is_async(1)), name)

    def __repr__(self) -> str:
        return f"<AwaitableScopedSession over {self._scoped!r}>"


#: Code flags of a function whose body may ``await``.
_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _caller_is_async(depth: int) -> bool:
    """True when the function ``depth`` frames above our caller is ``async def``.

    Whether a session is awaited is a property of the code asking for it: an ``async def``
    handler awaits it, a plain ``def`` helper (a middleware, a validator) does not, even
    when it runs inside a coroutine. Without frame introspection, the running loop decides.
    """
    frame = inspect.currentframe()
    try:
        for _ in range(depth + 1):
            frame = frame.f_back if frame is not None else None
        if frame is None:
            return _async.in_async_context()
        return bool(frame.f_code.co_flags & _ASYNC_CODE)
    finally:
        del frame


def awaitable_dispose(engine: Any) -> Any:
    """Make ``engine.dispose()`` awaitable too (``await engine.dispose()``), on this engine only.

    The engine stays a real ``sqlalchemy.Engine`` (``inspect``, ``create_all(engine)``,
    ``sessionmaker(bind=engine)`` keep working); only its ``dispose`` now returns a finished
    awaitable after disposing, which plain callers simply ignore.
    """
    sync_dispose = engine.dispose

    def dispose(close: bool = True) -> Ready[None]:
        sync_dispose(close=close)
        return Ready(None)

    dispose.__doc__ = "Dispose of the connection pool; may be awaited (``await engine.dispose()``)."
    engine.dispose = dispose
    return engine
