"""Property-based fuzzing of the data-handler path: whatever arrives, the answer is the
cleaned data (200) or a 4xx in the envelope, never a server error."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import examples

from .conftest import assert_envelope

FIELDS = [
    "name",
    "count",
    "big",
    "ratio",
    "active",
    "email",
    "website",
    "uid",
    "color",
    "when",
    "day",
    "code",
    "blob",
    "price",
    "tags",
    "meta",
    "unknown",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS))
fuzz_settings = settings(
    max_examples=examples(full=150, default=40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(response) -> None:
    if response.status_code == 200:
        cleaned = response.json
        assert isinstance(cleaned["id"], int) and 1 <= cleaned["id"] <= 10**6
        # ``required`` asks for the key, not a value: null passes unless NotNull is declared
        assert cleaned["name"] is None or (
            isinstance(cleaned["name"], str) and 1 <= len(cleaned["name"]) <= 20 * 6
        )
        assert 0 <= cleaned["count"] <= 100
        assert cleaned.get("color") in (None, "red", "green", "blue")
        assert cleaned.get("big") is None or -(2**63) <= cleaned["big"] < 2**63
    else:
        payload = assert_envelope(response)
        if response.status_code == 400 and payload["code"] == 1002:
            assert isinstance(payload["data"], dict) and payload["data"]


@fuzz_settings
@given(
    document=documents,
    item_id=st.integers(min_value=-5, max_value=2 * 10**6),
    route=st.sampled_from(["items", "aitems"]),
)
def test_any_json_document(client, document, item_id, route):
    check(client.post(f"/{route}/{item_id}", json=document))


@fuzz_settings
@given(
    document=st.fixed_dictionaries(
        {"name": st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=20)},
        optional={"count": st.integers(0, 100)},
    )
)
def test_valid_documents_are_cleaned(client, document):
    response = client.post("/items/7", json=document)
    assert response.status_code == 200, response.json
    assert response.json["id"] == 7 and response.json["count"] == document.get("count", 0)


@fuzz_settings
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/json",
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=b",
            "",
            "application/json; charset=latin-1",
        ]
    ),
)
def test_any_body_bytes(client, body, content_type):
    check(client.post("/items/1", data=body, headers={"Content-Type": content_type}))


@fuzz_settings
@given(
    query=st.dictionaries(st.sampled_from(["page", "page[]", "x", ""]), st.text(max_size=20), max_size=3),
    token=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60),
)
def test_any_query_and_header(client, query, token):
    check(client.post("/items/1", json={"name": "ok"}, query_string=query, headers={"X-Token": token}))


@fuzz_settings
@given(
    fields=st.dictionaries(
        st.sampled_from(["title", "amount", "amount[]", "other"]), st.text(max_size=60), max_size=4
    )
)
def test_any_form(client, fields):
    response = client.post("/forms", data=fields)
    if response.status_code == 200:
        title = response.json["title"]  # blank becomes None, as in Backendpy
        assert title is None or len(title) <= 50
    else:
        assert_envelope(response, 400, 1002)


@pytest.mark.parametrize(
    "body", [b"[" * 10000 + b"]" * 10000, b'{"name": ' + b"[" * 3000 + b"]" * 3000 + b"}"]
)
def test_deep_json_through_the_data_handler(client, body):
    app = client.application
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = len(body) + 1
    try:
        response = client.post("/items/1", data=body, content_type="application/json")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert_envelope(response, 400, 1002)


@pytest.mark.parametrize("big", [2**63, -(2**63) - 1, 10**30, "99999999999999999999"])
def test_integers_beyond_64_bits_are_400(client, big):
    response = client.post("/items/1", json={"name": "x", "big": big})
    assert assert_envelope(response, 400, 1002)["data"] == {"big": ["Out of range"]}


def test_data_handler_body_over_the_limit_is_413(client):
    response = client.post(
        "/items/1", data=json.dumps({"name": "x" * 10000}), content_type="application/json"
    )
    assert_envelope(response, 413, 1005)
