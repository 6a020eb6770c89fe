"""Schemathesis against the live app: no 500, no response that contradicts the document.

The app is driven in-process through its WSGI interface. Each operation gets a few
generated requests with valid input and a few with invalid input, derandomised so that a
run is repeatable and bounded (more of them with ``pytest --slow``).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import examples

from .conftest import ALL_APPS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: generated requests per operation and mode; the slow run (--slow) tries more
EXAMPLES = examples(full=10, default=4)

OPERATIONS = [
    ("GET", "/hello-world"),
    ("GET", "/home"),
    ("POST", "/users"),
    ("GET", "/users"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/items/{id}"),
    ("POST", "/items"),
    ("POST", "/uploads"),
    ("POST", "/contact"),
    ("PUT", "/raw"),
    ("GET", "/old-items"),
]
#: operations without parameters or body have no invalid input to generate
NO_INPUT = {("GET", "/hello-world"), ("GET", "/home"), ("GET", "/old-items"), ("POST", "/logout")}
#: any bytes are a valid raw body
ANY_INPUT = {("PUT", "/raw")}
CASES = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [
    (m, p, GenerationMode.NEGATIVE) for m, p in OPERATIONS if (m, p) not in NO_INPUT | ANY_INPUT
]


def test_every_documented_operation_is_exercised(document):
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert documented == set(OPERATIONS)
    for method, path in NO_INPUT:
        operation = document["paths"][path][method.lower()]
        assert "parameters" not in operation and "requestBody" not in operation


@pytest.mark.parametrize(
    ("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES]
)
def test_responses_agree_with_the_document(make_app, method, path, mode):
    """Signed in (the accounts app refuses to start without its middleware): every handler
    is reached."""
    app = make_app(apps=ALL_APPS)
    calls = _run(app, method, path, mode, EXAMPLES, headers=_sign_in(app))
    assert all(status < 500 for status in calls)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_with_the_auth_middleware_signed_in_and_not(make_app, method, path):
    """The project's configuration (bearer-token middleware): with a user's token, and
    without one, where protected routes answer 401 as the document says."""
    app = make_app(apps=ALL_APPS, auth=True)
    client = app.test_client()
    signed_in = _run(
        app, method, path, GenerationMode.POSITIVE, examples(full=4, default=2), headers=_sign_in(app)
    )
    anonymous = _run(app, method, path, GenerationMode.POSITIVE, examples(full=2, default=1))
    assert all(status < 500 for status in signed_in + anonymous)
    document = client.get("/openapi.json").get_json()
    if "security" in document["paths"][path][method.lower()]:
        assert set(anonymous) == {401}
        if (method, path) == ("POST", "/logout"):  # the first call revokes the token it carries
            assert signed_in[0] == 200 and set(signed_in[1:]) <= {401}
        else:
            assert 401 not in signed_in  # the token got the requests past the middleware


def _sign_in(app):
    """The header of a new account's token."""
    client = app.test_client()
    client.post("/users", json={"username": "reader", "password": "Reading-2024"})
    token = client.post("/login", json={"username": "reader", "password": "Reading-2024"}).get_json()["data"][
        "token"
    ]
    return {"Authorization": f"Bearer {token}"}


def _run(app, method, path, mode, examples, headers=None):
    """Run Schemathesis on one operation; the statuses it received."""
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method]
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call_and_validate(checks=CHECKS, headers=headers)
        calls.append(response.status_code)

    check()
    assert calls, "no request was generated"
    return calls
