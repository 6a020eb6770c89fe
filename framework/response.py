"""Typed responses: subclasses of Flask's response class.

Each class fixes a content type and an encoding of its body, as Backendpy's do. All of
them are plain Werkzeug responses, so Flask's ``after_request`` functions, the test client
and any WSGI server handle them as usual.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import functools
import json as _json
import mimetypes
import os
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus as Status
from typing import TYPE_CHECKING, Any

from flask import Response as _FlaskResponse
from flask import current_app, has_app_context, request
from werkzeug.datastructures import Headers as _WerkzeugHeaders
from werkzeug.urls import iri_to_uri
from werkzeug.utils import get_content_type
from werkzeug.wsgi import wrap_file

__all__ = [
    "Response",
    "Text",
    "HTML",
    "JSON",
    "Binary",
    "File",
    "Redirect",
    "Success",
    "Status",
    "ResponseHeaders",
]

#: Headers as a mapping, or as pairs: ``(str, str)`` as in Flask, ``[bytes, bytes]`` as in Backendpy.
Headers = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[list[bytes]] | None


def _text(value: Any) -> Any:
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else value


class ResponseHeaders(_WerkzeugHeaders):
    """Werkzeug's ``Headers`` that also take Backendpy's shape: names and values as bytes
    (``[[b'x-frame-options', b'DENY']]``, decoded as Latin-1, as HTTP defines them),
    ``append([name, value])`` and ``headers += [[name, value], ...]``. Values are still
    checked by Werkzeug (a newline in a value is refused)."""

    if TYPE_CHECKING:
        # Werkzeug's own __init__ runs: it hands ``defaults`` to ``extend``, which unpacks each
        # pair into ``add`` below, so Backendpy's ``[bytes, bytes]`` pairs are taken too.
        # Declared for the type checker only: no extra call per response.
        def __init__(self, defaults: Headers | _WerkzeugHeaders = None) -> None: ...

    def add(self, key: Any, value: Any, /, **kw: Any) -> None:
        super().add(_text(key), _text(value), **kw)

    def set(self, key: Any, value: Any, /, **kw: Any) -> None:
        if key.__class__ is not str:
            key = _text(key)
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("latin-1")
        _WerkzeugHeaders.set(self, key, value, **kw)

    def setdefault(self, key: Any, default: Any) -> Any:
        return super().setdefault(_text(key), _text(default))

    def __setitem__(self, key: Any, value: Any) -> None:
        if key.__class__ is str and value.__class__ is str:
            # what ``set`` comes to for text (Werkzeug's Content-Type and Content-Length of
            # every response): one call less
            _WerkzeugHeaders.set(self, key, value)
        elif key.__class__ is str or isinstance(key, (str, bytes, bytearray)):
            self.set(key, value)  # what Werkzeug does for a name, with bytes taken
        else:  # an index or a slice
            super().__setitem__(key, value)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(_text(key))

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(_text(key))

    def __contains__(self, key: Any) -> bool:
        return super().__contains__(_text(key))

    def append(self, pair: Any) -> None:
        """Backendpy's list API: ``response.headers.append([b'name', b'value'])``."""
        key, value = pair
        self.add(key, value)

    def __iadd__(self, pairs: Any) -> ResponseHeaders:
        self.extend(pairs)
        return self


#: Headers a response computes from its body; kept when a middleware assigns new headers.
_BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding")


class _HeadersSetter:
    """``response.headers = ...`` accepting Backendpy's list of ``[bytes, bytes]`` pairs.

    Only ``__set__`` is defined: reading ``response.headers`` finds the instance's own
    attribute directly (no per-read cost). A later assignment (a middleware replacing the
    headers, as Backendpy's middlewares do with their list) keeps the headers computed from
    the body (``Content-Type``, ``Content-Length``, ``Content-Encoding``) unless it names them.
    """

    def __set__(self, response: Any, value: Any) -> None:
        headers = value if isinstance(value, ResponseHeaders) else ResponseHeaders(value)
        old = response.__dict__.get("headers")
        if old is not None and headers is not old:
            for name in _BODY_HEADERS:
                if name not in headers and name in old:
                    headers[name] = old[name]
        response.__dict__["headers"] = headers

    if TYPE_CHECKING:
        # Reads find the instance's own attribute (no __get__ at run time, see above); this
        # tells the type checker what they find.
        def __get__(self, response: Any, owner: Any = None) -> ResponseHeaders: ...


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


#: What ``json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default)``
#: would build on every call, built once (an encoder keeps no state between calls).
_ENCODER = _json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def dump_json(data: Any) -> str:
    """Serialise ``data`` compactly; dates, UUIDs and decimals become strings."""
    return _ENCODER.encode(data)


class Response(_FlaskResponse):
    """A response with a body, a status, headers and a content type.

    ``compress=True`` gzips the body when the client sends ``Accept-Encoding: gzip``
    (and always adds ``Vary: Accept-Encoding``); streamed bodies are compressed chunk by
    chunk, never buffered.
    """

    default_mimetype = "text/plain"
    headers = _HeadersSetter()

    def __init__(
        self,
        body: Any = None,
        status: int = Status.OK,
        headers: Headers = None,
        content_type: str | None = None,
        compress: bool = False,
    ) -> None:
        if isinstance(headers, ResponseHeaders):
            given = headers
        elif headers:
            given = ResponseHeaders(headers)  # before Werkzeug turns b'..' into "b'..'"
        else:
            # empty headers of the right class at once: Werkzeug would make its own
            # ``Headers()``, which the ``headers`` setter would then copy into these
            given = ResponseHeaders()
            if content_type is None:
                # what Werkzeug would choose, without its "content-type" lookup in the empty
                # headers (which raises and catches a KeyError on every response)
                content_type = _default_content_type(self.default_mimetype)
        super().__init__(self.encode_body(body), status=int(status), headers=given, content_type=content_type)
        self.compress = compress
        if compress:
            self.vary.add("Accept-Encoding")

    def encode_body(self, body: Any) -> Any:
        """Turn the constructor's body into what Werkzeug accepts; subclasses override."""
        return body

    def __call__(self, environ: dict, start_response: Any) -> Iterable[bytes]:
        if (
            self.compress
            and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "").lower()
            and "Content-Encoding" not in self.headers
            and self.status_code not in (204, 304)
        ):
            self._gzip()
        return super().__call__(environ, start_response)

    def _gzip(self) -> None:
        if self.is_streamed:
            self.response = _gzip_stream(self.iter_encoded())
            self.headers.pop("Content-Length", None)
        else:
            compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
            self.set_data(compressor.compress(self.get_data()) + compressor.flush())
        self.headers["Content-Encoding"] = "gzip"


@functools.cache
def _default_content_type(mimetype: str | None) -> str | None:
    """A class's ``default_mimetype`` with its charset, as Werkzeug would build it."""
    return get_content_type(mimetype, "utf-8") if mimetype else None


def _gzip_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        data = compressor.compress(chunk)
        if data:
            yield data
        else:
            # keep the stream moving: flush what we have so a chunk is never held back
            yield compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()


class Text(Response):
    """``text/plain`` body from a ``str``."""

    default_mimetype = "text/plain"


class HTML(Response):
    """``text/html`` body from a ``str``."""

    default_mimetype = "text/html"


class JSON(Response):
    """``application/json`` body from any JSON-serialisable value."""

    default_mimetype = "application/json"

    def encode_body(self, body: Any) -> Any:
        return dump_json(body)


class Binary(Response):
    """``application/octet-stream`` body from bytes or an iterator of bytes.

    An iterator is streamed to the client chunk by chunk and never buffered whole.
    """

    default_mimetype = "application/octet-stream"


class Success(JSON):
    """The success envelope: ``{"status": "success", "data": ...}`` (no ``data`` when None)."""

    def __init__(
        self, data: Any = None, status: int = Status.OK, headers: Headers = None, compress: bool = False
    ) -> None:
        body: dict[str, Any] = {"status": "success"}
        if data is not None:
            body["data"] = data
        super().__init__(body, status=status, headers=headers, compress=compress)


class Redirect(Response):
    """A redirect to ``url``: 307 (method kept), or 308 when ``permanent``.

    The target is encoded as a URI, so CR and LF in it cannot split the response's headers.
    """

    def __init__(self, url: str, permanent: bool = False, headers: Headers = None) -> None:
        status = Status.PERMANENT_REDIRECT if permanent else Status.TEMPORARY_REDIRECT
        super().__init__(None, status=status, headers=headers)
        self.headers["Location"] = iri_to_uri(url.replace("\r", "%0D").replace("\n", "%0A"))


class File(Response):
    """A file from the project's media folder (``[environment] media_path``).

    ``path`` is relative to the media folder; any path that resolves outside it, or that
    does not name a regular file, answers 404. The body is streamed when ``stream`` is
    true. ``partial=True`` honours ``Range`` (206). ``If-None-Match`` and
    ``If-Modified-Since`` give 304 against the file's ETag and modification time, or
    against ``entity_tag`` and ``last_modified`` when given.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        status: int = Status.OK,
        headers: Headers = None,
        stream: bool = True,
        compress: bool = False,
        partial: bool = False,
        last_modified: _dt.datetime | None = None,
        entity_tag: str | None = None,
    ) -> None:
        full = resolve_media_path(path)
        super().__init__(
            None,
            status=status,
            headers=headers,
            content_type=mimetypes.guess_type(full)[0] or "application/octet-stream",
            compress=compress,
        )
        stat = os.stat(full)
        handle = open(full, "rb")  # noqa: SIM115 - streamed: the WSGI server closes it after the body
        environ = request.environ
        if stream:
            self.response = wrap_file(environ, handle)
            self.direct_passthrough = True
        else:
            with handle:
                self.set_data(handle.read())
        self.content_length = stat.st_size
        self.last_modified = last_modified or _dt.datetime.fromtimestamp(int(stat.st_mtime), tz=_dt.UTC)
        self.set_etag(entity_tag or f"{stat.st_mtime_ns:x}-{stat.st_size:x}")
        self.make_conditional(
            environ, accept_ranges=partial, complete_length=stat.st_size if partial else None
        )
        if self.status_code in (304, 412, 416):
            handle.close()  # the body was dropped: nothing will close the file later


def resolve_media_path(path: str | os.PathLike[str]) -> str:
    """The real path of ``path`` inside the media folder; 404 when it escapes or is missing."""
    root = media_root()
    try:
        full = os.path.realpath(os.path.join(root, os.fspath(path)))
        inside = os.path.commonpath([root, full]) == root and os.path.isfile(full)
    except (ValueError, OSError):  # a NUL byte, or a name the OS refuses
        inside = False
    if not inside:
        from .error import NOT_FOUND, Error

        raise Error(NOT_FOUND) from None
    return full


def media_root() -> str:
    """The media folder of the current application."""
    if has_app_context():
        fw = current_app.extensions.get("framework")
        if fw is not None:
            return os.path.realpath(fw.media_path)
        return os.path.realpath(current_app.root_path)
    raise RuntimeError("File responses need an application context")
