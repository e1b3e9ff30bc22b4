"""A fake gateway that lets a test act in the instant after the gateway answered.

That instant - money moved at the gateway, nothing recorded by us yet - is where double clicks,
early webhooks and dying workers do their harm.
"""

from __future__ import annotations

from collections.abc import Callable

from commerce_core import GatewayRefund, Money, PaymentIntent
from commerce_core.testing import FakeClock, FakeGateway


class ProcessDied(Exception):
    """The worker running the request died (deploy, OOM kill) right after the gateway acted,
    before we recorded what it did."""


Hook = Callable[[], None]


class HookedGateway(FakeGateway):
    """A ``FakeGateway`` that runs ``after_confirm`` (``after_refund``) once, right after the
    gateway confirmed (refunded)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.after_confirm: Hook | None = None
        self.after_refund: Hook | None = None

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        intent = super().confirm_intent(
            intent_id, payment_method=payment_method, idempotency_key=idempotency_key
        )
        hook, self.after_confirm = self.after_confirm, None
        if hook is not None:
            hook()
        return intent

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        answer = super().refund(intent_id, amount=amount, idempotency_key=idempotency_key)
        hook, self.after_refund = self.after_refund, None
        if hook is not None:
            hook()
        return answer
