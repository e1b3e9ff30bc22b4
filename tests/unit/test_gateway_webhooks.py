"""Gateway events (webhooks): duplicated, late, out of order or contradicting the order."""

from __future__ import annotations

import random
from datetime import timedelta

import attrs
import pytest

from commerce_core import (
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    EventKind,
    EventOutcome,
    GatewayError,
    GatewayEvent,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayUnavailable,
    IntentStatus,
    InvalidWebhook,
    Money,
    Order,
    OrderStatus,
    RefundOrder,
    RefundStatus,
    RetryLater,
    StockState,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
    reconcile_payments,
    refund_order,
)
from commerce_core.testing import InMemoryShop
from tests.unit.hooked_gateway import HookedGateway

ALICE = "usr_alice"
BOB = "usr_bob"
STAFF = "usr_staff"


def start_checkout(shop: InMemoryShop, quantity: int = 2, user: str = ALICE) -> dict[str, str]:
    return create_checkout_intent(
        CreateCheckoutIntent(user, (CartItem(shop.product_id, quantity),)), **shop.ports
    ).body


def pay(shop: InMemoryShop) -> dict[str, str]:
    intent = start_checkout(shop)
    confirm_order(ConfirmOrder(ALICE, intent["intent_id"], "pm_card_visa", "k1"), **shop.ports)
    return intent


def browser_confirms(shop: InMemoryShop, intent_id: str, method: str = "pm_card_visa") -> None:
    """The shopper's browser confirms directly with the gateway (Stripe.js); we hear by webhook."""
    shop.gateway.confirm_intent(
        intent_id, payment_method=method, idempotency_key=f"browser-{method}"
    )


def deliver(shop: InMemoryShop, event: GatewayEvent) -> EventOutcome:
    return handle_gateway_event(event, **shop.ports)


def deliver_all(shop: InMemoryShop) -> list[EventOutcome]:
    return [deliver(shop, e) for e in shop.gateway.take_events()]


def order_of(shop: InMemoryShop, order_id: str) -> Order:
    with shop.uow as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def event_of(shop: InMemoryShop, kind: EventKind) -> GatewayEvent:
    [event] = [e for e in shop.gateway.take_events() if e.kind is kind]
    return event


def test_a_duplicate_delivery_is_recognised_by_event_id(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"])
    succeeded = event_of(shop, EventKind.PAYMENT_SUCCEEDED)
    assert deliver(shop, succeeded) is EventOutcome.PROCESSED
    assert deliver(shop, succeeded) is EventOutcome.DUPLICATE
    assert deliver(shop, succeeded) is EventOutcome.DUPLICATE
    assert order_of(shop, intent["order_id"]).status is OrderStatus.PAID
    assert len(shop.events.of("order.paid")) == 1
    assert shop.product(shop.product_id).stock == 3


def test_succeeded_after_confirm_does_not_take_the_stock_twice(shop: InMemoryShop) -> None:
    intent = pay(shop)
    assert shop.product(shop.product_id).stock == 3
    assert deliver_all(shop) == [EventOutcome.IGNORED]
    assert shop.product(shop.product_id).stock == 3
    assert order_of(shop, intent["order_id"]).status is OrderStatus.PAID
    assert len(shop.events.of("order.paid")) == 1


def test_the_same_payment_reported_under_two_event_ids_is_applied_once(
    shop: InMemoryShop,
) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"])
    succeeded = event_of(shop, EventKind.PAYMENT_SUCCEEDED)
    resent = attrs.evolve(succeeded, id=succeeded.id + "_resent")
    assert deliver(shop, succeeded) is EventOutcome.PROCESSED
    assert deliver(shop, resent) is EventOutcome.IGNORED
    assert shop.product(shop.product_id).stock == 3


def test_a_failure_after_payment_is_ignored(shop: InMemoryShop) -> None:
    intent = pay(shop)
    stale = GatewayEvent(
        id="evt_stale_fail",
        kind=EventKind.PAYMENT_FAILED,
        gateway="fake",
        intent_id=intent["intent_id"],
        created_at=shop.clock.now() - timedelta(minutes=1),
        amount=Money(3998, "USD"),
        decline_code="card_declined",
    )
    assert deliver(shop, stale) is EventOutcome.IGNORED
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAID
    assert order.stock_state is StockState.TAKEN
    assert shop.product(shop.product_id).stock == 3


@pytest.mark.parametrize(
    ("method", "status", "code"),
    [
        ("pm_card_chargeDeclined", OrderStatus.PAYMENT_FAILED, "card_declined"),
        (None, OrderStatus.CANCELLED, "payment_canceled"),
    ],
)
def test_a_failure_or_cancel_event_ends_an_unpaid_order_and_gives_stock_back(
    shop: InMemoryShop, method: str | None, status: OrderStatus, code: str
) -> None:
    intent = start_checkout(shop)
    if method is None:
        shop.gateway.cancel_intent(intent["intent_id"], idempotency_key="dashboard")
    else:
        browser_confirms(shop, intent["intent_id"], method)
    assert deliver_all(shop) == [EventOutcome.PROCESSED]
    order = order_of(shop, intent["order_id"])
    assert order.status is status
    assert order.failure_code == code
    assert shop.product(shop.product_id).stock == 5


@pytest.mark.parametrize(
    "amount", [Money(3997, "USD"), Money(3998, "EUR"), Money(399_800, "JPY"), None]
)
def test_a_success_for_the_wrong_amount_is_rejected_and_alerted(
    shop: InMemoryShop, amount: Money | None
) -> None:
    intent = start_checkout(shop)
    forged = GatewayEvent(
        id="evt_forged",
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway="fake",
        intent_id=intent["intent_id"],
        created_at=shop.clock.now(),
        amount=amount,
    )
    assert deliver(shop, forged) is EventOutcome.REJECTED
    [alert] = shop.events.of("alert.webhook_amount_mismatch")
    assert alert["order_id"] == intent["order_id"]
    assert alert["expected"] == 3998
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.captured is None
    assert order.stock_state is StockState.HELD
    assert deliver(shop, forged) is EventOutcome.DUPLICATE  # recorded: not retried forever


def test_an_event_for_an_unknown_intent_is_ignored_and_logged(shop: InMemoryShop) -> None:
    event = GatewayEvent(
        id="evt_1",
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway="fake",
        intent_id="pi_not_ours",
        created_at=shop.clock.now(),
        amount=Money(100, "USD"),
    )
    assert deliver(shop, event) is EventOutcome.IGNORED
    assert shop.events.of("webhook.unknown_intent")[0]["intent_id"] == "pi_not_ours"


def test_an_event_kind_the_shop_does_not_act_on_is_ignored_quietly(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    event = GatewayEvent(
        id="evt_1",
        kind=EventKind.IGNORED,
        gateway="fake",
        intent_id=intent["intent_id"],
        created_at=shop.clock.now(),
        raw_type="charge.dispute.funds_withdrawn",
    )
    assert deliver(shop, event) is EventOutcome.IGNORED
    assert shop.events.of("webhook.unknown_intent") == []
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT


def test_requires_action_event_changes_nothing(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    assert deliver_all(shop) == [EventOutcome.IGNORED]
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT


def test_events_in_any_order_leave_one_paid_order(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    shop.gateway.authenticate(intent["intent_id"])
    events = shop.gateway.take_events()
    deliveries = events * 3
    random.Random(7).shuffle(deliveries)
    outcomes = [deliver(shop, e) for e in deliveries]
    assert outcomes.count(EventOutcome.PROCESSED) == 1
    assert outcomes.count(EventOutcome.DUPLICATE) == 2 * len(events)
    assert order_of(shop, intent["order_id"]).status is OrderStatus.PAID
    assert shop.product(shop.product_id).stock == 3


def test_a_failure_reported_by_webhook_cancels_the_intent_so_no_retry_can_capture(
    shop: InMemoryShop,
) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"], "pm_card_chargeDeclined")
    assert deliver_all(shop) == [EventOutcome.PROCESSED]
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAYMENT_FAILED
    assert shop.product(shop.product_id).stock == 5
    assert shop.gateway.intents[intent["intent_id"]].status is IntentStatus.CANCELED
    assert not order.intent_to_cancel
    # The shopper's tab still holds the client secret and tries another card: refused.
    with pytest.raises(GatewayError):
        browser_confirms(shop, intent["intent_id"], "pm_card_visa")
    assert shop.gateway.intents[intent["intent_id"]].amount_refunded == 0
    assert not any(e.kind is EventKind.PAYMENT_SUCCEEDED for e in shop.gateway.take_events())


def _fail_with_the_cancel_out_of_reach(shop: InMemoryShop, quantity: int = 2) -> dict[str, str]:
    """A failure webhook whose cancel call meets a gateway outage: the intent stays payable."""
    intent = start_checkout(shop, quantity=quantity)
    browser_confirms(shop, intent["intent_id"], "pm_card_chargeDeclined")
    shop.gateway.fail_next()  # the cancel that follows the failure cannot get through
    assert deliver_all(shop) == [EventOutcome.PROCESSED]
    assert order_of(shop, intent["order_id"]).intent_to_cancel
    return intent


def test_success_after_failure_is_a_late_capture_that_holds_the_stock_again(
    shop: InMemoryShop,
) -> None:
    intent = _fail_with_the_cancel_out_of_reach(shop)
    assert shop.product(shop.product_id).stock == 5
    browser_confirms(shop, intent["intent_id"], "pm_card_visa")  # second card, same intent
    assert deliver_all(shop) == [EventOutcome.PROCESSED]
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAID
    assert order.stock_state is StockState.TAKEN
    assert shop.product(shop.product_id).stock == 3
    assert shop.events.of("payment.late_capture")[0]["order_id"] == order.id
    # The job finds the intent captured, not cancellable, and settles nothing twice.
    reconcile_payments(**shop.ports)
    again = order_of(shop, intent["order_id"])
    assert (again.status, again.intent_to_cancel) == (OrderStatus.PAID, False)
    assert shop.product(shop.product_id).stock == 3


def test_a_late_capture_without_stock_left_is_refunded_through_the_gateway(
    shop: InMemoryShop,
) -> None:
    # Before: the order stayed payment_failed, the shopper's money stayed captured, and only a
    # log line said so. Now the capture is owed back and refunded at once.
    intent = _fail_with_the_cancel_out_of_reach(shop, quantity=2)
    start_checkout(shop, quantity=4, user=BOB)  # the released units sold meanwhile
    browser_confirms(shop, intent["intent_id"], "pm_card_visa")
    assert deliver_all(shop)[0] is EventOutcome.PROCESSED
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.CANCELLED
    assert order.stock_state is StockState.RELEASED
    assert order.captured == Money(3998, "USD")
    assert order.refunded == Money(3998, "USD")
    assert not order.owes_gateway_work
    at_gateway = shop.gateway.intents[intent["intent_id"]]
    assert at_gateway.amount_refunded == at_gateway.amount.amount == 3998
    assert shop.product(shop.product_id).stock == 1  # Bob's hold untouched
    [alert] = shop.events.of("alert.captured_payment_needs_refund")
    assert alert["order_id"] == order.id
    with shop.uow as uow:
        actions = [(e.actor, e.action) for e in uow.audit.all()]
        (stored_alert,), _ = uow.outbox.alerts(0, 10)
    assert actions == [("system", "refund.requested"), ("system", "refund.succeeded")]
    assert stored_alert.name == "alert.captured_payment_needs_refund"
    # The gateway's own refund event arrives afterwards and changes nothing.
    assert deliver_all(shop) == [EventOutcome.IGNORED]
    assert order_of(shop, intent["order_id"]).status is OrderStatus.CANCELLED


def test_a_refund_owed_while_the_gateway_is_down_waits_visibly_for_the_job(
    shop: InMemoryShop,
) -> None:
    intent = _fail_with_the_cancel_out_of_reach(shop, quantity=2)
    start_checkout(shop, quantity=4, user=BOB)
    browser_confirms(shop, intent["intent_id"], "pm_card_visa")
    shop.gateway.fail_next(1)  # the refund the capture now owes does not get through
    calls_before = list(shop.gateway.calls)
    assert deliver_all(shop)[0] is EventOutcome.PROCESSED
    # The capture closed the intent: nothing is left to cancel, only the refund to ask for.
    assert shop.gateway.calls[len(calls_before) :] == ["refund"]
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.NEEDS_REFUND  # what staff and the job see
    assert order.owes_gateway_work
    assert shop.gateway.intents[intent["intent_id"]].amount_refunded == 0

    report = reconcile_payments(**shop.ports)
    assert (report.orders_followed_up, report.still_owing) == (1, 0)
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.CANCELLED
    assert order.refunded == order.captured
    assert shop.gateway.intents[intent["intent_id"]].amount_refunded == 3998
    # Run again: nothing left, nothing refunded twice.
    assert reconcile_payments(**shop.ports).orders_followed_up == 0
    assert len(shop.gateway.refunds) == 1


def test_a_success_reported_twice_for_a_capture_owed_back_is_refunded_once(
    shop: InMemoryShop,
) -> None:
    intent = _fail_with_the_cancel_out_of_reach(shop, quantity=2)
    start_checkout(shop, quantity=4, user=BOB)
    browser_confirms(shop, intent["intent_id"], "pm_card_visa")
    [succeeded] = [e for e in shop.gateway.take_events() if e.kind is EventKind.PAYMENT_SUCCEEDED]
    assert deliver(shop, succeeded) is EventOutcome.PROCESSED
    assert deliver(shop, attrs.evolve(succeeded, id="evt_same_payment_again")) is (
        EventOutcome.IGNORED
    )
    assert len(shop.gateway.refunds) == 1
    assert order_of(shop, intent["order_id"]).status is OrderStatus.CANCELLED


def test_an_event_signed_by_another_gateway_is_rejected_and_alerted(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"])
    [succeeded] = [e for e in shop.gateway.take_events() if e.kind is EventKind.PAYMENT_SUCCEEDED]
    assert deliver(shop, attrs.evolve(succeeded, gateway="paypal")) is EventOutcome.REJECTED
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    [alert] = shop.events.of("alert.webhook_from_another_gateway")
    assert (alert["order_gateway"], alert["event_gateway"]) == ("fake", "paypal")


# -- refund events -------------------------------------------------------------------------


def refund(shop: InMemoryShop, order_id: str, cents: int | None, key: str = "r1") -> None:
    refund_order(
        RefundOrder(STAFF, order_id, None if cents is None else Money(cents, "USD"), key),
        **shop.ports,
    )


def test_a_refund_event_before_our_own_step_3_is_matched_by_refund_key(
    hooked_shop: InMemoryShop,
) -> None:
    shop = hooked_shop
    gateway = shop.gateway
    assert isinstance(gateway, HookedGateway)
    intent = pay(shop)
    shop.gateway.take_events()
    outcomes: list[EventOutcome] = []
    gateway.after_refund = lambda: outcomes.extend(deliver_all(shop))

    refund(shop, intent["order_id"], 1000)

    assert outcomes == [EventOutcome.PROCESSED]  # matched although no gateway id was stored yet
    order = order_of(shop, intent["order_id"])
    [only] = order.refunds
    assert only.status is RefundStatus.SUCCEEDED
    assert only.gateway_refund_id is not None
    assert only.gateway_refund_id in gateway.refunds
    assert order.refunded == Money(1000, "USD")
    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    assert len(gateway.refunds) == 1


def test_a_refund_event_after_our_own_record_is_ignored(shop: InMemoryShop) -> None:
    intent = pay(shop)
    shop.gateway.take_events()
    refund(shop, intent["order_id"], None)
    assert deliver_all(shop) == [EventOutcome.IGNORED]
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.REFUNDED
    assert order.refunded == Money(3998, "USD")


def test_a_refund_made_in_the_gateways_dashboard_is_recorded_audited_and_alerted(
    shop: InMemoryShop,
) -> None:
    intent = pay(shop)
    shop.gateway.take_events()
    shop.gateway.refund(
        intent["intent_id"], amount=Money(500, "USD"), idempotency_key="dashboard-refund"
    )
    [refunded] = shop.gateway.take_events()
    assert deliver(shop, refunded) is EventOutcome.PROCESSED
    order = order_of(shop, intent["order_id"])
    [external] = order.refunds
    assert (external.external, external.status, external.amount) == (
        True,
        RefundStatus.SUCCEEDED,
        Money(500, "USD"),
    )
    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    assert order.refundable == Money(3498, "USD")  # what staff can still refund shrank
    [alert] = shop.events.of("alert.external_refund")
    assert alert["order_id"] == order.id
    with shop.uow as uow:
        [entry] = uow.audit.all()
    assert (entry.actor, entry.action) == ("gateway:fake", "refund.external")
    # Redelivered, or reported again under another event id: recorded once.
    assert deliver(shop, refunded) is EventOutcome.DUPLICATE
    assert deliver(shop, attrs.evolve(refunded, id="evt_again")) is EventOutcome.IGNORED
    assert len(order_of(shop, order.id).refunds) == 1


def test_a_refund_event_while_one_of_ours_is_in_flight_is_asked_again_later(
    shop: InMemoryShop,
) -> None:
    order, pending_id = _pending_refund(shop)
    outsider = GatewayEvent(
        id="evt_unmatched",
        kind=EventKind.REFUND_SUCCEEDED,
        gateway="fake",
        intent_id=order.intent_id,
        created_at=shop.clock.now(),
        amount=Money(1000, "USD"),
        refund_id="re_gateway_1",
    )
    with pytest.raises(RetryLater):
        deliver(shop, outsider)
    after = order_of(shop, order.id)
    assert [r.id for r in after.refunds] == [pending_id]  # nothing recorded, not even the event
    with shop.uow as uow:
        assert uow.processed_events.record(outsider, shop.clock.now())  # still new


def _dispute(shop: InMemoryShop, intent_id: str, kind: EventKind, status: str) -> GatewayEvent:
    return GatewayEvent(
        id=f"evt_dispute_{kind.value}",
        kind=kind,
        gateway="fake",
        intent_id=intent_id,
        created_at=shop.clock.now(),
        amount=Money(3998, "USD"),
        decline_code=status,
    )


def test_a_dispute_flags_the_order_and_alerts_until_it_closes(shop: InMemoryShop) -> None:
    intent = pay(shop)
    opened = _dispute(shop, intent["intent_id"], EventKind.DISPUTE_OPENED, "needs_response")
    assert deliver(shop, opened) is EventOutcome.PROCESSED
    assert order_of(shop, intent["order_id"]).disputed
    assert shop.events.of("alert.payment_disputed")[0]["status"] == "needs_response"
    lost = _dispute(shop, intent["intent_id"], EventKind.DISPUTE_CLOSED, "lost")
    assert deliver(shop, lost) is EventOutcome.PROCESSED
    assert not order_of(shop, intent["order_id"]).disputed
    assert shop.events.of("alert.dispute_lost")[0]["order_id"] == intent["order_id"]


def _pending_refund(shop: InMemoryShop) -> tuple[Order, str]:
    """A paid order with one pending refund (the gateway was down when we asked)."""
    intent = pay(shop)
    shop.gateway.take_events()
    shop.gateway.fail_next()
    with pytest.raises(GatewayUnavailable):
        refund(shop, intent["order_id"], 1000)
    order = order_of(shop, intent["order_id"])
    [pending] = order.refunds
    assert pending.status is RefundStatus.PENDING
    return order, pending.id


def refund_event(
    shop: InMemoryShop, order: Order, refund_id: str, kind: EventKind, cents: int, *, event_id: str
) -> GatewayEvent:
    """The gateway's event ``event_id`` about our refund ``refund_id`` (it carries our key)."""
    return GatewayEvent(
        id=event_id,
        kind=kind,
        gateway="fake",
        intent_id=order.intent_id,
        created_at=shop.clock.now(),
        amount=Money(cents, "USD"),
        refund_id=f"re_{event_id}",
        refund_key=f"refund-{refund_id}",
    )


def test_a_refund_failed_event_frees_the_reserved_amount(shop: InMemoryShop) -> None:
    order, refund_id = _pending_refund(shop)
    failed = refund_event(
        shop, order, refund_id, EventKind.REFUND_FAILED, 1000, event_id="evt_refund_failed"
    )
    assert deliver(shop, failed) is EventOutcome.PROCESSED
    order = order_of(shop, order.id)
    assert order.refunds[0].status is RefundStatus.FAILED
    assert order.refundable == Money(3998, "USD")
    succeeded_late = attrs.evolve(failed, id="evt_late", kind=EventKind.REFUND_SUCCEEDED)
    assert deliver(shop, succeeded_late) is EventOutcome.IGNORED
    assert shop.events.of("alert.refund_succeeded_after_failure")
    assert order_of(shop, order.id).refunded == Money(0, "USD")


def test_a_refund_event_for_another_amount_is_rejected_and_alerted(shop: InMemoryShop) -> None:
    order, refund_id = _pending_refund(shop)
    wrong = refund_event(
        shop, order, refund_id, EventKind.REFUND_SUCCEEDED, 3998, event_id="evt_refund_wrong_amount"
    )
    assert deliver(shop, wrong) is EventOutcome.REJECTED
    assert shop.events.of("alert.webhook_refund_amount_mismatch")
    order = order_of(shop, order.id)
    assert order.refunds[0].status is RefundStatus.PENDING
    assert order.refunded == Money(0, "USD")


# -- signed payloads -----------------------------------------------------------------------


def test_a_signed_payload_parses_and_a_tampered_one_is_refused(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"])
    event = event_of(shop, EventKind.PAYMENT_SUCCEEDED)
    body, headers = shop.gateway.event_payload(event)
    assert shop.gateway.parse_event(body, headers) == event
    with pytest.raises(InvalidWebhook):
        shop.gateway.parse_event(body, {"X-Fake-Signature": "0" * 64})
    with pytest.raises(InvalidWebhook):
        shop.gateway.parse_event(body + b"x", headers)


# -- what the gateway knows that the shop does not: the reconciliation job asks ----------------


def test_a_capture_whose_webhook_was_lost_is_found_by_the_job(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    browser_confirms(shop, intent["intent_id"])  # paid in the browser ...
    shop.gateway.take_events()  # ... and the webhook never arrives
    assert reconcile_payments(**shop.ports).orders_caught_up == 0  # too early to ask
    shop.clock.advance(timedelta(minutes=6))
    report = reconcile_payments(**shop.ports)
    assert report.orders_caught_up == 1
    assert order_of(shop, intent["order_id"]).status is OrderStatus.PAID
    assert reconcile_payments(**shop.ports).orders_caught_up == 0  # nothing left to ask


def test_a_refund_the_gateway_called_pending_is_settled_by_the_job(shop: InMemoryShop) -> None:
    intent = pay(shop)
    shop.gateway.take_events()
    # The gateway answers "pending" (as Stripe does for some cards), then succeeds quietly.
    original = shop.gateway.refund

    def pending_refund(intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        answer = original(intent_id, amount=amount, idempotency_key=idempotency_key)
        return attrs.evolve(answer, status=GatewayRefundStatus.PENDING)

    shop.gateway.refund = pending_refund  # type: ignore[method-assign]
    refund(shop, intent["order_id"], 1000)
    shop.gateway.take_events()  # the refund's webhook is lost
    order = order_of(shop, intent["order_id"])
    assert [r.status for r in order.refunds] == [RefundStatus.PENDING]
    report = reconcile_payments(**shop.ports)
    assert report.orders_caught_up == 1
    done = order_of(shop, intent["order_id"])
    assert [r.status for r in done.refunds] == [RefundStatus.SUCCEEDED]
    assert done.status is OrderStatus.PARTIALLY_REFUNDED
