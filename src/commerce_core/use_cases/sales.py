"""Sales over time: the money paid orders brought in, per UTC day, for the staff's dashboard.

A day's sales are the orders *sold* that day (``OrderStatus.is_paid``: paid, shipped, refunded
in part or in full since) by the instant their payment was captured, and the sum of those
captures - gross: a refund is money going back on the day it is made, not a smaller sale on the
day of the order. Orders awaiting payment, failed, cancelled (a paid order staff cancelled before
it shipped included: it was never sold) or owing their capture back are not sales.

Days are UTC days, so a report reads the same wherever it is asked from. It is in one currency,
the shop's: the one most orders of the period were paid in, else the catalogue's; sales in other
currencies are named beside it (a shop selling in one currency never sees any).

    >>> from datetime import UTC, datetime
    >>> from commerce_core import Role, User
    >>> from commerce_core.testing import FakeClock, InMemoryShop
    >>> staff = User("usr_s", "s@example.com", "S", "-", Role.SUPPORT, True, datetime.now(UTC))
    >>> shop = InMemoryShop.with_demo_product(stock=5)
    >>> clock = FakeClock(datetime(2026, 3, 31, 12, tzinfo=UTC))
    >>> report = sales_over_time(shop.uow, staff, SalesQuery(days=7), clock=clock)
    >>> (len(report.days), report.days[-1].day.isoformat(), report.orders, str(report.total))
    (7, '2026-03-31', 0, '0.00 USD')
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.money import Money, exponent_of
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.errors import FieldError, InvalidInput
from commerce_core.ports import Clock, DailySales, UnitOfWork

__all__ = [
    "MAX_SALES_DAYS",
    "SalesDay",
    "SalesOverTime",
    "SalesQuery",
    "sales_over_time",
]

# A year and a day: enough for any year-on-year look, bounded for the query and the chart.
MAX_SALES_DAYS = 366


@attrs.frozen
class SalesQuery:
    """The last ``days`` UTC days, today included; ``currency`` to ask for one (else the
    shop's, as the module says)."""

    days: int = 30
    currency: str | None = None

    def __attrs_post_init__(self) -> None:
        errors = []
        if type(self.days) is not int or not 1 <= self.days <= MAX_SALES_DAYS:
            errors.append(FieldError("days", f"must be a whole number from 1 to {MAX_SALES_DAYS}"))
        if self.currency is not None:
            try:
                exponent_of(self.currency)
            except InvalidInput:
                errors.append(FieldError("currency", "must be an ISO 4217 currency code"))
        if errors:
            raise InvalidInput(errors=errors)


@attrs.frozen
class SalesDay:
    day: date
    orders: int
    total: Money


@attrs.frozen
class SalesOverTime:
    """One ``SalesDay`` per day of the period, oldest first, days without a sale at zero.

    ``currency`` is ``None`` only when nothing tells it - no sale in the period and no product
    in the catalogue - and ``days`` is then empty: there is nothing to chart, in no currency."""

    first_day: date
    last_day: date
    currency: str | None
    days: tuple[SalesDay, ...]
    # Other currencies paid in during the period, not counted in ``days``.
    other_currencies: tuple[str, ...] = ()

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def total(self) -> Money | None:
        if self.currency is None:
            return None
        return Money(sum(day.total.amount for day in self.days), self.currency)

    @property
    def best_day(self) -> SalesDay | None:
        """The day with the most money (the latest of equals); ``None`` if nothing sold."""
        sold = [day for day in self.days if day.orders]
        return max(sold, key=lambda day: (day.total.amount, day.day)) if sold else None


def sales_over_time(
    uow: UnitOfWork, actor: User, query: SalesQuery, *, clock: Clock
) -> SalesOverTime:
    """Paid orders per UTC day over the last ``query.days`` days (``orders:read``)."""
    require_permission(actor, Permission.ORDERS_READ)
    last_day = clock.now().astimezone(UTC).date()
    first_day = last_day - timedelta(days=query.days - 1)
    start = datetime.combine(first_day, time(), tzinfo=UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC)
    with uow:
        sold = uow.orders.paid_by_day(start, end)
        currency = query.currency or _most_orders(sold) or _catalogue_currency(uow)
    if currency is None:  # nothing sold, nothing on sale
        return SalesOverTime(first_day, last_day, None, ())
    others = tuple(sorted({row.currency for row in sold} - {currency}))
    by_day = {row.day: row for row in sold if row.currency == currency}
    days = tuple(
        _sales_day(first_day + timedelta(days=offset), by_day, currency)
        for offset in range(query.days)
    )
    return SalesOverTime(first_day, last_day, currency, days, others)


def _sales_day(day: date, by_day: dict[date, DailySales], currency: str) -> SalesDay:
    row = by_day.get(day)
    if row is None:
        return SalesDay(day, 0, Money.zero(currency))
    return SalesDay(day, row.orders, Money(row.amount, currency))


def _most_orders(sold: list[DailySales]) -> str | None:
    counts: Counter[str] = Counter()
    for row in sold:
        counts[row.currency] += row.orders
    if not counts:
        return None
    return min(counts, key=lambda currency: (-counts[currency], currency))


def _catalogue_currency(uow: UnitOfWork) -> str | None:
    products, _total = uow.products.list_for_staff(0, 1)
    return products[0].currency if products else None
