"""Sales over time, in memory: the repository's ``paid_by_day`` is held to its contract, and the
dashboard's query makes one day per UTC day of the period (zeros included), in the shop's
currency, counting only paid money - and only for staff who may read orders."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from commerce_core import (
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    InvalidInput,
    Money,
    PermissionDenied,
    RefundOrder,
    Role,
    SalesQuery,
    UnitOfWork,
    User,
    confirm_order,
    create_checkout_intent,
    refund_order,
    sales_over_time,
)
from commerce_core.testing import FakeClock, InMemoryShop, InMemoryStore, InMemoryUnitOfWork
from commerce_core.testing.contracts.sales import SalesByDayContract

NOW = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)


def staff(role: Role) -> User:
    return User(f"usr_{role.value}", f"{role.value}@example.com", "S", "-", role, True, NOW)


ADMIN, SUPPORT, CUSTOMER = staff(Role.ADMIN), staff(Role.SUPPORT), staff(Role.CUSTOMER)


class TestInMemorySalesByDay(SalesByDayContract):
    @pytest.fixture
    def new_uow(self) -> Callable[[], UnitOfWork]:
        store = InMemoryStore()
        return lambda: InMemoryUnitOfWork(store)


@pytest.fixture
def shop() -> InMemoryShop:
    shop = InMemoryShop(clock=FakeClock(NOW - timedelta(days=40)))
    shop.product_id = shop.add_product(stock=100, price=Money(1250, "USD")).id
    return shop


def buy(shop: InMemoryShop, quantity: int = 1, *, pay: bool = True) -> str:
    intent = create_checkout_intent(
        CreateCheckoutIntent("usr_buyer", (CartItem(shop.product_id, quantity),)), **shop.ports
    )
    if pay:
        confirm_order(
            ConfirmOrder(
                "usr_buyer", intent.body["intent_id"], "pm_card_visa", secrets.token_hex(6)
            ),
            **shop.ports,
        )
    return str(intent.body["order_id"])


def at(shop: InMemoryShop, moment: datetime) -> None:
    shop.clock.advance(moment - shop.clock.now())


def test_one_day_per_utc_day_oldest_first_with_empty_days_at_zero(shop: InMemoryShop) -> None:
    at(shop, NOW)
    report = sales_over_time(shop.uow, ADMIN, SalesQuery(days=30), clock=shop.clock)

    assert (report.first_day, report.last_day) == (date(2026, 3, 2), date(2026, 3, 31))
    assert [d.day for d in report.days] == [date(2026, 3, 2) + timedelta(n) for n in range(30)]
    assert {(d.orders, d.total) for d in report.days} == {(0, Money(0, "USD"))}
    # No sale yet: the catalogue tells the shop's currency.
    assert (report.currency, report.total, report.best_day) == ("USD", Money(0, "USD"), None)


def test_paid_money_is_counted_on_its_day_and_nothing_else(shop: InMemoryShop) -> None:
    at(shop, datetime(2026, 3, 1, 23, 59, tzinfo=UTC))  # the day before the period
    buy(shop)
    at(shop, datetime(2026, 3, 2, 0, 0, tzinfo=UTC))  # its first instant
    buy(shop, 2)
    at(shop, datetime(2026, 3, 20, 12, tzinfo=UTC))
    refunded = buy(shop, 3)
    refund_order(RefundOrder(ADMIN.id, refunded, 1000, secrets.token_hex(6)), **shop.ports)
    buy(shop, 5, pay=False)  # awaiting payment: no money yet
    at(shop, NOW)
    buy(shop)

    report = sales_over_time(shop.uow, SUPPORT, SalesQuery(days=30), clock=shop.clock)

    sold = {d.day: (d.orders, d.total.amount) for d in report.days if d.orders}
    # Gross: the refund of 10.00 is not taken off the 20th's 37.50.
    assert sold == {
        date(2026, 3, 2): (1, 2500),
        date(2026, 3, 20): (1, 3750),
        date(2026, 3, 31): (1, 1250),
    }
    assert (report.orders, report.total) == (3, Money(7500, "USD"))
    best = report.best_day
    assert best is not None
    assert (best.day, best.total) == (date(2026, 3, 20), Money(3750, "USD"))


def test_the_shop_currency_is_the_one_most_orders_were_paid_in(shop: InMemoryShop) -> None:
    euros = shop.add_product(stock=10, price=Money(900, "EUR"))
    at(shop, NOW - timedelta(days=1))
    for _ in range(2):
        intent = create_checkout_intent(
            CreateCheckoutIntent("usr_buyer", (CartItem(euros.id, 1),)), **shop.ports
        )
        confirm_order(
            ConfirmOrder(
                "usr_buyer", intent.body["intent_id"], "pm_card_visa", secrets.token_hex(6)
            ),
            **shop.ports,
        )
    buy(shop)
    at(shop, NOW)

    report = sales_over_time(shop.uow, ADMIN, SalesQuery(days=7), clock=shop.clock)
    assert (report.currency, report.total, report.other_currencies) == (
        "EUR",
        Money(1800, "EUR"),
        ("USD",),
    )
    in_dollars = sales_over_time(
        shop.uow, ADMIN, SalesQuery(days=7, currency="USD"), clock=shop.clock
    )
    assert (in_dollars.total, in_dollars.other_currencies) == (Money(1250, "USD"), ("EUR",))


def test_nothing_sold_and_nothing_on_sale_has_no_currency_and_no_days() -> None:
    shop = InMemoryShop()
    report = sales_over_time(shop.uow, ADMIN, SalesQuery(), clock=shop.clock)
    assert (report.currency, report.days, report.total, report.orders) == (None, (), None, 0)


def test_only_staff_who_read_orders_see_sales(shop: InMemoryShop) -> None:
    with pytest.raises(PermissionDenied):
        sales_over_time(shop.uow, CUSTOMER, SalesQuery(), clock=shop.clock)
    disabled = User("usr_x", "x@example.com", "X", "-", Role.ADMIN, False, NOW)
    with pytest.raises(PermissionDenied):
        sales_over_time(shop.uow, disabled, SalesQuery(), clock=shop.clock)


@pytest.mark.parametrize(
    ("days", "currency", "fields"),
    [
        (0, None, ["days"]),
        (367, None, ["days"]),
        (30, "XYZ", ["currency"]),
        (0, "ZZZ", ["days", "currency"]),
    ],
)
def test_a_period_or_currency_out_of_bounds_is_refused(
    days: int, currency: str | None, fields: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        SalesQuery(days=days, currency=currency)
    assert [e.field for e in refused.value.errors] == fields
