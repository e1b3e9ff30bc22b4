"""The order aggregate's payment status machine and its stock hold, on the domain object alone.

awaiting_payment -> paid -> partially_refunded -> refunded
paid | partially_refunded -> fulfilled (shipped) -> partially_refunded | refunded (returns)
paid | partially_refunded -> needs_refund (staff cancel before shipping, stock returned)
awaiting_payment -> payment_failed | cancelled  (-> paid only as a late capture, stock re-held)
payment_failed | cancelled -> needs_refund (captured, stock gone) -> cancelled (refunded in full)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from commerce_core import (
    IllegalTransition,
    InvalidInput,
    Money,
    Order,
    OrderLine,
    OrderNotPayable,
    OrderNotRefundable,
    OrderStatus,
    RefundExceedsCaptured,
    StockState,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
MUCH_LATER = T0 + timedelta(hours=1)


def line(
    price: int = 1000, quantity: int = 2, currency: str = "USD", pid: str = "prod_a"
) -> OrderLine:
    return OrderLine(pid, pid.replace("_", "-"), "A thing", Money(price, currency), quantity)


def new_order(*lines: OrderLine) -> Order:
    return Order.place(
        order_id="ord_1",
        user_id="usr_1",
        lines=lines or (line(),),
        gateway="fake",
        now=T0,
        hold_expires_at=T0 + timedelta(minutes=15),
    )


TOTAL = Money(2000, "USD")


def paid_order() -> Order:
    order = new_order()
    order.settle(TOTAL, LATER)
    return order


def failed_order() -> Order:
    order = new_order()
    order.fail_payment("card_declined", LATER)
    order.release_stock(LATER)
    return order


def cancelled_order() -> Order:
    order = new_order()
    order.cancel("hold_expired", LATER)
    order.release_stock(LATER)
    return order


def partially_refunded_order() -> Order:
    order = paid_order()
    order.request_refund(
        refund_id="re_1", amount=Money(500, "USD"), reason="", requested_by=None, now=LATER
    )
    order.complete_refund("re_1", "gw_re_1", LATER)
    return order


def refunded_order() -> Order:
    order = paid_order()
    order.request_refund(refund_id="re_1", amount=None, reason="", requested_by=None, now=LATER)
    order.complete_refund("re_1", "gw_re_1", LATER)
    return order


def fulfilled_order() -> Order:
    order = paid_order()
    order.fulfil("UPS", "1Z999", LATER)
    return order


def needs_refund_order() -> Order:
    order = failed_order()
    order.capture_without_stock(TOTAL, "re_owed", MUCH_LATER)
    return order


STATES: dict[OrderStatus, Callable[[], Order]] = {
    OrderStatus.AWAITING_PAYMENT: new_order,
    OrderStatus.PAID: paid_order,
    OrderStatus.PARTIALLY_REFUNDED: partially_refunded_order,
    OrderStatus.REFUNDED: refunded_order,
    OrderStatus.PAYMENT_FAILED: failed_order,
    OrderStatus.CANCELLED: cancelled_order,
    OrderStatus.NEEDS_REFUND: needs_refund_order,
    OrderStatus.FULFILLED: fulfilled_order,
}


def test_every_status_is_reachable_by_the_builders() -> None:
    assert {build().status for build in STATES.values()} == set(OrderStatus)


# -- placing -------------------------------------------------------------------------------


def test_a_new_order_awaits_payment_with_its_stock_held() -> None:
    order = new_order(line(1000, 2), line(250, 1, pid="prod_b"))
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.stock_state is StockState.HELD
    assert order.total == Money(2250, "USD")
    assert order.captured is None
    assert order.refundable == Money.zero("USD")
    assert order.is_payable


def test_an_order_needs_at_least_one_line() -> None:
    with pytest.raises(InvalidInput):
        Order.place(order_id="o", user_id="u", lines=[], gateway="fake", now=T0, hold_expires_at=T0)


def test_an_order_cannot_mix_currencies() -> None:
    with pytest.raises(InvalidInput):
        new_order(line(currency="USD"), line(currency="EUR", pid="prod_b"))


# -- the table: which action is allowed from which status ----------------------------------

# settle: True = becomes paid, False = ignored (already captured), raises = illegal.
SETTLE: dict[OrderStatus, bool | type[Exception]] = {
    OrderStatus.AWAITING_PAYMENT: True,
    OrderStatus.PAID: False,
    OrderStatus.PARTIALLY_REFUNDED: False,
    OrderStatus.REFUNDED: False,
    OrderStatus.PAYMENT_FAILED: IllegalTransition,  # stock released; needs rehold_stock first
    OrderStatus.CANCELLED: IllegalTransition,
    OrderStatus.NEEDS_REFUND: False,  # its capture is recorded (and owed back)
    OrderStatus.FULFILLED: False,
}


@pytest.mark.parametrize(("status", "expected"), SETTLE.items())
def test_settle_from_each_status(status: OrderStatus, expected: bool | type[Exception]) -> None:
    order = STATES[status]()
    if isinstance(expected, bool):
        stock_before = order.stock_state
        assert order.settle(TOTAL, MUCH_LATER) is expected
        assert order.status is (OrderStatus.PAID if expected else status)
        assert order.stock_state is (StockState.TAKEN if expected else stock_before)
    else:
        with pytest.raises(expected):
            order.settle(TOTAL, MUCH_LATER)
        assert order.status is status


@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("end", ["fail_payment", "cancel"])
def test_only_an_order_awaiting_payment_can_fail_or_be_cancelled(
    status: OrderStatus, end: str
) -> None:
    order = STATES[status]()
    stock_before = order.stock_state
    changed = getattr(order, end)("some_code", MUCH_LATER)
    if status is OrderStatus.AWAITING_PAYMENT:
        assert changed is True
        assert order.status is (
            OrderStatus.PAYMENT_FAILED if end == "fail_payment" else OrderStatus.CANCELLED
        )
        assert order.failure_code == "some_code"
    else:
        # Only forward transitions: a stale event changes nothing, it is not an error either.
        assert changed is False
        assert order.status is status
    assert order.stock_state is stock_before  # ending never moves stock by itself


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_captured_orders_can_be_refunded(status: OrderStatus) -> None:
    order = STATES[status]()
    if status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.FULFILLED):
        refund = order.request_refund(
            refund_id="re_x", amount=Money(1, "USD"), reason="", requested_by=None, now=MUCH_LATER
        )
        assert refund in order.refunds
    elif status in (OrderStatus.REFUNDED, OrderStatus.NEEDS_REFUND):
        # Refunded in full; or owing all of its capture back already (the pending refund).
        with pytest.raises(RefundExceedsCaptured):
            order.request_refund(
                refund_id="re_x",
                amount=Money(1, "USD"),
                reason="",
                requested_by=None,
                now=MUCH_LATER,
            )
    else:
        with pytest.raises(OrderNotRefundable):
            order.request_refund(
                refund_id="re_x",
                amount=Money(1, "USD"),
                reason="",
                requested_by=None,
                now=MUCH_LATER,
            )


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_an_order_awaiting_payment_is_payable(status: OrderStatus) -> None:
    order = STATES[status]()
    if status is OrderStatus.AWAITING_PAYMENT:
        order.ensure_payable()
    else:
        with pytest.raises(OrderNotPayable):
            order.ensure_payable()


# -- settle --------------------------------------------------------------------------------


def test_settle_marks_paid_takes_the_stock_and_records_the_capture() -> None:
    order = new_order()
    assert order.settle(TOTAL, LATER) is True
    assert order.status is OrderStatus.PAID
    assert order.stock_state is StockState.TAKEN
    assert order.captured == TOTAL
    assert order.paid_at == LATER
    assert order.refundable == TOTAL


def test_settle_is_idempotent() -> None:
    order = paid_order()
    paid_at = order.paid_at
    for _ in range(3):
        assert order.settle(TOTAL, MUCH_LATER) is False
    assert order.status is OrderStatus.PAID
    assert order.paid_at == paid_at
    assert order.captured == TOTAL


@pytest.mark.parametrize("amount", [Money(1999, "USD"), Money(2001, "USD"), Money(2000, "EUR")])
def test_settle_refuses_a_capture_that_does_not_match_the_total(amount: Money) -> None:
    order = new_order()
    with pytest.raises(IllegalTransition):
        order.settle(amount, LATER)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.stock_state is StockState.HELD
    assert order.captured is None


def test_a_stale_failure_after_payment_is_ignored() -> None:
    order = paid_order()
    assert order.fail_payment("card_declined", MUCH_LATER) is False
    assert order.cancel("hold_expired", MUCH_LATER) is False
    assert order.status is OrderStatus.PAID
    assert order.failure_code is None
    assert order.stock_state is StockState.TAKEN


def test_failing_twice_changes_nothing_the_second_time() -> None:
    order = new_order()
    assert order.fail_payment("card_declined", LATER) is True
    assert order.fail_payment("expired_card", MUCH_LATER) is False
    assert order.failure_code == "card_declined"


# -- stock hold ----------------------------------------------------------------------------


def test_stock_is_released_only_after_the_order_ended() -> None:
    order = new_order()
    with pytest.raises(IllegalTransition):
        order.release_stock(LATER)
    order.fail_payment("card_declined", LATER)
    assert order.release_stock(LATER) == order.lines
    assert order.stock_state is StockState.RELEASED
    assert order.release_stock(MUCH_LATER) == ()  # nothing left to give back


def test_a_paid_order_never_gives_its_stock_back() -> None:
    order = paid_order()
    assert order.release_stock(MUCH_LATER) == ()
    assert order.stock_state is StockState.TAKEN


@pytest.mark.parametrize("builder", [failed_order, cancelled_order])
def test_late_capture_rehold_then_settle(builder: Callable[[], Order]) -> None:
    order = builder()
    assert order.rehold_stock(MUCH_LATER) == order.lines
    assert order.stock_state.value == "held"
    assert order.settle(TOTAL, MUCH_LATER) is True
    assert order.status is OrderStatus.PAID
    assert order.stock_state is StockState.TAKEN
    assert order.failure_code is None


@pytest.mark.parametrize("builder", [new_order, paid_order])
def test_only_released_stock_can_be_held_again(builder: Callable[[], Order]) -> None:
    with pytest.raises(IllegalTransition):
        builder().rehold_stock(MUCH_LATER)


# -- a capture the shop owes back ----------------------------------------------------------


@pytest.mark.parametrize("builder", [failed_order, cancelled_order])
def test_a_capture_without_stock_is_owed_back_in_full(builder: Callable[[], Order]) -> None:
    order = builder()
    refund = order.capture_without_stock(TOTAL, "re_owed", MUCH_LATER)
    assert order.status is OrderStatus.NEEDS_REFUND
    assert order.stock_state is StockState.RELEASED  # never sold
    assert order.captured == TOTAL
    assert refund.amount == TOTAL
    assert refund.requested_by is None  # the shop's own
    assert order.refundable == Money.zero("USD")  # all of it reserved by the pending refund
    assert order.owes_gateway_work
    order.complete_refund("re_owed", "gw_re_9", MUCH_LATER)
    assert order.status is OrderStatus.CANCELLED
    assert order.refunded == TOTAL
    assert not order.owes_gateway_work


def test_an_owed_refund_the_gateway_refused_can_be_asked_again() -> None:
    order = needs_refund_order()
    order.fail_refund("re_owed", MUCH_LATER)
    assert order.status is OrderStatus.NEEDS_REFUND
    assert order.refundable == TOTAL
    again = order.request_refund(
        refund_id="re_2", amount=None, reason="retry", requested_by="usr_staff", now=MUCH_LATER
    )
    order.complete_refund(again.id, "gw_re_2", MUCH_LATER)
    assert order.status is OrderStatus.CANCELLED


@pytest.mark.parametrize("builder", [new_order, paid_order, needs_refund_order, refunded_order])
def test_only_an_ended_unpaid_order_without_stock_owes_a_capture_back(
    builder: Callable[[], Order],
) -> None:
    order = builder()
    with pytest.raises(IllegalTransition):
        order.capture_without_stock(TOTAL, "re_x", MUCH_LATER)


def test_an_order_ended_while_its_intent_may_still_be_paid_owes_a_cancel() -> None:
    order = new_order()
    order.attach_intent("pi_1", LATER)
    order.fail_payment("card_declined", LATER, cancel_intent=True)
    assert order.intent_to_cancel
    assert order.owes_gateway_work
    assert order.intent_closed(MUCH_LATER) is True
    assert order.intent_closed(MUCH_LATER) is False
    assert not order.owes_gateway_work


def test_an_order_without_an_intent_has_nothing_to_cancel() -> None:
    order = new_order()
    order.cancel("gateway_error", LATER, cancel_intent=True)
    assert not order.intent_to_cancel


# -- the payment intent --------------------------------------------------------------------


def test_one_order_has_one_payment_intent() -> None:
    order = new_order()
    order.attach_intent("pi_1", LATER)
    order.attach_intent("pi_1", LATER)  # the same one again is fine
    with pytest.raises(IllegalTransition):
        order.attach_intent("pi_2", LATER)
    assert order.intent_id == "pi_1"


# -- fulfilment and cancelling a paid order ------------------------------------------------


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_a_paid_order_not_yet_shipped_can_be_fulfilled(status: OrderStatus) -> None:
    order = STATES[status]()
    if status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        assert order.fulfil("DHL", "JD0001", MUCH_LATER) is True
        assert order.status is OrderStatus.FULFILLED
        assert order.fulfilment is not None
        assert order.fulfilment.tracking_number == "JD0001"
    elif status is OrderStatus.FULFILLED:
        assert order.fulfil("UPS", "1Z999", MUCH_LATER) is False  # the same parcel again
        with pytest.raises(IllegalTransition):
            order.fulfil("DHL", "JD0001", MUCH_LATER)
    else:
        with pytest.raises(IllegalTransition):
            order.fulfil("DHL", "JD0001", MUCH_LATER)
        assert order.status is status


def test_a_fulfilled_order_is_refunded_on_return_and_keeps_its_tracking() -> None:
    order = fulfilled_order()
    order.request_refund(
        refund_id="re_ret",
        amount=Money(500, "USD"),
        reason="return",
        requested_by=None,
        now=MUCH_LATER,
    )
    order.complete_refund("re_ret", "gw_ret", MUCH_LATER)
    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    assert order.fulfilment is not None
    order.request_refund(
        refund_id="re_rest", amount=None, reason="return", requested_by=None, now=MUCH_LATER
    )
    order.complete_refund("re_rest", "gw_rest", MUCH_LATER)
    assert order.status is OrderStatus.REFUNDED
    assert order.stock_state is StockState.TAKEN  # returned goods are restocked by hand


@pytest.mark.parametrize("builder", [paid_order, partially_refunded_order])
def test_cancelling_a_paid_order_refunds_what_remains_and_returns_its_stock(
    builder: Callable[[], Order],
) -> None:
    order = builder()
    remaining = order.refundable
    refund, returned = order.cancel_paid("re_cancel", "usr_staff", MUCH_LATER)
    assert refund is not None
    assert refund.amount == remaining
    assert returned == order.lines
    assert order.status is OrderStatus.NEEDS_REFUND
    assert order.stock_state is StockState.RELEASED
    assert order.refundable == Money.zero("USD")
    assert order.owes_gateway_work
    order.complete_refund("re_cancel", "gw_cancel", MUCH_LATER)
    assert order.status is OrderStatus.CANCELLED
    assert order.refunded == TOTAL


@pytest.mark.parametrize(
    "builder", [new_order, fulfilled_order, refunded_order, failed_order, needs_refund_order]
)
def test_only_a_paid_unshipped_order_can_be_cancelled_with_a_refund(
    builder: Callable[[], Order],
) -> None:
    order = builder()
    status = order.status
    with pytest.raises(IllegalTransition):
        order.cancel_paid("re_x", None, MUCH_LATER)
    assert order.status is status
