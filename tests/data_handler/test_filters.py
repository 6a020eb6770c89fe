"""Every filter: a converting case, an input it refuses (``FilterError``), and use in a chain."""

from __future__ import annotations

import asyncio
import base64
import datetime
import decimal
import io

import pytest

from framework.data_handler import filters as f
from framework.data_handler import validators as v
from framework.data_handler.data import Data
from framework.data_handler.fields import String

CASES = [
    # (filter, [(input, output)], [inputs refused])
    (f.Escape(), [("<b>&'\"", "&lt;b&gt;&amp;&#x27;&quot;"), ("&lt;b&gt;", "&lt;b&gt;"), (5, 5)], []),
    (f.Cut(3), [("abcdef", "abc"), ([1, 2, 3, 4], [1, 2, 3]), (b"abcd", b"abc"), (7, 7)], []),
    (
        f.DecodeBase64(),
        [("aGVsbG8=", b"hello"), (b"aGVsbG8=", b"hello"), ("data:text/plain;base64,aGVsbG8=", b"hello")],
        ["not base64!", "aGVsbG8", 5, "é"],
    ),
    (f.DecodeBase64(urlsafe=True), [("-_8=", b"\xfb\xff")], ["*"]),
    (
        f.ParseDateTime(),
        [("2024-01-02T03:04:05", datetime.datetime(2024, 1, 2, 3, 4, 5))],
        ["tomorrow", 5, "2024-13-01"],
    ),
    (f.ParseDateTime("%d.%m.%Y", date=True), [("02.01.2024", datetime.date(2024, 1, 2))], ["2024-01-02"]),
    (f.ToStringObject(), [(5, "5"), ("s", "s"), (b"\xc3\xa9", "é")], [b"\xff"]),
    (
        f.ToIntegerObject(),
        [("12", 12), (3, 3), (4.0, 4), (" -5 ", -5), (True, 1)],
        ["1.5", 1.5, "x", None.__class__, [1]],
    ),
    (f.ToFloatObject(), [("1.5", 1.5), (2, 2.0)], ["x", "nan", "inf", True, [1]]),
    (
        f.ToDecimalObject(),
        [("1.10", decimal.Decimal("1.10")), (0.1, decimal.Decimal("0.1")), (3, decimal.Decimal(3))],
        ["x", "NaN", "Infinity", True, [1]],
    ),
    (f.ToDecimalObject(places=2), [("1.005", decimal.Decimal("1.00")), (2, decimal.Decimal("2.00"))], []),
    (
        f.ToBooleanObject(),
        [("true", True), ("OFF", False), (1, True), (False, False), ("yes", True)],
        ["maybe", 2, [True]],
    ),
    (f.BlankToNull(), [("", None), ("   ", None), (b"", None), ("x", "x"), (0, 0)], []),
]

IDS = [type(c[0]).__name__ for c in CASES]


@pytest.mark.parametrize("flt,conversions,refused", CASES, ids=IDS)
def test_converts_and_refuses(flt, conversions, refused):
    for given, expected in conversions:
        result = flt(given)
        assert result == expected and type(result) is type(expected), (given, result)
    for given in refused:
        with pytest.raises(f.FilterError):
            flt(given)


def test_filter_error_messages_can_be_chosen():
    with pytest.raises(f.FilterError) as info:
        f.ToIntegerObject(message="Whole numbers only")("x")
    assert info.value.message == "Whole numbers only"


class Converted(Data):
    count = String("count", processors=[v.Integer(), f.ToIntegerObject()])
    title = String("title", processors=[f.Escape(), f.Cut(5)])
    raw = String("raw", processors=[f.DecodeBase64()])
    when = String("when", processors=[f.ParseDateTime()])


def test_filters_in_a_chain(client_for):
    client = client_for(Converted)
    response = client.post(
        "/x", json={"count": "7", "title": "<i>hi</i>", "raw": "aGk=", "when": "2024-05-06T07:08:09"}
    )
    assert response.json == {
        "count": 7,
        "title": "&lt;i",
        "raw": repr(b"hi"),
        "when": repr(datetime.datetime(2024, 5, 6, 7, 8, 9)),
    }
    response = client.post("/x", json={"raw": "%%%", "when": "never"})
    assert response.status_code == 400
    assert response.json["data"] == {"raw": ["Invalid base64 data"], "when": ["Invalid date-time format"]}


def test_filters_skip_none(client_for):
    assert client_for(Converted).post("/x", json={"count": None, "raw": ""}).json == {
        "count": None,
        "raw": None,
    }


def test_custom_async_filter():
    class Double(f.Filter):
        async def __call__(self, value):
            await asyncio.sleep(0)
            return value * 2

    assert asyncio.run(Double()(2)) == 4


class TestModifyImage:
    def _png(self, size=(40, 20), mode="RGBA"):
        from PIL import Image

        out = io.BytesIO()
        Image.new(mode, size, (255, 0, 0, 128) if mode == "RGBA" else 0).save(out, format="PNG")
        return out.getvalue()

    def test_converts_format_and_mode(self):
        from PIL import Image

        result = f.ModifyImage(format="JPEG")(self._png())
        assert result.startswith(b"\xff\xd8\xff")
        with Image.open(io.BytesIO(result)) as image:
            assert image.mode == "RGB" and image.size == (40, 20)

    def test_max_size_shrinks_keeping_ratio(self):
        from PIL import Image

        result = f.ModifyImage(format="PNG", mode="RGB", max_size=(10, 10))(self._png())
        with Image.open(io.BytesIO(result)) as image:
            assert image.size == (10, 5)

    def test_refuses_non_images(self):
        with pytest.raises(f.FilterError):
            f.ModifyImage()(b"not an image")
        with pytest.raises(f.FilterError):
            f.ModifyImage()("text")

    def test_docs_chain_base64_image(self, client_for):
        class Avatar(Data):
            image = String(
                "image",
                processors=(
                    v.NotNull(),
                    f.DecodeBase64(),
                    v.RestrictedFile(extensions=("jpg", "jpeg", "png"), min_size=0, max_size=2048),
                    f.ModifyImage(format="JPEG"),
                ),
            )

        client = client_for(Avatar)
        encoded = base64.b64encode(self._png()).decode()
        response = client.post("/x", json={"image": encoded})
        assert response.status_code == 200
        assert response.json["image"].startswith("b'\\xff\\xd8\\xff")
        gif = base64.b64encode(b"GIF89a" + b"\x00" * 50).decode()
        rejected = client.post("/x", json={"image": gif})
        assert rejected.json["data"] == {"image": ["File error: Invalid file type"]}

    def test_missing_pillow_names_the_extra(self, monkeypatch):
        import builtins

        real_import = builtins.__import__

        def fake_import(name, *args, **kwargs):
            if name == "PIL" or name.startswith("PIL."):
                raise ImportError("No module named 'PIL'")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", fake_import)
        with pytest.raises(ImportError, match=r"pip install framework\[image\]"):
            f.ModifyImage()
