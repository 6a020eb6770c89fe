"""Fields: Backendpy's parameters, the typed conveniences, marshmallow identity."""

from __future__ import annotations

import pytest
from marshmallow import fields as mf

from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import (
    TYPE_FORM_FIELD,
    TYPE_HEADER,
    TYPE_PARAM,
    TYPE_URL_VAR,
    Boolean,
    Dict,
    Field,
    Float,
    Integer,
    List,
    String,
)


def test_fields_are_marshmallow_fields_with_backendpy_parameters():
    field = String("user_name", default="x", processors=[v.NotNull()], field_type=TYPE_PARAM, required=False)
    assert isinstance(field, mf.Field)
    assert field.data_key == field.data_name == "user_name"
    assert field.default == "x" and field.field_type == TYPE_PARAM and not field.required
    # String's own text check, then the user's processor
    assert [type(step[1]) for step in field.steps] == [v.StorableText, v.NotNull]


def test_unknown_field_type_is_refused_at_definition():
    with pytest.raises(ValueError, match="field_type"):
        String("x", field_type=99)


def test_a_processor_of_the_wrong_kind_is_refused_at_definition():
    with pytest.raises(TypeError):
        String("x", processors=[42])


def test_attribute_name_is_the_default_request_name(client_for):
    class D(Data):
        title = String()

    assert client_for(D).post("/x", json={"title": "t"}).json == {"title": "t"}


class Typed(Data):
    n = Integer("n")
    x = Float("x")
    b = Boolean("b")
    items = List("items")
    obj = Dict("obj")
    s = String("s")


@pytest.mark.parametrize(
    "key,given,expected",
    [
        ("n", "42", 42),
        ("n", 7, 7),
        ("x", "1.5", 1.5),
        ("x", 2, 2.0),
        ("b", "on", True),
        ("b", False, False),
        ("items", [1, "a"], [1, "a"]),
        ("obj", {"k": 1}, {"k": 1}),
        ("s", 5, 5),
        ("s", [1], [1]),
    ],
)
def test_typed_fields_convert(client_for, key, given, expected):
    response = client_for(Typed).post("/x", json={key: given})
    assert response.status_code == 200
    assert response.json == {key: expected}


@pytest.mark.parametrize(
    "key,given,message",
    [
        ("n", "4.2", "Must be integer"),
        ("n", True, "Must be integer"),
        ("x", "abc", "Must be numeric"),
        ("b", "perhaps", "Must be boolean"),
        ("items", "a", "Must be a list"),
        ("obj", [1], "Must be an object"),
    ],
)
def test_typed_fields_refuse(client_for, key, given, message):
    response = client_for(Typed).post("/x", json={key: given})
    assert response.status_code == 400
    assert response.json["data"] == {key: [message]}


def test_typed_fields_from_strings_of_other_locations(client_for):
    class Query(Data):
        page = Integer("page", field_type=TYPE_PARAM, default=1)
        ids = List("ids", field_type=TYPE_PARAM, processors=[[v.Integer()]])
        flag = Boolean("flag", field_type=TYPE_FORM_FIELD)
        ratio = Float("X-Ratio", field_type=TYPE_HEADER)
        slug = Integer("slug", field_type=TYPE_URL_VAR)

    client = client_for(Query, path="/q/<slug>")
    response = client.post("/q/9?ids[]=1&ids[]=2", data={"flag": "true"}, headers={"X-Ratio": "0.5"})
    assert response.json == {"page": 1, "ids": ["1", "2"], "flag": True, "ratio": 0.5, "slug": 9}


def test_custom_field_subclass(client_for):
    class Lower(Field):
        type_processors = ()

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)

    class D(Data):
        a = Lower("a", processors=[v.Length(max=2)])

    assert client_for(D).post("/x", json={"a": "ab"}).json == {"a": "ab"}


def test_required_field_with_default_stays_required(client_for):
    class D(Data):
        a = String("a", required=True, default="d")

    assert client_for(D).post("/x", json={}).json["data"] == {"a": ["Required"]}
    assert client_for(D).post("/x", json={"a": None}).json == {"a": "d"}
