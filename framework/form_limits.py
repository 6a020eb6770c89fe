"""A cap on the number of form fields, for url-encoded and multipart bodies alike.

Werkzeug caps multipart parts (``max_form_parts``, Flask's ``MAX_FORM_PARTS``) and stops
parsing at the cap, but parses a url-encoded body with no cap at all: a body of millions of
``&`` costs seconds of CPU within the byte limit. ``FieldCountingFormParser`` applies the
same ``max_form_parts`` to url-encoded bodies by counting separators while it reads, so an
oversized body is refused (413, code 1005) before it is parsed, or even fully read.
``[networking] max_form_fields`` (default 1000) sets the cap for both.
"""

from __future__ import annotations

import io
from typing import IO, Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

__all__ = ["FieldCountingFormParser", "DEFAULT_MAX_FORM_FIELDS", "URLENCODED", "max_form_fields"]

#: The cap when ``[networking] max_form_fields`` is not set.
DEFAULT_MAX_FORM_FIELDS = 1000
URLENCODED = "application/x-www-form-urlencoded"
_CHUNK = 65536


class FieldCountingFormParser(FormDataParser):
    """Werkzeug's form parser, with ``max_form_parts`` applied to url-encoded bodies too."""

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> Any:
        limit = self.max_form_parts
        if mimetype == URLENCODED and limit is not None:
            stream = io.BytesIO(_read_counting(stream, limit))
        return super().parse(stream, mimetype, content_length, options)


def _read_counting(stream: IO[bytes], limit: int) -> bytes:
    """The body, read in chunks; raises 413 as soon as it holds more than ``limit``
    fields (``&``-separated pieces, empty ones included: each costs the parser a step)."""
    chunks: list[bytes] = []
    separators = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        separators += chunk.count(b"&")
        if separators >= limit:
            raise RequestEntityTooLarge(f"more than {limit} form fields")
        chunks.append(chunk)
    return b"".join(chunks)


def max_form_fields(raw: Any) -> int:
    """``[networking] max_form_fields`` as a positive number; ValueError otherwise."""
    if raw is None or str(raw).strip() == "":
        return DEFAULT_MAX_FORM_FIELDS
    value = int(str(raw).strip())
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value
