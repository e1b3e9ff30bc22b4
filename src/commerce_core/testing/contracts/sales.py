"""``SalesByDayContract``: ``OrderRepository.paid_by_day`` - the dashboard's sales chart - held
alike on every ``UnitOfWork``: only money of sold orders counts, on the UTC day its capture was
recorded, per currency, inside a window closed at its start and open at its end.

Fixture ``new_uow``, as for ``UnitOfWorkContract``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, OrderLine
from commerce_core.ports import DailySales, UnitOfWork

__all__ = ["SalesByDayContract"]

NewUow = Callable[[], UnitOfWork]

DAY = date(2026, 3, 10)
MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)
# Two in the morning in Paris on the 11th is still the evening of the 10th in UTC.
PARIS = timezone(timedelta(hours=2))


def _placed(unit_price: int, at: datetime, *, currency: str = "USD", quantity: int = 1) -> Order:
    return Order.place(
        order_id=new_id("ord"),
        user_id="usr_ada",
        lines=[OrderLine("prod_1", "mug", "Mug", Money(unit_price, currency), quantity)],
        gateway="fake",
        now=at - timedelta(minutes=5),
        hold_expires_at=at + timedelta(minutes=15),
    )


def _paid(unit_price: int, at: datetime, *, currency: str = "USD", quantity: int = 1) -> Order:
    order = _placed(unit_price, at, currency=currency, quantity=quantity)
    order.settle(order.total, at)
    return order


class SalesByDayContract:
    def _store(self, new_uow: NewUow, *orders: Order) -> None:
        with new_uow() as uow:
            for order in orders:
                uow.orders.add(order)
            uow.commit()

    def _sales(self, new_uow: NewUow, start: datetime, end: datetime) -> list[DailySales]:
        with new_uow() as uow:
            return uow.orders.paid_by_day(start, end)

    def test_only_money_of_sold_orders_is_counted(self, new_uow: NewUow) -> None:
        at = MIDNIGHT + timedelta(hours=9)
        paid = _paid(1000, at, quantity=2)
        shipped = _paid(300, at)
        shipped.fulfil("UPS", "1Z999", at)
        part_refunded = _paid(700, at)
        part_refunded.request_refund(
            refund_id="re_part", amount=Money(200, "USD"), reason="", requested_by=None, now=at
        )
        part_refunded.complete_refund("re_part", "gw_re_part", at)
        refunded = _paid(50, at)
        refunded.request_refund(
            refund_id="re_all", amount=None, reason="", requested_by=None, now=at
        )
        refunded.complete_refund("re_all", "gw_re_all", at)
        # Cancelled by staff before it shipped: never sold, whatever it was paid.
        cancelled_paid = _paid(9000, at)
        cancelled_paid.cancel_paid("re_cancel", "usr_staff", at)
        awaiting = _placed(8000, at)
        failed = _placed(7000, at)
        failed.fail_payment("card_declined", at)
        abandoned = _placed(6000, at)
        abandoned.cancel("hold_expired", at)
        self._store(
            new_uow,
            paid,
            shipped,
            part_refunded,
            refunded,
            cancelled_paid,
            awaiting,
            failed,
            abandoned,
        )

        sales = self._sales(new_uow, MIDNIGHT, MIDNIGHT + timedelta(days=1))

        # Gross: the captures of the four sold orders, refunds not taken off.
        assert sales == [DailySales(DAY, "USD", 4, 2000 + 300 + 700 + 50)]

    def test_sales_fall_on_the_utc_day_of_their_capture(self, new_uow: NewUow) -> None:
        last_of_the_ninth = _paid(100, MIDNIGHT - timedelta(microseconds=1))
        first_of_the_tenth = _paid(200, MIDNIGHT)
        paris_night = _paid(400, datetime(2026, 3, 11, 1, 59, tzinfo=PARIS))
        first_of_the_eleventh = _paid(800, MIDNIGHT + timedelta(days=1))
        # Placed on the 9th, paid on the 10th: the day of the money, not of the order.
        paid_late = _paid(1600, MIDNIGHT + timedelta(hours=12))
        paid_late.created_at = MIDNIGHT - timedelta(hours=2)
        self._store(
            new_uow, last_of_the_ninth, first_of_the_tenth, paris_night, first_of_the_eleventh,
            paid_late,
        )  # fmt: skip

        sales = self._sales(new_uow, MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=2))

        assert sales == [
            DailySales(DAY - timedelta(days=1), "USD", 1, 100),
            DailySales(DAY, "USD", 3, 200 + 400 + 1600),
            DailySales(DAY + timedelta(days=1), "USD", 1, 800),
        ]

    def test_the_window_includes_its_start_and_excludes_its_end(self, new_uow: NewUow) -> None:
        start = MIDNIGHT + timedelta(hours=6)
        end = MIDNIGHT + timedelta(hours=18)
        self._store(
            new_uow,
            _paid(1, start - timedelta(microseconds=1)),
            _paid(10, start),
            _paid(100, end - timedelta(microseconds=1)),
            _paid(1000, end),
        )

        assert self._sales(new_uow, start, end) == [DailySales(DAY, "USD", 2, 110)]
        assert self._sales(new_uow, end + timedelta(hours=1), end + timedelta(days=3)) == []

    def test_each_currency_is_summed_on_its_own_by_day_then_currency(self, new_uow: NewUow) -> None:
        at = MIDNIGHT + timedelta(hours=10)
        self._store(
            new_uow,
            _paid(1500, at, currency="USD"),
            _paid(2500, at + timedelta(hours=1), currency="USD"),
            _paid(900, at, currency="EUR"),
            _paid(120, at + timedelta(days=1), currency="JPY"),
            _paid(1100, at + timedelta(days=1), currency="EUR"),
        )

        assert self._sales(new_uow, MIDNIGHT, MIDNIGHT + timedelta(days=2)) == [
            DailySales(DAY, "EUR", 1, 900),
            DailySales(DAY, "USD", 2, 4000),
            DailySales(DAY + timedelta(days=1), "EUR", 1, 1100),
            DailySales(DAY + timedelta(days=1), "JPY", 1, 120),
        ]
