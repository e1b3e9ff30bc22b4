"""What each money-moving use case can answer, one enum per use case.

Drivers match on these exhaustively (``match ...: case ConfirmOutcome.PAID: ...`` ending in
``typing.assert_never``), so a new outcome is a type error in every driver that forgot it, not
a 500 at run time. The values are the stable strings stored with idempotent answers.
"""

from __future__ import annotations

import enum

__all__ = ["ConfirmOutcome", "EventOutcome", "IntentOutcome", "RefundOutcome"]


class IntentOutcome(enum.StrEnum):
    """``create_checkout_intent``."""

    CREATED = "created"  # the order awaits payment; its stock is held


class ConfirmOutcome(enum.StrEnum):
    """``confirm_order``."""

    PAID = "paid"  # this confirm paid the order
    ALREADY_PAID = "already_paid"  # the webhook or an earlier confirm got there first
    REQUIRES_ACTION = "requires_action"  # the buyer must act (3-D Secure, approval)
    PROCESSING = "processing"  # the gateway has not decided yet; a webhook will tell
    DECLINED = "declined"  # the order failed and its stock went back
    CANCELED = "canceled"  # the intent was canceled at the gateway; the order too
    REFUNDING = "refunding"  # captured, but the order could not be completed: refunded


class RefundOutcome(enum.StrEnum):
    """``refund_order``: the refund's status after the gateway answered."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"  # the gateway will tell by webhook
    FAILED = "failed"  # the gateway refused; nothing was refunded, the amount is free again


class EventOutcome(enum.StrEnum):
    """``handle_gateway_event``."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"  # well signed, but contradicts the order (amount/currency): alerted
