"""Data fields: Backendpy's field API on marshmallow fields.

``Field(name, default, processors, field_type, required)`` as in Backendpy: ``name`` is the
key in the request (default: the attribute name), ``field_type`` the location the value
is read from. Each field is a ``marshmallow.fields.Field`` (``name`` becomes its
``data_key``), so a ``Data`` class is an ordinary marshmallow schema as well, and plain
marshmallow fields can sit beside these ones.

``String`` passes any value through, as Backendpy's, except text no database stores: a NUL
character or an unpaired surrogate (JSON ``"\\ud800"``) is a field error; ``Integer``, ``Float``, ``Boolean``,
``List`` and ``Dict`` check the type (converting numeric and boolean strings, as sent by
forms and query strings) before the field's own processors run.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import ValidationError, missing
from marshmallow import fields as ma_fields

from . import filters as f
from . import validators as v
from ._processing import Step, compile_steps, has_async, run_chain_sync

__all__ = [
    "Field",
    "String",
    "Integer",
    "Float",
    "Boolean",
    "List",
    "Dict",
    "TYPE_JSON_FIELD",
    "TYPE_FORM_FIELD",
    "TYPE_PARAM",
    "TYPE_URL_VAR",
    "TYPE_FILE",
    "TYPE_CONTENT",
    "TYPE_HEADER",
    "LOCATIONS",
]

#: A key of the JSON body (an object).
TYPE_JSON_FIELD = 1
#: A url-encoded or multipart form field; a key ending in ``[]`` gives a list.
TYPE_FORM_FIELD = 2
#: A query-string parameter; a key ending in ``[]`` gives a list.
TYPE_PARAM = 3
#: A URL variable (a string; convert with processors or a typed field).
TYPE_URL_VAR = 4
#: An uploaded file: the value is its bytes (a list of bytes for ``name[]``).
TYPE_FILE = 5
#: The whole raw body, as bytes.
TYPE_CONTENT = 6
#: A request header (case-insensitive name).
TYPE_HEADER = 7

LOCATIONS = {
    TYPE_JSON_FIELD: "json",
    TYPE_FORM_FIELD: "form",
    TYPE_PARAM: "params",
    TYPE_URL_VAR: "url_vars",
    TYPE_FILE: "files",
    TYPE_CONTENT: "content",
    TYPE_HEADER: "headers",
}


class Field(ma_fields.Field):
    """A data field.

    :param name: the key in the request; default the attribute name.
    :param default: the value when the field is absent, or received as None (or blank).
        A callable is called for each request.
    :param processors: validators and filters, applied in order; a nested list or tuple
        of them applies to each item of a list value.
    :param field_type: where the value is read from, one of the ``TYPE_*`` constants.
    :param required: an absent field is an error ('Required').
    """

    #: Processors a typed subclass runs before the user's.
    type_processors: tuple[Any, ...] = ()

    def __init__(
        self,
        name: str | None = None,
        default: Any = None,
        processors: Iterable[Any] | None = None,
        field_type: int = TYPE_JSON_FIELD,
        required: bool = False,
        **kwargs: Any,
    ) -> None:
        if field_type not in LOCATIONS:
            raise ValueError(f"unknown field_type {field_type!r}; use one of the TYPE_* constants")
        if not required and default is not None:
            kwargs.setdefault("load_default", default)
        kwargs.setdefault("allow_none", True)
        super().__init__(data_key=name, required=required, **kwargs)
        self._default = default
        self.processors = list(processors) if processors else []
        self.field_type = field_type
        #: The attribute name in its Data class, set when the class is compiled.
        self.attr_name: str | None = None
        self.steps: tuple[Step, ...] = compile_steps((*self.type_processors, *self.processors))
        #: True when a processor is ``async def``: the chain then runs as a generator.
        self.is_async = has_async(self.steps)

    @property
    def default(self) -> Any:
        """The value for an absent (or None, or blank) field; None for no default."""
        return self._default

    @property
    def data_name(self) -> str | None:
        """Backendpy's name for the request key."""
        return self.data_key

    def get_default(self) -> Any:
        """A fresh copy of the default (a callable default is called)."""
        default = self.default
        if callable(default):
            return default()
        if isinstance(default, (list, dict, set)):
            return copy.deepcopy(default)
        return default

    def deserialize(
        self, value: Any, attr: str | None = None, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """Plain marshmallow loading (``MyData().load(mapping)``): the same processors,
        without a request (``meta['request']`` is None)."""
        if value is missing:
            return super().deserialize(value, attr, data, **kwargs)
        if value == "" or value == b"":
            value = None
        if value is None and self.default is not None:
            return self.get_default()
        name = self.attr_name or attr
        meta = {
            "name": name,
            "key": self.data_key or name,
            "received_data": data or {},
            "request": None,
            "field": self,
            "default": self.default,
            "cleaned_data": {},
        }
        errors: list[Any] = []
        value, ok = run_chain_sync(self.steps, value, meta, errors)
        if not ok:
            raise ValidationError(errors)
        return value

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        return value

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.data_key or self.attr_name!r} "
            f"type={LOCATIONS[self.field_type]} required={self.required}>"
        )


class String(Field):
    """A field with no implicit conversion (Backendpy's ``String``); text holding a NUL
    character or an unpaired surrogate is refused (``validators.StorableText``)."""

    type_processors = (v.StorableText(),)


class _Int64(v.Validator):
    """Within a signed 64-bit integer: what database columns and query offsets can hold, so a
    huge number in a URL or query is a 400 here rather than an overflow (500) in the query."""

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            return self.message
        return None


class Integer(Field):
    """An integer within the signed 64-bit range; a string of digits is converted."""

    type_processors = (v.Integer(), f.ToIntegerObject(), _Int64("Out of range"))


class Float(Field):
    """A finite number, converted to ``float``; a numeric string is converted."""

    type_processors = (v.Numeric(), f.ToFloatObject())


class Boolean(Field):
    """A boolean; ``true false 1 0 yes no on off`` are converted."""

    type_processors = (v.Boolean(), f.ToBooleanObject())


class _IsInstance(v.Validator):
    def __init__(self, types: type | tuple[type, ...], message: str) -> None:
        super().__init__(message)
        self.types = types

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        return None if value is None or isinstance(value, self.types) else self.message


class List(Field):
    """A list (from JSON, or a form or query key ending in ``[]``)."""

    type_processors = (_IsInstance(list, "Must be a list"),)


class Dict(Field):
    """A JSON object."""

    type_processors = (_IsInstance(dict, "Must be an object"),)
