"""File type detection from content: a small table of magic numbers.

``RestrictedFile`` uses it so that an upload named ``photo.png`` that holds a PDF is
refused. ``detect(data)`` returns every extension the bytes are valid for (a JPEG is
``jpg``, ``jpeg``, ``jpe`` and ``jfif``; an OOXML document is also a ``zip``).
"""

from __future__ import annotations

__all__ = ["detect", "extension_of"]

_JPEG = frozenset({"jpg", "jpeg", "jpe", "jfif"})

#: ``(offset, magic, extensions)``, checked in order; every match contributes.
_SIGNATURES: tuple[tuple[int, bytes, frozenset[str]], ...] = (
    (0, b"\xff\xd8\xff", _JPEG),
    (0, b"\x89PNG\r\n\x1a\n", frozenset({"png"})),
    (0, b"GIF87a", frozenset({"gif"})),
    (0, b"GIF89a", frozenset({"gif"})),
    (0, b"BM", frozenset({"bmp"})),
    (0, b"II*\x00", frozenset({"tif", "tiff"})),
    (0, b"MM\x00*", frozenset({"tif", "tiff"})),
    (0, b"\x00\x00\x01\x00", frozenset({"ico"})),
    (0, b"%PDF-", frozenset({"pdf"})),
    (0, b"\x1f\x8b", frozenset({"gz", "tgz"})),
    (0, b"BZh", frozenset({"bz2"})),
    (0, b"\xfd7zXZ\x00", frozenset({"xz"})),
    (0, b"7z\xbc\xaf'\x1c", frozenset({"7z"})),
    (0, b"Rar!\x1a\x07", frozenset({"rar"})),
    (0, b"OggS", frozenset({"ogg", "oga", "ogv", "opus"})),
    (0, b"fLaC", frozenset({"flac"})),
    (0, b"ID3", frozenset({"mp3"})),
    (0, b"\xff\xfb", frozenset({"mp3"})),
    (0, b"\xff\xf3", frozenset({"mp3"})),
    (0, b"\xff\xf2", frozenset({"mp3"})),
    (0, b"\x1aE\xdf\xa3", frozenset({"webm", "mkv"})),
    (0, b"wOFF", frozenset({"woff"})),
    (0, b"wOF2", frozenset({"woff2"})),
    (0, b"SQLite format 3\x00", frozenset({"sqlite", "db"})),
)

#: RIFF containers: the form type at offset 8.
_RIFF = {b"WEBP": frozenset({"webp"}), b"WAVE": frozenset({"wav"}), b"AVI ": frozenset({"avi"})}

#: ISO base media (``ftyp`` at offset 4): the major brand at offset 8.
_FTYP = {
    b"qt  ": frozenset({"mov"}),
    b"M4A ": frozenset({"m4a"}),
    b"avif": frozenset({"avif"}),
    b"heic": frozenset({"heic", "heif"}),
    b"heix": frozenset({"heic", "heif"}),
    b"mif1": frozenset({"heic", "heif"}),
    b"3gp4": frozenset({"3gp"}),
    b"3gp5": frozenset({"3gp"}),
}
_MP4 = frozenset({"mp4", "m4v"})

#: ZIP-based formats, told apart by a member name (OOXML) or the ``mimetype`` member (ODF, EPUB).
_ZIP_MEMBERS = (
    (b"word/", "docx"),
    (b"xl/", "xlsx"),
    (b"ppt/", "pptx"),
    (b"META-INF/MANIFEST.MF", "jar"),
    (b"AndroidManifest.xml", "apk"),
)
_ZIP_MIMETYPES = (
    (b"application/vnd.oasis.opendocument.text", "odt"),
    (b"application/vnd.oasis.opendocument.spreadsheet", "ods"),
    (b"application/vnd.oasis.opendocument.presentation", "odp"),
    (b"application/epub+zip", "epub"),
)

_TEXT = frozenset({"txt", "csv", "tsv", "md", "json", "log"})
_TEXT_CONTROL = (
    bytes(range(32)).replace(b"\t", b"").replace(b"\n", b"").replace(b"\r", b"").replace(b"\x0c", b"")
)


def detect(data: bytes) -> frozenset[str]:
    """The extensions whose signature ``data`` carries; empty when nothing is recognised."""
    found: set[str] = set()
    head = data[:64]
    for offset, magic, extensions in _SIGNATURES:
        if head.startswith(magic, offset):
            found |= extensions
    if head.startswith(b"RIFF") and head[8:12] in _RIFF:
        found |= _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        found |= _FTYP.get(head[8:12], _MP4)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        found.add("zip")
        found.update(_zip_kinds(data))
    if not found:
        found.update(_text_kinds(data))
    return frozenset(found)


def _zip_kinds(data: bytes) -> set[str]:
    kinds = set()
    if data[30:38] == b"mimetype":
        for mimetype, extension in _ZIP_MIMETYPES:
            if data.startswith(mimetype, 38):
                kinds.add(extension)
    if not kinds:
        for member, extension in _ZIP_MEMBERS:
            if member in data:
                kinds.add(extension)
                break
    return kinds


def _text_kinds(data: bytes) -> set[str]:
    sample = data[:4096]
    stripped = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"<?xml", b"<svg", b"<!DOCTYPE svg")) and b"<svg" in sample[:2048]:
        return {"svg", "xml"}
    if len(sample.translate(None, _TEXT_CONTROL)) != len(sample):
        return set()
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is still text.
        if exc.start < len(sample) - 3:
            return set()
    kinds = set(_TEXT)
    if stripped.startswith(b"<"):
        kinds.update({"xml", "html", "htm"})
    return kinds


def extension_of(filename: str | None) -> str | None:
    """The lower-cased extension of ``filename`` without the dot, or None."""
    if not filename or "." not in filename:
        return None
    return filename.rsplit(".", 1)[1].lower() or None
