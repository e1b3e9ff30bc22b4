"""Gateway-neutral payment values: what any gateway adapter turns its provider's objects into.

The model follows Stripe's PaymentIntent because it is the most general: an intent is created for
an amount, confirmed with a payment method, may need a customer action (3-D Secure), and ends
succeeded or canceled. PayPal orders and Razorpay orders map onto it at the adapter's edge.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from commerce_core.domain.money import Money

__all__ = [
    "BuyerAction",
    "EventKind",
    "GatewayEvent",
    "GatewayRefund",
    "GatewayRefundStatus",
    "IntentStatus",
    "PaymentIntent",
]


class IntentStatus(enum.StrEnum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


@attrs.frozen
class BuyerAction:
    """What the buyer must do before the gateway can take the money.

    Either finish it in the gateway's own client SDK with ``client_secret`` (Stripe.js running
    3-D Secure), or go to ``redirect_url`` and come back (PayPal's approval page, a 3-D Secure
    page). A gateway may offer both.
    """

    client_secret: str | None = None
    redirect_url: str | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.client_secret or self.redirect_url):
            raise ValueError("a buyer action needs a client secret or a redirect URL")

    def to_primitive(self) -> dict[str, str | None]:
        return {"client_secret": self.client_secret, "redirect_url": self.redirect_url}


@attrs.frozen
class PaymentIntent:
    """A gateway's payment intent as the core sees it.

    ``client_secret`` is what the gateway's client SDK needs to act on the intent in the
    browser (Stripe's; ``None`` for gateways without one). ``action`` is set while the status is
    ``requires_action``. ``decline_code`` is set when the last confirmation was declined (the
    intent is then back in ``requires_payment_method``).
    """

    id: str
    status: IntentStatus
    amount: Money
    client_secret: str | None = None
    decline_code: str | None = None
    decline_message: str | None = None
    action: BuyerAction | None = None

    @property
    def declined(self) -> bool:
        return self.decline_code is not None and self.status is IntentStatus.REQUIRES_PAYMENT_METHOD


class GatewayRefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@attrs.frozen
class GatewayRefund:
    id: str
    intent_id: str
    amount: Money
    status: GatewayRefundStatus


class EventKind(enum.StrEnum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_CANCELED = "payment_canceled"
    PAYMENT_REQUIRES_ACTION = "payment_requires_action"
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"
    # The buyer's bank disputes a captured payment (a chargeback); ``decline_code`` carries the
    # provider's dispute status when it closes (won, lost).
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_CLOSED = "dispute_closed"
    IGNORED = "ignored"  # a well-signed event of a type the shop does not act on


@attrs.frozen
class GatewayEvent:
    """A verified event from a gateway (webhook), already translated to the core's vocabulary.

    ``amount`` is the amount the event speaks of: captured for a payment, refunded for a refund.
    ``refund_key`` is the idempotency key our refund request carried, when the gateway echoes it
    (Stripe metadata), so a refund event can be matched before we stored the gateway's refund id.
    """

    id: str
    kind: EventKind
    gateway: str
    intent_id: str | None
    created_at: datetime
    raw_type: str = ""
    amount: Money | None = None
    refund_id: str | None = None
    refund_key: str | None = None
    decline_code: str | None = None
