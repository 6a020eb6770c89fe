"""The request object handed to every handler.

``Request`` is Flask's request class with Backendpy's attributes added, so the whole
``flask.Request`` API stays reachable on the same object. In extension mode the host's own
request class is kept and extended with the same mixin.
"""

from __future__ import annotations

import json
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from flask import Request as _FlaskRequest
from flask import current_app
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from . import _async
from .drive import Steps, drive_async, drive_sync
from .form_limits import FieldCountingFormParser
from .request_id import bind as bind_request_id

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["Request", "RequestMixin", "Body", "Upload", "backendpy_params"]


def _listify(pairs: MultiDict) -> dict[str, Any]:
    """The data handlers' view of a MultiDict: a key ending in ``[]`` gives every value as a
    list, under the key with and without its ``[]``; any other key its last value."""
    result: dict[str, Any] = {}
    for key, values in pairs.lists():
        if not isinstance(key, str):
            continue  # a multipart part whose name could not be parsed
        if key.endswith("[]"):
            result[key] = result[key[:-2]] = values
        else:
            result[key] = values[-1]
    return result


def backendpy_params(query_string: str) -> dict[str, Any]:
    """``request.params`` as Backendpy builds it (checked against Backendpy 0.2.5a2).

    Blank values are dropped; a key ending in ``[]`` keeps its ``[]`` and gives the list of
    its values; any other key gives its last value. ``query_string`` is the WSGI
    ``QUERY_STRING`` (Latin-1 text of the raw bytes); bytes that are not UTF-8 become U+FFFD
    instead of Backendpy's server error.
    """
    if not query_string:
        return {}
    text = query_string.encode("latin-1", "replace").decode("utf-8", "replace")
    return {key: values if key.endswith("[]") else values[-1] for key, values in parse_qs(text).items()}


def _backendpy_urlencoded(pairs: MultiDict) -> dict[str, Any]:
    """A url-encoded form as Backendpy builds it: blank values dropped; a key sent once
    gives its value, a key sent more than once the list of its values (``[]`` or not)."""
    result: dict[str, Any] = {}
    for key, values in pairs.lists():
        values = [value for value in values if value != ""]
        if values and isinstance(key, str):
            result[key] = values[0] if len(values) == 1 else values
    return result


def _backendpy_multipart(pairs: MultiDict, wrap: Any = None) -> dict[str, Any]:
    """Multipart fields or files as Backendpy builds them: the last part of each name."""
    result: dict[str, Any] = {}
    for key, values in pairs.lists():
        if isinstance(key, str):
            result[key] = values[-1] if wrap is None else wrap(values[-1])
    return result


class Upload(FileStorage):
    """An uploaded file: Werkzeug's ``FileStorage`` that also reads as Backendpy's dict.

    ``upload['content']`` (the bytes), ``upload['file-name']`` and ``upload['content-type']``
    answer as in Backendpy; ``filename``, ``mimetype``, ``stream``, ``read()`` and ``save()``
    as in Flask.
    """

    KEYS = ("content", "file-name", "content-type")

    @classmethod
    def of(cls, storage: FileStorage) -> Upload:
        return cls(
            stream=storage.stream, filename=storage.filename, name=storage.name, headers=storage.headers
        )

    def __getitem__(self, key: str) -> Any:
        if key == "content":
            stream = self.stream
            data = stream.read()
            try:
                stream.seek(0)
            except (OSError, ValueError):
                pass
            return data
        if key == "file-name":
            return self.filename
        if key == "content-type":
            return self.mimetype or "text/plain"  # what Backendpy's MIME parser reports
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self.KEYS else default

    def keys(self) -> tuple[str, ...]:
        return self.KEYS

    def __contains__(self, key: object) -> bool:
        return key in self.KEYS


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259); Python's parser would accept them."""
    raise ValueError(f"{name} is not valid JSON")


#: ``json.loads(raw, parse_constant=_reject_constant)`` builds a decoder (and its scanner)
#: on every call; this one is built once. Decoders keep no state between calls.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _loads(raw: bytes) -> Any:
    """``json.loads(raw, parse_constant=_reject_constant)`` for bytes, with one decoder."""
    return _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))


class Body:
    """The request body in Backendpy's four shapes, each parsed on first access.

    ``json`` is the decoded JSON document (None when the body is not JSON); ``form`` the
    fields and ``files`` the uploads, keyed and valued as Backendpy builds them (a
    url-encoded key sent more than once gives a list; in a multipart body the last part of
    a name wins; keys keep a trailing ``[]``); each upload is an ``Upload``;
    ``content`` the raw bytes. Malformed input raises the 1002 error envelope, never a
    server error. ``lists(kind)`` is the data handlers' view of ``form``/``files``/``params``.

    The request keeps its ``Body`` (``request.body``) and the body refers back to the
    request weakly: a strong reference both ways would make every request that reads its
    body a reference cycle, which only the cyclic garbage collector frees, holding the
    request, its environ and the server's input objects until a collection and making the
    collections themselves more frequent (about 40k instructions per served POST). A body
    is read while its request lives (its handler, middlewares and hooks).
    """

    __slots__ = ("_request", "_json", "_form", "_files")
    _UNSET: Any = object()

    def __init__(self, request: _FlaskRequest) -> None:
        self._request: Any = weakref.proxy(request)
        self._json = self._form = self._files = self._UNSET

    def __getitem__(self, key: str) -> Any:
        if key not in ("json", "form", "files", "content"):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    @property
    def content(self) -> bytes:
        return self._request.get_data(cache=True)

    @property
    def json(self) -> Any:
        if self._json is self._UNSET:
            self._json = None
            if self._request.is_json:
                raw = self._request.get_data(cache=True)
                if raw:
                    try:
                        self._json = _loads(raw)
                    except (ValueError, RecursionError):
                        from .error import INVALID_DATA, Error

                        raise Error(INVALID_DATA, data={"body": ["Malformed JSON"]}) from None
        return self._json

    @property
    def form(self) -> dict[str, Any]:
        if self._form is self._UNSET:
            pairs = self._parsed_form()
            if self._request.mimetype == "multipart/form-data":
                self._form = _backendpy_multipart(pairs)
            else:
                self._form = _backendpy_urlencoded(pairs)
        return self._form

    @property
    def files(self) -> dict[str, Any]:
        if self._files is self._UNSET:
            self._parsed_form()
            self._files = _backendpy_multipart(self._request.files, Upload.of)
        return self._files

    def lists(self, kind: str) -> dict[str, Any]:
        """``form``, ``files`` or ``params`` for data handlers: a key ending in ``[]`` gives
        all its values (under ``name[]`` and ``name``), any other key its last value."""
        request = self._request
        if kind == "params":
            return _listify(request.args)
        if kind == "files":
            self._parsed_form()
            return _listify(
                MultiDict([(key, Upload.of(value)) for key, value in request.files.items(multi=True)])
            )
        return _listify(self._parsed_form())

    def _parsed_form(self) -> MultiDict:
        request = self._request
        mimetype = request.mimetype
        if mimetype == "multipart/form-data" and "boundary" not in request.mimetype_params:
            from .error import INVALID_DATA, Error

            raise Error(INVALID_DATA, data={"body": ["Multipart body without a boundary"]})
        try:
            return request.form
        except ValueError:
            from .error import INVALID_DATA, Error

            raise Error(INVALID_DATA, data={"body": ["Malformed form body"]}) from None


class _MaxLengthStream(LimitedStream):
    """A streamed (chunked) body capped at ``MAX_CONTENT_LENGTH`` that answers 413 when the
    client sends more, where Werkzeug's own stream would silently stop at the cap."""

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


class RequestMixin:
    """Backendpy's request attributes, on top of any ``flask.Request`` class."""

    #: Caps url-encoded fields as Werkzeug caps multipart parts (``MAX_FORM_PARTS``).
    form_data_parser_class: type[FormDataParser] = FieldCountingFormParser

    @cached_property
    def stream(self) -> Any:
        """The body stream; a streamed body longer than the limit raises 413, not truncates."""
        environ = self.environ  # type: ignore[attr-defined]
        # the limit is looked up (through Flask's app proxy) only for a streamed body
        if (
            "wsgi.input_terminated" in environ and not environ.get("CONTENT_LENGTH") and not self.shallow  # type: ignore[attr-defined]
        ):
            limit = self.max_content_length  # type: ignore[attr-defined]
            if limit is not None:
                return _MaxLengthStream(environ["wsgi.input"], limit, is_max=True)
        return super().stream  # type: ignore[misc]

    #: The route's data handler class, set by the dispatcher before the handler runs.
    data_handler: Any = None

    @property
    def app(self) -> Framework:
        """The project: the ``Framework`` extension of the current Flask app."""
        return current_app.extensions["framework"]

    @property
    def context(self) -> dict[str, Any]:
        """A dict that lives as long as this request (middlewares fill it)."""
        try:
            return self.__dict__["_fw_context"]
        except KeyError:
            return self.__dict__.setdefault("_fw_context", {})

    @property
    def request_id(self) -> str:
        """This request's id: its ``X-Request-ID`` when sane, else a fresh one; the same
        id is on the answer and on every log line written meanwhile (``framework.request_id``)."""
        return bind_request_id(self.environ)  # type: ignore[attr-defined]

    @property
    def url_vars(self) -> dict[str, str]:
        """The URL variables as strings (Backendpy semantics; data handlers convert)."""
        return self.view_args or {}  # type: ignore[attr-defined]

    @property
    def params(self) -> dict[str, Any]:
        """The query string as Backendpy builds it (``backendpy_params``): ``?a=1&a=2``
        gives ``{'a': '2'}``, ``?b[]=x&b[]=y`` gives ``{'b[]': ['x', 'y']}``; blanks are dropped.
        Flask's ``request.args`` keeps every value."""
        try:
            return self.__dict__["_fw_params"]
        except KeyError:
            return self.__dict__.setdefault(
                "_fw_params",
                backendpy_params(self.environ.get("QUERY_STRING", "")),  # type: ignore[attr-defined]
            )

    @property
    def body(self) -> Body:
        try:
            return self.__dict__["_fw_body"]
        except KeyError:
            return self.__dict__.setdefault("_fw_body", Body(self))  # type: ignore[arg-type]

    @property
    def client(self) -> tuple[str | None, int | None]:
        """The peer's address and port."""
        environ = self.environ  # type: ignore[attr-defined]
        port = environ.get("REMOTE_PORT")
        return environ.get("REMOTE_ADDR"), int(port) if port else None

    def get_cleaned_data(self) -> Any:
        """The route's data handler output: the validated and filtered dict.

        Awaited in an ``async def`` handler, called plainly in a ``def`` handler. Invalid
        input raises the 400 envelope with code 1002 and a per-field ``data`` map. The
        result is computed once per request: later calls return the same dict, so
        validators that query the database or read uploads do not run twice.
        """
        if _async.in_async_context():
            return drive_async(self._cleaning())
        # ``drive_sync(self._cleaning())`` with the handler's steps driven directly
        cached = self.__dict__.get("_fw_cleaned")
        if cached is None:
            handler = self.data_handler
            cached = {} if handler is None else drive_sync(handler._clean(self, None))
            self.__dict__["_fw_cleaned"] = cached
        return cached

    def _cleaning(self) -> Steps[dict[str, Any]]:
        """The rule both faces of ``get_cleaned_data`` drive: clean once, then reuse."""
        cached = self.__dict__.get("_fw_cleaned")
        if cached is None:
            handler = self.data_handler
            cached = {} if handler is None else (yield from handler._clean(self, None))
            self.__dict__["_fw_cleaned"] = cached
        return cached


class Request(RequestMixin, _FlaskRequest):
    """Flask's request with Backendpy's attributes."""
