"""The request object handed to every handler.

``Request`` is Flask's request class with Backendpy's attributes added, so the whole
``flask.Request`` API stays reachable on the same object. In extension mode the host's own
request class is kept and extended with the same mixin.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Request as _FlaskRequest
from flask import current_app
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from . import _async
from .form_limits import FieldCountingFormParser

if TYPE_CHECKING:
    from .extension import Framework

__all__ = ["Request", "RequestMixin", "Body"]


def _listify(pairs: MultiDict) -> dict[str, Any]:
    """A plain dict from a MultiDict: a key ending in ``[]`` keeps every value as a list,
    any other key its first value."""
    result: dict[str, Any] = {}
    for key in pairs.keys():
        if not isinstance(key, str):
            continue  # a multipart part whose name could not be parsed
        if key.endswith("[]"):
            result[key[:-2]] = pairs.getlist(key)
        else:
            result[key] = pairs.get(key)
    return result


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259); Python's parser would accept them."""
    raise ValueError(f"{name} is not valid JSON")


class Body:
    """The request body in Backendpy's four shapes, each parsed on first access.

    ``json`` is the decoded JSON document (None when the body is not JSON); ``form`` the
    url-encoded or multipart fields; ``files`` the uploads (``werkzeug`` FileStorage
    objects, a list for a key ending in ``[]``); ``content`` the raw bytes. Malformed
    input raises the 1002 error envelope, never a server error.
    """

    __slots__ = ("_request", "_json", "_form", "_files")
    _UNSET: Any = object()

    def __init__(self, request: _FlaskRequest) -> None:
        self._request = request
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
                        self._json = json.loads(raw, parse_constant=_reject_constant)
                    except (ValueError, RecursionError):
                        from .error import INVALID_DATA, Error

                        raise Error(INVALID_DATA, data={"body": ["Malformed JSON"]}) from None
        return self._json

    @property
    def form(self) -> dict[str, Any]:
        if self._form is self._UNSET:
            self._form = _listify(self._parsed_form())
        return self._form

    @property
    def files(self) -> dict[str, Any]:
        if self._files is self._UNSET:
            self._parsed_form()
            self._files = _listify(self._request.files)
        return self._files

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
        limit = self.max_content_length  # type: ignore[attr-defined]
        if (limit is not None and "wsgi.input_terminated" in environ
                and not environ.get("CONTENT_LENGTH") and not self.shallow):  # type: ignore[attr-defined]
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
    def url_vars(self) -> dict[str, str]:
        """The URL variables as strings (Backendpy semantics; data handlers convert)."""
        return self.view_args or {}  # type: ignore[attr-defined]

    @property
    def params(self) -> dict[str, Any]:
        """The query string: first value per key, a list for a key ending in ``[]``."""
        try:
            return self.__dict__["_fw_params"]
        except KeyError:
            return self.__dict__.setdefault("_fw_params", _listify(self.args))  # type: ignore[attr-defined]

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
            return self._aget_cleaned_data()
        cached = self.__dict__.get("_fw_cleaned")
        if cached is None:
            handler = self.data_handler
            cached = self.__dict__["_fw_cleaned"] = {} if handler is None else handler.clean(self)
        return cached

    async def _aget_cleaned_data(self) -> dict[str, Any]:
        cached = self.__dict__.get("_fw_cleaned")
        if cached is None:
            handler = self.data_handler
            cached = {} if handler is None else await handler.aclean(self)
            self.__dict__["_fw_cleaned"] = cached
        return cached


class Request(RequestMixin, _FlaskRequest):
    """Flask's request with Backendpy's attributes."""
