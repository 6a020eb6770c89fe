"""Each validator maps onto the JSON-schema keyword that says the same thing."""

from __future__ import annotations

import re

from framework.data_handler import validators as v
from framework.openapi.parameters import processor_constraints


def _body(document, name="ItemCreate"):
    return document["components"]["schemas"][name]["properties"]


def test_length_gives_min_and_max_length(document):
    name = _body(document)["name"]
    assert (name["minLength"], name["maxLength"]) == (2, 40)
    first_name = _body(document, "UserCreationData")["first_name"]
    assert first_name["maxLength"] == 50 and "minLength" not in first_name
    assert processor_constraints([v.Length(equal=5)], {"type": "string"}) == {"minLength": 5, "maxLength": 5}


def test_length_on_a_list_counts_items_and_nested_processors_describe_items(document):
    labels = _body(document)["labels"]
    assert labels["type"] == "array"
    assert labels["maxItems"] == 3
    assert labels["items"] == {"minLength": 1, "maxLength": 10}


def test_in_gives_enum(document):
    parameters = {p["name"]: p for p in document["paths"]["/items/{id}"]["get"]["parameters"]}
    assert parameters["colour"]["schema"]["enum"] == ["red", "green", "blue"]
    assert processor_constraints([v.In({"b", "a"})]) == {"enum": ["a", "b"]}  # sets sorted


def test_limit_gives_minimum_and_maximum(document):
    size = _body(document)["size"]
    assert (size["type"], size["minimum"], size["maximum"]) == ("integer", 1, 10)
    parameters = {p["name"]: p for p in document["paths"]["/items/{id}"]["get"]["parameters"]}
    assert parameters["id"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    # a String field with only Limit accepts numbers
    assert processor_constraints([v.Limit(min=0.5)], {"type": "string"}) == {"type": "number", "minimum": 0.5}


def test_match_regex_gives_a_pattern_anchored_like_re_match(document):
    pattern = _body(document)["code"]["pattern"]
    assert pattern == "^(?:[A-Z]{3}-[0-9]{2}$)"
    assert re.search(pattern, "ABC-12") and not re.search(pattern, "xABC-12")
    assert processor_constraints([v.MatchRegex("^a+$")]) == {"pattern": "^a+$"}


def test_email_address_gives_format_email(document):
    assert _body(document)["email"]["format"] == "email"
    assert document["components"]["schemas"]["ContactForm"]["properties"]["email"]["format"] == "email"


def test_uuid_gives_format_uuid(document):
    assert _body(document)["ref"]["format"] == "uuid"


def test_required_and_defaults(document):
    schema = document["components"]["schemas"]["ItemCreate"]
    assert schema["required"] == ["name"]
    assert schema["properties"]["size"]["default"] == 1
    assert "default" not in schema["properties"]["name"]


def test_not_null_makes_a_field_non_nullable(document):
    properties = _body(document)
    assert properties["name"]["nullable"] is False
    assert properties["email"]["nullable"] is True  # a blank value is accepted as None


def test_type_validators_and_policies():
    assert processor_constraints([v.Integer()], {"type": "string"}) == {"type": "integer"}
    assert processor_constraints([v.Numeric()]) == {"type": "number"}
    assert processor_constraints([v.Boolean()]) == {"type": "boolean"}
    assert processor_constraints([v.Url()]) == {"type": "string", "format": "uri"}
    assert processor_constraints([v.Date()]) == {"type": "string", "format": "date"}
    username = processor_constraints([v.UserNamePolicy(min_length=3, max_length=32)])
    assert (username["minLength"], username["maxLength"]) == (3, 32)
    assert re.search(username["pattern"], "jane.doe") and not re.search(username["pattern"], "9jane")
    assert processor_constraints([v.NotIn(["root"])]) == {"not": {"enum": ["root"]}}


def test_values_that_are_not_json_are_left_out():
    assert processor_constraints([v.In([object()])]) == {}
