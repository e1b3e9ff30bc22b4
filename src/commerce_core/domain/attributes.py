"""Typed product attributes: staff define them (``material``, ``capacity``), then fill them in
per product, and shoppers read and filter by them.

An ``AttributeDefinition`` has a ``kind``:

- ``text``: free text, 1 to ``MAX_TEXT_VALUE`` printable characters;
- ``number``: an integer, or a decimal string with at most ``MAX_SCALE`` decimals and at most
  ``MAX_NUMBER_DIGITS`` digits before the point - never a float, whose binary rounding would
  make ``0.1 + 0.2`` a different capacity from ``0.3``. Stored as its canonical text
  (``"1.50"`` becomes ``"1.5"``) and as ``scaled``, the value times ``10**MAX_SCALE`` as an
  integer, which a database compares and ranges over exactly;
- ``choice``: one of the definition's ``choices`` (matched case-insensitively, stored as the
  choice is spelled).

>>> capacity = AttributeDefinition("capacity", "Capacity", AttributeKind.NUMBER, unit="ml")
>>> value = capacity.parse("350.50")
>>> (value.text, value.scaled)
('350.5', 3505000)
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal, InvalidOperation

import attrs

from commerce_core.errors import FieldError, InvalidInput

__all__ = [
    "ATTRIBUTE_CODE_PATTERN",
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_NAME",
    "MAX_CHOICES",
    "MAX_CHOICE_LENGTH",
    "MAX_NUMBER_DIGITS",
    "MAX_SCALE",
    "MAX_TEXT_VALUE",
    "MAX_UNIT",
    "AttributeDefinition",
    "AttributeKind",
    "AttributeValue",
    "parse_attribute_values",
    "validate_attribute_code",
]

ATTRIBUTE_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
_CODE = re.compile(ATTRIBUTE_CODE_PATTERN)
MAX_ATTRIBUTE_NAME = 100
MAX_UNIT = 20
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 100
MAX_TEXT_VALUE = 200
# A shop's attributes are a short list; it bounds every product's values too.
MAX_ATTRIBUTES = 100
MAX_SCALE = 4
MAX_NUMBER_DIGITS = 12
SCALE = 10_000  # 10**MAX_SCALE
# Digits, at most one point, a sign in front: "12", "-0.5", "350.25". No exponent, no spaces.
_DECIMAL = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")
# Longer than any acceptable number: refused before it is read.
_MAX_NUMBER_TEXT = MAX_NUMBER_DIGITS + MAX_SCALE + 2 + 20


class AttributeKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"


def _printable_text(value: object, limit: int) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= limit
        and value.isprintable()
        and value.strip() == value
        and bool(value)
    )


def validate_attribute_code(code: object, field: str = "code") -> str:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput.for_field(
            field, "must be a lowercase letter then up to 39 lowercase letters, digits or '_'"
        )
    return code


@attrs.frozen
class AttributeValue:
    """A product's value of one attribute, checked against its definition: ``text`` as shown
    (a number's canonical form), ``scaled`` the number times ``10**MAX_SCALE`` (else ``None``)."""

    code: str
    text: str
    scaled: int | None = None

    @property
    def number(self) -> Decimal | None:
        return None if self.scaled is None else Decimal(self.scaled) / SCALE


@attrs.frozen
class AttributeDefinition:
    """What an attribute is: its ``code`` (stable, in URLs and filters), the ``name`` shown, its
    ``kind``, the ``choices`` of a choice attribute (in the order shown), an optional ``unit``
    (``ml``) of a number, and whether shoppers may filter by it."""

    code: str
    name: str
    kind: AttributeKind
    choices: tuple[str, ...] = ()
    unit: str | None = None
    filterable: bool = True

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        try:
            validate_attribute_code(self.code)
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
        if not _printable_text(self.name, MAX_ATTRIBUTE_NAME):
            errors.append(
                FieldError("name", f"must be 1 to {MAX_ATTRIBUTE_NAME} printable characters")
            )
        if not isinstance(self.kind, AttributeKind):
            errors.append(FieldError("kind", "must be text, number or choice"))
        errors.extend(self._choice_errors())
        if self.unit is not None and (
            self.kind is not AttributeKind.NUMBER or not _printable_text(self.unit, MAX_UNIT)
        ):
            errors.append(
                FieldError("unit", f"only a number has a unit, of 1 to {MAX_UNIT} characters")
            )
        if not isinstance(self.filterable, bool):
            errors.append(FieldError("filterable", "must be true or false"))
        if errors:
            raise InvalidInput(errors=errors)

    def _choice_errors(self) -> list[FieldError]:
        if self.kind is not AttributeKind.CHOICE:
            return [FieldError("choices", "only a choice attribute has choices")] * bool(
                self.choices
            )
        if not isinstance(self.choices, tuple) or not (1 <= len(self.choices) <= MAX_CHOICES):
            return [FieldError("choices", f"a choice attribute needs 1 to {MAX_CHOICES} choices")]
        errors = [
            FieldError(
                f"choices[{index}]", f"must be 1 to {MAX_CHOICE_LENGTH} printable characters"
            )
            for index, choice in enumerate(self.choices)
            if not _printable_text(choice, MAX_CHOICE_LENGTH)
        ]
        folded = [c.casefold() for c in self.choices if isinstance(c, str)]
        if not errors and len(set(folded)) != len(folded):
            errors.append(FieldError("choices", "must differ from each other (in any case)"))
        return errors

    def parse(self, value: object, field: str | None = None) -> AttributeValue:
        """``value`` checked against this definition; ``InvalidInput`` naming ``field``
        (default ``values.<code>``) if it does not fit."""
        where = field or f"values.{self.code}"
        if self.kind is AttributeKind.NUMBER:
            return self._number(value, where)
        if isinstance(value, bool) or not isinstance(value, str):
            raise InvalidInput.for_field(where, "must be a string")
        text = value.strip()
        if self.kind is AttributeKind.CHOICE:
            wanted = text.casefold()
            for choice in self.choices:
                if choice.casefold() == wanted:
                    return AttributeValue(self.code, choice)
            raise InvalidInput.for_field(where, "must be one of " + ", ".join(self.choices))
        if not _printable_text(text, MAX_TEXT_VALUE):
            raise InvalidInput.for_field(
                where, f"must be 1 to {MAX_TEXT_VALUE} printable characters"
            )
        return AttributeValue(self.code, text)

    def _number(self, value: object, where: str) -> AttributeValue:
        message = (
            f"must be an integer or a decimal string with at most {MAX_NUMBER_DIGITS} digits "
            f"before the point and {MAX_SCALE} after it"
        )
        if type(value) is int:
            if abs(value) >= 10**MAX_NUMBER_DIGITS:
                raise InvalidInput.for_field(where, message)
            number = Decimal(value)
        elif isinstance(value, str) and len(value) <= _MAX_NUMBER_TEXT:
            text = value.strip()
            if not text.isascii() or not _DECIMAL.fullmatch(text):
                raise InvalidInput.for_field(where, message)
            try:
                number = Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
                raise InvalidInput.for_field(where, message) from None
        else:
            raise InvalidInput.for_field(where, message)
        scaled = number * SCALE
        if scaled != scaled.to_integral_value() or abs(number) >= 10**MAX_NUMBER_DIGITS:
            raise InvalidInput.for_field(where, message)
        return AttributeValue(self.code, _canonical(number), int(scaled))


def _canonical(number: Decimal) -> str:
    """``350``, ``1.5``, ``-0.25``: no exponent, no trailing zeros, no negative zero."""
    if number == 0:
        return "0"
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_attribute_values(
    definitions: dict[str, AttributeDefinition], values: dict[str, object]
) -> dict[str, AttributeValue]:
    """Each of ``values`` (code -> raw value) checked against its definition; every problem at
    once as ``InvalidInput`` naming ``values.<code>``. An unknown code is refused, not ignored:
    a typo must not look saved."""
    errors: list[FieldError] = []
    parsed: dict[str, AttributeValue] = {}
    if len(values) > MAX_ATTRIBUTES:
        raise InvalidInput.for_field("values", f"must have at most {MAX_ATTRIBUTES} entries")
    for code, raw in values.items():
        definition = definitions.get(code)
        if definition is None:
            errors.append(FieldError(f"values.{code}"[:120], "no such attribute"))
            continue
        try:
            parsed[code] = definition.parse(raw)
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
    if errors:
        raise InvalidInput(errors=errors)
    return parsed
