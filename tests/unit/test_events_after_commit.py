"""Domain events reach the event sink after their transaction commits, never before, and durable
ones (alerts) survive a crash between the commit and the publish."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core import (
    CartItem,
    CreateCheckoutIntent,
    EventKind,
    GatewayEvent,
    Money,
    OrderStatus,
    create_checkout_intent,
    handle_gateway_event,
)
from commerce_core.testing import InMemoryShop, InMemoryUnitOfWork, RecordingEventSink
from commerce_core.use_cases._publishing import PUBLISH_GRACE, publish_stored_events

ALICE = "usr_alice"


class DatabaseWentAway(Exception):
    """The connection broke at the last moment: the transaction did not commit."""


class CommitFails(InMemoryUnitOfWork):
    """A unit of work whose every commit fails after the work was done."""

    def commit(self) -> None:
        raise DatabaseWentAway


class CrashingSink(RecordingEventSink):
    """The process dies while handing events to the sink, after the commit."""

    def emit(self, event: str, /, **fields: object) -> None:
        raise DatabaseWentAway(f"killed before {event} was published")


def _intent(shop: InMemoryShop) -> dict[str, str]:
    return create_checkout_intent(
        CreateCheckoutIntent(ALICE, (CartItem(shop.product_id, 1),)), **shop.ports
    ).body


def _succeeded(shop: InMemoryShop, intent_id: str, amount: Money) -> GatewayEvent:
    return GatewayEvent(
        id="evt_paid",
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway=shop.gateway.name,
        intent_id=intent_id,
        created_at=shop.clock.now(),
        amount=amount,
    )


def test_a_payment_whose_transaction_rolled_back_is_never_announced(shop: InMemoryShop) -> None:
    intent = _intent(shop)
    event = _succeeded(shop, intent["intent_id"], Money(1999, "USD"))
    with pytest.raises(DatabaseWentAway):
        handle_gateway_event(
            event,
            uow=CommitFails(shop.store),
            gateways=shop.gateways,
            clock=shop.clock,
            events=shop.events,
        )
    assert "order.paid" not in shop.events.names()
    # ... and the order is indeed not paid: the event would have told of something untrue.
    with shop.uow as uow:
        order = uow.orders.get(intent["order_id"])
    assert order is not None
    assert order.status is OrderStatus.AWAITING_PAYMENT


def test_an_alert_whose_transaction_rolled_back_is_neither_published_nor_stored(
    shop: InMemoryShop,
) -> None:
    intent = _intent(shop)
    wrong = _succeeded(shop, intent["intent_id"], Money(1, "USD"))
    with pytest.raises(DatabaseWentAway):
        handle_gateway_event(
            wrong,
            uow=CommitFails(shop.store),
            gateways=shop.gateways,
            clock=shop.clock,
            events=shop.events,
        )
    assert shop.events.of("alert.webhook_amount_mismatch") == []
    with shop.uow as uow:
        assert uow.outbox.alerts(0, 10) == ([], 0)


def test_a_committed_alert_is_published_once_and_marked(shop: InMemoryShop) -> None:
    intent = _intent(shop)
    wrong = _succeeded(shop, intent["intent_id"], Money(1, "USD"))
    handle_gateway_event(wrong, **shop.ports)
    assert len(shop.events.of("alert.webhook_amount_mismatch")) == 1
    with shop.uow as uow:
        (stored,), _ = uow.outbox.alerts(0, 10)
        assert uow.outbox.unpublished(shop.clock.now() + timedelta(days=1), 10) == []
    assert stored.fields["order_id"] == intent["order_id"]
    # The job finds nothing left to publish: the alert is not sent twice.
    shop.clock.advance(PUBLISH_GRACE * 2)
    assert publish_stored_events(shop.uow, shop.events, shop.clock) == 0
    assert len(shop.events.of("alert.webhook_amount_mismatch")) == 1


def test_an_alert_survives_a_crash_between_commit_and_publish(shop: InMemoryShop) -> None:
    intent = _intent(shop)
    wrong = _succeeded(shop, intent["intent_id"], Money(1, "USD"))
    with pytest.raises(DatabaseWentAway):
        handle_gateway_event(
            wrong, uow=shop.uow, gateways=shop.gateways, clock=shop.clock, events=CrashingSink()
        )

    # A fresh process: the alert was stored with the rejection, and the job publishes it -
    # but only once it is older than the grace given to the use case that stored it.
    assert publish_stored_events(shop.uow, shop.events, shop.clock) == 0
    shop.clock.advance(PUBLISH_GRACE + timedelta(seconds=1))
    assert publish_stored_events(shop.uow, shop.events, shop.clock) == 1
    (published,) = shop.events.of("alert.webhook_amount_mismatch")
    assert published["order_id"] == intent["order_id"]
    assert publish_stored_events(shop.uow, shop.events, shop.clock) == 0


def test_events_are_published_in_the_order_they_were_announced(shop: InMemoryShop) -> None:
    _intent(shop)
    intent = _intent(shop)
    handle_gateway_event(_succeeded(shop, intent["intent_id"], Money(1999, "USD")), **shop.ports)
    names = shop.events.names()
    assert names == ["checkout.intent_created", "checkout.intent_created", "order.paid"]


def test_a_failing_outbox_mark_does_not_fail_a_use_case_whose_work_committed(
    shop: InMemoryShop,
) -> None:
    intent = _intent(shop)
    wrong = _succeeded(shop, intent["intent_id"], Money(1, "USD"))

    class MarkFails(InMemoryUnitOfWork):
        commits = 0

        def commit(self) -> None:
            self.commits += 1
            if self.commits > 1:  # the second transaction only marks the alert published
                raise DatabaseWentAway
            super().commit()

    handle_gateway_event(
        wrong,
        uow=MarkFails(shop.store),
        gateways=shop.gateways,
        clock=shop.clock,
        events=shop.events,
    )
    assert len(shop.events.of("alert.webhook_amount_mismatch")) == 1
    assert shop.events.of("events.mark_published_failed") == [
        {"count": 1, "error": "DatabaseWentAway"}
    ]
    shop.clock.advance(PUBLISH_GRACE * 2)
    assert publish_stored_events(shop.uow, shop.events, shop.clock) == 1  # at least once
