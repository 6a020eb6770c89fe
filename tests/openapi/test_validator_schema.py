"""Validators describe their own schema (``openapi_schema``); custom ones can too."""

from __future__ import annotations

import re

import pytest

from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.openapi.parameters import processor_constraints

APP = """
    from framework.app import App
    from framework.data_handler import validators as v
    from framework.data_handler.data import Data
    from framework.data_handler.fields import String
    from framework.response import Success
    from framework.router import Routes


    class Even(v.Validator):
        # describes itself: a number that is a multiple of 2
        def __call__(self, value, meta):
            return None if value is None or int(value) % 2 == 0 else 'odd'

        def openapi_schema(self, schema):
            return {'type': 'integer', 'multipleOf': 2}


    class Loose(v.Validator):
        # lifts what an earlier validator said
        def openapi_schema(self, schema):
            return {'maxLength': None, 'description': 'any length, really'}


    class Silent(v.Validator):
        # a Backendpy-style validator: no openapi_schema of its own
        def __call__(self, value, meta):
            return None


    def plain(value, meta):
        return None


    class Body(Data):
        even = String('even', processors=[Even()])
        loose = String('loose', processors=[v.Length(min=2, max=5), Loose()])
        silent = String('silent', processors=[Silent(), plain, v.Length(max=3)])


    routes = Routes()


    @routes.post('/things', data_handler=Body)
    def things(request):
        return Success(request.get_cleaned_data())


    app = App(routes=[routes])
"""


@pytest.fixture
def properties(project):
    name = project.app_module("shop", {"main.py": APP})
    project.config(f"[apps]\nactive = {name}\n[openapi]\nenabled = true\n")
    app = project.create_app()
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()["components"]["schemas"]["Body"]["properties"]


def test_a_custom_validator_puts_its_keywords_in_the_document(properties):
    assert properties["even"]["type"] == "integer"
    assert properties["even"]["multipleOf"] == 2


def test_a_keyword_mapped_to_none_is_removed(properties):
    loose = properties["loose"]
    assert loose["minLength"] == 2 and "maxLength" not in loose
    assert loose["description"] == "any length, really"


def test_validators_and_functions_without_a_schema_add_nothing(properties):
    assert properties["silent"] == {"type": "string", "nullable": True, "maxLength": 3}


def test_the_schema_so_far_is_passed_read_only():
    seen = []

    class Peek(v.Validator):
        def openapi_schema(self, schema):
            seen.append(dict(schema))
            with pytest.raises(TypeError):
                schema["type"] = "boolean"  # type: ignore[index]
            return {}

    assert processor_constraints([v.Length(max=4), Peek()], {"type": "string"}) == {"maxLength": 4}
    assert seen == [{"type": "string", "maxLength": 4}]


def test_filters_say_nothing_by_default():
    assert f.Cut(3).openapi_schema({"type": "string"}) == {}
    assert processor_constraints([f.Cut(3), f.Escape()], {"type": "string"}) == {}


@pytest.mark.parametrize(
    "name, good, bad",
    [
        ("ada.lovelace", True, False),
        ("a-b_c", True, False),
        ("ada..l", False, True),
        ("1ada", False, True),
        ("ada-", False, True),
    ],
)
def test_user_name_pattern_says_what_the_validator_checks(name, good, bad):
    validator = v.UserNamePolicy(min_length=1)
    pattern = validator.openapi_schema({"type": "string"})["pattern"]
    assert (validator(name, {}) is None) is good
    assert (re.search(pattern, name) is None) is bad


def test_each_framework_validator_describes_itself():
    string = {"type": "string"}
    assert v.Integer().openapi_schema(string) == {"type": "integer"}
    assert v.Length(min=2, max=4).openapi_schema(string) == {"minLength": 2, "maxLength": 4}
    assert v.Length(equal=3).openapi_schema({"type": "array"}) == {"minItems": 3, "maxItems": 3}
    assert v.Limit(min=1).openapi_schema({"type": "integer"}) == {"minimum": 1}
    assert v.In(["a", "b"]).openapi_schema(string) == {"enum": ["a", "b"]}
    assert v.NotIn(["x"]).openapi_schema(string) == {"not": {"enum": ["x"]}}
    assert v.In([object()]).openapi_schema(string) == {}  # not JSON: left out
    assert v.MatchRegex("a+").openapi_schema(string) == {"pattern": "^(?:a+)"}
    assert v.EmailAddress().openapi_schema({}) == {"type": "string", "format": "email"}
    assert v.Date().openapi_schema(string) == {"format": "date"}
    assert v.DateTime().openapi_schema(string) == {"format": "date-time"}
    assert v.DateTime("%d/%m").openapi_schema(string) == {}
    assert v.NotNull().openapi_schema({**string, "nullable": True}) == {"nullable": None, "minLength": 1}
    assert v.PasswordPolicy(8, 64).openapi_schema(string) == {"minLength": 8, "maxLength": 64}
    for silent in (v.PhoneNumber(), v.UrlPath(), v.RestrictedFile(), v.IsEqualToField("a")):
        assert silent.openapi_schema(string) == {}
