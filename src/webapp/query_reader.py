"""Reading the filters of a list route from its query string, strictly, every error at once.

What each reader accepts is what the OpenAPI document says, and anything else is a 422
``validation_error`` naming the parameter, never a silent default:

- text goes through the shop's one text policy (``clean_text``); empty means absent;
- a list (``status=paid,refunded`` or ``status=paid&status=refunded``) is comma-separated
  values, repeated or not;
- a boolean is ``true`` or ``false``;
- an instant is an ISO 8601 date (``2026-01-31``: midnight UTC at its start) or date-time
  (``2026-01-31T09:30:00+01:00``; one without an offset is UTC);
- ``page`` and ``per_page`` are whole numbers within ``PageRequest``'s bounds.

The values of a route's reads are handed to the core (``build``), whose own checks - a status
it does not know, a range that ends before it starts - join the reader's in one answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, time
from typing import TypeVar

from flask import request
from werkzeug.datastructures import MultiDict

from commerce_core import FieldError, InvalidInput, PageRequest
from webapp.payloads import UnacceptableText, clean_text

__all__ = ["QueryReader"]

T = TypeVar("T")

MAX_LIST_ITEMS = 20
# An ISO 8601 date-time is at most ~35 characters; anything longer is not one.
_MAX_INSTANT = 40
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BOOLEANS = {"true": True, "false": False}
_MAX_DIGITS = 9


class QueryReader:
    """The query parameters of this request, read by type; ``errors`` collects every problem."""

    def __init__(self, args: MultiDict[str, str] | None = None) -> None:
        self._args = request.args if args is None else args
        self.errors: list[FieldError] = []

    def _fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def _clean(self, name: str, raw: str, max_length: int) -> str | None:
        if len(raw) > max_length:
            self._fail(name, f"must be at most {max_length} characters")
            return None
        try:
            return clean_text(raw)
        except UnacceptableText as refused:
            self._fail(name, str(refused))
            return None

    def text(self, name: str, *, max_length: int) -> str | None:
        """A text parameter; absent or empty is ``None``."""
        raw = self._args.get(name)
        if not raw:
            return None
        return self._clean(name, raw, max_length)

    def texts(self, name: str, *, max_length: int) -> tuple[str, ...]:
        """Comma-separated values, the parameter repeated or not; empty items are dropped."""
        values: list[str] = []
        for raw in self._args.getlist(name):
            cleaned = self._clean(name, raw, max_length * MAX_LIST_ITEMS)
            if cleaned is None:
                return ()
            values.extend(item.strip() for item in cleaned.split(",") if item.strip())
        if len(values) > MAX_LIST_ITEMS:
            self._fail(name, f"at most {MAX_LIST_ITEMS} values")
            return ()
        if any(len(value) > max_length for value in values):
            self._fail(name, f"each value must be at most {max_length} characters")
            return ()
        return tuple(values)

    def boolean(self, name: str) -> bool | None:
        raw = self._args.get(name)
        if not raw:
            return None
        if raw not in _BOOLEANS:
            self._fail(name, "must be true or false")
            return None
        return _BOOLEANS[raw]

    def instant(self, name: str) -> datetime | None:
        """An ISO 8601 date (midnight UTC) or date-time (UTC unless it has an offset)."""
        raw = self._args.get(name)
        if not raw:
            return None
        # fromisoformat also reads digits of other scripts; an ISO instant is ASCII.
        if len(raw) > _MAX_INSTANT or not raw.isascii():
            self._fail(name, "must be an ISO 8601 date or date-time")
            return None
        try:
            if _DATE.match(raw):
                return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
            moment = datetime.fromisoformat(raw)
        except ValueError:
            self._fail(name, "must be an ISO 8601 date or date-time")
            return None
        return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)

    def amount(self, name: str) -> int | None:
        """An optional whole number (minor units of money); absent or empty is ``None``."""
        if not self._args.get(name):
            return None
        return self._whole_number(name, 0)

    def choice(self, name: str, choices: Collection[str]) -> str | None:
        """One of ``choices``; absent or empty is ``None``."""
        raw = self._args.get(name)
        if not raw:
            return None
        if raw not in choices:
            self._fail(name, f"must be one of {', '.join(sorted(choices))}")
            return None
        return raw

    def _whole_number(self, name: str, default: int) -> int | None:
        raw = self._args.get(name)
        if not raw:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_DIGITS:
            self._fail(name, "must be a whole number")
            return None
        return int(raw)

    def paging(self) -> PageRequest:
        """``page`` and ``per_page``. On an error the default page is returned, and the error
        is raised by ``finish`` or ``build``."""
        page = self._whole_number("page", 1)
        per_page = self._whole_number("per_page", 20)
        if page is None or per_page is None:
            return PageRequest()
        try:
            return PageRequest(page=page, per_page=per_page)
        except InvalidInput as invalid:
            self.errors.extend(invalid.errors)
            return PageRequest()

    def build(self, make: Callable[[], T]) -> T:
        """``make()`` from what was read; its own ``InvalidInput`` and every error read so far
        are raised together."""
        try:
            built = make()
        except InvalidInput as invalid:
            self.errors.extend(invalid.errors or [FieldError("query", invalid.detail)])
            raise InvalidInput(errors=self.errors) from None
        self.finish()
        return built

    def finish(self) -> None:
        """Raise every collected error at once (422)."""
        if self.errors:
            raise InvalidInput(errors=self.errors)
