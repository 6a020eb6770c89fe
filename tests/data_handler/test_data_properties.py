"""Property tests: whatever the client sends, a data handler answers 200 or a 4xx envelope,
never a server error."""

from __future__ import annotations

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import (
    TYPE_FILE,
    TYPE_FORM_FIELD,
    TYPE_HEADER,
    TYPE_PARAM,
    Boolean,
    Dict,
    Float,
    Integer,
    List,
    String,
)
from tests.helpers import examples

#: One field per validator and filter, so random input reaches every one of them.
PROCESSORS = {
    "not_null": [v.NotNull()],
    "not_blank": [v.NotBlank()],
    "in": [v.In(["a", "b"])],
    "not_in": [v.NotIn({"x"})],
    "length": [v.Length(min=1, max=5)],
    "limit": [v.Limit(0, 9)],
    "uuid": [v.UUID()],
    "numeric": [v.Numeric()],
    "integer": [v.Integer()],
    "boolean": [v.Boolean()],
    "url": [v.Url()],
    "url_path": [v.UrlPath()],
    "email": [v.EmailAddress()],
    "phone": [v.PhoneNumber()],
    "password": [v.PasswordPolicy()],
    "username": [v.UserNamePolicy()],
    "datetime": [v.DateTime()],
    "date": [v.Date()],
    "regex": [v.MatchRegex(r"\d+")],
    "file": [v.RestrictedFile(("png",), 0, 1)],
    "equal": [v.IsEqualToField("length")],
    "dict_types": [v.DictInnerTypes({"id": int})],
    "no_dup": [v.NoDuplicateDictItemValueInList("id")],
    "escape": [f.Escape()],
    "cut": [f.Cut(2)],
    "b64": [f.DecodeBase64(), v.RestrictedFile(("png",))],
    "parse_dt": [f.ParseDateTime()],
    "to_str": [f.ToStringObject()],
    "to_int": [f.ToIntegerObject()],
    "to_float": [f.ToFloatObject()],
    "to_decimal": [f.ToDecimalObject(places=2)],
    "to_bool": [f.ToBooleanObject()],
    "blank": [f.BlankToNull()],
    "image": [f.ModifyImage()],
    "nested": [[v.Integer(), f.ToIntegerObject(), v.Limit(max=3)]],
    "nested_typed": [[f.ToStringObject(), v.Length(max=3)]],
}
TYPED = {"t_int": Integer, "t_float": Float, "t_bool": Boolean, "t_list": List, "t_dict": Dict}

json_fields = {name: String(name, processors=procs) for name, procs in PROCESSORS.items()}
json_fields.update({name: cls(name) for name, cls in TYPED.items()})
JsonAll = type("JsonAll", (Data,), json_fields)

form_fields = {
    name: String(name, processors=procs, field_type=TYPE_FORM_FIELD) for name, procs in PROCESSORS.items()
}
form_fields.update(
    {f"q_{name}": String(name, processors=procs, field_type=TYPE_PARAM) for name, procs in PROCESSORS.items()}
)
form_fields.update(
    {
        "h_int": Integer("X-Int", field_type=TYPE_HEADER),
        "upload": String(
            "upload", field_type=TYPE_FILE, processors=[v.RestrictedFile(("png", "jpg"), max_size=1)]
        ),
        **{name: cls(name, field_type=TYPE_FORM_FIELD) for name, cls in TYPED.items()},
    }
)
FormAll = type("FormAll", (Data,), form_fields)

KEYS = list(PROCESSORS) + list(TYPED)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        ["", " ", "2024-01-01", "a@b.co", "aGk=", "1", "true", "/a/b", "https://x.io", "iVBORw0KGgo="]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["id", "a"]) | st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), json_values, max_size=12)

form_text = st.text(max_size=40) | st.sampled_from(["", "1", "x", "2024-01-01", "on", "aGk="])
form_keys = st.sampled_from(KEYS + [k + "[]" for k in KEYS]) | st.text(min_size=1, max_size=8)

SETTINGS = settings(
    max_examples=examples(full=150, default=40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _client(data_class, asynchronous=False):
    from tests.data_handler.helpers import build_app, echo_routes

    return build_app(echo_routes(data_class, asynchronous=asynchronous)).test_client()


JSON_CLIENT = None
FORM_CLIENT = None


def json_client_once():
    global JSON_CLIENT
    if JSON_CLIENT is None:
        JSON_CLIENT = _client(JsonAll)
    return JSON_CLIENT


def form_client_once():
    global FORM_CLIENT
    if FORM_CLIENT is None:
        FORM_CLIENT = _client(FormAll)
    return FORM_CLIENT


def _check(response):
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code != 200:
        body = response.json
        assert body["status"] == "error" and body["code"] in (1002, 1006)


@SETTINGS
@given(body=json_objects)
def test_random_json_objects_never_500(body):
    _check(json_client_once().post("/x", json=body))


@SETTINGS
@given(body=json_values)
def test_random_json_documents_never_500(body):
    _check(json_client_once().post("/x", json=body))


@SETTINGS
@given(
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "text/plain",
            "application/octet-stream",
            "",
        ]
    ),
)
def test_random_bytes_never_500(raw, content_type):
    _check(json_client_once().post("/x", data=raw, content_type=content_type or None))
    _check(form_client_once().post("/x", data=raw, content_type=content_type or None))


@SETTINGS
@given(
    form=st.lists(st.tuples(form_keys, form_text), max_size=15),
    query=st.lists(st.tuples(form_keys, form_text), max_size=6),
    header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=10),
)
def test_random_url_encoded_forms_never_500(form, query, header):
    from werkzeug.datastructures import MultiDict

    _check(
        form_client_once().post(
            "/x", data=MultiDict(form), query_string=MultiDict(query), headers={"X-Int": header}
        )
    )


@SETTINGS
@given(
    form=st.lists(st.tuples(form_keys, form_text), max_size=8),
    upload=st.binary(max_size=300),
    filename=st.text(max_size=12),
)
def test_random_multipart_forms_never_500(form, upload, filename):
    import io

    from werkzeug.datastructures import MultiDict

    data = MultiDict(form)
    data.add("upload", (io.BytesIO(upload), filename or "f"))
    _check(form_client_once().post("/x", data=data, content_type="multipart/form-data"))


def test_a_valid_json_body_passes():
    response = json_client_once().post(
        "/x",
        json={
            "length": "abc",
            "equal": "abc",
            "to_decimal": "1.234",
            "parse_dt": "2024-01-01",
            "nested": ["1", 2],
        },
    )
    assert response.status_code == 200
    assert response.json["nested"] == [1, 2]
    assert response.json["parse_dt"] == repr(datetime.datetime(2024, 1, 1))


def test_multipart_part_with_an_unparsable_name_is_not_500():
    import io

    from werkzeug.datastructures import MultiDict

    data = MultiDict([("\\", "v"), ("upload", (io.BytesIO(b""), "f"))])
    _check(form_client_once().post("/x", data=data, content_type="multipart/form-data"))
