"""The document describes the sample blueprints' routes and validates as OpenAPI 3."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from .conftest import SAMPLE_APPS


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    }


def test_sample_blueprints_document_is_valid_openapi(make_app):
    app = make_app(apps=SAMPLE_APPS)
    document = app.test_client().get("/openapi.json").get_json()
    validate(document)  # raises on any violation of the OpenAPI 3.0 schema
    assert document["openapi"] == "3.0.3"
    assert set(_operations(document)) == {
        ("GET", "/hello-world"),
        ("GET", "/home"),
        ("POST", "/users"),
        ("GET", "/users"),
        ("GET", "/users/{id}"),
        ("PATCH", "/users/{id}"),
        ("DELETE", "/users/{id}"),
        ("POST", "/login"),
        ("POST", "/logout"),
    }


def test_whole_document_with_every_field_type_is_valid(document):
    validate(document)


def test_one_tag_per_app_with_the_package_docstring(document):
    tags = {tag["name"]: tag for tag in document["tags"]}
    assert list(tags) == ["hello", "accounts", "sample_api"]
    assert tags["hello"]["description"].startswith("The minimal sample app")
    for (_method, path), operation in _operations(document).items():
        expected = (
            "hello"
            if path in ("/hello-world", "/home")
            else "accounts"
            if path.startswith(("/users", "/login", "/logout"))
            else "sample_api"
        )
        assert operation["tags"] == [expected], path


def test_docstring_gives_summary_and_description(document):
    operations = _operations(document)
    detail = operations[("GET", "/items/{id}")]
    assert detail["summary"] == "Show one item."
    assert detail["description"] == "Item 13 is locked and answers 409."
    login = operations[("POST", "/login")]
    assert login["summary"] == "Exchange a username and password for a bearer token."
    assert "description" not in login
    assert "summary" not in operations[("GET", "/users/{id}")]  # that handler has no docstring
    # reST literals become Markdown ones
    assert operations[("GET", "/users")]["summary"] == "A page of users, oldest first: `?page=1&per_page=20`."


def test_operation_ids_are_unique(document):
    ids = [op["operationId"] for op in _operations(document).values()]
    assert len(ids) == len(set(ids))
    assert "accounts.create_user" in ids


def test_opted_out_routes_and_doc_routes_are_left_out(app, document):
    client = app.test_client()
    account = {"username": "reader", "password": "Reading-2024"}
    client.post("/users", json=account)
    token = client.post("/login", json=account).get_json()["data"]["token"]
    signed_in = {"Authorization": f"Bearer {token}"}  # the accounts app's middleware is active
    assert client.get("/internal", headers=signed_in).status_code == 200  # still served
    assert client.get("/listed-hidden", headers=signed_in).status_code == 200
    for path in ("/internal", "/listed-hidden", "/openapi.json", "/docs"):
        assert path not in document["paths"]


def test_path_parameters_come_from_url_variables(document):
    operation = _operations(document)[("DELETE", "/users/{id}")]
    (parameter,) = operation["parameters"]
    assert parameter == {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def test_query_parameters_with_defaults(document):
    parameters = {p["name"]: p for p in _operations(document)[("GET", "/users")]["parameters"]}
    assert parameters["page"]["in"] == "query"
    assert parameters["page"]["required"] is False
    assert parameters["page"]["schema"] == {
        "type": "integer",
        "default": 1,
        "minimum": 1,
        "maximum": 1_000_000,
    }
    assert parameters["per_page"]["schema"] == {
        "type": "integer",
        "default": 20,
        "minimum": 1,
        "maximum": 100,
    }


def test_header_parameter(document):
    parameters = {p["name"]: p for p in _operations(document)[("GET", "/items/{id}")]["parameters"]}
    assert parameters["X-Trace-Id"]["in"] == "header"
    assert parameters["X-Trace-Id"]["schema"]["format"] == "uuid"


def test_json_body_with_required_fields(document):
    body = _operations(document)[("POST", "/users")]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/UserCreationData"}}
    }
    schema = document["components"]["schemas"]["UserCreationData"]
    assert schema["required"] == ["password", "username"]
    assert set(schema["properties"]) == {"username", "password", "first_name", "last_name"}
    # PATCH has no required body field
    patch = _operations(document)[("PATCH", "/users/{id}")]
    assert patch["requestBody"]["required"] is False
    assert "id" not in document["components"]["schemas"]["UserUpdateData"]["properties"]


def test_multipart_body_with_a_file(document):
    body = _operations(document)[("POST", "/uploads")]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
    schema = document["components"]["schemas"]["UploadForm"]
    assert schema["properties"]["attachment"] == {"type": "string", "format": "binary"}
    assert schema["properties"]["title"]["maxLength"] == 20
    assert schema["required"] == ["attachment", "title"]


def test_form_body_without_files_accepts_both_form_encodings(document):
    body = _operations(document)[("POST", "/contact")]["requestBody"]
    assert set(body["content"]) == {"multipart/form-data", "application/x-www-form-urlencoded"}
    email = document["components"]["schemas"]["ContactForm"]["properties"]["email"]
    assert "nullable" not in email  # form values are text, never null


def test_raw_body(document):
    body = _operations(document)[("PUT", "/raw")]["requestBody"]
    assert body == {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}}
        },
    }


def test_success_envelope_and_statuses_read_from_the_handler(document):
    operations = _operations(document)
    envelope = {"$ref": "#/components/schemas/Success"}
    assert operations[("POST", "/users")]["responses"]["201"]["content"] == {
        "application/json": {"schema": envelope}
    }
    assert "200" not in operations[("POST", "/users")]["responses"]
    assert operations[("GET", "/users")]["responses"]["200"]["content"]["application/json"] == {
        "schema": envelope
    }
    assert list(operations[("GET", "/hello-world")]["responses"]["200"]["content"]) == ["text/plain"]
    assert list(operations[("GET", "/home")]["responses"]["200"]["content"]) == ["text/html"]
    assert list(operations[("PUT", "/raw")]["responses"]["200"]["content"]) == ["application/json"]
    redirect = operations[("GET", "/old-items")]["responses"]
    assert "Location" in redirect["308"]["headers"]  # permanent=True
    success = document["components"]["schemas"]["Success"]
    assert success["properties"]["status"]["enum"] == ["success"]
    assert success["required"] == ["status"]


def test_error_envelope_responses(document):
    operations = _operations(document)
    responses = operations[("POST", "/items")]["responses"]
    validation = responses["400"]["content"]["application/json"]
    assert validation["schema"] == {"$ref": "#/components/schemas/ValidationError"}
    assert validation["examples"]["1002"]["value"]["code"] == 1002
    assert isinstance(validation["examples"]["1002"]["value"]["data"], dict)
    assert (
        responses["404"]["content"]["application/json"]["examples"]["1001"]["value"]["message"] == "Not found"
    )
    assert "1000" in responses["500"]["content"]["application/json"]["examples"]
    assert "415" in responses and "413" in responses  # a body of the wrong type or size
    # a route without a data handler has no validation envelope
    hello = operations[("GET", "/hello-world")]["responses"]
    assert hello["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message", "status"]
    data = document["components"]["schemas"]["ValidationError"]["properties"]["data"]
    assert data["type"] == "object"


def test_each_apps_error_codes_are_documented(document):
    operations = _operations(document)
    login = operations[("POST", "/login")]["responses"]
    assert set(login["401"]["content"]["application/json"]["examples"]) == {"1100", "1102", "1103"}
    assert "1104" in operations[("DELETE", "/users/{id}")]["responses"]["403"]["description"]
    assert (
        "1101"
        in operations[("GET", "/users/{id}")]["responses"]["404"]["content"]["application/json"]["examples"]
    )
    detail = operations[("GET", "/items/{id}")]["responses"]
    assert detail["409"]["content"]["application/json"]["examples"]["1200"]["value"]["code"] == 1200
    # one app's codes do not leak into another app's operations
    assert "409" not in operations[("POST", "/users")]["responses"]
    assert "401" not in operations[("GET", "/hello-world")]["responses"]


def test_a_middleware_describes_its_security_and_errors(make_app):
    document = make_app(auth=True).test_client().get("/openapi.json").get_json()
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A token from POST /login"}
    }
    operations = _operations(document)
    for key in [("GET", "/users"), ("DELETE", "/users/{id}"), ("POST", "/items")]:
        assert operations[key]["security"] == [{"bearerAuth": []}], key
        assert {"1102", "1103"} <= set(
            operations[key]["responses"]["401"]["content"]["application/json"]["examples"]
        )
    for key in [("GET", "/hello-world"), ("POST", "/users"), ("POST", "/login")]:
        assert "security" not in operations[key], key  # the middleware's public routes
    assert "401" not in operations[("GET", "/hello-world")]["responses"]
