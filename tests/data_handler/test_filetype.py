"""The magic-number table behind ``RestrictedFile``."""

from __future__ import annotations

import io
import zipfile

import pytest

from framework.data_handler._filetype import detect, extension_of


def _zip(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, {"jpg", "jpeg"}),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, {"png"}),
        (b"GIF89a" + b"\0" * 20, {"gif"}),
        (b"RIFF\0\0\0\0WEBPVP8 ", {"webp"}),
        (b"RIFF\0\0\0\0WAVEfmt ", {"wav"}),
        (b"%PDF-1.4\n", {"pdf"}),
        (b"\x00\x00\x00\x18ftypmp42", {"mp4"}),
        (b"\x00\x00\x00\x18ftypheic", {"heic"}),
        (b"\x1f\x8b\x08\x00", {"gz"}),
        (b"OggS\x00", {"ogg"}),
        (b"ID3\x03", {"mp3"}),
        (b"BM\x00\x00", {"bmp"}),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", {"svg"}),
        (b"name,age\nann,3\n", {"csv", "txt"}),
    ],
)
def test_detects(data, expected):
    assert expected <= detect(data)


def test_zip_family():
    assert {"zip"} == detect(_zip([("a.txt", "x")]))
    assert {"zip", "docx"} == detect(_zip([("[Content_Types].xml", "x"), ("word/document.xml", "x")]))
    assert {"zip", "xlsx"} == detect(_zip([("xl/workbook.xml", "x")]))
    odt = _zip([("mimetype", "application/vnd.oasis.opendocument.text")])
    assert "odt" in detect(odt)


def test_unknown_binary_is_nothing():
    assert detect(b"\x00\x01\x02\x03binary") == frozenset()
    assert detect(b"") <= {"txt", "csv", "tsv", "md", "json", "log"}


def test_png_is_not_a_jpeg():
    assert "jpg" not in detect(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    "name,ext",
    [
        ("a.PNG", "png"),
        ("archive.tar.gz", "gz"),
        ("noext", None),
        ("", None),
        (None, None),
        ("trailing.", None),
    ],
)
def test_extension_of(name, ext):
    assert extension_of(name) == ext
