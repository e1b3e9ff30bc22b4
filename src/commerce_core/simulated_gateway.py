"""The rules of a Stripe-like payment gateway, for fakes: intents, test payment methods, refunds.

Both the in-memory ``FakeGateway`` and the database-backed fake adapter apply these rules, so they
behave alike. The test payment methods are Stripe's::

    pm_card_visa, pm_card_mastercard, pm_card_amex        succeed
    pm_card_chargeDeclined                                decline (card_declined)
    pm_card_chargeDeclinedInsufficientFunds               decline (insufficient_funds)
    pm_card_chargeDeclinedExpiredCard                     decline (expired_card)
    pm_card_threeDSecure2Required, pm_card_authenticationRequired   require action (3-D Secure)

Each state change yields the events a gateway would send (``SimulatedEvent``), in the core's
vocabulary; adapters turn them into their wire format.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import attrs

from commerce_core.domain.money import Money
from commerce_core.domain.payments import (
    BuyerAction,
    EventKind,
    GatewayRefund,
    GatewayRefundStatus,
    IntentStatus,
    PaymentIntent,
)
from commerce_core.errors import GatewayError, InvalidInput

__all__ = [
    "DECLINES",
    "SUCCEEDING_METHODS",
    "THREE_DS_METHODS",
    "SimulatedEvent",
    "SimulatedIntent",
    "SimulatedRefund",
]

SUCCEEDING_METHODS = frozenset({"pm_card_visa", "pm_card_mastercard", "pm_card_amex"})
THREE_DS_METHODS = frozenset({"pm_card_threeDSecure2Required", "pm_card_authenticationRequired"})
DECLINES: dict[str, tuple[str, str]] = {
    "pm_card_chargeDeclined": ("card_declined", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
}


@attrs.frozen
class SimulatedEvent:
    id: str
    kind: EventKind
    raw_type: str
    intent_id: str
    amount: Money
    created_at: datetime
    refund_id: str | None = None
    refund_key: str | None = None
    decline_code: str | None = None


@attrs.define
class SimulatedRefund:
    id: str
    intent_id: str
    amount: Money
    status: GatewayRefundStatus
    idempotency_key: str

    def to_refund(self) -> GatewayRefund:
        return GatewayRefund(self.id, self.intent_id, self.amount, self.status)


def _event(
    kind: EventKind, raw_type: str, intent: SimulatedIntent, now: datetime, **extra: object
) -> SimulatedEvent:
    return SimulatedEvent(
        id=f"evt_{secrets.token_hex(12)}",
        kind=kind,
        raw_type=raw_type,
        intent_id=intent.id,
        amount=intent.amount,
        created_at=now,
        **extra,  # type: ignore[arg-type]
    )


@attrs.define
class SimulatedIntent:
    id: str
    amount: Money
    order_id: str
    client_secret: str
    status: IntentStatus = IntentStatus.REQUIRES_PAYMENT_METHOD
    payment_method: str | None = None
    decline_code: str | None = None
    decline_message: str | None = None
    amount_refunded: int = 0

    @classmethod
    def create(cls, amount: Money, order_id: str) -> SimulatedIntent:
        if not amount.is_positive:
            raise GatewayError("amount must be positive")
        intent_id = f"pi_{secrets.token_hex(12)}"
        return cls(
            id=intent_id,
            amount=amount,
            order_id=order_id,
            client_secret=f"{intent_id}_secret_{secrets.token_hex(12)}",
        )

    def to_intent(self) -> PaymentIntent:
        needs_action = self.status is IntentStatus.REQUIRES_ACTION
        return PaymentIntent(
            id=self.id,
            status=self.status,
            amount=self.amount,
            client_secret=self.client_secret,
            decline_code=self.decline_code,
            decline_message=self.decline_message,
            # The buyer authenticates in the gateway's client SDK, as with Stripe.js.
            action=BuyerAction(client_secret=self.client_secret) if needs_action else None,
        )

    def confirm(self, payment_method: str | None, now: datetime) -> list[SimulatedEvent]:
        if self.status is IntentStatus.SUCCEEDED:
            return []  # confirming a succeeded intent again is not an error for us
        if self.status is IntentStatus.CANCELED:
            raise GatewayError(f"payment intent {self.id} was canceled")
        method = payment_method or self.payment_method
        if method is None:
            raise InvalidInput.for_field("payment_method", "is required for this payment")
        if method not in SUCCEEDING_METHODS | THREE_DS_METHODS | DECLINES.keys():
            raise InvalidInput.for_field("payment_method", f"no such payment method: {method!r}")
        self.payment_method = method
        self.decline_code = self.decline_message = None
        if method in DECLINES:
            self.decline_code, self.decline_message = DECLINES[method]
            self.status = IntentStatus.REQUIRES_PAYMENT_METHOD
            return [
                _event(
                    EventKind.PAYMENT_FAILED,
                    "payment_intent.payment_failed",
                    self,
                    now,
                    decline_code=self.decline_code,
                )
            ]
        if method in THREE_DS_METHODS and self.status is not IntentStatus.REQUIRES_ACTION:
            self.status = IntentStatus.REQUIRES_ACTION
            return [
                _event(
                    EventKind.PAYMENT_REQUIRES_ACTION, "payment_intent.requires_action", self, now
                )
            ]
        if self.status is IntentStatus.REQUIRES_ACTION:
            return []  # still waiting for the customer to authenticate
        return self._succeed(now)

    def authenticate(self, success: bool, now: datetime) -> list[SimulatedEvent]:
        """The customer completed (or failed) the 3-D Secure challenge."""
        if self.status is not IntentStatus.REQUIRES_ACTION:
            raise GatewayError(f"payment intent {self.id} does not require action")
        if success:
            return self._succeed(now)
        self.status = IntentStatus.REQUIRES_PAYMENT_METHOD
        self.decline_code = "authentication_failed"
        self.decline_message = "The card holder could not be authenticated."
        return [
            _event(
                EventKind.PAYMENT_FAILED,
                "payment_intent.payment_failed",
                self,
                now,
                decline_code=self.decline_code,
            )
        ]

    def _succeed(self, now: datetime) -> list[SimulatedEvent]:
        self.status = IntentStatus.SUCCEEDED
        return [_event(EventKind.PAYMENT_SUCCEEDED, "payment_intent.succeeded", self, now)]

    def cancel(self, now: datetime) -> list[SimulatedEvent]:
        if self.status in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
            return []  # the caller learns the final state from the returned intent
        self.status = IntentStatus.CANCELED
        return [_event(EventKind.PAYMENT_CANCELED, "payment_intent.canceled", self, now)]

    def refund(
        self, amount: Money, idempotency_key: str, now: datetime
    ) -> tuple[SimulatedRefund, list[SimulatedEvent]]:
        if self.status is not IntentStatus.SUCCEEDED:
            raise GatewayError(f"payment intent {self.id} has no captured charge to refund")
        if amount.currency != self.amount.currency or not amount.is_positive:
            raise GatewayError("refund amount must be positive and in the charge's currency")
        if self.amount_refunded + amount.amount > self.amount.amount:
            raise GatewayError("refund amount exceeds the charge's remaining amount")
        self.amount_refunded += amount.amount
        refund = SimulatedRefund(
            id=f"re_{secrets.token_hex(12)}",
            intent_id=self.id,
            amount=amount,
            status=GatewayRefundStatus.SUCCEEDED,
            idempotency_key=idempotency_key,
        )
        event = SimulatedEvent(
            id=f"evt_{secrets.token_hex(12)}",
            kind=EventKind.REFUND_SUCCEEDED,
            raw_type="refund.created",
            intent_id=self.id,
            amount=amount,
            created_at=now,
            refund_id=refund.id,
            refund_key=idempotency_key,
        )
        return refund, [event]
