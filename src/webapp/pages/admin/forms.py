"""The admin console's forms: what a form shows (``FormState``) and how a post is read
(``FormReader``).

Plain HTML forms, read field by field like the API's ``BodyReader`` reads JSON: every problem is
collected and raised at once as the core's ``InvalidInput``, so the page's own checks and the use
case's refusals reach the form the same way. Input names are the core's field names wherever
there is one (``price``, ``carrier``, ``tracking_number``), so a ``FieldError`` a use case raises
lands beside its input; a form names the others with ``aliases`` (``basis_points`` -> ``percent``).
What the core refuses about the request as a whole (a conflict, a refund beyond what remains, a
gateway that said no) is the form's own message.

Money is typed in major units ("12.34") and converted exactly (``Money.parse``: no float, and
more decimals than the currency has are refused, not rounded).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from decimal import Decimal

import attrs
from flask import request
from werkzeug.datastructures import FileStorage

from commerce_core import (
    CURRENCY_EXPONENTS,
    CommerceError,
    Conflict,
    FieldError,
    GatewayError,
    InvalidInput,
    Money,
)
from webapp.payloads import UnacceptableText, clean_text
from webapp.problems import status_for

__all__ = ["FORM_REFUSALS", "FormReader", "FormState", "refusal_status"]

# What a form shows as its own messages (the page again, with the error's status); anything
# else - not found, forbidden - is an error page.
FORM_REFUSALS = (InvalidInput, Conflict, GatewayError)
# Inputs every form carries that are not the form's data.
_NOT_DATA = frozenset({"csrf_token"})
_MONEY = re.compile(r"^[0-9]{1,13}(?:\.[0-9]+)?$")
_WHOLE = re.compile(r"^-?[0-9]{1,12}$")
_PERCENT = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,2})?$")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_PART = re.compile(r"[\[.]")
_INDEX = re.compile(r"\[(\d+)\]")


@attrs.define
class FormState:
    """One form on a page: its values (as typed, or as stored for an edit), its errors by field,
    and its own messages. ``prefix`` keeps the ids of two forms on one page apart."""

    prefix: str
    values: dict[str, str] = attrs.Factory(dict)
    errors: dict[str, list[str]] = attrs.Factory(dict)
    messages: list[str] = attrs.Factory(list)
    aliases: Mapping[str, str] = attrs.Factory(dict)
    posted: bool = False

    @classmethod
    def from_post(cls, prefix: str, aliases: Mapping[str, str] | None = None) -> FormState:
        """The form as this request posted it, to show again with its errors."""
        values = {k: v for k, v in request.form.items() if k not in _NOT_DATA}
        return cls(prefix, values, aliases=dict(aliases or {}), posted=True)

    def id(self, name: str) -> str:
        return _ID_UNSAFE.sub("-", f"{self.prefix}-{name}").strip("-")

    def value(self, name: str, default: object = "") -> str:
        if name in self.values:
            return self.values[name]
        return "" if default is None else str(default)

    def checked(self, name: str, default: bool = False) -> bool:
        """A checkbox: as posted (absent is unchecked), else as stored ("true"/"false"), else
        ``default``."""
        if self.posted:
            return name in self.values
        if name in self.values:
            return self.values[name] == "true"
        return default

    def errors_of(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.messages)

    @property
    def summary(self) -> list[str]:
        """Every problem, each field's with its name: the list at the top of the form."""
        named = [
            f"{_label(field)}: {message}"
            for field, messages in self.errors.items()
            for message in messages
        ]
        return [*self.messages, *named]

    def add(self, field: str, message: str) -> None:
        """``field``'s problem, on the input ``aliases`` names for it - or, for a part of a field
        (``countries[1]``), on that field's input, saying which part ("entry 2: ...")."""
        base = _PART.split(field, maxsplit=1)[0]
        if field in self.aliases or base == field:
            name = self.aliases.get(field, field)
        else:
            name = self.aliases.get(base, base)
            part = field[len(base) :]
            index = _INDEX.fullmatch(part)
            which = f"entry {int(index.group(1)) + 1}" if index else part.lstrip(".")
            message = f"{which}: {message}"
        self.errors.setdefault(name, []).append(message)

    def refuse(self, error: CommerceError) -> None:
        if isinstance(error, InvalidInput) and error.errors:
            for problem in error.errors:
                self.add(problem.field, problem.message)
        else:
            self.messages.append(error.detail)


def refusal_status(error: CommerceError, form: FormState) -> int:
    """Put ``error`` on ``form`` and answer the status the page is shown with (422, 409 ...);
    an error that is not about the form (not found, forbidden) is raised again, for its page."""
    if not isinstance(error, FORM_REFUSALS):
        raise error
    form.refuse(error)
    return status_for(error)


def _label(field: str) -> str:
    words = field.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "Form"


class FormReader:
    """The fields of this request's form, read by type; ``finish`` raises every problem."""

    def __init__(self) -> None:
        self._form = request.form
        self.errors: list[FieldError] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def _raw(self, name: str) -> str:
        return self._form.get(name, "")

    def text(
        self, name: str, *, max_length: int, required: bool = True, multiline: bool = False
    ) -> str:
        """Trimmed text in the shop's one text policy; empty (or an error if ``required``)."""
        raw = self._raw(name)
        raw = raw.replace("\r\n", "\n") if multiline else raw
        raw = raw.strip()
        if not raw:
            if required:
                self.fail(name, "is required")
            return ""
        if len(raw) > max_length:
            self.fail(name, f"must be at most {max_length} characters")
            return ""
        try:
            return clean_text(raw, multiline=multiline)
        except UnacceptableText as refused:
            self.fail(name, str(refused))
            return ""

    def optional_text(self, name: str, *, max_length: int, multiline: bool = False) -> str | None:
        return self.text(name, max_length=max_length, required=False, multiline=multiline) or None

    def lines(self, name: str, *, max_items: int, max_length: int) -> tuple[str, ...]:
        """One value per line (or separated by commas), blanks dropped."""
        text = self.text(name, max_length=max_items * (max_length + 2), required=False)
        values = [v.strip() for v in re.split(r"[\n,]", text) if v.strip()]
        if len(values) > max_items:
            self.fail(name, f"must have at most {max_items} entries")
            return ()
        if any(len(v) > max_length for v in values):
            self.fail(name, f"each entry must be at most {max_length} characters")
            return ()
        return tuple(values)

    def whole_number(
        self, name: str, *, required: bool = False, signed: bool = False
    ) -> int | None:
        raw = self._raw(name).strip()
        if not raw:
            if required:
                self.fail(name, "is required")
            return None
        if not _WHOLE.fullmatch(raw) or (raw.startswith("-") and not signed):
            self.fail(name, "must be a whole number" if signed else "must be a whole number from 0")
            return None
        return int(raw)

    def currency(self, name: str) -> str | None:
        raw = self._raw(name).strip().upper()
        if raw not in CURRENCY_EXPONENTS:
            self.fail(name, "must be an ISO 4217 currency code the shop knows (USD, EUR ...)")
            return None
        return raw

    def money(self, name: str, currency: str | None, *, required: bool = False) -> Money | None:
        """An amount in major units ("12.34") of ``currency``, exactly (no rounding)."""
        raw = self._raw(name).strip()
        if not raw:
            if required:
                self.fail(name, "is required")
            return None
        if not _MONEY.fullmatch(raw):
            self.fail(name, "must be an amount like 12.34")
            return None
        if currency is None:
            return None  # the currency's own error says why
        try:
            return Money.parse(raw, currency)
        except InvalidInput as invalid:
            self.fail(name, invalid.detail)
            return None

    def basis_points(self, name: str) -> int | None:
        """A percentage with at most two decimals ("7.25") as basis points (725), exactly."""
        raw = self._raw(name).strip()
        if not _PERCENT.fullmatch(raw):
            self.fail(name, "must be a percentage like 7.25")
            return None
        return int(Decimal(raw) * 100)

    def flag(self, name: str) -> bool:
        """A checkbox: checked or not."""
        return name in self._form

    def choice(self, name: str, choices: Collection[str], *, required: bool = True) -> str | None:
        raw = self._raw(name)
        if not raw:
            if required:
                self.fail(name, "choose one")
            return None
        if raw not in choices:
            self.fail(name, "is not one of the choices")
            return None
        return raw

    def file(self, name: str) -> FileStorage | None:
        upload = request.files.get(name)
        if upload is None or not upload.filename:
            self.fail(name, "choose a file")
            return None
        return upload

    def finish(self) -> None:
        if self.errors:
            raise InvalidInput(errors=self.errors)
