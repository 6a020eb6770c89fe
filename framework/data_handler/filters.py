"""Filters: processors that turn a value into a new one.

The protocol is Backendpy's, so custom filters port unchanged: subclass ``Filter`` and
implement ``__call__(self, value)`` (``def`` or ``async def``) returning the new value.
Filters are not called for None. A filter that cannot convert its input raises
``FilterError(message)``, which becomes the field's error (an input problem, a 400),
instead of an exception that would be a server error.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

from .validators import FALSE_STRINGS, TRUE_STRINGS

__all__ = [
    "Filter",
    "FilterError",
    "Escape",
    "Cut",
    "DecodeBase64",
    "ParseDateTime",
    "ToStringObject",
    "ToIntegerObject",
    "ToFloatObject",
    "ToDecimalObject",
    "ToBooleanObject",
    "BlankToNull",
    "ModifyImage",
]


class FilterError(ValueError):
    """Raised by a filter for input it cannot convert; the message becomes the field's error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Filter:
    """Base class of filters."""

    def __call__(self, value: Any) -> Any:
        """Return the filtered value."""
        return value

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-schema keywords for the OpenAPI document, as ``Validator.openapi_schema``.

        None by default: the document describes what a client sends, and a filter changes
        the value after it arrived. A filter that narrows what is accepted (one that
        raises ``FilterError`` for some input) may say so here.
        """
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Escape(Filter):
    """Replace ``& < > ' "`` in a string with HTML-safe sequences (already escaped text is
    not escaped twice). Other values pass unchanged."""

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return html.escape(html.unescape(value), quote=True)


class Cut(Filter):
    """Keep the first ``length`` items of a string, bytes or list."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __call__(self, value: Any) -> Any:
        if isinstance(value, (str, bytes, list, tuple)):
            return value[: self.length]
        return value


class DecodeBase64(Filter):
    """Decode a base64 string or bytes (a ``data:...;base64,`` URL prefix is dropped;
    ``urlsafe`` accepts the URL-safe alphabet) into bytes."""

    def __init__(self, urlsafe: bool = False, message: str = "Invalid base64 data") -> None:
        self.urlsafe = urlsafe
        self.message = message

    def __call__(self, value: Any) -> bytes:
        if isinstance(value, str):
            if value.startswith("data:") and "," in value:
                value = value.split(",", 1)[1]
            try:
                value = value.encode("ascii")
            except UnicodeEncodeError:
                raise FilterError(self.message) from None
        if not isinstance(value, (bytes, bytearray)):
            raise FilterError(self.message)
        value = bytes(value).strip()
        try:
            if self.urlsafe:
                value = value.replace(b"-", b"+").replace(b"_", b"/")
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise FilterError(self.message) from None


class ParseDateTime(Filter):
    """Parse a string into a ``datetime`` with ``format`` (ISO 8601 when None); ``date=True``
    gives a ``date``. Values that are already dates pass unchanged."""

    def __init__(
        self,
        format: str | None = None,
        date: bool = False,  # noqa: A002
        message: str = "Invalid date-time format",
    ) -> None:
        self.format = format
        self.date = date
        self.message = message

    def __call__(self, value: Any) -> Any:
        if isinstance(value, (datetime.datetime, datetime.date)):
            return value
        if not isinstance(value, str) or len(value) > 100:
            raise FilterError(self.message)
        try:
            if self.format is None:
                parsed = datetime.datetime.fromisoformat(value)
            else:
                parsed = datetime.datetime.strptime(value, self.format)
        except ValueError:
            raise FilterError(self.message) from None
        return parsed.date() if self.date else parsed


class ToStringObject(Filter):
    """Convert to ``str`` (bytes are decoded as UTF-8)."""

    def __init__(self, message: str = "Must be text") -> None:
        self.message = message

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (bytes, bytearray)):
            try:
                return bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                raise FilterError(self.message) from None
        return str(value)


class ToIntegerObject(Filter):
    """Convert to ``int`` (a float must be whole; a string must be an integer)."""

    def __init__(self, message: str = "Must be integer") -> None:
        self.message = message

    def __call__(self, value: Any) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, decimal.Decimal) and value.is_finite() and value == value.to_integral_value():
            return int(value)
        if isinstance(value, (str, bytes)) and len(value) <= 300:
            try:
                return int(value)
            except ValueError:
                pass
        raise FilterError(self.message)


class ToFloatObject(Filter):
    """Convert to a finite ``float``."""

    def __init__(self, message: str = "Must be numeric") -> None:
        self.message = message

    def __call__(self, value: Any) -> float:
        if isinstance(value, (int, float, decimal.Decimal, str, bytes)) and not isinstance(value, bool):
            try:
                number = float(value)
            except (ValueError, OverflowError):
                raise FilterError(self.message) from None
            if number == number and number not in (float("inf"), float("-inf")):
                return number
        raise FilterError(self.message)


class ToDecimalObject(Filter):
    """Convert to a finite ``decimal.Decimal`` (floats through their text, so 0.1 stays 0.1);
    ``places`` rounds to that many decimal places."""

    def __init__(self, places: int | None = None, message: str = "Must be numeric") -> None:
        self.places = places
        self.message = message

    def __call__(self, value: Any) -> decimal.Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal, str)):
            raise FilterError(self.message)
        if isinstance(value, str) and len(value) > 400:
            raise FilterError(self.message)
        try:
            number = decimal.Decimal(str(value) if isinstance(value, float) else value)
        except decimal.InvalidOperation:
            raise FilterError(self.message) from None
        if not number.is_finite():
            raise FilterError(self.message)
        if self.places is not None:
            try:
                number = number.quantize(decimal.Decimal(1).scaleb(-self.places))
            except decimal.InvalidOperation:
                raise FilterError(self.message) from None
        return number


class ToBooleanObject(Filter):
    """Convert to ``bool``: True/False, 1/0, and ``true false 1 0 yes no on off`` (any case)."""

    def __init__(self, message: str = "Must be boolean") -> None:
        self.message = message

    def __call__(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in TRUE_STRINGS:
                return True
            if lowered in FALSE_STRINGS:
                return False
        raise FilterError(self.message)


class BlankToNull(Filter):
    """Turn '', b'' and whitespace-only strings into None (for a Data class with
    ``auto_blank_to_null = False``, or to also catch whitespace)."""

    def __call__(self, value: Any) -> Any:
        if isinstance(value, (str, bytes)) and not value.strip():
            return None
        return value


class ModifyImage(Filter):
    """Re-encode image bytes: convert to ``mode`` and save as ``format``; ``max_size``
    (``(width, height)``) shrinks larger images, keeping the aspect ratio. Needs Pillow:
    ``pip install framework[image]``."""

    def __init__(
        self,
        format: str = "JPEG",
        mode: str = "RGB",  # noqa: A002
        max_size: Sequence[int] | None = None,
        quality: int | None = None,
        message: str = "Invalid image",
    ) -> None:
        self.format = format
        self.mode = mode
        self.max_size = tuple(max_size) if max_size else None
        self.quality = quality
        self.message = message
        _pillow()  # fail at definition time, not on the first request

    def __call__(self, value: Any) -> bytes:
        image_module = _pillow()
        if not isinstance(value, (bytes, bytearray)):
            raise FilterError(self.message)
        try:
            with image_module.open(io.BytesIO(value)) as image:
                image.load()
                if image.mode != self.mode:
                    image = image.convert(self.mode)
                if self.max_size:
                    image.thumbnail(self.max_size)
                out = io.BytesIO()
                options = {"quality": self.quality} if self.quality is not None else {}
                image.save(out, format=self.format, **options)
                return out.getvalue()
        except (OSError, ValueError, SyntaxError, image_module.DecompressionBombError):
            raise FilterError(self.message) from None


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("ModifyImage needs Pillow: pip install framework[image]") from None
    return Image
