"""Building the OpenAPI 3 document from the project's routes, with apispec.

One tag per app; one operation per route and method, the handler's docstring as its
summary and description; path parameters from the URL rule, query and header parameters
and request bodies from the route's data handler; the error envelope and the app's error
codes as responses. Routes made with ``openapi=False`` and the documentation's own routes
are left out.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections import defaultdict
from collections.abc import Collection
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from werkzeug.routing import BaseConverter, Rule

from ..error import (
    BODY_TOO_LARGE,
    DISALLOWED_HOST,
    FORBIDDEN,
    INVALID_DATA,
    NOT_FOUND,
    RATE_LIMITED,
    SERVER_ERROR,
    UNSUPPORTED_MEDIA_TYPE,
    ErrorCode,
    envelope,
)
from ..ratelimit import rate_limits
from ..router import Route
from .parameters import RouteInput, describe_input, install_field_converters, path_schema
from .responses import ErrorEnvelope, HandlerAnswers, SuccessEnvelope, ValidationErrorEnvelope, read_handler
from .settings import OpenAPISettings

if TYPE_CHECKING:
    from ..extension import Framework, InstalledApp

__all__ = ["build_document", "OPENAPI_VERSION"]

OPENAPI_VERSION = "3.0.3"
_RULE_VARIABLE = re.compile(r"<(?:([a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def build_document(
    fw: Framework, settings: OpenAPISettings, *, servers: list[str] | None = None
) -> dict[str, Any]:
    """The OpenAPI document of every documented route of ``fw``'s apps, as a dict.

    ``servers`` replaces ``settings.servers`` (the views pass the script root when the
    configuration names none).
    """
    app = fw.app
    if app is None:
        raise RuntimeError("the Framework object is not bound to a Flask app yet")
    plugin = MarshmallowPlugin()
    info: dict[str, Any] = {}
    if settings.description:
        info["description"] = settings.description
    server_urls = list(settings.servers) if servers is None else servers
    spec = APISpec(
        title=settings.title,
        version=settings.version,
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info=info,
        **({"servers": [{"url": url} for url in server_urls]} if server_urls else {}),
    )
    install_field_converters(plugin)
    spec.components.schema("Success", schema=SuccessEnvelope)
    spec.components.schema("Error", schema=ErrorEnvelope)
    spec.components.schema("ValidationError", schema=ValidationErrorEnvelope)
    builder = _Builder(fw, spec, plugin)
    for installed in fw.apps.values():
        builder.add_app(installed)
    return spec.to_dict()


class _Builder:
    """Adds each app's tag and operations to one ``APISpec``."""

    def __init__(self, fw: Framework, spec: APISpec, plugin: MarshmallowPlugin) -> None:
        self.fw, self.spec, self.plugin = fw, spec, plugin
        app = fw.app
        assert app is not None
        self.converters: dict[str, type[BaseConverter]] = dict(app.url_map.converters)
        #: each framework route's URL rule, found through the view ``make_view`` built
        self.rules: dict[int, Rule] = {}
        for rule in app.url_map.iter_rules():
            route = getattr(app.view_functions.get(rule.endpoint), "route", None)
            if isinstance(route, Route):
                self.rules.setdefault(id(route), rule)
        self.operation_ids: set[str] = set()
        self.seen: set[tuple[str, str]] = set()
        self.body_schemas: dict[str, type] = {}
        #: middlewares that describe what they add to the routes they act on
        self.middlewares = [
            m
            for m in fw.middlewares
            if getattr(m, "openapi_error_codes", None) or getattr(m, "openapi_security_schemes", None)
        ]
        for middleware in self.middlewares:
            for name, scheme in (getattr(middleware, "openapi_security_schemes", None) or {}).items():
                if name not in spec.components.security_schemes:
                    spec.components.security_scheme(name, dict(scheme))

    def add_app(self, installed: InstalledApp) -> None:
        tag = installed.blueprint.name
        self.spec.tag(_tag(tag, installed.package))
        app_codes = [code for error_list in installed.app.errors for code in error_list]
        for route in installed.app.routes:
            if not route.openapi:
                continue
            rule = self.rules.get(id(route))
            if rule is None:
                continue
            self.add_route(tag, route, rule, app_codes)

    def add_route(self, tag: str, route: Route, rule: Rule, app_codes: list[ErrorCode]) -> None:
        path, variables = self._path(rule)
        route_input = describe_input(route.data_handler, self.plugin, self._body_name)
        parameters = [self._path_parameter(name, converter, route_input) for name, converter in variables]
        parameters += route_input.parameters
        answers = read_handler(route.handler)
        summary, description = _docstring(route.handler)
        methods = [m for m in route.methods if (path, m) not in self.seen]
        operations: dict[str, Any] = {}
        limits = rate_limits(self.fw)
        limited = limits is not None and limits.active and bool(limits.limit_of(rule.endpoint))
        for method in methods:
            self.seen.add((path, method))
            extra_codes, security = self._middleware_effects(method, path)
            if limited:
                extra_codes.add(RATE_LIMITED)
            operation: dict[str, Any] = {
                "tags": [tag],
                "operationId": self._operation_id(tag, route, method, len(methods) > 1),
                "responses": self._responses(route, route_input, answers, app_codes, method, extra_codes),
            }
            if security:
                operation["security"] = security
            if summary:
                operation["summary"] = summary
            if description:
                operation["description"] = description
            if parameters:
                operation["parameters"] = parameters
            if route_input.request_body is not None and method not in ("GET", "HEAD", "DELETE"):
                operation["requestBody"] = route_input.request_body
            operations[method.lower()] = operation
        if operations:
            self.spec.path(path=path, operations=operations)

    # ------------------------------------------------------------- parameters
    def _path(self, rule: Rule) -> tuple[str, list[tuple[str, str]]]:
        """``/users/<fw_int:id>`` -> ``/users/{id}`` and ``[("id", "fw_int")]``."""
        variables: list[tuple[str, str]] = []

        def replace(match: re.Match[str]) -> str:
            variables.append((match.group(2), match.group(1) or "default"))
            return "{" + match.group(2) + "}"

        return _RULE_VARIABLE.sub(replace, rule.rule), variables

    def _path_parameter(self, name: str, converter: str, route_input: RouteInput) -> dict[str, Any]:
        schema = path_schema(self.converters.get(converter))
        field_schema = route_input.path.get(name)
        description = None
        if field_schema:
            # a typed converter decides the type; the field adds its other constraints
            typed = schema.get("type") != "string" or "format" in schema
            for key, value in field_schema.items():
                if key == "description":
                    description = value
                elif key != "default" and not (typed and key in ("type", "format", "pattern")):
                    schema[key] = value
        parameter: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
        if description:
            parameter["description"] = description
        return parameter

    def _body_name(self, data_handler: type, suffix: str) -> str:
        """A component name for ``data_handler``'s body schema, unique in the document."""
        name = f"{data_handler.__name__}{suffix}"
        owner = self.body_schemas.get(name)
        if owner is not None and owner is not data_handler:
            name = f"{data_handler.__module__}.{data_handler.__name__}{suffix}"
        self.body_schemas[name] = data_handler
        return name

    def _operation_id(self, tag: str, route: Route, method: str, several: bool) -> str:
        base = f"{tag}.{getattr(route.handler, '__name__', 'handler')}"
        if several:
            base += f".{method.lower()}"
        operation_id, n = base, 2
        while operation_id in self.operation_ids:
            operation_id, n = f"{base}_{n}", n + 1
        self.operation_ids.add(operation_id)
        return operation_id

    # -------------------------------------------------------------- responses
    def _middleware_effects(self, method: str, path: str) -> tuple[set[int], list[dict[str, Any]]]:
        """The error codes and security requirements the active middlewares add here.

        A middleware takes part by having ``openapi_error_codes`` (codes it may answer
        with) and/or ``openapi_security_schemes`` (``{name: Security Scheme Object}``);
        an ``openapi_applies_to(fw, method, path)`` method limits it to some operations.
        """
        codes: set[int] = set()
        security: list[dict[str, Any]] = []
        for middleware in self.middlewares:
            applies = getattr(middleware, "openapi_applies_to", None)
            if callable(applies) and not applies(self.fw, method, path):
                continue
            codes.update(getattr(middleware, "openapi_error_codes", None) or ())
            for name in getattr(middleware, "openapi_security_schemes", None) or {}:
                security.append({name: []})
        return codes, security

    def _responses(
        self,
        route: Route,
        route_input: RouteInput,
        answers: HandlerAnswers,
        app_codes: list[ErrorCode],
        method: str,
        extra_codes: Collection[int] = (),
    ) -> dict[str, Any]:
        ref = self.spec.components.get_ref
        responses: dict[str, Any] = {}
        for status, contents in sorted(answers.success.items()):
            response: dict[str, Any] = {"description": _phrase(status)}
            if status not in (204, 304) and method != "HEAD":
                response["content"] = {
                    media: {"schema": ref("schema", "Success") if schema is None else schema}
                    for media, schema in contents.items()
                }
            responses[str(status)] = response
        for status in sorted(answers.redirects):
            responses[str(status)] = {
                "description": _phrase(status),
                "headers": {"Location": {"description": "Where to go", "schema": {"type": "string"}}},
            }
        registered = self.fw.error_codes
        codes: set[int] = {SERVER_ERROR, NOT_FOUND, DISALLOWED_HOST} | answers.error_codes | set(extra_codes)
        codes.update(code.code for code in app_codes)
        if route.data_handler is not None:
            codes.add(INVALID_DATA)
            if route_input.request_body is not None:
                codes.update((BODY_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE))
        if route.only_ssl:
            codes.add(FORBIDDEN)
        by_status: dict[int, list[ErrorCode]] = defaultdict(list)
        for code in sorted(codes):
            error = registered.get(code)
            if error is not None:
                by_status[int(error.status)].append(error)
        for status, errors in sorted(by_status.items()):
            validation = status == 400 and route.data_handler is not None
            responses[str(status)] = _error_response(
                status,
                errors,
                ref("schema", "ValidationError" if validation else "Error"),
                with_body=method != "HEAD",
                example_data=_validation_example(route.data_handler) if validation else None,
            )
        return responses


def _error_response(
    status: int,
    errors: list[ErrorCode],
    schema: dict[str, Any],
    with_body: bool,
    example_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    lines = "; ".join(f"{e.code}: {e.message}" for e in errors)
    response: dict[str, Any] = {"description": f"{_phrase(status)} ({lines})"}
    if with_body:
        examples: dict[str, Any] = {}
        for e in errors:
            value = envelope(
                e.code, e.message, example_data if e.code == INVALID_DATA and example_data else None
            )
            examples[str(e.code)] = {"summary": e.message, "value": value}
        response["content"] = {"application/json": {"schema": schema, "examples": examples}}
    return response


def _validation_example(data_handler: Any) -> dict[str, Any] | None:
    """A per-field ``data`` map as the 400 envelope carries it, for the example."""
    declared = getattr(data_handler, "_declared_fields", None) or {}
    fields = sorted(declared.items(), key=lambda item: not item[1].required)
    if not fields:
        return None
    attr, fld = fields[0]
    return {fld.data_key or attr: ["Required" if fld.required else "Invalid value"]}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


def _docstring(handler: Any) -> tuple[str, str]:
    """The docstring's first paragraph (one line) and the rest; reST literals
    (````x````) become Markdown ones, since OpenAPI text is CommonMark."""
    doc = (inspect.getdoc(inspect.unwrap(handler)) or "").replace("``", "`")
    first, _, rest = doc.strip().partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _tag(name: str, package: str) -> dict[str, Any]:
    tag: dict[str, Any] = {"name": name}
    try:
        doc = inspect.getdoc(importlib.import_module(package)) or ""
    except Exception:
        doc = ""
    if doc:
        tag["description"] = doc.strip()
    return tag
