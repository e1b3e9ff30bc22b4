"""release_expired_holds: unpaid orders past their hold give their stock back, unless paid meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core import (
    DEFAULT_HOLD,
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    EventOutcome,
    IntentStatus,
    Order,
    OrderNotPayable,
    OrderStatus,
    ReleaseReport,
    StockState,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
    release_expired_holds,
)
from commerce_core.testing import InMemoryShop

ALICE = "usr_alice"
BOB = "usr_bob"
PAST_HOLD = DEFAULT_HOLD + timedelta(seconds=1)


def start_checkout(shop: InMemoryShop, quantity: int = 2, user: str = ALICE) -> dict[str, str]:
    return create_checkout_intent(
        CreateCheckoutIntent(user, (CartItem(shop.product_id, quantity),)), **shop.ports
    ).body


def release(shop: InMemoryShop) -> ReleaseReport:
    return release_expired_holds(**shop.ports)


def order_of(shop: InMemoryShop, order_id: str) -> Order:
    with shop.uow as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def stock(shop: InMemoryShop) -> int:
    return shop.product(shop.product_id).stock


def test_an_expired_unpaid_order_is_cancelled_and_its_stock_comes_back(
    shop: InMemoryShop,
) -> None:
    intent = start_checkout(shop)
    shop.clock.advance(PAST_HOLD)
    assert release(shop) == ReleaseReport(released=1)
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.CANCELLED
    assert order.failure_code == "hold_expired"
    assert order.stock_state is StockState.RELEASED
    assert stock(shop) == 5
    # Cancelled at the gateway too, so the shopper cannot pay for stock we gave back.
    assert shop.gateway.intents[intent["intent_id"]].status is IntentStatus.CANCELED
    assert shop.events.of("holds.released") == [{"released": 1, "settled": 0, "failed": 0}]


def test_a_hold_that_has_not_expired_is_left_alone(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    shop.clock.advance(DEFAULT_HOLD)  # exactly at the deadline: not yet expired
    assert release(shop) == ReleaseReport()
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    assert stock(shop) == 3
    assert shop.gateway.calls.count("cancel_intent") == 0


def test_only_the_expired_ones_of_many_are_released(shop: InMemoryShop) -> None:
    old = start_checkout(shop, 1)
    shop.clock.advance(timedelta(minutes=10))
    young = start_checkout(shop, 1, user=BOB)
    shop.clock.advance(timedelta(minutes=6))
    assert release(shop).released == 1
    assert order_of(shop, old["order_id"]).status is OrderStatus.CANCELLED
    assert order_of(shop, young["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    assert stock(shop) == 4


def test_an_intent_that_succeeded_meanwhile_is_settled_instead(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    # The shopper paid in the browser just in time; the webhook has not arrived yet.
    shop.gateway.confirm_intent(
        intent["intent_id"], payment_method="pm_card_visa", idempotency_key="browser"
    )
    shop.clock.advance(PAST_HOLD)
    assert release(shop) == ReleaseReport(settled=1)
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAID
    assert order.stock_state is StockState.TAKEN
    assert stock(shop) == 3
    # ... and the late webhook is a no-op.
    outcomes = [handle_gateway_event(e, **shop.ports) for e in shop.gateway.take_events()]
    assert EventOutcome.PROCESSED not in outcomes
    assert stock(shop) == 3


def test_paid_and_failed_orders_are_not_touched(shop: InMemoryShop) -> None:
    paid = start_checkout(shop, 1)
    confirm_order(ConfirmOrder(ALICE, paid["intent_id"], "pm_card_visa", "k1"), **shop.ports)
    failed = start_checkout(shop, 1)
    confirm_order(
        ConfirmOrder(ALICE, failed["intent_id"], "pm_card_chargeDeclined", "k2"), **shop.ports
    )
    shop.clock.advance(PAST_HOLD)
    calls_before = len(shop.gateway.calls)
    assert release(shop) == ReleaseReport()
    assert order_of(shop, paid["order_id"]).status is OrderStatus.PAID
    assert order_of(shop, failed["order_id"]).status is OrderStatus.PAYMENT_FAILED
    assert stock(shop) == 4
    assert len(shop.gateway.calls) == calls_before


def test_a_gateway_outage_keeps_the_hold_for_the_next_run(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    shop.clock.advance(PAST_HOLD)
    shop.gateway.fail_next()
    assert release(shop) == ReleaseReport(failed=1)
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    assert stock(shop) == 3
    assert shop.events.of("holds.cancel_failed")

    assert release(shop) == ReleaseReport(released=1)
    assert stock(shop) == 5


def test_an_expired_order_can_no_longer_be_confirmed(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    shop.clock.advance(PAST_HOLD)
    release(shop)
    with pytest.raises(OrderNotPayable):
        confirm_order(
            ConfirmOrder(ALICE, intent["intent_id"], "pm_card_visa", "late"), **shop.ports
        )
    assert stock(shop) == 5


def test_the_gateways_cancel_event_after_release_is_ignored(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    shop.clock.advance(PAST_HOLD)
    release(shop)
    outcomes = [handle_gateway_event(e, **shop.ports) for e in shop.gateway.take_events()]
    assert outcomes == [EventOutcome.IGNORED]
    assert order_of(shop, intent["order_id"]).failure_code == "hold_expired"
    assert stock(shop) == 5


def test_running_twice_releases_once(shop: InMemoryShop) -> None:
    start_checkout(shop)
    shop.clock.advance(PAST_HOLD)
    assert release(shop).released == 1
    assert release(shop) == ReleaseReport()
    assert stock(shop) == 5


def test_batches_are_limited(shop: InMemoryShop) -> None:
    for _ in range(3):
        start_checkout(shop, 1)
    shop.clock.advance(PAST_HOLD)
    assert release_expired_holds(**shop.ports, batch_size=2).released == 2
    assert release(shop).released == 1
    assert stock(shop) == 5
