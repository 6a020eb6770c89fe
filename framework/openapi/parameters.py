"""Data handler fields as OpenAPI parameters and request bodies.

Each field of a route's ``Data`` class goes where its ``field_type`` says: URL variables
to path parameters, ``TYPE_PARAM`` to query parameters, ``TYPE_HEADER`` to header
parameters, ``TYPE_JSON_FIELD`` to an ``application/json`` body, ``TYPE_FORM_FIELD`` and
``TYPE_FILE`` to form bodies, ``TYPE_CONTENT`` to a raw body. A field becomes a JSON
schema through apispec's marshmallow converter, to which ``install_field_converters``
teaches the framework's field classes and validators. Each validator says what it means
as ``openapi_schema(schema)`` (a custom one can too); the framework's say:

=====================  ==========================================
validator              schema
=====================  ==========================================
``Length``             ``minLength``/``maxLength`` (items for lists)
``In`` / ``NotIn``     ``enum`` / ``not: {enum}``
``Limit``              ``minimum``/``maximum``
``MatchRegex``         ``pattern`` (anchored at the start, as ``re.match``)
``EmailAddress``       ``format: email``
``UUID``               ``format: uuid``
``Url``, ``Date``,     ``format: uri``, ``date``, ``date-time``
``DateTime``
``Integer``,           ``type: integer``, ``number``, ``boolean``
``Numeric``,
``Boolean``
``NotNull``            not nullable (and ``minLength: 1`` for strings)
``UserNamePolicy``     ``minLength``/``maxLength`` and its ``pattern``
=====================  ==========================================

A nested list of processors describes the items of an array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema
from marshmallow import fields as ma_fields
from werkzeug.routing import BaseConverter, FloatConverter, IntegerConverter, UUIDConverter

from ..data_handler import fields as dh
from ..router import FloatText, IntText, UUIDText

__all__ = ["RouteInput", "describe_input", "install_field_converters", "path_schema", "processor_constraints"]

#: Header parameters OpenAPI tells tools to ignore (they are described elsewhere).
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})

_FIELD_TYPES: dict[type, tuple[str | None, str | None]] = {
    dh.String: ("string", None),
    dh.Integer: ("integer", None),
    dh.Float: ("number", None),
    dh.Boolean: ("boolean", None),
    dh.List: ("array", None),
    dh.Dict: ("object", None),
}


@dataclass
class RouteInput:
    """What a route's data handler reads from a request, as OpenAPI objects."""

    #: URL variable name -> schema (merged into the path parameter of that name)
    path: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: query and header parameters
    parameters: list[dict[str, Any]] = field(default_factory=list)
    #: the Request Body Object, or None
    request_body: dict[str, Any] | None = None


def path_schema(converter: type[BaseConverter] | None) -> dict[str, Any]:
    """The schema of a URL variable matched by ``converter``."""
    if converter is not None:
        if issubclass(converter, (IntText, IntegerConverter)):
            return {"type": "integer"}
        if issubclass(converter, (FloatText, FloatConverter)):
            return {"type": "number"}
        if issubclass(converter, (UUIDText, UUIDConverter)):
            return {"type": "string", "format": "uuid"}
    return {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


def install_field_converters(plugin: MarshmallowPlugin) -> None:
    """Teach ``plugin``'s converter the framework's field classes and validators."""
    converter = plugin.converter
    assert converter is not None, "call after the plugin is attached to an APISpec"
    for cls, (type_, fmt) in _FIELD_TYPES.items():
        if type_ is not None:
            converter.map_to_openapi_type(cls, type_, fmt)
    converter.add_attribute_function(_processors2properties)


def _processors2properties(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: the constraints of a framework field's processors."""
    if not isinstance(field, dh.Field):
        return {}
    props = processor_constraints(field.processors, ret)
    if field.required and field.default is None:
        props.pop("default", None)
    return props


def processor_constraints(processors: Iterable[Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON schema keywords that ``processors`` (validators, in order) express.

    Each processor describes itself (``Validator.openapi_schema``; filters say nothing
    by default, since the schema describes what the client sends, before any filter).

    ``base`` is the schema found so far (its ``type`` decides between string and array
    length keywords); the result holds only what changes or adds to it.
    """
    schema: dict[str, Any] = dict(base or {})
    before = dict(schema)
    for processor in processors:
        if isinstance(processor, (list, tuple, set, frozenset)):
            schema["type"] = "array"
            schema["items"] = processor_constraints(processor, schema.get("items"))
        else:
            _apply(processor, schema)
    return {k: val for k, val in schema.items() if before.get(k, _MISSING) != val} | (
        {"nullable": False} if before.get("nullable") and not schema.get("nullable") else {}
    )


_MISSING = object()


def _apply(processor: Any, schema: dict[str, Any]) -> None:
    """Merge what one processor says of itself (``openapi_schema``) into ``schema``."""
    describe = getattr(processor, "openapi_schema", None)
    if isinstance(processor, type) or not callable(describe):  # a plain function says nothing
        return
    for keyword, value in describe(MappingProxyType(schema)).items():
        if value is None:
            schema.pop(keyword, None)
        else:
            schema[keyword] = value


# ------------------------------------------------------------------ route input
def describe_input(
    data_handler: type | None, plugin: MarshmallowPlugin, body_name: Callable[[type, str], str]
) -> RouteInput:
    """The parameters and request body that ``data_handler`` reads.

    ``body_name(data_handler, suffix)`` names the component schemas of the bodies.
    """
    result = RouteInput()
    if data_handler is None or not (isinstance(data_handler, type) and issubclass(data_handler, Schema)):
        return result
    converter = plugin.converter
    assert converter is not None
    by_location: dict[int, dict[str, Any]] = {}
    for attr, fld in data_handler._declared_fields.items():
        if fld.dump_only:
            continue
        location = (
            fld.field_type
            if isinstance(fld, dh.Field)
            else (fld.metadata or {}).get("field_type", dh.TYPE_JSON_FIELD)
        )
        by_location.setdefault(location, {})[attr] = fld

    for attr, fld in by_location.get(dh.TYPE_URL_VAR, {}).items():
        result.path[fld.data_key or attr] = _parameter_schema(converter.field2property(fld))
    for location, where in ((dh.TYPE_PARAM, "query"), (dh.TYPE_HEADER, "header")):
        for attr, fld in by_location.get(location, {}).items():
            name = fld.data_key or attr
            if where == "header" and name.lower() in _IGNORED_HEADERS:
                continue
            result.parameters.append(_parameter(name, where, fld, converter.field2property(fld)))

    content: dict[str, Any] = {}
    required = False
    spec = plugin.spec
    assert spec is not None
    json_fields = by_location.get(dh.TYPE_JSON_FIELD, {})
    form_fields = {**by_location.get(dh.TYPE_FORM_FIELD, {}), **by_location.get(dh.TYPE_FILE, {})}
    raw_fields = by_location.get(dh.TYPE_CONTENT, {})
    if raw_fields:
        raw = next(iter(raw_fields.values()))
        required = bool(raw.required)
        binary: dict[str, Any] = {"type": "string", "format": "binary"}
        if required:
            binary["minLength"] = 1  # an empty body counts as absent
        content["application/octet-stream"] = {"schema": binary}
    else:
        if json_fields:
            schema = converter.fields2jsonschema(json_fields)
            name = body_name(data_handler, "")
            if name not in spec.components.schemas:
                spec.components.schema(name, component=schema)
            content["application/json"] = {"schema": spec.components.get_ref("schema", name)}
            required = required or bool(schema.get("required"))
        if form_fields:
            schema = converter.fields2jsonschema(form_fields)
            # form values are text: never null
            schema["properties"] = {
                key: _parameter_schema(prop) for key, prop in schema["properties"].items()
            }
            has_file = False
            for attr, fld in by_location.get(dh.TYPE_FILE, {}).items():
                has_file = True
                key = fld.data_key or attr
                binary = {"type": "string", "format": "binary"}
                prop = schema["properties"][key]
                is_list = key.endswith("[]") or prop.get("type") == "array"
                schema["properties"][key] = {"type": "array", "items": binary} if is_list else binary
                if prop.get("description"):
                    schema["properties"][key]["description"] = prop["description"]
            name = body_name(data_handler, "Form")
            if name not in spec.components.schemas:
                spec.components.schema(name, component=schema)
            ref = spec.components.get_ref("schema", name)
            content["multipart/form-data"] = {"schema": ref}
            if not has_file:
                content["application/x-www-form-urlencoded"] = {"schema": ref}
            required = required or bool(schema.get("required"))
    if content:
        result.request_body = {"required": required, "content": content}
    return result


def _parameter_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema: text cannot be null, and a null default means none."""
    schema = dict(schema)
    schema.pop("nullable", None)
    if schema.get("default", 0) is None:
        schema.pop("default")
    return schema


def _parameter(name: str, where: str, fld: ma_fields.Field[Any], schema: dict[str, Any]) -> dict[str, Any]:
    schema = _parameter_schema(schema)
    if name.endswith("[]") and schema.get("type") != "array":
        schema = {"type": "array", "items": schema}
    parameter: dict[str, Any] = {"name": name, "in": where, "required": bool(fld.required), "schema": schema}
    description = (fld.metadata or {}).get("description")
    if description:
        parameter["description"] = description
    if schema.get("type") == "array" and where == "query":
        parameter["style"], parameter["explode"] = "form", True
    return parameter
