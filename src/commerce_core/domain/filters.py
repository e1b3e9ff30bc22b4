"""What staff look for in the shop's records: orders by status, time placed, customer and
dispute; accounts by email, role and state.

Each filter is a validated value with the one definition of a match (``matches``). The in-memory
store applies it as written; SQL adapters translate the same fields into WHERE clauses, and the
``UnitOfWorkContract`` holds both to the same answers. A field left ``None`` (or an empty set of
statuses) does not filter.

    >>> from datetime import UTC, datetime
    >>> january = OrderFilter(placed_from=datetime(2026, 1, 1, tzinfo=UTC),
    ...                       placed_to=datetime(2026, 2, 1, tzinfo=UTC))
    >>> january.placed_to.month
    2
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from commerce_core.domain.accounts import Role, User, normalise_email
from commerce_core.domain.orders import Order, OrderStatus
from commerce_core.errors import FieldError, InvalidInput

__all__ = ["MAX_EMAIL_SEARCH", "OrderFilter", "UserFilter"]

# No email is longer (RFC 5321 allows 254); a longer needle can match nothing.
MAX_EMAIL_SEARCH = 254


def _aware(field: str, moment: datetime | None, errors: list[FieldError]) -> None:
    if moment is None:
        return
    # A naive datetime means a different instant on every server; refuse rather than guess.
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        errors.append(FieldError(field, "must be a date-time with a time zone"))
        return
    try:
        moment.astimezone(UTC)  # what storage compares in; 0001-01-01T00:00+01:00 has no UTC
    except OverflowError:
        errors.append(FieldError(field, "is out of range"))


@attrs.frozen
class OrderFilter:
    """Orders placed in ``[placed_from, placed_to)`` - from inclusive, to exclusive, so that
    consecutive ranges neither overlap nor leave a gap - in any of ``statuses``, of the user
    ``user_id``, disputed or not."""

    statuses: frozenset[OrderStatus] = frozenset()
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    user_id: str | None = None
    disputed: bool | None = None

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not all(isinstance(status, OrderStatus) for status in self.statuses):
            errors.append(FieldError("status", "must be order statuses"))
        _aware("placed_from", self.placed_from, errors)
        _aware("placed_to", self.placed_to, errors)
        if (
            not errors
            and self.placed_from is not None
            and self.placed_to is not None
            and self.placed_to <= self.placed_from
        ):
            errors.append(FieldError("placed_to", "must be later than placed_from"))
        if self.disputed is not None and type(self.disputed) is not bool:
            errors.append(FieldError("disputed", "must be true or false"))
        if errors:
            raise InvalidInput(errors=errors)

    def matches(self, order: Order) -> bool:
        return (
            (not self.statuses or order.status in self.statuses)
            and (self.placed_from is None or order.created_at >= self.placed_from)
            and (self.placed_to is None or order.created_at < self.placed_to)
            and (self.user_id is None or order.user_id == self.user_id)
            and (self.disputed is None or order.disputed is self.disputed)
        )


def _normalised(value: object) -> object:
    """Emails are stored normalised; so is the needle (validated by the filter)."""
    return (normalise_email(value) or None) if isinstance(value, str) else value


@attrs.frozen
class UserFilter:
    """Accounts whose email contains ``email`` (a part of it, in any case: emails are stored
    normalised, and so is the needle), of ``role``, active or disabled."""

    email: str | None = attrs.field(default=None, converter=_normalised)
    role: Role | None = None
    active: bool | None = None

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.email is not None and not isinstance(self.email, str):
            errors.append(FieldError("email", "must be text"))
        elif self.email is not None and len(self.email) > MAX_EMAIL_SEARCH:
            errors.append(FieldError("email", f"must be at most {MAX_EMAIL_SEARCH} characters"))
        if self.role is not None and not isinstance(self.role, Role):
            errors.append(FieldError("role", "must be a role"))
        if self.active is not None and type(self.active) is not bool:
            errors.append(FieldError("active", "must be true or false"))
        if errors:
            raise InvalidInput(errors=errors)

    def matches(self, user: User) -> bool:
        return (
            (self.email is None or self.email in user.email)
            and (self.role is None or user.role is self.role)
            and (self.active is None or user.is_active is self.active)
        )
