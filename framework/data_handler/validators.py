"""Validators: processors that accept a value or return an error message.

The protocol is Backendpy's, so custom validators port unchanged: subclass ``Validator``
and implement ``__call__(self, value, meta)`` (``def`` or ``async def``) returning None when
the value is valid and the error message otherwise. ``meta`` holds ``name`` (the field's
attribute name), ``received_data`` (every field's raw value, by attribute name),
``request``, and also ``key`` (the request name), ``field``, ``default``, ``cleaned_data``
(the fields cleaned so far) and, inside a nested list chain, ``index``.

Except ``NotNull`` (and ``NotBlank`` for blank strings), validators accept None: absence
is the business of ``required`` and ``NotNull``.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from . import _filetype

__all__ = [
    "Validator",
    "NotNull",
    "NotBlank",
    "In",
    "NotIn",
    "Length",
    "Limit",
    "UUID",
    "Numeric",
    "Integer",
    "Boolean",
    "Url",
    "UrlPath",
    "EmailAddress",
    "PhoneNumber",
    "PasswordPolicy",
    "PasswordStrength",
    "UserNamePolicy",
    "DateTime",
    "Date",
    "MatchRegex",
    "RestrictedFile",
    "StorableText",
    "Unique",
    "Exists",
    "IsEqualToField",
    "DictInnerTypes",
    "NoDuplicateDictItemValueInList",
    "TRUE_STRINGS",
    "FALSE_STRINGS",
]

_BLANK = (None, "", b"")

#: Strings ``Boolean`` accepts and ``filters.ToBooleanObject`` converts (compared lower-cased).
TRUE_STRINGS = frozenset({"true", "1", "yes", "on"})
FALSE_STRINGS = frozenset({"false", "0", "no", "off"})


class Validator:
    """Base class of validators.

    :param message: the error message; each validator has a default, and the default of
        some (``Length``, ``Limit``, ``RestrictedFile``) gains the failed constraint.
    """

    default_message = "Invalid value"

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.custom_message = message is not None

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> Any:
        """Return None when ``value`` is valid, else the error message."""
        return None

    def _detailed(self, detail: str) -> str:
        """The message with ``detail`` appended, unless the user chose the message."""
        return self.message if self.custom_message else f"{self.message}: {detail}"

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON-schema keywords this validator implies, for the OpenAPI document.

        ``schema`` is the field's schema so far (read-only; its ``type`` tells, for
        instance, string lengths from array lengths). The keywords returned are merged
        into it, in the order the field's validators run; a keyword mapped to None is
        removed. The default says nothing: a validator the schema cannot express
        (a database lookup, a cross-field check) keeps it.
        """
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def _to_number(value: Any) -> float | int | decimal.Decimal | None:
    """A finite number from a number or a numeric string, else None."""
    if _is_number(value):
        number = value
    elif isinstance(value, str) and len(value) <= 400:
        try:
            number = int(value) if value.strip().lstrip("+-").isdigit() else float(value)
        except (ValueError, OverflowError):
            return None
    else:
        return None
    try:
        if not math.isfinite(number):
            return None
    except OverflowError:
        return None
    return number


def _text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None: PostgreSQL refuses NUL in text and
    no UTF-8 database (nor the drivers' encoders) takes an unpaired surrogate."""
    if "\x00" in value:
        return "NUL character not allowed"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Invalid Unicode (unpaired surrogate)"
    return None


def _storable_problem(value: Any, depth: int = 0) -> str | None:
    """``_text_problem`` for a string, or for any string inside a list or dict."""
    if isinstance(value, str):
        return _text_problem(value)
    if depth > 100:
        return None
    if isinstance(value, (list, tuple)):
        items: Any = value
    elif isinstance(value, dict):
        items = (*value.keys(), *value.values())
    else:
        return None
    for item in items:
        if isinstance(item, (str, list, tuple, dict)):
            problem = _storable_problem(item, depth + 1)
            if problem is not None:
                return problem
    return None


class StorableText(Validator):
    """Text a database can store: no NUL character and no unpaired surrogate (which JSON's
    ``"\\ud800"`` escapes can produce), in a string or in the strings of a list or dict.
    ``String`` fields run it first."""

    default_message = "Invalid characters"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value is None or isinstance(value, (int, float, bytes)):
            return None
        problem = _storable_problem(value)
        if problem is None:
            return None
        return self.message if self.custom_message else problem


class NotNull(Validator):
    """The value is not None, '' or b'' (sent but empty is an error; see also ``required``)."""

    default_message = "Null value"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        return self.message if value in _BLANK else None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return {"nullable": None, **_non_empty_string(schema)}


class NotBlank(Validator):
    """The value is not an empty or whitespace-only string, nor an empty list or dict.
    None passes (use ``NotNull``)."""

    default_message = "Blank value"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            return self.message if not value.strip() else None
        if isinstance(value, (bytes, list, tuple, dict)):
            return self.message if not value else None
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return _non_empty_string(schema)


def _non_empty_string(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``minLength`` of at least 1 when the field is a string."""
    if schema.get("type") != "string":
        return {}
    return {"minLength": max(1, int(schema.get("minLength", 0)))}


def _string_format(schema: Mapping[str, Any], format: str) -> dict[str, Any]:  # noqa: A002
    """``format``, and ``type: string`` unless the field has a type already."""
    return {**({} if "type" in schema else {"type": "string"}), "format": format}


def _json_values(values: Collection[Any]) -> list[Any] | None:
    """``values`` as a JSON list (a set sorted, so the document is stable), else None."""
    import json  # only the OpenAPI document needs it

    items = list(values)
    if isinstance(values, (set, frozenset)):
        items.sort(key=repr)
    try:
        json.dumps(items)
    except (TypeError, ValueError):
        return None
    return items


class _Membership(Validator):
    """Checks ``value in values`` against ``wanted``."""

    default_message = "Value error"
    wanted: bool

    def __init__(self, values: Collection[Any], message: str | None = None) -> None:
        super().__init__(message)
        self.values = values

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        try:
            found = value in self.values
        except TypeError:  # an unhashable value against a set is in no set
            found = False
        return None if found is self.wanted else self.message


class In(_Membership):
    """The value is one of ``values``."""

    wanted = True

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        values = _json_values(self.values)
        return {} if values is None else {"enum": values}


class NotIn(_Membership):
    """The value is none of ``values``."""

    wanted = False

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        values = _json_values(self.values)
        return {"not": {"enum": values}} if values else {}


class Length(Validator):
    """The length is ``equal``, or within ``min`` and ``max``: of a string, bytes, list or
    dict as it is, of any other value as ``str(value)``."""

    default_message = "Length error"

    def __init__(
        self,
        equal: int | None = None,
        min: int | None = None,  # noqa: A002
        max: int | None = None,
        message: str | None = None,
    ) -> None:  # noqa: A002
        super().__init__(message)
        self.equal, self.min, self.max = equal, min, max
        if equal is not None:
            self.failed = self._detailed(f"acceptable: {equal}")
        else:
            parts = [f"min: {min}" if min is not None else "", f"max: {max}" if max is not None else ""]
            self.failed = self._detailed(" ".join(p for p in parts if p)) if any(parts) else self.message

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value is None:
            return None
        size = len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else len(str(value))
        if self.equal is not None:
            return self.failed if size != self.equal else None
        if (self.min is not None and size < self.min) or (self.max is not None and size > self.max):
            return self.failed
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        low, high = (self.equal, self.equal) if self.equal is not None else (self.min, self.max)
        lower, upper = {"array": ("minItems", "maxItems"), "object": ("minProperties", "maxProperties")}.get(
            schema.get("type") or "", ("minLength", "maxLength")
        )
        keywords: dict[str, Any] = {}
        if low is not None:
            keywords[lower] = max(int(low), int(schema.get(lower, 0)))
        if high is not None:
            keywords[upper] = int(high)
        return keywords


class Limit(Validator):
    """A number (or numeric string) within ``min`` and ``max``, both inclusive."""

    default_message = "Value limit error"

    def __init__(
        self,
        min: float | None = None,
        max: float | None = None,  # noqa: A002
        message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.min, self.max = min, max
        parts = [f"min: {min}" if min is not None else "", f"max: {max}" if max is not None else ""]
        self.failed = self._detailed(" ".join(p for p in parts if p)) if any(parts) else self.message

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        number = _to_number(value)
        if number is None:
            return self.failed
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            return self.failed
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        keywords: dict[str, Any] = {} if schema.get("type") in ("integer", "number") else {"type": "number"}
        if self.min is not None:
            keywords["minimum"] = self.min
        if self.max is not None:
            keywords["maximum"] = self.max
        return keywords


class UUID(Validator):
    """A UUID in its canonical text form; ``version`` (e.g. 4) restricts the version."""

    default_message = "Invalid UUID"

    def __init__(self, version: int | None = None, message: str | None = None) -> None:
        super().__init__(message)
        self.version = version

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if not isinstance(value, str):
            return self.message
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            return self.message
        if str(parsed) != value.lower() or (self.version is not None and parsed.version != self.version):
            return self.message
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return _string_format(schema, "uuid")


class Numeric(Validator):
    """A finite number, or a string holding one."""

    default_message = "Must be numeric"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        return None if _to_number(value) is not None else self.message

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "number"}


_INTEGER_RE = re.compile(r"[+-]?[0-9]{1,300}")


class Integer(Validator):
    """An integer, or a string of decimal digits with an optional sign (booleans are not
    integers here)."""

    default_message = "Must be integer"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
            return None
        return self.message

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "integer"}


class Boolean(Validator):
    """True, False, or one of ``true false 1 0 yes no on off`` (any case)."""

    default_message = "Must be boolean"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK or isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS | FALSE_STRINGS:
            return None
        if isinstance(value, int) and value in (0, 1):
            return None
        return self.message

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}


class Url(Validator):
    """An absolute URL with a scheme and a host; ``schemes`` restricts the scheme."""

    default_message = "Invalid URL"

    def __init__(self, schemes: Collection[str] | None = None, message: str | None = None) -> None:
        super().__init__(message)
        self.schemes = frozenset(s.lower() for s in schemes) if schemes else None

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if not isinstance(value, str) or any(c.isspace() for c in value):
            return self.message
        try:
            parts = urlsplit(value)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            return self.message
        if not parts.scheme or not host:
            return self.message
        if self.schemes is not None and parts.scheme.lower() not in self.schemes:
            return self.message
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return _string_format(schema, "uri")


_URL_PATH_RE = re.compile(r"/[^\s?#]*")


class UrlPath(Validator):
    """An absolute URL path: starts with '/', no whitespace, query or fragment."""

    default_message = "Invalid Path"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if isinstance(value, str) and _URL_PATH_RE.fullmatch(value) and "//" not in value:
            return None
        return self.message


_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
#: Labels of letters, digits and inner hyphens, then an alphabetic (or IDNA) top-level domain.
_DOMAIN_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)


class EmailAddress(Validator):
    """A deliverable-looking address: a dot-atom local part (64 characters at most), '@',
    and a domain of two or more labels ending in an alphabetic top-level domain
    (``a@b.co`` is valid). Internationalised domains are checked in their IDNA form."""

    default_message = "Invalid email address"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1:
            return self.message
        local, domain = value.split("@")
        if len(local) > 64 or not _EMAIL_LOCAL_RE.fullmatch(local):
            return self.message
        if not domain.isascii():
            try:
                domain = domain.encode("idna").decode("ascii")
            except (UnicodeError, ValueError):
                return self.message
        if len(domain) > 253 or not _DOMAIN_RE.fullmatch(domain):
            return self.message
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return _string_format(schema, "email")


_PHONE_RE = re.compile(r"\+?[0-9 ().-]{5,30}")


class PhoneNumber(Validator):
    """A phone number: optional leading '+', digits with spaces, dots, dashes or
    parentheses as separators, and 7 to 15 digits in all (the E.164 range)."""

    default_message = "Invalid phone number"

    def __init__(self, min_digits: int = 7, max_digits: int = 15, message: str | None = None) -> None:
        super().__init__(message)
        self.min_digits, self.max_digits = min_digits, max_digits

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if not isinstance(value, str) or not _PHONE_RE.fullmatch(value.strip()):
            return self.message
        if value.count("(") != value.count(")"):
            return self.message
        digits = sum(c.isdigit() for c in value)
        return None if self.min_digits <= digits <= self.max_digits else self.message


_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "01234567890", "09876543210")


class PasswordPolicy(Validator):
    """A password of at least ``min_length`` characters (``max_length`` at most) using at
    least ``min_classes`` of the four character classes (lower case, upper case, digit,
    other), and not one repeated character or a run of the alphabet, keyboard or digits.
    Also importable as ``PasswordStrength``, the name Backendpy's docs use."""

    default_message = "Weak password"

    def __init__(
        self,
        min_length: int = 10,
        max_length: int | None = 128,
        min_classes: int = 2,
        message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.min_length, self.max_length, self.min_classes = min_length, max_length, min_classes

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if not isinstance(value, str) or len(value) < self.min_length:
            return self.message
        if self.max_length is not None and len(value) > self.max_length:
            return self.message
        classes = (
            any(c.islower() for c in value)
            + any(c.isupper() for c in value)
            + any(c.isdigit() for c in value)
            + any(not c.isalnum() for c in value)
        )
        if classes < self.min_classes or len(set(value)) == 1:
            return self.message
        lowered = value.lower()
        if any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES):
            return self.message
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return _string_length(schema, self.min_length, self.max_length)


def _string_length(schema: Mapping[str, Any], low: int, high: int | None) -> dict[str, Any]:
    """``type: string`` unless typed already, and the length bounds of a policy."""
    keywords: dict[str, Any] = {} if "type" in schema else {"type": "string"}
    keywords["minLength"] = max(low, int(schema.get("minLength", 0)))
    if high is not None:
        keywords["maxLength"] = high
    return keywords


PasswordStrength = PasswordPolicy


_USERNAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*([._-][A-Za-z0-9]+)*")


class UserNamePolicy(Validator):
    """A user name of ``min_length`` to ``max_length`` characters: starts with a letter,
    then letters and digits, single '.', '_' or '-' between them, none at the end."""

    default_message = "Invalid username"

    def __init__(self, min_length: int = 3, max_length: int = 32, message: str | None = None) -> None:
        super().__init__(message)
        self.min_length, self.max_length = min_length, max_length

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if not isinstance(value, str) or not self.min_length <= len(value) <= self.max_length:
            return self.message
        return None if _USERNAME_RE.fullmatch(value) else self.message

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **_string_length(schema, self.min_length, self.max_length),
            "pattern": f"^(?:{_USERNAME_RE.pattern})$",
        }


class DateTime(Validator):
    """A date-time string in ``format`` (``strptime``); ISO 8601 when ``format`` is None."""

    default_message = "Invalid date-time format"

    def __init__(self, format: str | None = None, message: str | None = None) -> None:  # noqa: A002
        super().__init__(message)
        self.format = format

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        if not isinstance(value, str) or len(value) > 100:
            return self.message
        try:
            if self.format is None:
                datetime.datetime.fromisoformat(value)
            else:
                datetime.datetime.strptime(value, self.format)
        except ValueError:
            return self.message
        return None

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        # a custom strptime format has no JSON-schema format: only the type is said
        keywords: dict[str, Any] = {"format": "date-time"} if self.format is None else {}
        return {**keywords, **({} if "type" in schema else {"type": "string"})}


class Date(DateTime):
    """A date in ``format`` (default ``YYYY-MM-DD``), as Backendpy's ``Date``."""

    default_message = "Invalid date format (YYYY-MM-DD)"

    def __init__(self, format: str = "%Y-%m-%d", message: str | None = None) -> None:  # noqa: A002
        super().__init__(format, message)

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        keywords = super().openapi_schema(schema)
        return {"format": "date", **keywords} if self.format == "%Y-%m-%d" else keywords


class MatchRegex(Validator):
    """The string matches ``pattern`` from its start (``re.match``, as Backendpy); anchor
    the end with ``$`` for a whole match. The pattern compiles once."""

    default_message = "Invalid format"

    def __init__(self, pattern: str | re.Pattern[str], flags: int = 0, message: str | None = None) -> None:
        super().__init__(message)
        self.pattern = re.compile(pattern, flags) if pattern else None

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK or self.pattern is None:
            return None
        if not isinstance(value, str):
            return self.message
        return None if self.pattern.match(value) else self.message

    def openapi_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        # JSON-schema patterns search anywhere; re.match anchors at the start only
        pattern = self.pattern.pattern if self.pattern is not None else None
        if not isinstance(pattern, str):
            return {}
        return {"pattern": pattern if pattern.startswith("^") else f"^(?:{pattern})"}


def _human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:g} {unit}" if unit == "B" else f"{size:.4g} {unit}"
        size /= 1024
    return f"{size} GiB"  # pragma: no cover


def _upload(meta: Mapping[str, Any]) -> Any:
    """The ``FileStorage`` behind a file field's value, if there is one."""
    from .fields import TYPE_FILE  # fields imports this module

    field = meta.get("field")
    request = meta.get("request")
    if request is None or field is None or getattr(field, "field_type", None) != TYPE_FILE:
        return None
    upload = request.body.lists("files").get(meta.get("key"))
    if isinstance(upload, list):
        index = meta.get("index")
        upload = upload[index] if index is not None and index < len(upload) else None
    return upload


class RestrictedFile(Validator):
    """A file of an allowed type and size.

    :param extensions: allowed extensions (``('jpg', 'png')``). Both the upload's file name
        (for a ``TYPE_FILE`` field) and the type detected from the bytes' magic numbers
        must be among them.
    :param min_size: minimum size in KiB.
    :param max_size: maximum size in KiB.
    """

    default_message = "File error"

    def __init__(
        self,
        extensions: Sequence[str] | None = None,
        min_size: float | None = None,
        max_size: float | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.extensions = frozenset(e.lower().lstrip(".") for e in extensions or ())
        self.min_size = float(min_size) * 1024 if min_size is not None else None
        self.max_size = float(max_size) * 1024 if max_size is not None else None

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value in _BLANK:
            return None
        filename = None
        if hasattr(value, "stream") and hasattr(value, "filename"):  # a FileStorage
            filename = value.filename
            data = value.stream.read()
            value.stream.seek(0)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            upload = _upload(meta)
            filename = getattr(upload, "filename", None)
        else:
            return self.message
        size = len(data)
        if self.max_size is not None and size > self.max_size:
            return self._detailed(f"max size: {_human_size(self.max_size)}")
        if self.min_size is not None and size < self.min_size:
            return self._detailed(f"min size: {_human_size(self.min_size)}")
        if self.extensions:
            if filename and _filetype.extension_of(filename) not in self.extensions:
                return self._detailed("Invalid file type")
            if not _filetype.detect(data) & self.extensions:
                return self._detailed("Invalid file type")
        return None


def _session(request: Any) -> Any:
    """The request's database session: ``request.app.context['db_session']()`` when the
    project provides it, else Flask-SQLAlchemy's ``db.session``."""
    factory = None
    if request is not None:
        try:
            factory = request.app.context.get("db_session")
        except (KeyError, AttributeError, RuntimeError):
            factory = None
    if factory is not None:
        session = factory()
        # validators query synchronously: the plain session behind an awaitable facade
        return getattr(session, "sync_session", session)
    from flask import current_app

    extension = current_app.extensions.get("sqlalchemy")
    if extension is None:
        raise RuntimeError(
            "Unique/Exists need a database session: none in "
            "request.app.context['db_session'] and no Flask-SQLAlchemy extension"
        )
    return extension.session


def _field_name(field: Any) -> str | None:
    """A field given by attribute name or as the Field object itself (as in the docs)."""
    if field is None or isinstance(field, str):
        return field
    name = getattr(field, "attr_name", None)
    if name is None:
        raise TypeError(f"{field!r} is not a field of a Data class")
    return name


class _ModelQuery(Validator):
    """Shared by ``Unique`` and ``Exists``: one ``SELECT EXISTS(...)`` on the model."""

    def __init__(self, model: Any, model_field_name: str | None = None, message: str | None = None) -> None:
        super().__init__(message)
        self.model = model
        self.model_field_name = model_field_name

    #: The error for a value the column cannot hold (checked before any query).
    type_message = "Invalid value type"

    def _exists(
        self, column: Any, value: Any, meta: Mapping[str, Any], exclude: tuple[str, Any] | None
    ) -> Any:
        from sqlalchemy import exists, select

        clause = exists().where(column == value)
        if exclude is not None:
            clause = clause.where(getattr(self.model, exclude[0]) != exclude[1])
        return _session(meta.get("request")).execute(select(clause))

    async def _await(self, pending: Any, fail_if: bool) -> str | None:
        result = await pending
        return self.message if bool(result.scalar()) is fail_if else None

    def _column(self, meta: Mapping[str, Any]) -> Any:
        return getattr(self.model, self.model_field_name or meta["name"])


def _column_python_type(column: Any) -> type | None:
    try:
        return column.type.python_type
    except (AttributeError, NotImplementedError):
        return None


_INT64_TEXT = re.compile(r"[+-]?[0-9]{1,19}")


def _query_value(column: Any, value: Any) -> tuple[Any, bool]:
    """``(value to compare, ok)``: ``value`` as the column's type holds it, or not ok when
    the column cannot hold it (a list or dict, a boolean or number for a text column, text
    with NUL...), so that a query never sees a value the database would refuse or
    compare loosely. Digit strings for integer columns and numeric strings for number
    columns are converted, as forms and query strings send them."""
    if isinstance(value, (list, tuple, dict, set)):
        return value, False
    wanted = _column_python_type(column)
    if wanted is str or wanted is None:
        if isinstance(value, str):
            return value, _text_problem(value) is None
        return value, wanted is None and isinstance(value, (int, float)) and (
            isinstance(value, bool) or not isinstance(value, float) or math.isfinite(value)
        )
    if wanted is bool:
        return value, isinstance(value, bool)
    if wanted is int:
        if isinstance(value, str) and _INT64_TEXT.fullmatch(value.strip()):
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
        return value, ok
    if wanted in (float, decimal.Decimal):
        if isinstance(value, bool) or not isinstance(value, (str, int, float, decimal.Decimal)):
            return value, False
        number = _to_number(value)
        return (value, False) if number is None else (number, True)
    if wanted is uuid.UUID:
        if isinstance(value, str):
            try:
                return uuid.UUID(value), True
            except ValueError:
                return value, False
        return value, isinstance(value, uuid.UUID)
    if wanted is bytes:
        return value, isinstance(value, (bytes, bytearray))
    # dates, times, intervals...: their own type, or text the database parses (a text
    # it cannot parse is a DataError, answered 400 by the framework)
    if isinstance(value, str):
        return value, _text_problem(value) is None
    return value, isinstance(value, wanted)


class Unique(_ModelQuery):
    """No row of ``model`` has this value in ``model_field_name`` (default: the field's
    attribute name). ``exclude_self_by_field`` (an attribute name, or the Field itself)
    names the field, and the model column, that identify the row being edited, so that
    resubmitting its current value passes."""

    default_message = "Unique value error"

    def __init__(
        self,
        model: Any,
        model_field_name: str | None = None,
        exclude_self_by_field: Any = None,
        message: str | None = None,
    ) -> None:
        super().__init__(model, model_field_name, message)
        self.exclude_self_by_field = exclude_self_by_field

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> Any:
        if value in _BLANK:
            return None
        exclude = None
        name = _field_name(self.exclude_self_by_field)
        if name is not None:
            cleaned = meta.get("cleaned_data") or {}
            own_id = cleaned[name] if name in cleaned else meta["received_data"].get(name)
            if own_id is not None:
                own_id, ok = _query_value(getattr(self.model, name), own_id)
                if ok:  # an id the column cannot hold names no row: nothing to exclude
                    exclude = (name, own_id)
        column = self._column(meta)
        value, ok = _query_value(column, value)
        if not ok:
            return self.type_message
        result = self._exists(column, value, meta, exclude)
        if hasattr(result, "__await__"):  # an async session
            return self._await(result, True)
        return self.message if result.scalar() else None


class Exists(_ModelQuery):
    """A row of ``model`` has this value in ``model_field_name`` (default: the field's
    attribute name), e.g. a foreign key sent by the client."""

    default_message = "Value does not exist"

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> Any:
        if value in _BLANK:
            return None
        column = self._column(meta)
        value, ok = _query_value(column, value)
        if not ok:
            return self.type_message
        result = self._exists(column, value, meta, None)
        if hasattr(result, "__await__"):
            return self._await(result, False)
        return None if result.scalar() else self.message


class IsEqualToField(Validator):
    """The value equals the value received for another field (an attribute name, or the
    Field itself), e.g. a password confirmation."""

    default_message = "Values do not match"

    def __init__(self, field: Any, message: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        other = meta["received_data"].get(_field_name(self.field))
        return None if value == other else self.message


def _type_name(types: Any) -> str:
    if isinstance(types, tuple):
        return " or ".join(t.__name__ for t in types)
    return types.__name__


def _is_instance(value: Any, types: Any) -> bool:
    if isinstance(value, bool):
        wanted = types if isinstance(types, tuple) else (types,)
        return bool in wanted or object in wanted
    return isinstance(value, types)


class DictInnerTypes(Validator):
    """A dict whose values have the given types: ``types`` maps each key to a type (or a
    tuple of types; None is not a type, add ``type(None)`` to allow it). Every listed key
    must be present; keys not listed are refused when ``allow_extra`` is False. ``bool``
    does not count as ``int``."""

    default_message = "Invalid dict items"

    def __init__(
        self, types: Mapping[str, Any], allow_extra: bool = True, message: str | None = None
    ) -> None:
        super().__init__(message)
        self.types = dict(types)
        self.allow_extra = allow_extra

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            return self._detailed("must be an object")
        for key, types in self.types.items():
            if key not in value:
                return self._detailed(f"{key!r} is missing")
            if not _is_instance(value[key], types):
                return self._detailed(f"{key!r} must be {_type_name(types)}")
        if not self.allow_extra:
            extra = sorted(str(k) for k in value.keys() - self.types.keys())
            if extra:
                return self._detailed(f"unexpected {', '.join(extra)}")
        return None


class NoDuplicateDictItemValueInList(Validator):
    """A list of dicts in which no two dicts have the same value under ``key``."""

    default_message = "Duplicate value"

    def __init__(self, key: str, message: str | None = None) -> None:
        super().__init__(message)
        self.key = key

    def __call__(self, value: Any, meta: Mapping[str, Any]) -> str | None:
        if value is None:
            return None
        if not isinstance(value, list):
            return self._detailed("must be a list")
        seen: list[Any] = []
        for item in value:
            if not isinstance(item, Mapping) or self.key not in item:
                continue
            if item[self.key] in seen:
                return self._detailed(f"{self.key!r} repeated")
            seen.append(item[self.key])
        return None
