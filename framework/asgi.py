"""Serving the WSGI application through ASGI, so ``uvicorn wsgi:asgi_app`` runs the project.

``to_asgi(app)`` wraps the framework's Flask application (or any WSGI callable) in an ASGI 3
application:

- every WSGI call runs on a bounded pool of threads that belongs to the adapter, never on the
  event loop, so a blocking handler cannot stall the server;
- at most ``queue_size`` requests wait for a thread: the next one is answered 503 (code 1009,
  with ``Retry-After``) at once, and so is one that waited ``queue_timeout`` seconds, so
  handlers that call their own server get answers instead of deadlocking it;
- a request's body is read only once a thread has taken the request (a waiting request holds
  no more than what the server had already received), within ``body_timeout`` seconds
  (else 408); a request whose client has gone while it waited is dropped unrun;
- a response whose length is known and at most ``buffer_limit`` bytes comes back from its
  thread in one hop; any other response is streamed chunk by chunk through a bounded queue,
  so a slow client holds its producing thread back instead of filling memory;
- a request body over ``MAX_CONTENT_LENGTH`` is answered 413 without being read further;
- the lifespan protocol fires the framework's ``startup`` and ``shutdown`` events;
- a client that goes away mid-response stops the stream and the WSGI iterable is closed, so
  its ``close()`` (and the framework's ``request_end``) still run;
- when the project trusts no proxy (``[networking] trusted_proxies = 0``), a scheme or client
  address the server took from the request's own ``X-Forwarded-*`` headers is undone.

Threads are daemons: a handler stuck for ever does not keep the process from exiting once
the server gives up on it (uvicorn's ``--timeout-graceful-shutdown``).
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from itertools import chain
from types import TracebackType
from typing import IO, Any

from asgiref.sync import sync_to_async
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from werkzeug.wsgi import FileWrapper

from . import _async
from . import request_id as _request_id
from ._asgi_pool import WorkerPool
from ._asgi_wake import Wake, wake_for
from .config import ImproperlyConfigured
from .error import BODY_TOO_LARGE, REQUEST_ERROR, SERVER_ERROR, SERVICE_UNAVAILABLE, Error

__all__ = [
    "to_asgi",
    "AsgiAdapter",
    "build_environ",
    "DEFAULT_THREADS",
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_QUEUE_TIMEOUT",
    "DEFAULT_BODY_TIMEOUT",
    "FILE_BLOCK",
]

log = logging.getLogger("framework.asgi")

#: Threads per adapter when neither ``threads=`` nor the configuration says.
DEFAULT_THREADS = 8
#: Requests that may wait for a thread; the next one is answered 503.
DEFAULT_QUEUE_SIZE = 64
#: Seconds a request may wait for a thread before it is answered 503.
DEFAULT_QUEUE_TIMEOUT = 10.0
#: Seconds a thread waits for the rest of a request's body before answering 408.
DEFAULT_BODY_TIMEOUT = 30.0
#: ``Retry-After`` seconds sent with the 503.
RETRY_AFTER = 1

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

#: The smallest block ``wsgi.file_wrapper`` reads a file in: one hop to the loop per block.
FILE_BLOCK = 64 * 1024

#: Put on a stream's queue when the client has gone.
_GONE = object()

# What became of a request (``_WsgiCall.outcome``), set by whoever claims it.
_RAN = 0  # a thread took it: status/headers/body (or error) are set
_EXPIRED = 1  # it waited queue_timeout seconds for a thread: answer 503
_DROPPED = 2  # nothing to send: the client left, or the answer (413) was already sent
_BODY_TIMEOUT = 3  # the body did not arrive within body_timeout: answer 408


def to_asgi(
    app: WSGIApp,
    *,
    threads: int | None = None,
    queue_size: int | None = None,
    queue_timeout: float | None = None,
    body_timeout: float | None = None,
) -> AsgiAdapter:
    """An ASGI 3 application serving the WSGI ``app`` on ``threads`` threads of its own.

    Each setting left out comes from the project's ``[asgi]`` section (``threads``,
    ``queue_size``, ``queue_timeout``, ``body_timeout``; ``threads`` also from ``[flask]
    asgi_threads``), else ``DEFAULT_THREADS``, ``DEFAULT_QUEUE_SIZE``,
    ``DEFAULT_QUEUE_TIMEOUT`` and ``DEFAULT_BODY_TIMEOUT``.
    """
    return AsgiAdapter(
        app, threads=threads, queue_size=queue_size, queue_timeout=queue_timeout, body_timeout=body_timeout
    )


def _section(app: Any) -> dict[str, Any]:
    """The project's ``[asgi]`` configuration, when ``app`` is a framework application."""
    extensions = getattr(app, "extensions", None) or {}
    config = getattr(extensions.get("framework"), "config", None) or {}
    section = config.get("asgi") if isinstance(config, dict) else None
    return dict(section) if isinstance(section, dict) else {}


def _trusts_proxies(app: Any) -> bool:
    """Whether ``app`` is a framework application whose ``[networking] trusted_proxies`` is
    above 0; True for any other WSGI application (its proxy policy is not ours to judge)."""
    extensions = getattr(app, "extensions", None) or {}
    config = getattr(extensions.get("framework"), "config", None)
    if not isinstance(config, dict):
        return True
    try:
        return int((config.get("networking") or {}).get("trusted_proxies") or 0) > 0
    except (TypeError, ValueError):
        return True  # the framework refuses the value at start-up itself


def _setting(given: Any, section: dict[str, Any], key: str, fallback: Any, kind: type, minimum: float) -> Any:
    raw = given if given is not None else section.get(key)
    if raw is None or raw == "":
        return fallback
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or value < minimum:
        raise ImproperlyConfigured(f"[asgi] {key} must be a number of at least {minimum}, got {raw!r}")
    return value


class AsgiAdapter:
    """The ASGI application ``to_asgi`` returns; settings are read once, here."""

    #: Responses of known length up to this many bytes are collected in the WSGI thread and
    #: handed over whole; longer or unsized ones are streamed.
    buffer_limit = 64 * 1024
    #: Chunks a streamed response may have in flight between its thread and the loop.
    chunk_slots = 8
    #: A request body over this many bytes is kept in a temporary file rather than memory.
    spool_limit = 1024 * 1024
    pool_class = WorkerPool

    def __init__(
        self,
        app: WSGIApp,
        *,
        threads: int | None = None,
        queue_size: int | None = None,
        queue_timeout: float | None = None,
        body_timeout: float | None = None,
    ) -> None:
        self.app = app
        config = getattr(app, "config", None) or {}
        section = _section(app)
        if threads is None and section.get("threads") in (None, ""):
            threads = config.get("ASGI_THREADS") or None
        try:
            self.threads: int = _setting(threads, section, "threads", DEFAULT_THREADS, int, 1)
        except ImproperlyConfigured:
            raise ValueError(f"to_asgi needs at least one thread, not {threads!r}") from None
        #: Requests that may wait for a thread (0: none wait, all threads busy answers 503).
        self.queue_size: int = _setting(queue_size, section, "queue_size", DEFAULT_QUEUE_SIZE, int, 0)
        self.queue_timeout: float = _setting(
            queue_timeout, section, "queue_timeout", DEFAULT_QUEUE_TIMEOUT, float, 0
        )
        self.body_timeout: float = _setting(
            body_timeout, section, "body_timeout", DEFAULT_BODY_TIMEOUT, float, 0
        )
        limit = config.get("MAX_CONTENT_LENGTH")
        self.max_body: int | None = int(limit) if limit is not None else None
        #: False when the project trusts no proxy: then a server's own X-Forwarded-* rewrite
        #: (uvicorn applies them from 127.0.0.1 by default) is undone where it shows.
        self.trusts_proxies = _trusts_proxies(app)
        self._warned_rewrite = False
        self._warned_busy = float("-inf")
        #: The wake-up of the loop the adapter served last (a server runs one loop).
        self._wake: Wake | None = None
        self.pool = self.pool_class(self.threads, on_exit=_async.close_thread_loop, backlog=self.queue_size)
        from .metrics import asgi_observer

        #: Keeps the queue gauges when the project has ``[metrics] path`` (else None).
        self._observer = asgi_observer(app)
        retry = {"Retry-After": str(RETRY_AFTER)}
        self._answers = {
            "busy": _envelope(app, SERVICE_UNAVAILABLE, headers=retry),
            "server_error": _envelope(app, SERVER_ERROR),
            "too_large": _envelope(app, BODY_TOO_LARGE, close=True),
            "body_timeout": _envelope(app, REQUEST_ERROR, status=408, close=True),
        }

    async def _other(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        """Every scope but HTTP: lifespan, and websocket (refused)."""
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            # Not served: refuse the handshake (the server answers 403).
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1000, "reason": ""})
        else:
            raise ValueError(f"unsupported ASGI scope type {kind!r}")

    # ------------------------------------------------------------------- HTTP
    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        # HTTP is served here, not in a method of its own: one coroutine less per request
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        environ = build_environ(scope)
        # The request id is chosen where the adapter first needs it (its own answers and
        # log lines, ``_bind``), else by the WSGI call's middleware: in the environ, both
        # see the same one.
        if not self.trusts_proxies and (
            "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_FOR" in environ
        ):
            _bind(environ)
            self._undo_proxy_rewrite(environ)
        limit = self.max_body
        if limit is not None:
            declared = environ.get("CONTENT_LENGTH")
            if declared and declared.isdigit() and int(declared) > limit:
                await _answer(send, self._answers["too_large"], _bind(environ))
                return
        # Only what the server already holds: the rest of a body is read by the thread.
        message: Any = await receive()
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        complete = not message.get("more_body", False)
        if complete:
            if limit is not None and len(chunk) > limit:
                await _answer(send, self._answers["too_large"], _bind(environ))
                return
            environ["wsgi.input"] = io.BytesIO(chunk)
        loop = asyncio.get_running_loop()
        wake = self._wake
        if wake is None or wake.loop_ref() is not loop:
            wake = self._wake = wake_for(loop)
        call = _WsgiCall(self.app, environ, loop, wake, self.buffer_limit, self.chunk_slots)
        if not complete:
            call.body_reader = self._body_reader(chunk, receive, send, _bind(environ))
            call.body_timeout = self.body_timeout
        pool = self.pool
        observer = self._observer
        if observer is None:
            submitted = pool.submit(call.run)
        else:
            observer.queued()
            submitted = pool.submit(observer.wrap(call.run))
            if not submitted:
                observer.refused()
        if not submitted:
            request_id = _bind(environ)
            self._warn_busy("%d requests wait for a thread: answering 503", pool.waiting)
            call._drop_reader()
            await _answer(send, self._answers["busy"], request_id)
            return
        timer = watcher = None
        if pool.busy > pool.size:  # no thread is free: this request waits
            timer = loop.call_later(self.queue_timeout, call.expire)
            if complete:  # nothing left to read: receive() now only reports a disconnect
                watcher = asyncio.create_task(_watch_disconnect(call, receive))
        try:
            await call.ready
        except asyncio.CancelledError:
            call.cancel()
            if watcher is not None:
                watcher.cancel()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        outcome = call.outcome
        if outcome != _RAN:
            if watcher is not None:
                watcher.cancel()
            request_id = _bind(environ)
            if outcome == _EXPIRED:
                self._warn_busy("a request waited %ss for a thread: answering 503", self.queue_timeout)
                await _answer(send, self._answers["busy"], request_id)
            elif outcome == _BODY_TIMEOUT:
                await _answer(send, self._answers["body_timeout"], request_id)
            return
        if call.error is not None:
            if watcher is not None:
                watcher.cancel()
            request_id = _bind(environ)
            log.error("error in the WSGI application", exc_info=call.error)
            await _answer(send, self._answers["server_error"], request_id)
            return
        start: Any = {"type": "http.response.start", "status": call.status, "headers": call.headers}
        if call.streaming:
            await self._stream(call, start, receive, send, watcher)
            return
        if watcher is not None:
            watcher.cancel()
        try:
            await send(start)
            await send({"type": "http.response.body", "body": call.body, "more_body": False})
        except OSError:  # the client has gone (servers following ASGI 2.4 raise this)
            pass

    def _warn_busy(self, message: str, value: Any) -> None:
        """Log an overload warning, at most once a second (a flood must not flood the log)."""
        now = time.monotonic()
        if now - self._warned_busy >= 1.0:
            self._warned_busy = now
            log.warning(message, value)

    def _undo_proxy_rewrite(self, environ: dict[str, Any]) -> None:
        """With no trusted proxy, a request's own X-Forwarded-* must not decide its scheme
        or address: undo what the server took from them (the real values are lost, so the
        scheme falls back to http and the address is dropped)."""
        rewritten = False
        proto = environ.get("HTTP_X_FORWARDED_PROTO", "").rpartition(",")[2].strip().lower()
        if proto and environ["wsgi.url_scheme"] == proto and proto == "https":
            environ["wsgi.url_scheme"] = "http"
            rewritten = True
        if "HTTP_X_FORWARDED_FOR" in environ and environ.get("REMOTE_PORT") == "0":
            # A real peer never has port 0: the server took the address from the header.
            del environ["REMOTE_ADDR"], environ["REMOTE_PORT"]
            rewritten = True
        if rewritten and not self._warned_rewrite:
            self._warned_rewrite = True
            log.warning(
                "the server applies X-Forwarded-* headers but [networking] "
                "trusted_proxies is 0: they are ignored (run uvicorn with "
                "--no-proxy-headers, see docs/deployment.md)"
            )

    async def _body_reader(
        self, chunk: bytes, receive: ASGIReceiveCallable, send: ASGISendCallable, request_id: str
    ) -> IO[bytes] | None:
        """The rest of the body after ``chunk``, as a file; None once 413 is answered or the
        client left. Run on the loop for the thread that took the request."""
        limit = self.max_body
        # handed to the caller as the request body (closed here only on failure)
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=self.spool_limit)  # noqa: SIM115
        size = 0
        more = True
        try:
            while True:
                size += len(chunk)
                if limit is not None and size > limit:
                    spool.close()
                    await _answer(send, self._answers["too_large"], request_id)
                    return None
                spool.write(chunk)
                if not more:
                    break
                message: Any = await receive()
                if message["type"] != "http.request":
                    spool.close()
                    return None
                chunk = message.get("body", b"")
                more = message.get("more_body", False)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    async def _stream(
        self,
        call: _WsgiCall,
        start: Any,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        watcher: asyncio.Task[None] | None,
    ) -> None:
        if watcher is None or watcher.done():
            watcher = asyncio.create_task(_watch_disconnect(call, receive))
        queue = call.queue
        assert queue is not None and call.slots is not None
        try:
            await send(start)
            while True:
                item = await queue.get()
                if item is _GONE:
                    return
                if isinstance(item, BaseException):
                    _bind(call.environ)
                    log.error("error in the WSGI application while streaming", exc_info=item)
                    return  # the response stays incomplete: the server drops the connection
                chunk, more = item
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    return
                call.slots.release()
        except OSError:
            pass
        finally:
            call.abandon()
            watcher.cancel()

    # --------------------------------------------------------------- lifespan
    async def _lifespan(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await sync_to_async(self._fire, thread_sensitive=False)("startup")
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await sync_to_async(self._fire, thread_sensitive=False)("shutdown")
                except Exception as exc:
                    log.exception("shutdown failed")
                    await send(
                        {"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"}
                    )
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                finally:
                    self.pool.shutdown(timeout=0)
                return

    def _fire(self, event: str) -> None:
        """Call the framework extension's ``startup()`` or ``shutdown()``, if it is there."""
        extensions = getattr(self.app, "extensions", None) or {}
        framework = extensions.get("framework")
        method = getattr(framework, event, None)
        try:
            if method is not None:
                method()
        finally:
            _async.close_thread_loop()  # this thread is borrowed: leave no shim loop behind


class _WsgiCall:
    """One request's WSGI call: runs in a pool thread, reports to the loop.

    Whoever takes ``claim`` first decides the request's fate: the thread that runs it, the
    queue deadline (``expire``), a disconnect or a cancellation while it waited. The loop
    awaits ``ready``, then reads ``outcome``; when the call ran, ``status``/``headers`` are
    set and either ``body`` holds the whole response, ``streaming`` says chunks follow on
    ``queue``, or ``error`` is set. ``slots`` bounds the chunks in flight; ``gone`` (set by
    the loop) stops the producer. ``body_reader`` is the coroutine reading the rest of the
    body, when the server had not received it all.
    """

    __slots__ = (
        "app",
        "environ",
        "loop",
        "wake",
        "buffer_limit",
        "queue_size",
        "ready",
        "status",
        "headers",
        "length",
        "body",
        "error",
        "streaming",
        "gone",
        "queue",
        "slots",
        "claim",
        "outcome",
        "body_reader",
        "body_timeout",
    )

    def __init__(
        self,
        app: WSGIApp,
        environ: dict[str, Any],
        loop: asyncio.AbstractEventLoop,
        wake: Wake,
        buffer_limit: int,
        queue_size: int,
    ) -> None:
        self.app = app
        self.environ = environ
        self.loop = loop
        self.wake = wake
        self.buffer_limit = buffer_limit
        self.queue_size = queue_size
        self.ready: asyncio.Future[None] = loop.create_future()
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.length: int | None = None
        self.body = b""
        self.error: BaseException | None = None
        self.streaming = False
        self.gone = False
        self.queue: asyncio.Queue[Any] | None = None
        self.slots: threading.Semaphore | None = None
        self.claim = threading.Lock()
        self.outcome = _RAN
        self.body_reader: Coroutine[Any, Any, IO[bytes] | None] | None = None
        self.body_timeout: float | None = None

    # ---------------------------------------------------------- in the thread
    def run(self) -> None:
        if not self.claim.acquire(blocking=False):
            return  # it expired, or its client left, while it waited
        if self.body_reader is not None and not self._read_body():
            self._settle()
            return
        iterable: Iterable[bytes] | None = None
        try:
            iterable = self.app(self.environ, self.start_response)
            self._respond(iter(iterable))
        except BaseException as exc:
            self._fail(exc)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("error closing the WSGI response")
            self.environ["wsgi.input"].close()

    def _read_body(self) -> bool:
        """Read the rest of the body on the loop, waiting here; False when not to run."""
        reader, self.body_reader = self.body_reader, None
        assert reader is not None
        try:
            future = asyncio.run_coroutine_threadsafe(reader, self.loop)
        except RuntimeError:  # the loop has closed
            reader.close()
            self.outcome = _DROPPED
            return False
        try:
            body = future.result(self.body_timeout)
        except TimeoutError:
            future.cancel()
            self.outcome = _BODY_TIMEOUT
            return False
        except BaseException:  # cancelled, or the client's connection failed
            self.outcome = _DROPPED
            return False
        if body is None:
            self.outcome = _DROPPED
            return False
        self.environ["wsgi.input"] = body
        return True

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.streaming:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError("start_response called twice without exc_info")
        length = None
        encoded = []
        names = _NAME_BYTES
        for name, value in headers:
            raw = names.get(name)
            if raw is None:
                raw = _name_bytes(name)
            if raw == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    pass
            encoded.append((raw, value.encode("latin-1")))
        self.status = int(status[:3])
        self.headers = encoded
        self.length = length
        return self.write

    def write(self, data: bytes) -> None:
        """The legacy ``write`` callable: turns the response into a stream."""
        if self.status is None:
            raise RuntimeError("write() called before start_response")
        if not self.streaming:
            self._begin_stream()
        if data and not self._push((bytes(data), True)):
            raise OSError("the client has disconnected")

    def _respond(self, chunks: Iterator[bytes]) -> None:
        first = b""
        if self.status is None:  # start_response may wait for the first chunk
            for first in chunks:
                if first:
                    break
            if self.status is None:
                raise RuntimeError("the WSGI application did not call start_response")
        status = self.status
        length = self.length
        if status < 200 or status in (204, 304) or self.environ["REQUEST_METHOD"] == "HEAD":
            length = 0
        if not self.streaming and length is not None and length <= self.buffer_limit:
            parts = [first]
            size = len(first)
            while size < length:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                parts.append(chunk)
                size += len(chunk)
            body = b"".join(parts)
            self.body = body[:length] if size > length else body
            self._settle()
            return
        if not self.streaming:
            self._begin_stream()
        sent = 0
        for chunk in chain((first,), chunks):
            if not chunk:
                continue
            if length is not None and sent + len(chunk) >= length:
                self._push((bytes(chunk[: length - sent]), False))
                return
            sent += len(chunk)
            if not self._push((bytes(chunk), True)):
                return
        self._push((b"", False))

    def _begin_stream(self) -> None:
        self.queue = asyncio.Queue()
        self.slots = threading.Semaphore(self.queue_size)
        self.streaming = True
        self._settle()

    def _push(self, item: Any) -> bool:
        """Queue ``item`` for the loop, waiting for a free slot; False once the client left."""
        assert self.slots is not None and self.queue is not None
        if self.gone:
            return False
        self.slots.acquire()
        if self.gone:
            return False
        try:
            self.wake.call(self.queue.put_nowait, item)
        except RuntimeError:  # the loop has closed
            self.gone = True
            return False
        return True

    def _settle(self) -> None:
        try:
            self.wake.call(_resolve, self.ready)
        except RuntimeError:
            self.gone = True

    def _fail(self, exc: BaseException) -> None:
        if not self.streaming:
            self.error = exc
            self._settle()
        elif not self.gone and self.queue is not None:
            try:
                self.wake.call(self.queue.put_nowait, exc)
            except RuntimeError:
                pass

    # ------------------------------------------------------------ on the loop
    def expire(self) -> None:
        """The queue deadline: answer 503 unless a thread has taken the request."""
        if self.claim.acquire(blocking=False):
            self.outcome = _EXPIRED
            self._drop_reader()
            _resolve(self.ready)

    def disconnected(self) -> None:
        """The client has gone: drop the request if it still waits, else stop its stream."""
        if self.claim.acquire(blocking=False):
            self.outcome = _DROPPED
            self._drop_reader()
            _resolve(self.ready)
        else:
            self.abandon()

    def cancel(self) -> None:
        """The request's task is cancelled (the server is stopping)."""
        if self.claim.acquire(blocking=False):
            self.outcome = _DROPPED
            self._drop_reader()
        self.abandon()

    def _drop_reader(self) -> None:
        if self.body_reader is not None:
            self.body_reader.close()
            self.body_reader = None

    def abandon(self) -> None:
        """The response is over (finished, failed, cancelled or the client left)."""
        if self.gone:
            return
        self.gone = True
        if self.queue is not None:
            self.queue.put_nowait(_GONE)
        if self.slots is not None:
            self.slots.release(self.queue_size + 1)


#: Response header name -> its lower-case bytes, filled as names are seen (bounded).
_NAME_BYTES: dict[str, bytes] = {}


def _name_bytes(name: str) -> bytes:
    raw = name.lower().encode("latin-1")
    if len(_NAME_BYTES) < _HEADER_KEYS_MAX:
        _NAME_BYTES[name] = raw
    return raw


def _bind(environ: dict[str, Any]) -> str:
    """The request's id for an answer or a log line of the adapter's own, made current; the
    WSGI call's when it has run (its middleware put it in the environ)."""
    request_id = _request_id.bind(environ)
    _request_id.set_current(request_id)
    return request_id


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _watch_disconnect(call: _WsgiCall, receive: ASGIReceiveCallable) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            call.disconnected()
            return


#: An answer the adapter sends itself: status, headers, body.
_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def _envelope(
    app: Any,
    code: int,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    close: bool = False,
) -> _Answer:
    """The framework's error envelope for ``code`` (the app's own message when it has one),
    made once through ``framework.error.Error``."""
    app_context = getattr(app, "app_context", None)
    framework = (getattr(app, "extensions", None) or {}).get("framework")
    if callable(app_context) and hasattr(framework, "error_codes"):
        with app_context():
            error = Error(code, headers=headers)
    else:
        error = Error(code, headers=headers)
    body = error.get_data()
    encoded = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers.items()
    ]
    if close:
        encoded.append((b"connection", b"close"))
    return status or error.status_code, encoded, body


async def _answer(send: ASGISendCallable, answer: _Answer, request_id: str | None = None) -> None:
    """Send one of the adapter's own answers (the client may have gone: nothing to do),
    with the request's id."""
    status, headers, body = answer
    if request_id is not None:
        headers = [*headers, (b"x-request-id", request_id.encode("latin-1"))]
    try:
        start: Any = {"type": "http.response.start", "status": status, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})
    except OSError:
        pass


# ------------------------------------------------------------------ environ
#: Request header name -> environ key (None: dropped), filled as names are seen.
_HEADER_KEYS: dict[bytes, str | None] = {}
_HEADER_KEYS_MAX = 512


def _header_key(raw: bytes) -> str | None:
    key = _HEADER_KEYS.get(raw)
    if key is None and raw not in _HEADER_KEYS:
        name = raw.decode("latin-1")
        if "_" in name:
            # As gunicorn does: X_Forwarded_For must not pass for X-Forwarded-For.
            key = None
        else:
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
        if len(_HEADER_KEYS) < _HEADER_KEYS_MAX:
            _HEADER_KEYS[raw] = key
    return key


def _wsgi_str(text: str) -> str:
    """A path as WSGI carries it: its UTF-8 bytes read as latin-1."""
    return text if text.isascii() else text.encode("utf-8").decode("latin-1")


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _file_wrapper(file: IO[bytes], block_size: int = 8192) -> FileWrapper:
    """``wsgi.file_wrapper``: Werkzeug's own, reading blocks of at least ``FILE_BLOCK``."""
    return FileWrapper(file, max(block_size, FILE_BLOCK))


def build_environ(scope: Any) -> dict[str, Any]:
    """The WSGI environ for an ASGI HTTP ``scope``; ``wsgi.input`` is set by the caller.

    ``SCRIPT_NAME`` is the scope's ``root_path``, and ``PATH_INFO`` the ``path`` with that
    prefix taken off when present (servers differ on whether ``path`` includes it).
    """
    # the keys that never change are copied from a template, and header names are looked
    # up in a cache of their environ keys (one dict lookup for a header seen before)
    environ = _ENVIRON_TEMPLATE.copy()
    environ["asgi.scope"] = scope
    environ["wsgi.errors"] = sys.stderr  # read per call: it may be replaced at run time
    environ["REQUEST_METHOD"] = scope["method"]
    path = scope["path"]
    script_name = scope.get("root_path")
    if script_name:
        script_name = script_name.rstrip("/")
        if script_name and (path == script_name or path.startswith(script_name + "/")):
            path = path[len(script_name) :]
        environ["SCRIPT_NAME"] = script_name if script_name.isascii() else _wsgi_str(script_name)
    environ["PATH_INFO"] = path if path.isascii() else _wsgi_str(path)
    query = scope.get("query_string", b"")
    query = query.decode("latin-1") if query else ""
    environ["QUERY_STRING"] = query
    version = scope.get("http_version", "1.1")
    environ["SERVER_PROTOCOL"] = _PROTOCOLS.get(version) or "HTTP/" + version
    scheme = scope.get("scheme") or "http"
    if scheme != "http":
        environ["wsgi.url_scheme"] = scheme
    raw_path = scope.get("raw_path")
    if raw_path is not None:
        uri = raw_path.decode("latin-1")
        environ["REQUEST_URI"] = environ["RAW_URI"] = f"{uri}?{query}" if query else uri
    keys = _HEADER_KEYS
    for raw_name, raw_value in scope.get("headers", ()):
        key = keys.get(raw_name)
        if key is None:
            if raw_name in keys:  # a name dropped on purpose
                continue
            key = _header_key(raw_name)
            if key is None:
                continue
        value = raw_value.decode("latin-1")
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    server = scope.get("server")
    if server:
        environ["SERVER_NAME"] = str(server[0])
        environ["SERVER_PORT"] = str(server[1]) if server[1] is not None else "0"
    else:
        host = environ.get("HTTP_HOST", "")
        name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
        environ["SERVER_NAME"] = name or "localhost"
        environ["SERVER_PORT"] = port or _DEFAULT_PORTS.get(scheme, "80")
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = str(client[0])
        environ["REMOTE_PORT"] = str(client[1])
    return environ


#: What every environ starts from (``build_environ`` copies it).
_ENVIRON_TEMPLATE: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "",
    "QUERY_STRING": "",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
    "wsgi.file_wrapper": _file_wrapper,
}
_PROTOCOLS = {v: "HTTP/" + v for v in ("1.0", "1.1", "2", "3")}
