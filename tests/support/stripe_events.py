"""Stripe-shaped event bodies for the parser contract, written with ``stripe_wire``'s builders
(the same JSON Stripe sends: a payment_intent or refund object inside an event envelope)."""

from __future__ import annotations

import time
from typing import Any

from adapters.payments import stripe_wire
from commerce_core import EventKind
from commerce_core.testing.contracts import EventSpec

CREATED = 1_770_000_000

_INTENT_EVENTS = {
    EventKind.PAYMENT_SUCCEEDED: ("payment_intent.succeeded", "succeeded"),
    EventKind.PAYMENT_FAILED: ("payment_intent.payment_failed", "requires_payment_method"),
    EventKind.PAYMENT_CANCELED: ("payment_intent.canceled", "canceled"),
}
_REFUND_EVENTS = {
    EventKind.REFUND_SUCCEEDED: ("refund.updated", "succeeded"),
    EventKind.REFUND_FAILED: ("refund.failed", "failed"),
}


def stripe_event_body(spec: EventSpec) -> bytes:
    data: dict[str, Any]
    if spec.kind in _INTENT_EVENTS:
        event_type, status = _INTENT_EVENTS[spec.kind]
        data = stripe_wire.payment_intent_object(
            intent_id=spec.intent_id,
            amount=spec.amount,
            status=status,
            client_secret=f"{spec.intent_id}_secret_x",
            order_id="ord_1",
            created=CREATED,
            payment_method="pm_card_visa",
            decline_code=spec.decline_code,
            decline_message="Your card was declined." if spec.decline_code else None,
        )
    elif spec.kind in _REFUND_EVENTS:
        event_type, status = _REFUND_EVENTS[spec.kind]
        data = stripe_wire.refund_object(
            refund_id=spec.refund_id or "re_1",
            intent_id=spec.intent_id,
            amount=spec.amount,
            status=status,
            created=CREATED,
            idempotency_key=spec.refund_key,
        )
    else:
        raise ValueError(f"no Stripe event for {spec.kind}")
    return stripe_wire.encode_event(
        stripe_wire.event_object(
            event_id=spec.event_id, event_type=event_type, data_object=data, created=CREATED
        )
    )


class StripeShapedEvents:
    """The event bodies and signatures of ``GatewayEventParserContract`` for a parser that
    speaks Stripe's wire format (the Stripe adapter, the fake gateway); ``webhook_secret`` is
    the parser's."""

    webhook_secret: str

    def event_body(self, spec: EventSpec) -> bytes:
        return stripe_event_body(spec)

    def ignored_event_body(self) -> bytes:
        return stripe_wire.encode_event(
            stripe_wire.event_object(
                event_id="evt_customer",
                event_type="customer.created",
                data_object={"id": "cus_1", "object": "customer"},
                created=CREATED,
            )
        )

    def signed(self, body: bytes) -> dict[str, str]:
        stamp = int(time.time())
        header = stripe_wire.sign_payload(body, self.webhook_secret, stamp)
        return {stripe_wire.SIGNATURE_HEADER: header}
