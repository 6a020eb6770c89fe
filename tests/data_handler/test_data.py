"""``Data``: gathering from every location, defaults, required, blank to null, error
collection, the 400/415 envelopes, sync and async handlers, and marshmallow integration."""

from __future__ import annotations

import io

import pytest
from marshmallow import Schema, validate
from marshmallow import fields as mf

from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import (
    TYPE_CONTENT,
    TYPE_FILE,
    TYPE_FORM_FIELD,
    TYPE_HEADER,
    TYPE_JSON_FIELD,
    TYPE_PARAM,
    TYPE_URL_VAR,
    Integer,
    String,
)


class Everywhere(Data):
    group = String("group", field_type=TYPE_URL_VAR)
    page = Integer("page", field_type=TYPE_PARAM)
    tags = String("tags", field_type=TYPE_PARAM)
    agent = String("X-Agent", field_type=TYPE_HEADER)
    title = String("title", field_type=TYPE_FORM_FIELD)
    upload = String("upload", field_type=TYPE_FILE)


def test_every_location_but_json_and_content(client_for):
    client = client_for(Everywhere, path="/g/<group>")
    response = client.post(
        "/g/admins?page=3&tags[]=a&tags[]=b",
        headers={"x-agent": "tester"},
        data={"title": "Hello", "upload": (io.BytesIO(b"\x01\x02"), "f.bin")},
    )
    assert response.status_code == 200, response.json
    assert response.json == {
        "group": "admins",
        "page": 3,
        "tags": ["a", "b"],
        "agent": "tester",
        "title": "Hello",
        "upload": repr(b"\x01\x02"),
    }


class JsonData(Data):
    name = String("name", required=True, processors=[v.NotNull(), v.Length(max=5)])
    age = Integer("age", default=18)
    note = String("note")


def test_json_location(client_for):
    response = client_for(JsonData).post("/x", json={"name": "Ann", "age": "40", "extra": 1})
    assert response.json == {"name": "Ann", "age": 40}


class ContentData(Data):
    raw = String(field_type=TYPE_CONTENT, required=True)


def test_content_location_takes_any_body(client_for):
    client = client_for(ContentData)
    response = client.post("/x", data=b"\x00binary", content_type="application/octet-stream")
    assert response.json == {"raw": repr(b"\x00binary")}
    response = client.post("/x")
    assert response.status_code == 400
    assert response.json["data"] == {"raw": ["Required"]}


def test_files_list_gives_list_of_bytes(client_for):
    class Files(Data):
        images = String("images", field_type=TYPE_FILE, processors=[[v.NotNull(), v.Length(min=2)]])

    client = client_for(Files)
    response = client.post(
        "/x", data={"images[]": [(io.BytesIO(b"ab"), "a.bin"), (io.BytesIO(b"cde"), "b.bin")]}
    )
    assert response.json == {"images": repr([b"ab", b"cde"])}
    response = client.post(
        "/x", data={"images[]": [(io.BytesIO(b"ab"), "a.bin"), (io.BytesIO(b"c"), "b.bin")]}
    )
    assert response.status_code == 400


def test_upload_stays_readable_after_cleaning():
    from flask import Flask, request

    from framework.request import Request

    class Upload(Data):
        doc = String("doc", field_type=TYPE_FILE)

    app = Flask(__name__)
    app.request_class = Request
    with app.test_request_context("/", method="POST", data={"doc": (io.BytesIO(b"content"), "d.txt")}):
        assert Upload.clean(request) == {"doc": b"content"}
        assert request.files["doc"].read() == b"content"


def test_required_and_all_errors_collected_at_once(client_for):
    response = client_for(JsonData).post("/x", json={"age": "old", "name": "toolongname"})
    assert response.status_code == 400
    assert response.json == {
        "status": "error",
        "code": 1002,
        "message": "Unexpected data",
        "data": {"name": ["Length error: max: 5"], "age": ["Must be integer"]},
    }
    response = client_for(JsonData).post("/x", json={})
    assert response.json["data"] == {"name": ["Required"]}


def test_absent_field_takes_default_or_is_left_out(client_for):
    response = client_for(JsonData).post("/x", json={"name": "Bo"})
    assert response.json == {"name": "Bo", "age": 18}


def test_blank_becomes_null_and_null_takes_default(client_for):
    client = client_for(JsonData)
    assert client.post("/x", json={"name": "Bo", "note": "", "age": ""}).json == {
        "name": "Bo",
        "note": None,
        "age": 18,
    }
    response = client.post("/x", json={"name": ""})
    assert response.json["data"] == {"name": ["Null value"]}


def test_blank_to_null_can_be_turned_off(client_for):
    class Raw(Data):
        auto_blank_to_null = False
        note = String("note")

    assert client_for(Raw).post("/x", json={"note": ""}).json == {"note": ""}


def test_mutable_and_callable_defaults_are_fresh(client_for):
    class Defaults(Data):
        tags = String("tags", default=[])
        stamp = String("stamp", default=lambda: "made")

    client = client_for(Defaults)
    assert client.post("/x", json={}).json == {"tags": [], "stamp": "made"}
    assert Defaults.__dict__["_plan"].entries[0].field.default == []


def test_default_mapping_for_edits():
    from flask import Flask, request

    from framework.request import Request

    class Edit(Data):
        name = String("name", required=True)
        bio = String("bio")

    app = Flask(__name__)
    app.request_class = Request
    with app.test_request_context("/", method="POST", json={"bio": "new"}):
        assert Edit.clean(request, default={"name": "current"}) == {"name": "current", "bio": "new"}

        class Row:
            def __init__(self):
                self.name = "row"

        assert Edit.clean(request, default=Row()) == {"name": "row", "bio": "new"}


def test_request_name_differs_from_attribute(client_for):
    class Renamed(Data):
        user_name = String("userName", required=True, processors=[v.Length(min=3)])

    client = client_for(Renamed)
    assert client.post("/x", json={"userName": "abcd"}).json == {"user_name": "abcd"}
    assert client.post("/x", json={"userName": "a"}).json["data"] == {"userName": ["Length error: min: 3"]}


def test_first_failing_validator_ends_the_chain():
    calls = []

    class Spy(v.Validator):
        def __call__(self, value, meta):
            calls.append(value)

    class Chain(Data):
        a = String("a", processors=[v.Integer(), Spy()])

    from flask import Flask, request

    from framework.request import Request

    app = Flask(__name__)
    app.request_class = Request
    with app.test_request_context("/", method="POST", json={"a": "x"}):
        with pytest.raises(Exception) as info:
            Chain.clean(request)
        assert info.value.json["data"] == {"a": ["Must be integer"]}
    assert calls == []


def test_meta_carries_name_received_data_and_request():
    seen = {}

    class Record(v.Validator):
        def __call__(self, value, meta):
            seen.update(meta)

    class Meta(Data):
        a = String("a-key", processors=[Record()])
        b = String("b")

    from flask import Flask, request

    from framework.request import Request

    app = Flask(__name__)
    app.request_class = Request
    with app.test_request_context("/", method="POST", json={"a-key": 1, "b": 2}):
        Meta.clean(request)
        assert seen["name"] == "a"
        assert seen["key"] == "a-key"
        assert seen["received_data"] == {"a": 1, "b": 2}
        assert seen["request"] is request


class AsyncCheck(v.Validator):
    async def __call__(self, value, meta):
        return None if value == "ok" else "Not ok"


class AsyncUpper(f.Filter):
    async def __call__(self, value):
        return value.upper()


class Mixed(Data):
    word = String("word", processors=[AsyncCheck(), AsyncUpper(), v.Length(max=2)])
    n = Integer("n")


@pytest.mark.parametrize("asynchronous", [False, True])
def test_async_processors_in_sync_and_async_handlers(client_for, asynchronous):
    client = client_for(Mixed, asynchronous=asynchronous)
    assert client.post("/x", json={"word": "ok", "n": 1}).json == {"word": "OK", "n": 1}
    response = client.post("/x", json={"word": "no", "n": "x"})
    assert response.json["data"] == {"word": ["Not ok"], "n": ["Must be integer"]}


def test_async_filter_error_is_a_field_error(client_for):
    class Failing(f.Filter):
        async def __call__(self, value):
            raise f.FilterError("Cannot convert")

    class D(Data):
        a = String("a", processors=[Failing()])

    for asynchronous in (False, True):
        response = client_for(D, asynchronous=asynchronous).post("/x", json={"a": "x"})
        assert response.status_code == 400
        assert response.json["data"] == {"a": ["Cannot convert"]}


def test_malformed_json_is_400(client_for):
    response = client_for(JsonData).post("/x", data=b"{bad", content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 1002


@pytest.mark.parametrize("body", [b"[1, 2]", b"3", b'"text"', b"null"])
def test_json_body_that_is_not_an_object_is_400(client_for, body):
    response = client_for(JsonData).post("/x", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 1002


def test_undecodable_bytes_are_400(client_for):
    response = client_for(JsonData).post("/x", data=b'{"name": "\xff\xfe"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 1002


def test_multipart_without_boundary_is_400(client_for):
    class Form(Data):
        title = String("title", field_type=TYPE_FORM_FIELD)

    response = client_for(Form).post("/x", data=b"title=x", content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json["code"] == 1002


def test_unsupported_content_type_is_415(client_for):
    response = client_for(JsonData).post("/x", data=b"<xml/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.json["code"] == 1006


def test_form_data_accepts_form_bodies_only(client_for):
    class Form(Data):
        title = String("title", field_type=TYPE_FORM_FIELD, required=True)

    client = client_for(Form)
    assert client.post("/x", data={"title": "t"}).json == {"title": "t"}
    assert client.post("/x", json={"title": "t"}).status_code == 415


def test_nested_list_processors_apply_per_item(client_for):
    class Items(Data):
        ids = String("ids", processors=[v.NotNull(), [v.Integer(), f.ToIntegerObject(), v.Limit(max=9)]])

    client = client_for(Items)
    assert client.post("/x", json={"ids": ["1", 2]}).json == {"ids": [1, 2]}
    assert client.post("/x", json={"ids": ["1", "x"]}).json["data"] == {"ids": ["Must be integer"]}
    assert client.post("/x", json={"ids": [1, 10]}).json["data"] == {"ids": ["Value limit error: max: 9"]}
    assert client.post("/x", json={"ids": "1"}).json["data"] == {"ids": ["Required list data"]}
    assert client.post("/x", json={"ids": None}).json["data"] == {"ids": ["Null value"]}


def test_nested_list_does_not_modify_received_data():
    from flask import Flask, request

    from framework.request import Request

    class Items(Data):
        ids = String("ids", processors=[[f.ToIntegerObject()]])

    app = Flask(__name__)
    app.request_class = Request
    with app.test_request_context("/", method="POST", json={"ids": ["1"]}):
        assert Items.clean(request) == {"ids": [1]}
        assert request.body.json == {"ids": ["1"]}


class WithMarshmallow(Data):
    name = String("name", required=True)
    count = mf.Integer(validate=validate.Range(min=0))
    mode = mf.String(data_key="Mode", load_default="fast")
    page = mf.Integer(metadata={"field_type": TYPE_PARAM})


def test_plain_marshmallow_fields_work_beside(client_for):
    client = client_for(WithMarshmallow)
    assert client.post("/x?page=2", json={"name": "n", "count": "3"}).json == {
        "name": "n",
        "count": 3,
        "mode": "fast",
        "page": 2,
    }
    response = client.post("/x", json={"name": "n", "count": -1, "Mode": 5})
    assert response.json["data"] == {
        "count": ["Must be greater than or equal to 0."],
        "Mode": ["Not a valid string."],
    }


def test_marshmallow_processor_callables(client_for):
    class D(Data):
        name = String("name", processors=[validate.Length(max=2), lambda value: value != "no"])

    client = client_for(D)
    assert client.post("/x", json={"name": "ok"}).json == {"name": "ok"}
    too_long = client.post("/x", json={"name": "long"})
    assert too_long.json["data"] == {"name": ["Longer than maximum length 2."]}
    assert client.post("/x", json={"name": "no"}).json["data"] == {"name": ["Invalid value"]}


def test_data_is_a_marshmallow_schema_loadable_without_a_request():
    assert issubclass(JsonData, Schema)
    assert JsonData().load({"name": "Amy", "age": "5"}) == {"name": "Amy", "age": 5}
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as info:
        JsonData().load({"name": "far too long"})
    assert info.value.messages == {"name": ["Length error: max: 5"]}


def test_compiled_once_per_class():
    plan = JsonData.__dict__["_plan"]
    assert [e.attr for e in plan.entries] == ["name", "age", "note"]
    assert plan.entries[0].field.steps  # processors compiled at definition time
    assert JsonData._plan is plan

    class Child(JsonData):
        more = String("more")

    assert [e.attr for e in Child._plan.entries] == ["name", "age", "note", "more"]
    assert JsonData._plan is plan


def test_get_cleaned_data_without_data_handler_is_empty(app_for):
    from framework.router import Routes

    routes = Routes()

    @routes.post("/x")
    def handler(request):
        return request.get_cleaned_data()

    assert app_for(routes).test_client().post("/x").json == {}


def test_json_location_field_type_default():
    assert JsonData._plan.entries[0].location == TYPE_JSON_FIELD


def test_sync_handler_cleans_once_per_request(app_for):
    from framework.router import Routes

    calls: list[str] = []

    class Upper(f.Filter):
        def __call__(self, value):
            calls.append(value)
            return value.upper()

    class Counted(Data):
        name = String("name", required=True, processors=[Upper()])

    routes = Routes()

    @routes.post("/x", data_handler=Counted)
    def handler(request):
        first = request.get_cleaned_data()
        return {"same": first is request.get_cleaned_data(), "data": first}

    client = app_for(routes).test_client()
    assert client.post("/x", json={"name": "ann"}).json == {"same": True, "data": {"name": "ANN"}}
    assert client.post("/x", json={"name": "bob"}).json == {"same": True, "data": {"name": "BOB"}}
    assert calls == ["ann", "bob"]
    answer = client.post("/x", json={})
    assert (answer.status_code, answer.json["data"]) == (400, {"name": ["Required"]})
