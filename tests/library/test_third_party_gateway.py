"""A gateway the shop does not ship - AcmePay, written against ``commerce_core``'s public surface
only - proven by the core's contracts and swapped into the in-memory shop, webhook included.
The README's "Bring your own gateway" section is this file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from commerce_core import (
    CartItem,
    ConfirmOrder,
    ConfirmOutcome,
    CreateCheckoutIntent,
    EventKind,
    EventOutcome,
    Money,
    OrderStatus,
    RefundOrder,
    confirm_order,
    create_checkout_intent,
    get_order,
    handle_gateway_event,
    refund_order,
)
from commerce_core.testing import InMemoryShop
from commerce_core.testing.contracts import (
    EventSpec,
    GatewayEventParserContract,
    PaymentGatewayContract,
    PaymentScenario,
)
from tests.library.acmepay import AcmePay

EVENT_NAMES = {
    EventKind.PAYMENT_SUCCEEDED: "charge.settled",
    EventKind.PAYMENT_FAILED: "charge.rejected",
    EventKind.PAYMENT_CANCELED: "charge.voided",
    EventKind.REFUND_SUCCEEDED: "refund.done",
    EventKind.REFUND_FAILED: "refund.bounced",
}


class TestAcmePayIsAPaymentGateway(PaymentGatewayContract):
    amount = Money(12_50, "GBP")

    @pytest.fixture
    def gateway(self) -> AcmePay:
        return AcmePay()

    def payment_method(self, scenario: PaymentScenario) -> str:
        return {
            PaymentScenario.SUCCEEDS: "acme-ok",
            PaymentScenario.DECLINES: "acme-insufficient",
            PaymentScenario.NEEDS_ACTION: "acme-challenge",
            PaymentScenario.UNKNOWN_METHOD: "acme-bogus",
        }[scenario]

    @contextmanager
    def outage(self, gateway: AcmePay) -> Iterator[None]:  # type: ignore[override]
        gateway.offline = True
        try:
            yield
        finally:
            gateway.offline = False


class TestAcmePayWebhooks(GatewayEventParserContract):
    gateway_name = "acmepay"
    amounts = (Money(12_50, "GBP"), Money(900, "JPY"))  # AcmePay takes no 3-decimal money

    @pytest.fixture
    def parser(self) -> AcmePay:
        self.acme = AcmePay()
        return self.acme

    def event_body(self, spec: EventSpec) -> bytes:
        return self.acme.notification(
            EVENT_NAMES[spec.kind],
            spec.intent_id,
            spec.amount.amount,
            spec.amount.currency,
            refund=spec.refund_id,
            error=spec.decline_code,
            event_uid=spec.event_id,
        )

    def ignored_event_body(self) -> bytes:
        return self.acme.notification("payout.sent", "ch_1", 100, "GBP")

    def signed(self, body: bytes) -> dict[str, str]:
        return {"Acme-Signature": self.acme.signature(body)}


def test_the_in_memory_shop_takes_and_refunds_a_payment_through_acmepay() -> None:
    acme = AcmePay()
    shop = InMemoryShop(gateway=acme)
    shop.product_id = shop.add_product(stock=3, price=Money(12_50, "GBP")).id

    # The shopper checks out; AcmePay wants them on its challenge page (a redirect).
    intent = create_checkout_intent(
        CreateCheckoutIntent("usr_1", (CartItem(shop.product_id, 2),)), **shop.ports
    )
    confirmed = confirm_order(
        ConfirmOrder("usr_1", intent.body["intent_id"], "acme-challenge", "key-1"), **shop.ports
    )
    assert confirmed.outcome is ConfirmOutcome.REQUIRES_ACTION
    assert confirmed.body["next_action"]["redirect_url"].startswith("https://acmepay.example/")

    def deliver_webhooks() -> list[EventOutcome]:  # what AcmePay would POST to the shop
        sent, acme.outbox = acme.outbox, []
        return [handle_gateway_event(acme.parse_event(b, h), **shop.ports) for b, h in sent]

    # They pass it; AcmePay's signed notification reaches the shop's webhook handler.
    acme.pass_challenge(intent.body["intent_id"])
    assert deliver_webhooks() == [EventOutcome.PROCESSED]
    order = get_order(shop.uow, "usr_1", intent.body["order_id"])
    assert (order.status, order.gateway) == (OrderStatus.PAID, "acmepay")

    # Staff refund part of it; the refund goes to AcmePay, the order's gateway.
    refund_order(RefundOrder("usr_staff", order.id, Money(5_00, "GBP"), "r-1"), **shop.ports)
    assert acme.charges[intent.body["intent_id"]]["refunded"] == 5_00
    assert deliver_webhooks() == [EventOutcome.IGNORED]  # the refund is recorded already
    assert get_order(shop.uow, "usr_1", order.id).status is OrderStatus.PARTIALLY_REFUNDED
