"""Every validator: a valid and an invalid case, the message override, odd input types."""

from __future__ import annotations

import asyncio
import io
import uuid
from functools import partial

import pytest

from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import TYPE_FILE, String

META = {"name": "f", "key": "f", "received_data": {}, "request": None}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"\x00" * 100

U4 = str(uuid.uuid4())

CASES = [
    # (validator, valid values, invalid values)
    (partial(v.NotNull), ["x", 0, False, [], {}], [None, "", b""]),
    (partial(v.NotBlank), ["x", " x ", None, 0, [1]], ["   ", "\t", [], {}]),
    (partial(v.In, ["basic", "bearer"]), ["basic", None], ["other", 1, ["basic"]]),
    (partial(v.NotIn, {"root", "admin"}), ["user", None], ["root"]),
    (partial(v.Length, equal=3), ["abc", [1, 2, 3], 123], ["ab", "abcd"]),
    (partial(v.Length, min=2, max=4), ["ab", "abcd", None], ["a", "abcde", [1]]),
    (partial(v.Limit, min=1, max=10), [1, 10, "5", 5.5, None], [0, 11, "x", "nan", True, [1]]),
    (partial(v.UUID), [U4, U4.upper(), None], ["not-a-uuid", U4.replace("-", ""), 5]),
    (partial(v.UUID, version=4), [U4], ["a8098c1a-f86e-11da-bd1a-00112444be1e"]),
    (partial(v.Numeric), [1, 1.5, "2", "-3.5e2", None], ["x", "inf", "nan", True, [1], "1" * 500]),
    (partial(v.Integer), [1, "12", "-3", "+4", None], ["1.5", 1.5, "x", True, "1_000", [1]]),
    (partial(v.Boolean), [True, False, "true", "False", "1", "off", 0, None], ["maybe", 2, [True]]),
    (
        partial(v.Url),
        ["https://example.com/a?b=1", "ftp://host", None],
        ["example.com", "http://", "http://exa mple.com", "http://host:99999", 5],
    ),
    (partial(v.Url, schemes=("https",)), ["https://a.io"], ["http://a.io"]),
    (partial(v.UrlPath), ["/", "/a/b", "/a-b/c.d", None], ["a/b", "/a b", "//evil.com", "/a?x=1", 3]),
    (
        partial(v.EmailAddress),
        ["a@b.co", "John.Doe+tag@Example.COM", "x@sub.domain.org", "u@bücher.de", None],
        ["a@b", "a@@b.co", "@b.co", "a@b.c", "a b@c.co", "a@-b.co", "a..b@c.co", 5, "a@b.co" + "m" * 250],
    ),
    (
        partial(v.PhoneNumber),
        ["+1 (555) 010-0199", "09121234567", "+44 20 7946 0958", None],
        ["12345", "phone", "+1 (555 0100199", "1" * 16, 5551234],
    ),
    (
        partial(v.PasswordPolicy),
        ["Tr0ub4dor&3x", "correct-horse-battery", None],
        ["short1A", "aaaaaaaaaaaa", "abcdefghijkl", "1234567890", "qwertyuiop", 12345678901],
    ),
    (
        partial(v.UserNamePolicy),
        ["john", "john.doe", "j_doe-2", None],
        ["jo", "2john", "john.", "jo..hn", "john doe", "x" * 33, 5],
    ),
    (partial(v.DateTime), ["2024-02-29T10:00:00", "2024-01-01", None], ["2023-02-29", "yesterday", 5]),
    (partial(v.DateTime, "%d/%m/%Y %H:%M"), ["31/12/2024 23:59"], ["2024-12-31 23:59"]),
    (partial(v.Date), ["2024-01-31"], ["31-01-2024", "2024-01-31T00:00"]),
    (partial(v.MatchRegex, r"[a-z]+\d$"), ["abc1", None], ["1abc", "abc", 5]),
    (
        partial(v.DictInnerTypes, {"id": int, "name": str}),
        [{"id": 1, "name": "a"}, {"id": 1, "name": "a", "x": 0}, None],
        [{"id": "1", "name": "a"}, {"id": True, "name": "a"}, {"name": "a"}, [1], "x"],
    ),
    (partial(v.DictInnerTypes, {"id": int}, allow_extra=False), [{"id": 1}], [{"id": 1, "x": 2}]),
    (
        partial(v.NoDuplicateDictItemValueInList, "id"),
        [[{"id": 1}, {"id": 2}], [], None],
        [[{"id": 1}, {"id": 1}], {"id": 1}],
    ),
]


IDS = [c[0].func.__name__ for c in CASES]


@pytest.mark.parametrize("make,valid,invalid", CASES, ids=IDS)
def test_valid_and_invalid(make, valid, invalid):
    validator = make()
    for value in valid:
        assert validator(value, META) is None, value
    for value in invalid:
        assert validator(value, META) is not None, value


@pytest.mark.parametrize("make,valid,invalid", CASES, ids=IDS)
def test_message_override(make, valid, invalid):
    validator = make(message="Custom!")
    for value in invalid:
        assert validator(value, META) == "Custom!", value


def test_default_messages_name_the_constraint():
    assert v.Length(max=3)("abcd", META) == "Length error: max: 3"
    assert v.Length(equal=2)("abc", META) == "Length error: acceptable: 2"
    assert v.Limit(min=0)(-1, META) == "Value limit error: min: 0"
    assert v.NotNull()(None, META) == "Null value"


def test_password_strength_is_password_policy():
    assert v.PasswordStrength is v.PasswordPolicy


def test_is_equal_to_field():
    meta = {**META, "received_data": {"password": "s3cret", "password_re": "s3cret"}}
    assert v.IsEqualToField("password")("s3cret", meta) is None
    assert v.IsEqualToField("password")("other", meta) == "Values do not match"

    class Passwords(Data):
        password = String("password")
        password_re = String("password_re", processors=[v.IsEqualToField(password)])

    field = Passwords._plan.entries[1].field
    assert field.processors[0](("s3cret"), meta) is None


def _file_meta(request=None, field=None, key="f"):
    return {**META, "request": request, "field": field, "key": key}


class TestRestrictedFile:
    def test_type_from_bytes(self):
        check = v.RestrictedFile(extensions=("jpg", "jpeg", "png"))
        assert check(PNG, META) is None
        assert check(JPEG, META) is None
        assert check(PDF, META) == "File error: Invalid file type"
        assert check(b"plain text", META) == "File error: Invalid file type"
        assert check(None, META) is None
        assert check("a string", META) == "File error"

    def test_sizes_in_kib(self):
        check = v.RestrictedFile(min_size=1, max_size=2)
        assert check(b"x" * 1024, META) is None
        assert check(b"x" * 2048, META) is None
        assert check(b"x" * 1023, META) == "File error: min size: 1 KiB"
        assert check(b"x" * 2049, META) == "File error: max size: 2 KiB"
        assert v.RestrictedFile(max_size=1, message="Too big")(b"x" * 2000, META) == "Too big"

    def test_upload_name_and_content_must_both_match(self, client_for):
        class Upload(Data):
            image = String(
                "image",
                field_type=TYPE_FILE,
                processors=[v.NotNull(), v.RestrictedFile(extensions=("png",), max_size=2)],
            )

        client = client_for(Upload)
        ok = client.post("/x", data={"image": (io.BytesIO(PNG), "photo.png")})
        assert ok.status_code == 200
        renamed = client.post("/x", data={"image": (io.BytesIO(PDF), "photo.png")})
        assert renamed.json["data"] == {"image": ["File error: Invalid file type"]}
        wrong_name = client.post("/x", data={"image": (io.BytesIO(PNG), "photo.exe")})
        assert wrong_name.json["data"] == {"image": ["File error: Invalid file type"]}

    def test_list_of_uploads_checks_each_name(self, client_for):
        class Uploads(Data):
            images = String(
                "images",
                field_type=TYPE_FILE,
                processors=[[v.NotNull(), v.RestrictedFile(extensions=("png", "jpg"))]],
            )

        client = client_for(Uploads)
        ok = client.post("/x", data={"images[]": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(JPEG), "b.jpg")]})
        assert ok.status_code == 200
        bad = client.post("/x", data={"images[]": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(JPEG), "b.gif")]})
        assert bad.status_code == 400

    def test_accepts_a_file_storage(self):
        from werkzeug.datastructures import FileStorage

        upload = FileStorage(io.BytesIO(PNG), filename="x.png")
        assert v.RestrictedFile(extensions=("png",))(upload, META) is None
        assert upload.read() == PNG
        upload = FileStorage(io.BytesIO(PNG), filename="x.jpg")
        assert v.RestrictedFile(extensions=("png",))(upload, META) is not None


class TestAsyncCustomValidator:
    def test_async_subclass_is_awaited(self):
        class Async(v.Validator):
            async def __call__(self, value, meta):
                await asyncio.sleep(0)
                return None if value else self.message

        assert asyncio.run(Async("Empty")("", META)) == "Empty"
        assert asyncio.run(Async()("x", META)) is None
