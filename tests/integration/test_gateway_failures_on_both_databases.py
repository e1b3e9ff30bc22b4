"""Failures leave nothing wrong - with the real Stripe adapter making real HTTP requests to the
local Stripe fake, over the real SQL adapter on SQLite and on PostgreSQL:

- a timeout during confirm leaves no paid order, and a retry with the same key completes it,
  charging once;
- a payment that succeeded at the gateway while our commit failed is completed later - by
  Stripe's webhook, by the retry, or by the reconciliation job asking the gateway;
- a refund the gateway refused definitively frees its amount;
- a refund whose outcome is unknown stays reserved until reconciled, then is recorded once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from adapters.payments import stripe_wire
from adapters.payments.stripe_gateway import StripeGateway
from adapters.sql import SqlUnitOfWork
from commerce_core import (
    CartItem,
    ConfirmOrder,
    ConfirmOutcome,
    CreateCheckoutIntent,
    EventOutcome,
    GatewayError,
    GatewayRegistry,
    GatewayUnavailable,
    Money,
    Order,
    OrderStatus,
    PaymentPorts,
    RefundOrder,
    RefundStatus,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
    reconcile_payments,
    refund_order,
)
from commerce_core.testing import FakeClock, RecordingEventSink, make_product
from tests.support.stripe_api import SECRET_KEY, StripeApi

WEBHOOK_SECRET = "whsec_failures"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    found: Engine = request.getfixturevalue(
        "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    )
    return found


@pytest.fixture(scope="module")
def stripe_api() -> Iterator[tuple[StripeApi, str]]:
    api = StripeApi()
    with api.serving() as base:
        yield api, base


class CommitFailsOnce(SqlUnitOfWork):
    """The database connection breaks at one commit (the ``fail_at``-th), after the work."""

    def __init__(self, engine: Engine, fail_at: int) -> None:
        super().__init__(engine)
        self.commits, self.fail_at = 0, fail_at

    def commit(self) -> None:
        self.commits += 1
        if self.commits == self.fail_at:
            self.rollback()
            raise ConnectionError("server closed the connection unexpectedly")
        super().commit()


class Shop:
    def __init__(self, engine: Engine, stripe_api: tuple[StripeApi, str]) -> None:
        self.engine = engine
        self.api, base = stripe_api
        self.api.recover()
        self.gateway = StripeGateway(
            secret_key=SECRET_KEY,
            webhook_secret=WEBHOOK_SECRET,
            api_base=base,
            timeout=(1.0, 0.5),
            max_network_retries=0,
        )
        self.clock = FakeClock()
        self.events = RecordingEventSink()
        product = make_product(stock=5, price=Money(2500, "USD"), now=self.clock.now())
        with SqlUnitOfWork(engine) as uow:
            uow.products.add(product)
            uow.commit()
        self.product_id = product.id

    def ports(self, uow: SqlUnitOfWork | None = None) -> PaymentPorts:
        return PaymentPorts(
            uow=uow or SqlUnitOfWork(self.engine),
            gateways=GatewayRegistry(self.gateway),
            clock=self.clock,
            events=self.events,
        )

    def order(self, order_id: str) -> Order:
        with SqlUnitOfWork(self.engine) as uow:
            found = uow.orders.get(order_id)
        assert found is not None
        return found

    def checkout(self) -> dict[str, str]:
        return create_checkout_intent(
            CreateCheckoutIntent("usr_1", (CartItem(self.product_id, 1),)), **self.ports()
        ).body

    def paid_order(self) -> str:
        intent = self.checkout()
        confirm_order(
            ConfirmOrder("usr_1", intent["intent_id"], "pm_card_visa", f"pay-{intent['order_id']}"),
            **self.ports(),
        )
        return intent["order_id"]

    def signed_event(self, event_type: str, intent: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        """The event Stripe would send about ``intent`` as the fake now holds it, signed."""
        held = self.api.intents[intent["intent_id"]]
        body = stripe_wire.encode_event(
            stripe_wire.event_object(
                event_id=f"evt_{intent['order_id']}",
                event_type=event_type,
                data_object=stripe_wire.payment_intent_object(
                    intent_id=held.id,
                    amount=held.amount,
                    status=held.status.value,
                    client_secret=f"{held.id}_secret_x",
                    order_id=intent["order_id"],
                    created=int(time.time()),
                ),
                created=int(time.time()),
            )
        )
        header = stripe_wire.sign_payload(body, WEBHOOK_SECRET, int(time.time()))
        return body, {"Stripe-Signature": header}

    def stock(self) -> int:
        with SqlUnitOfWork(self.engine) as uow:
            product = uow.products.get(self.product_id)
        assert product is not None
        return product.stock


@pytest.fixture
def shop(engine: Engine, stripe_api: tuple[StripeApi, str]) -> Shop:
    return Shop(engine, stripe_api)


def test_a_timeout_during_confirm_leaves_no_paid_order_and_the_retry_charges_once(
    shop: Shop,
) -> None:
    intent = shop.checkout()
    command = ConfirmOrder("usr_1", intent["intent_id"], "pm_card_visa", "confirm-1")
    shop.api.stall_next(1, seconds=1.2)  # Stripe captures, but its answer comes too late
    with pytest.raises(GatewayUnavailable):
        confirm_order(command, **shop.ports())
    assert shop.order(intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT

    retried = confirm_order(command, **shop.ports())

    assert retried.outcome is ConfirmOutcome.PAID
    assert shop.order(intent["order_id"]).status is OrderStatus.PAID
    confirms = [r for r in shop.api.requests if r.path.endswith(f"{intent['intent_id']}/confirm")]
    assert len({r.headers["Idempotency-Key"] for r in confirms}) == 1  # one key, one charge
    assert shop.stock() == 4


def test_a_capture_whose_commit_failed_is_completed_by_the_retry(shop: Shop) -> None:
    intent = shop.checkout()
    command = ConfirmOrder("usr_1", intent["intent_id"], "pm_card_visa", "confirm-2")
    # Commits of a confirm: the key's claim, then the outcome - the second one breaks.
    with pytest.raises(ConnectionError):
        confirm_order(command, **shop.ports(CommitFailsOnce(shop.engine, fail_at=2)))
    assert shop.order(intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    assert shop.api.intents[intent["intent_id"]].status.value == "succeeded"

    shop.clock.advance(timedelta(seconds=31))  # the dead request's lease runs out
    retried = confirm_order(command, **shop.ports())

    assert retried.outcome in (ConfirmOutcome.PAID, ConfirmOutcome.ALREADY_PAID)
    assert shop.order(intent["order_id"]).status is OrderStatus.PAID
    assert shop.stock() == 4


def test_a_capture_whose_commit_failed_is_completed_by_stripes_webhook(shop: Shop) -> None:
    intent = shop.checkout()
    command = ConfirmOrder("usr_1", intent["intent_id"], "pm_card_visa", "confirm-4")
    with pytest.raises(ConnectionError):
        confirm_order(command, **shop.ports(CommitFailsOnce(shop.engine, fail_at=2)))
    assert shop.order(intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT

    body, headers = shop.signed_event("payment_intent.succeeded", intent)
    outcome = handle_gateway_event(shop.gateway.parse_event(body, headers), **shop.ports())

    assert outcome is EventOutcome.PROCESSED
    assert shop.order(intent["order_id"]).status is OrderStatus.PAID
    assert shop.stock() == 4
    # The shopper's retry, once the dead request's lease ran out, is told the order is paid.
    shop.clock.advance(timedelta(seconds=31))
    retried = confirm_order(command, **shop.ports())
    assert retried.outcome in (ConfirmOutcome.PAID, ConfirmOutcome.ALREADY_PAID)


def test_a_capture_whose_commit_failed_is_completed_by_the_job_without_a_retry(
    shop: Shop,
) -> None:
    intent = shop.checkout()
    command = ConfirmOrder("usr_1", intent["intent_id"], "pm_card_visa", "confirm-3")
    with pytest.raises(ConnectionError):
        confirm_order(command, **shop.ports(CommitFailsOnce(shop.engine, fail_at=2)))
    # The shopper closed the tab and the webhook was lost: only the job is left to notice.
    shop.clock.advance(timedelta(minutes=6))

    report = reconcile_payments(**shop.ports())

    assert report.orders_caught_up == 1
    assert shop.order(intent["order_id"]).status is OrderStatus.PAID
    assert shop.stock() == 4


def test_a_refund_refused_definitively_frees_its_amount(shop: Shop) -> None:
    order_id = shop.paid_order()
    shop.api.fail_next(1, status=400)  # Stripe says no (and did nothing)
    with pytest.raises(GatewayError) as refused:
        refund_order(RefundOrder("usr_staff", order_id, 1000, "refund-1"), **shop.ports())
    assert not isinstance(refused.value, GatewayUnavailable)

    order = shop.order(order_id)
    assert [r.status for r in order.refunds] == [RefundStatus.FAILED]
    assert order.refundable == Money(2500, "USD")
    assert not order.owes_gateway_work


def test_a_refund_of_unknown_outcome_stays_reserved_until_reconciled(shop: Shop) -> None:
    order_id = shop.paid_order()
    shop.api.stall_next(1, seconds=1.2)  # Stripe refunds, but we never hear its answer
    with pytest.raises(GatewayUnavailable):
        refund_order(RefundOrder("usr_staff", order_id, 1000, "refund-2"), **shop.ports())
    order = shop.order(order_id)
    assert [r.status for r in order.refunds] == [RefundStatus.PENDING]
    assert order.refundable == Money(1500, "USD")  # reserved meanwhile

    shop.clock.advance(timedelta(minutes=1))  # past the staff request's lease
    report = reconcile_payments(**shop.ports())

    assert report.orders_followed_up == 1
    done = shop.order(order_id)
    assert [r.status for r in done.refunds] == [RefundStatus.SUCCEEDED]
    assert done.status is OrderStatus.PARTIALLY_REFUNDED
    refunded = [r for r in shop.api.refunds.values() if r.intent_id == done.intent_id]
    assert [r.amount.amount for r in refunded] == [1000]  # asked twice, refunded once
