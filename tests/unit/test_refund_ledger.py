"""The order's refund ledger: refundable = captured - refunds that have not failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commerce_core import (
    IllegalTransition,
    InvalidInput,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundExceedsCaptured,
    RefundStatus,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=1)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def paid_order(total: int = 10_000) -> Order:
    order = Order.place(
        order_id="ord_1",
        user_id="usr_1",
        lines=[OrderLine("prod_a", "a", "A", usd(total), 1)],
        gateway="fake",
        now=T0,
        hold_expires_at=T0 + timedelta(minutes=15),
    )
    order.settle(usd(total), T0)
    return order


def ask(order: Order, refund_id: str, cents: int | None) -> Refund:
    return order.request_refund(
        refund_id=refund_id,
        amount=None if cents is None else usd(cents),
        reason="",
        requested_by="usr_staff",
        now=LATER,
    )


def test_a_pending_refund_counts_against_what_remains() -> None:
    order = paid_order()
    ask(order, "re_1", 3000)
    assert order.refundable == usd(7000)
    assert order.refunded == usd(0)  # nothing has left the bank yet
    assert order.status is OrderStatus.PAID


def test_a_pending_refund_cannot_be_spent_twice() -> None:
    order = paid_order()
    ask(order, "re_1", 6000)
    with pytest.raises(RefundExceedsCaptured):
        ask(order, "re_2", 6000)
    assert [r.id for r in order.refunds] == ["re_1"]


def test_a_failed_refund_frees_its_amount() -> None:
    order = paid_order()
    ask(order, "re_1", 6000)
    assert order.fail_refund("re_1", LATER, "gw_re_1") is True
    assert order.refundable == usd(10_000)
    assert order.find_refund("re_1").status is RefundStatus.FAILED  # type: ignore[union-attr]
    ask(order, "re_2", 10_000)  # the whole capture is refundable again


def test_refunding_more_than_remains_raises_and_records_nothing() -> None:
    order = paid_order()
    with pytest.raises(RefundExceedsCaptured):
        ask(order, "re_1", 10_001)
    assert order.refunds == []
    assert order.refundable == usd(10_000)


def test_exactly_what_remains_can_be_refunded() -> None:
    order = paid_order()
    ask(order, "re_1", 2500)
    ask(order, "re_2", 7500)
    assert order.refundable == usd(0)


def test_partial_then_rest_moves_through_partially_refunded_to_refunded() -> None:
    order = paid_order()
    ask(order, "re_1", 2500)
    assert order.complete_refund("re_1", "gw_1", LATER) is True
    assert order.status.value == "partially_refunded"
    assert order.refunded == usd(2500)
    rest = ask(order, "re_2", None)
    assert rest.amount == usd(7500)
    order.complete_refund("re_2", "gw_2", LATER)
    assert order.status is OrderStatus.REFUNDED
    assert order.refunded == order.captured
    assert order.refundable == usd(0)
    assert order.status.is_paid  # money was captured, whatever happened since


def test_a_full_refund_goes_straight_to_refunded() -> None:
    order = paid_order()
    refund = ask(order, "re_1", None)
    assert refund.amount == usd(10_000)
    order.complete_refund("re_1", "gw_1", LATER)
    assert order.status is OrderStatus.REFUNDED


def test_nothing_left_to_refund_raises_for_the_default_amount() -> None:
    order = paid_order()
    ask(order, "re_1", None)
    with pytest.raises(RefundExceedsCaptured):
        ask(order, "re_2", None)


@pytest.mark.parametrize("amount", [usd(0), usd(-100), Money(100, "EUR")])
def test_a_refund_is_positive_and_in_the_order_currency(amount: Money) -> None:
    order = paid_order()
    with pytest.raises(InvalidInput):
        order.request_refund(
            refund_id="re_1", amount=amount, reason="", requested_by=None, now=LATER
        )
    assert order.refunds == []


def test_completing_a_refund_is_idempotent() -> None:
    order = paid_order()
    ask(order, "re_1", 1000)
    assert order.complete_refund("re_1", "gw_1", LATER) is True
    assert order.complete_refund("re_1", "gw_1", LATER) is False
    assert order.refunded == usd(1000)


def test_a_failed_refund_cannot_succeed_later() -> None:
    order = paid_order()
    ask(order, "re_1", 1000)
    order.fail_refund("re_1", LATER)
    with pytest.raises(IllegalTransition):
        order.complete_refund("re_1", "gw_1", LATER)
    assert order.refunded == usd(0)


def test_a_succeeded_refund_is_not_failed_by_a_stale_event() -> None:
    order = paid_order()
    ask(order, "re_1", 1000)
    order.complete_refund("re_1", "gw_1", LATER)
    assert order.fail_refund("re_1", LATER) is False
    assert order.refunded == usd(1000)


def test_an_unknown_refund_cannot_be_completed() -> None:
    with pytest.raises(IllegalTransition):
        paid_order().complete_refund("re_nope", "gw_1", LATER)


def test_refunds_are_found_by_our_id_and_by_the_gateway_id() -> None:
    order = paid_order()
    refund = ask(order, "re_1", 1000)
    order.complete_refund("re_1", "gw_1", LATER)
    assert order.find_refund("re_1") is refund
    assert order.find_refund_by_gateway_id("gw_1") is refund
    assert order.find_refund_by_gateway_id("gw_2") is None
