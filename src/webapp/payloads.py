"""Reading request input strictly: JSON bodies, query parameters and headers.

Rules, the same on every route: a body must be ``application/json`` in UTF-8 (415 otherwise,
so a ``text/plain`` cross-site form cannot carry one), at most the route's size limit (413, also
when it comes chunked), must parse as UTF-8 JSON (400 ``malformed_json``: not UTF-8, a byte order
mark, NaN or Infinity, a number too long to read, nesting too deep) and must be an object; fields
are checked by type - integers are JSON integers, never floats, strings or booleans - and all
problems of one request are reported together (422). Unknown fields are ignored, so a
client-sent ``price`` or ``total`` simply has no effect: the core prices carts.

Text has one policy (``clean_text``), applied to every string field, query value and path
segment: control characters and lone surrogates are refused at the edge - PostgreSQL cannot
store NUL, no encoder can write a lone surrogate, and neither belongs in a name, an email or an
id - and what is accepted is normalised to NFC, so that the same name or email typed on two
keyboards is stored and compared as one string.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal, NoReturn, overload

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from commerce_core import ADDRESS_FIELDS, Address, FieldError, InvalidInput, Money
from webapp.problems import ApiProblem

__all__ = [
    "BodyReader",
    "PathSegment",
    "clean_text",
    "idempotency_key",
    "json_body",
    "query_int",
    "query_text",
    "request_body",
]

MAX_TEXT = 10_000
# Beyond any real price or count, and within a signed 64-bit database column.
MAX_INTEGER = 10**15
# Longer than any field of an address may be; the core says how long each may be.
_ADDRESS_TEXT = 500
# No slug or id of the shop comes near this; a longer path segment names nothing.
MAX_SEGMENT = 255
# Unicode's control characters (C0, DEL, C1) and the surrogate code points, which UTF-8 cannot
# carry alone: what JSON's "\ud800" escape or a hand-made request can smuggle into a string.
_CONTROL_OR_SURROGATE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# What free text (a refund's reason) may hold beyond that: line breaks and tabs.
_CONTROL_BUT_LAYOUT_OR_SURROGATE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class UnacceptableText(ValueError):
    """A string the shop will not store or compare; its message says why, for a 422."""


def clean_text(value: str, *, multiline: bool = False) -> str:
    """The shop's one text policy: ``value`` in NFC, or ``UnacceptableText``.

    Control characters and lone surrogates are refused rather than stripped: a value silently
    changed is one the client did not send (and an id with a NUL in it is nobody's id). Line
    breaks and tabs pass only where ``multiline`` text is expected.
    """
    pattern = _CONTROL_BUT_LAYOUT_OR_SURROGATE if multiline else _CONTROL_OR_SURROGATE
    found = pattern.search(value)
    if found is not None:
        char = found.group()
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise UnacceptableText(f"must not contain {what} (U+{ord(char):04X})")
    return unicodedata.normalize("NFC", value)


class PathSegment(BaseConverter):
    """The default converter of every route's ``<name>`` segments: one segment, at most
    ``MAX_SEGMENT`` characters, no control characters. Anything else matches no route, so it is
    answered 404 before a view - or a database that cannot store a NUL - ever sees it. (A
    request path cannot carry a lone surrogate: werkzeug decodes it as UTF-8 with replacement.)
    """

    regex = rf"[^/\x00-\x1f\x7f-\x9f]{{1,{MAX_SEGMENT}}}"

    def to_python(self, value: str) -> str:
        return unicodedata.normalize("NFC", value)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def request_body(max_bytes: int) -> bytes:
    """The raw request body, or 413 if it is longer than ``max_bytes``.

    Werkzeug stops reading a body that comes without a length (chunked) at the request's
    ``max_content_length`` without saying so, which would hand the parser a body cut short (a
    misleading 400) or a signature check a truncated payload. Reading with a cap one byte
    higher tells a body of exactly ``max_bytes`` from a longer one. This must be the first read
    of the request's body: the cap applies when the stream is opened.
    """
    request.max_content_length = max_bytes + 1
    data = request.get_data(cache=True)
    if len(data) > max_bytes:
        raise RequestEntityTooLarge(f"the request body is larger than {max_bytes} bytes")
    return data


def _malformed(detail: str) -> ApiProblem:
    return ApiProblem(400, "malformed_json", "Malformed JSON", detail)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or the matching problem."""
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if not request.is_json or charset not in {"utf-8", "utf8"}:
        raise ApiProblem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as application/json in UTF-8",
        )
    raw = request_body(current_app.config["MAX_CONTENT_LENGTH"])
    try:
        # Strictly UTF-8 (RFC 8259): json.loads would also guess UTF-16 or UTF-32 from bytes,
        # and a body's meaning must not depend on a guess. A byte order mark fails to parse.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("the request body is not UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _malformed("the request body is nested too deeply") from None
    except ValueError:
        # Also a number of more digits than Python converts (sys.get_int_max_str_digits()).
        raise _malformed("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput(errors=[FieldError("body", "must be a JSON object")])
    return data


class BodyReader:
    """Typed access to a JSON object's fields that collects every error before raising."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix
        self.errors: list[FieldError] = []

    @property
    def data(self) -> dict[str, Any]:
        """The object read (a copy)."""
        return dict(self._data)

    def field(self, name: str) -> str:
        """``name`` as errors name it (with this reader's prefix)."""
        return self._prefix + name

    def _fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(self._prefix + name, message))

    def text(
        self, name: str, *, max_length: int = MAX_TEXT, min_length: int = 0, multiline: bool = False
    ) -> str:
        """A required string. Emptiness is left to the core (``min_length=0``) except for ids."""
        value = self.optional_text(name, max_length=max_length, multiline=multiline)
        if value is None:
            if self._data.get(name) is None:
                self._fail(name, "is required")
            return ""
        if len(value) < min_length:
            self._fail(
                name, "is required" if not value else f"must be at least {min_length} characters"
            )
        return value

    def optional_text(
        self, name: str, *, max_length: int = MAX_TEXT, multiline: bool = False
    ) -> str | None:
        """A string or ``None``, under the shop's text policy (``clean_text``)."""
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self._fail(name, "must be a string")
            return None
        # Before the policy's scan: a body is small, but its strings need not be read twice.
        if len(value) > max_length:
            self._fail(name, f"must be at most {max_length} characters")
            return None
        try:
            cleaned = clean_text(value, multiline=multiline)
        except UnacceptableText as refused:
            self._fail(name, str(refused))
            return None
        if len(cleaned) > max_length:  # NFC lengthens a few rare characters
            self._fail(name, f"must be at most {max_length} characters")
            return None
        return cleaned

    def integer(self, name: str) -> int:
        value = self._data.get(name)
        # bool is an int subclass and 2.0 is a float: neither is a count of anything.
        if type(value) is not int:
            self._fail(name, "is required" if value is None else "must be an integer")
            return 0
        if abs(value) > MAX_INTEGER:
            self._fail(name, "is out of range")
            return 0
        return value

    def flag(self, name: str, default: bool = True) -> bool:
        """An optional JSON boolean (absent or null: ``default``)."""
        value = self._data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._fail(name, "must be true or false")
            return default
        return value

    def money(self, name: str) -> Money | None:
        """A required ``{amount, currency}`` object (a bare number would leave the currency
        to a guess)."""
        value = self._data.get(name)
        if value is None:
            self._fail(name, "is required")
            return None
        if not isinstance(value, dict):
            self._fail(name, "must be an object {amount, currency}")
            return None
        found = self.optional_amount(name)
        return found if isinstance(found, Money) else None

    def optional_amount(self, name: str) -> int | Money | None:
        """An amount: integer minor units (in a currency the caller knows), or a full
        ``{amount, currency}`` object; absent is ``None``. Never a float or a decimal string."""
        value = self._data.get(name)
        if value is None:
            return None
        if isinstance(value, dict):
            inner = BodyReader(value, f"{self._prefix}{name}.")
            amount = inner.integer("amount")
            currency = inner.text("currency", max_length=3)
            self.errors.extend(inner.errors)
            if inner.errors:
                return None
            try:
                return Money(amount, currency)
            except InvalidInput as exc:
                self._fail(name, exc.detail)
                return None
        if type(value) is not int:
            self._fail(name, "must be an integer number of minor units (cents)")
            return None
        return self.integer(name)

    def address(self, name: str) -> Address | None:
        """A postal address object (``commerce_core.Address``); absent is ``None``. Each text
        passes the shop's text policy, then the core's address rules (country, postal code)."""
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._fail(name, "must be an object")
            return None
        inner = BodyReader(value, f"{self._prefix}{name}.")
        # Known fields pass the text policy; unknown ones go on as they are, to be refused.
        cleaned = {
            key: inner.optional_text(key, max_length=_ADDRESS_TEXT)
            if key in ADDRESS_FIELDS
            else raw
            for key, raw in value.items()
        }
        self.errors.extend(inner.errors)
        if inner.errors:
            return None
        try:
            return Address.parse(cleaned, field=self._prefix + name)
        except InvalidInput as refused:
            self.errors.extend(refused.errors)
            return None

    def objects(self, name: str, *, max_items: int) -> list[BodyReader]:
        """A required non-empty array of objects, each read with its own prefixed reader."""
        value = self._data.get(name)
        if not isinstance(value, list) or not value:
            self._fail(name, "must be a non-empty array")
            return []
        if len(value) > max_items:
            self._fail(name, f"must have at most {max_items} entries")
            return []
        readers = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self._fail(f"{name}[{index}]", "must be an object")
                continue
            readers.append(BodyReader(item, f"{self._prefix}{name}[{index}]."))
        return readers

    def optional_names(self, name: str, *, max_items: int, max_length: int) -> list[str] | None:
        """An optional array of distinct short texts (option names); absent is ``None``."""
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or len(value) > max_items:
            self._fail(name, f"must be an array of at most {max_items} strings")
            return None
        inner = BodyReader({f"[{i}]": item for i, item in enumerate(value)}, self._prefix + name)
        found = [
            inner.text(f"[{i}]", max_length=max_length, min_length=1) for i in range(len(value))
        ]
        self.errors.extend(inner.errors)
        return None if inner.errors else found

    def optional_text_map(
        self, name: str, *, max_items: int, max_length: int
    ) -> dict[str, str] | None:
        """An optional object of short text to short text (option values); absent is ``None``."""
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict) or len(value) > max_items:
            self._fail(name, f"must be an object of at most {max_items} entries")
            return None
        inner = BodyReader(value, f"{self._prefix}{name}.")
        found = {
            key: inner.text(key, max_length=max_length, min_length=1)
            for key in value
            if isinstance(key, str) and len(key) <= max_length
        }
        if len(found) != len(value):
            self._fail(name, f"keys must be at most {max_length} characters")
        self.errors.extend(inner.errors)
        return None if inner.errors else found

    def adopt(self, readers: list[BodyReader]) -> None:
        for reader in readers:
            self.errors.extend(reader.errors)

    def finish(self) -> None:
        """Raise every collected error at once (422)."""
        if self.errors:
            raise InvalidInput(errors=self.errors)


def query_text(name: str, *, max_length: int) -> str | None:
    """A text query parameter under the shop's text policy; absent or empty is ``None``."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length:
        raise InvalidInput.for_field(name, f"must be at most {max_length} characters")
    try:
        return clean_text(raw)
    except UnacceptableText as refused:
        raise InvalidInput.for_field(name, str(refused)) from None


def query_int(name: str, default: int) -> int:
    """An integer query parameter; junk is a 422, not a silent default."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise InvalidInput.for_field(name, "must be a whole number")
    return int(raw)


@overload
def idempotency_key(*, required: Literal[True]) -> str: ...
@overload
def idempotency_key(*, required: bool) -> str | None: ...
def idempotency_key(*, required: bool) -> str | None:
    """The ``Idempotency-Key`` header. When required and absent: 400, as the IETF draft says."""
    key = request.headers.get("Idempotency-Key")
    if key is None and required:
        raise ApiProblem(
            400,
            "idempotency_key_required",
            "Idempotency-Key header required",
            "this request moves money: send a unique Idempotency-Key header and reuse it on retry",
        )
    return key
