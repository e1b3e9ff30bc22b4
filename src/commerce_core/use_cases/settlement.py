"""Settlement: recording what the gateway says happened to an order's payment.

Every path that learns an intent's fate - the confirm call, the gateway's webhook, the hold-expiry
job - ends here, under the order's row lock, so that the outcome is the same whichever arrives
first and however often: one paid order, its stock taken once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from commerce_core.domain.events import DomainEvent
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, StockState
from commerce_core.domain.payments import IntentStatus, PaymentIntent
from commerce_core.errors import CommerceError
from commerce_core.ports import UnitOfWork
from commerce_core.use_cases.outcomes import ConfirmOutcome
from commerce_core.use_cases.stock import give_back, take_for_lines

__all__ = ["apply_intent", "end_unpaid", "settle_order"]


def settle_order(uow: UnitOfWork, order: Order, amount: Money, now: datetime) -> bool:
    """Mark ``order`` (locked by the caller) paid with ``amount``; idempotent.

    A capture that arrives after the order failed or expired (its stock already given back) holds
    the stock again if it can; if it cannot, the order is not marked paid - it would lack its stock
    - and an alert asks staff to refund the captured payment. Returns whether anything changed.
    The caller saves ``order``, as it does after any other transition under its lock.
    """
    if order.status.is_paid:
        return False
    if order.stock_state is StockState.RELEASED:
        try:
            take_for_lines(uow, order.lines, now)
        except CommerceError:
            uow.announce(
                DomainEvent.alert(
                    "alert.payment_captured_without_stock",
                    now,
                    order_id=order.id,
                    intent_id=order.intent_id,
                    amount=amount.amount,
                    currency=amount.currency,
                )
            )
            return False
        order.rehold_stock(now)
        uow.announce(
            DomainEvent.of(
                "payment.late_capture", now, order_id=order.id, intent_id=order.intent_id
            )
        )
    changed = order.settle(amount, now)
    if changed:
        uow.announce(
            DomainEvent.of(
                "order.paid",
                now,
                order_id=order.id,
                amount=amount.amount,
                currency=amount.currency,
                user_id=order.user_id,
            )
        )
    return changed


def apply_intent(
    uow: UnitOfWork, order: Order, intent: PaymentIntent, now: datetime
) -> tuple[ConfirmOutcome, dict[str, Any]]:
    """Record what the gateway says about ``order``'s intent; returns (outcome, extra body)."""
    if intent.status is IntentStatus.SUCCEEDED:
        if order.status.is_paid:
            return ConfirmOutcome.ALREADY_PAID, {}
        if settle_order(uow, order, intent.amount, now):
            return ConfirmOutcome.PAID, {}
        return ConfirmOutcome.NOT_PAID, {
            "detail": "payment captured but the order could not be completed"
        }
    if intent.declined:
        end_unpaid(uow, order, intent.decline_code or "declined", now, failed=True)
        uow.announce(
            DomainEvent.of(
                "payment.declined",
                now,
                order_id=order.id,
                user_id=order.user_id,
                decline_code=intent.decline_code,
            )
        )
        return ConfirmOutcome.DECLINED, {
            "decline_code": intent.decline_code,
            "message": intent.decline_message or "Your card was declined.",
        }
    if intent.status is IntentStatus.REQUIRES_ACTION:
        return ConfirmOutcome.REQUIRES_ACTION, {
            "status": "requires_action",
            "client_secret": intent.client_secret,
        }
    if intent.status is IntentStatus.CANCELED:
        end_unpaid(uow, order, "intent_canceled", now, failed=False)
        return ConfirmOutcome.CANCELED, {}
    return ConfirmOutcome.PROCESSING, {"status": intent.status.value}


def end_unpaid(uow: UnitOfWork, order: Order, code: str, now: datetime, *, failed: bool) -> bool:
    """Fail (``failed=True``) or cancel an order awaiting payment and give its hold back.

    ``False`` and no change if the order had already moved on (a stale event, a second call).
    """
    ended = order.fail_payment(code, now) if failed else order.cancel(code, now)
    if ended:
        give_back(uow, order, now)
    return ended
