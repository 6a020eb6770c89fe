"""``Data``: the data handler base class, a marshmallow ``Schema``.

A route's ``data_handler`` is a ``Data`` subclass. ``request.get_cleaned_data()`` calls
``Data.clean(request)`` (or awaits ``Data.aclean(request)`` in an ``async def`` handler):
each field's value is read from its location, blank values become None, absent fields
take their default or are reported as required, and each value runs through its
processors. All fields' errors are collected, then raised at once as the 400 envelope
``Error(1002, data={request_name: [messages]})``. The cleaned dict is keyed by attribute
name, as Backendpy's.

Everything that does not depend on the request is worked out once, when the class is
defined: the field list, each field's compiled processor chain, the locations to read.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, ClassVar, NamedTuple

from marshmallow import EXCLUDE, Schema, ValidationError, missing
from marshmallow.schema import SchemaMeta

from ..error import INVALID_DATA, UNSUPPORTED_MEDIA_TYPE, Error
from ._processing import drive_async, drive_sync, run_chain, run_chain_sync
from .fields import (
    TYPE_CONTENT,
    TYPE_FILE,
    TYPE_FORM_FIELD,
    TYPE_HEADER,
    TYPE_JSON_FIELD,
    TYPE_PARAM,
    TYPE_URL_VAR,
    Field,
)

__all__ = ["Data"]

_FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class _Entry(NamedTuple):
    """One field as compiled for its Data class (unpacked per request, hence a tuple)."""

    attr: str
    key: str  # the request name, reported in errors
    lookup: str  # the key in its source ('' for the whole body)
    location: int
    field: Any
    ours: bool  # a framework Field (processors) or a plain marshmallow field
    required: bool
    steps: tuple  # the compiled processor chain (empty for a plain field)
    is_async: bool  # the chain has an ``async def`` processor
    has_default: bool


class _Plan(NamedTuple):
    entries: tuple[_Entry, ...]
    locations: frozenset[int]
    #: body kinds a request may send ("json", "form"); empty when any body is fine.
    body_kinds: frozenset[str]


def _compile(cls: type) -> _Plan:
    entries = []
    for attr, field in cls._declared_fields.items():  # type: ignore[attr-defined]
        if field.dump_only:
            continue
        ours = isinstance(field, Field)
        if ours:
            if field.attr_name is None:
                field.attr_name = attr
            location = field.field_type
        else:
            location = (field.metadata or {}).get("field_type", TYPE_JSON_FIELD)
        key = field.data_key or attr
        entries.append(
            _Entry(
                attr,
                key,
                "" if location == TYPE_CONTENT else key,
                location,
                field,
                ours,
                bool(field.required),
                field.steps if ours else (),
                ours and field.is_async,
                ours and field.default is not None,
            )
        )
    locations = frozenset(e.location for e in entries)
    body_kinds: set[str] = set()
    if TYPE_CONTENT not in locations:
        if TYPE_JSON_FIELD in locations:
            body_kinds.add("json")
        if locations & {TYPE_FORM_FIELD, TYPE_FILE}:
            body_kinds.add("form")
    return _Plan(tuple(entries), locations, frozenset(body_kinds))


class DataMeta(SchemaMeta):
    """Compiles each Data class once, right after marshmallow has collected its fields."""

    def __init__(cls, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> None:
        super().__init__(name, bases, attrs)
        cls._plan = _compile(cls)


def _read_upload(upload: Any) -> Any:
    """An upload's bytes (a list of them for a list of uploads); the stream is rewound so
    the handler can still read the upload itself."""
    if isinstance(upload, list):
        return [_read_upload(u) for u in upload]
    stream = getattr(upload, "stream", None)
    if stream is None:
        return upload
    data = stream.read()
    try:
        stream.seek(0)
    except (OSError, ValueError):
        pass
    return data


class Data(Schema, metaclass=DataMeta):
    """Base class of data handlers.

    Class attributes: ``auto_blank_to_null`` (default True) turns '' and b'' into None
    before processing.
    """

    auto_blank_to_null: ClassVar[bool] = True
    _plan: ClassVar[_Plan]
    _instance: ClassVar[Data]

    class Meta:
        unknown = EXCLUDE

    @classmethod
    def clean(cls, request: Any, default: Mapping[str, Any] | Any = None) -> dict[str, Any]:
        """The cleaned data of ``request``; async processors run on the thread's loop.

        :param default: values (by attribute name, a mapping or an object's attributes)
            for fields the request does not carry, e.g. the current row when editing.
        :raises Error: 1002 with every field's errors, 415 for a body of the wrong type.
        """
        return drive_sync(cls._clean(request, default))

    @classmethod
    async def aclean(cls, request: Any, default: Mapping[str, Any] | Any = None) -> dict[str, Any]:
        """``clean`` for async code: async processors are awaited."""
        return await drive_async(cls._clean(request, default))

    @classmethod
    def _bound_field(cls, attr: str) -> Any:
        """A plain marshmallow field bound to one instance of this schema, made once."""
        instance = cls.__dict__.get("_instance")
        if instance is None:
            instance = cls()
            cls._instance = instance
        return instance.fields[attr]

    @classmethod
    def _sources(cls, request: Any) -> dict[int, Any]:
        plan = cls._plan
        locations = plan.locations
        body_kinds = plan.body_kinds
        if body_kinds and not ("json" in body_kinds and request.is_json) and request.content_length:
            mimetype = request.mimetype
            if not ("form" in body_kinds and mimetype in _FORM_MIMETYPES):
                message = f"Unsupported content type {mimetype or 'none'!r}"
                raise Error(UNSUPPORTED_MEDIA_TYPE, data={"body": [message]})
        sources: dict[int, Any] = {}
        if TYPE_JSON_FIELD in locations:
            body = request.body.json
            if body is not None and not isinstance(body, dict):
                raise Error(INVALID_DATA, data={"body": ["The JSON body must be an object"]})
            sources[TYPE_JSON_FIELD] = body or {}
        if TYPE_FORM_FIELD in locations:
            sources[TYPE_FORM_FIELD] = request.body.lists("form")
        if TYPE_FILE in locations:
            sources[TYPE_FILE] = request.body.lists("files")
        if TYPE_PARAM in locations:
            sources[TYPE_PARAM] = request.body.lists("params")
        if TYPE_URL_VAR in locations:
            sources[TYPE_URL_VAR] = request.url_vars
        if TYPE_HEADER in locations:
            sources[TYPE_HEADER] = request.headers
        if TYPE_CONTENT in locations:
            content = request.body.content
            sources[TYPE_CONTENT] = {"": content} if content else {}
        return sources

    @classmethod
    def _clean(cls, request: Any, default: Any) -> Generator[Any, Any, dict[str, Any]]:
        plan = cls._plan
        sources = cls._sources(request)
        if default is not None and not isinstance(default, Mapping):
            default = vars(default)
        received: dict[str, Any] = {}
        for attr, _key, lookup, location, *_rest in plan.entries:
            source = sources[location]
            if lookup in source:
                value = source[lookup]
                received[attr] = _read_upload(value) if location == TYPE_FILE else value
            elif default and attr in default:
                received[attr] = default[attr]

        blank_to_null = cls.auto_blank_to_null
        cleaned: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        # One meta dict per request, its per-field keys updated as the fields are processed.
        meta: dict[str, Any] = {"received_data": received, "request": request, "cleaned_data": cleaned}
        for (
            attr,
            key,
            _lookup,
            _location,
            field,
            ours,
            required,
            steps,
            is_async,
            has_default,
        ) in plan.entries:
            if attr not in received:
                if ours:
                    if required:
                        errors[key] = ["Required"]
                    elif has_default:
                        cleaned[attr] = field.get_default()
                    continue
                value = missing
            else:
                value = received[attr]
                if blank_to_null and (value == "" or value == b""):
                    value = None
            if ours:
                if value is None and has_default:
                    cleaned[attr] = field.get_default()
                    continue
                if steps:
                    meta["name"], meta["key"] = attr, key
                    meta["field"], meta["default"] = field, field.default
                    field_errors: list[Any] = []
                    if is_async:
                        value, ok = yield from run_chain(steps, value, meta, field_errors)
                    else:
                        value, ok = run_chain_sync(steps, value, meta, field_errors)
                    if not ok:
                        errors[key] = field_errors
                        continue
                cleaned[attr] = value
            else:
                try:
                    value = cls._bound_field(attr).deserialize(value, attr, received)
                except ValidationError as exc:
                    errors[key] = exc.messages
                    continue
                if value is not missing:
                    cleaned[attr] = value
        if errors:
            raise Error(INVALID_DATA, data=errors)
        return cleaned
