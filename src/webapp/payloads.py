"""Reading request input strictly: JSON bodies, query parameters and headers.

Rules, the same on every route: a body must be ``application/json`` (415 otherwise, so a
``text/plain`` cross-site form cannot carry one), must parse (400 ``malformed_json``) and must be
an object; fields are checked by type - integers are JSON integers, never floats, strings or
booleans - and all problems of one request are reported together (422). Unknown fields are
ignored, so a client-sent ``price`` or ``total`` simply has no effect: the core prices carts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, NoReturn, overload

from flask import request

from commerce_core import FieldError, InvalidInput, Money
from webapp.problems import ApiProblem

__all__ = ["BodyReader", "idempotency_key", "json_body", "query_int"]

MAX_TEXT = 10_000
# Beyond any real price or count, and within a signed 64-bit database column.
MAX_INTEGER = 10**15


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def json_body() -> dict[str, Any]:
    """The request's JSON object, or the matching problem."""
    if not request.is_json:
        raise ApiProblem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as application/json",
        )
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem(
            400, "malformed_json", "Malformed JSON", "the request body is not valid JSON"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(errors=[FieldError("body", "must be a JSON object")])
    return data


class BodyReader:
    """Typed access to a JSON object's fields that collects every error before raising."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix
        self.errors: list[FieldError] = []

    def _fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(self._prefix + name, message))

    def text(self, name: str, *, max_length: int = MAX_TEXT, min_length: int = 0) -> str:
        """A required string. Emptiness is left to the core (``min_length=0``) except for ids."""
        value = self.optional_text(name, max_length=max_length)
        if value is None:
            if self._data.get(name) is None:
                self._fail(name, "is required")
            return ""
        if len(value) < min_length:
            self._fail(
                name, "is required" if not value else f"must be at least {min_length} characters"
            )
        return value

    def optional_text(self, name: str, *, max_length: int = MAX_TEXT) -> str | None:
        value = self._data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self._fail(name, "must be a string")
            return None
        if len(value) > max_length:
            self._fail(name, f"must be at most {max_length} characters")
            return None
        return value

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

    def adopt(self, readers: list[BodyReader]) -> None:
        for reader in readers:
            self.errors.extend(reader.errors)

    def finish(self) -> None:
        """Raise every collected error at once (422)."""
        if self.errors:
            raise InvalidInput(errors=self.errors)


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
