"""One envelope builder and the framework's codes as named constants: what ``Error``
answers, what the ASGI-side bytes hold and what the OpenAPI document describes are the
same envelope."""

from __future__ import annotations

import json

import pytest
from flask import Flask, abort

from framework import Framework, error
from framework.error import (
    BASE_ERRORS,
    FRAMEWORK_CODE_LIMIT,
    RATE_LIMITED,
    REQUEST_ERROR,
    SERVER_ERROR,
    Error,
    envelope,
    envelope_bytes,
)
from framework.openapi.document import _error_response
from framework.openapi.responses import ErrorEnvelope

NAMED = {
    name: getattr(error, name)
    for name in error.__all__
    if name.isupper() and isinstance(getattr(error, name), int) and name not in ("FRAMEWORK_CODE_LIMIT",)
}


def test_every_framework_code_has_a_name_and_every_name_a_registered_code():
    registered = {e.code for e in BASE_ERRORS}
    assert set(NAMED.values()) == registered
    assert len(set(NAMED.values())) == len(NAMED)  # no two names for one code
    assert all(code < FRAMEWORK_CODE_LIMIT for code in registered)
    assert NAMED["SERVER_ERROR"] == 1000 and NAMED["REQUEST_ERROR"] == 1010


def test_envelope_shape_and_the_openapi_schema_agree():
    for code in NAMED.values():
        body = envelope(code, "msg")
        assert body == {"status": "error", "code": code, "message": "msg"}
        assert ErrorEnvelope().validate(body) == {}
    with_data = envelope(1002, "Unexpected data", {"name": ["Required"]})
    assert with_data["data"] == {"name": ["Required"]} and ErrorEnvelope().validate(with_data) == {}


def test_error_and_envelope_bytes_build_the_same_body():
    for e in BASE_ERRORS:
        status, raw = envelope_bytes(e.code)
        assert status == int(e.status)
        assert json.loads(raw) == envelope(e.code, e.message) == json.loads(Error(e.code).get_data())


def test_openapi_examples_are_built_by_the_same_builder():
    errors = [e for e in BASE_ERRORS if e.code == 1002]
    described = _error_response(
        400, errors, {"$ref": "x"}, with_body=True, example_data={"name": ["Required"]}
    )
    example = described["content"]["application/json"]["examples"]["1002"]["value"]
    assert example == envelope(1002, "Unexpected data", {"name": ["Required"]})


@pytest.mark.parametrize(
    "status,code", [(418, REQUEST_ERROR), (429, RATE_LIMITED), (501, SERVER_ERROR), (404, 1001)]
)
def test_http_errors_without_a_code_of_their_own_keep_their_status(owned_client, status, code):
    response = owned_client.get(f"/abort/{status}")
    assert response.status_code == status
    assert response.get_json() == envelope(code, response.get_json()["message"])


@pytest.fixture(scope="module")
def owned_client():
    import sys
    import types

    from framework.app import App
    from framework.router import Routes

    routes = Routes()

    @routes.get("/abort/<status:int>")
    def aborting(request):
        abort(int(request.url_vars["status"]))

    name = "envelope_abort_app"
    package = types.ModuleType(name)
    package.__path__ = []
    package.__file__ = __file__
    main = types.ModuleType(f"{name}.main")
    main.app = App(routes=[routes])
    sys.modules[name], sys.modules[f"{name}.main"] = package, main
    app = Flask(name)
    Framework(app, config={"database": {"uri": "sqlite://"}, "apps": {"active": [name]}})
    return app.test_client()
