"""Settlement: recording what the gateway says happened to an order's payment.

Every path that learns an intent's fate - the confirm call, the gateway's webhook, the hold-expiry
job, the reconciliation job - ends here, under the order's row lock, so the outcome is the same
whichever arrives first and however often: one paid order, its stock taken once.

Captured money always ends in a paid order or a refund. A capture for an order that had already
ended (failed, expired, cancelled) takes its stock again if it can and the order is paid; if the
stock is gone the order becomes ``needs_refund`` with a pending refund of the whole capture, an
alert is stored, and ``settle_gateway_work`` asks the order's gateway for that refund once the
transaction has committed (never inside it). The same follow-up cancels the intent of an order
that ended unpaid while its intent could still be paid, so that no retry can capture behind the
shop's back. Whatever the gateway cannot do right away stays recorded on the order, and the
reconciliation job (``reconcile_payments``) does it later.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, StockState
from commerce_core.domain.payments import IntentStatus, PaymentIntent
from commerce_core.errors import GatewayError, GatewayUnavailable, OutOfStock
from commerce_core.ports import Clock, EventSink, GatewayRegistry, UnitOfWork
from commerce_core.use_cases._publishing import publishing
from commerce_core.use_cases.notifications import queue_order_confirmation
from commerce_core.use_cases.outcomes import ConfirmOutcome
from commerce_core.use_cases.refunds import (
    SYSTEM_ACTOR,
    refresh_pending_refunds,
    request_owed_refunds,
)
from commerce_core.use_cases.stock import give_back, take_for_lines

__all__ = [
    "Settled",
    "apply_intent",
    "catch_up_with_gateway",
    "end_unpaid",
    "settle_gateway_work",
    "settle_order",
]


class Settled(enum.Enum):
    PAID = "paid"  # this capture paid the order (a late one held its stock again)
    ALREADY = "already"  # this capture was recorded before: nothing changed
    NEEDS_REFUND = "needs_refund"  # captured, but the order cannot be completed: owed back


def settle_order(uow: UnitOfWork, order: Order, amount: Money, now: datetime) -> Settled:
    """Record that the gateway captured ``amount`` for ``order`` (locked by the caller).

    Idempotent. The caller saves ``order``; after commit, a ``NEEDS_REFUND`` answer wants
    ``settle_gateway_work`` (the refund is already recorded, pending).
    """
    if order.status.is_paid or order.captured is not None:
        return Settled.ALREADY
    if order.stock_state is StockState.RELEASED:
        try:
            take_for_lines(uow, order.lines, now)
        except OutOfStock:
            _owe_capture_back(uow, order, amount, now)
            return Settled.NEEDS_REFUND
        order.rehold_stock(now)
        uow.announce(
            DomainEvent.of(
                "payment.late_capture", now, order_id=order.id, intent_id=order.intent_id
            )
        )
    order.settle(amount, now)
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
    # In this transaction, and only on the transition: the confirm call, the webhook and the
    # jobs all end here, and only the first one to mark the order paid gets this far.
    queue_order_confirmation(uow, order, now)
    return Settled.PAID


def _owe_capture_back(uow: UnitOfWork, order: Order, amount: Money, now: datetime) -> None:
    refund = order.capture_without_stock(amount, new_id("re"), now)
    uow.audit.append(
        AuditEntry(
            id=new_id("aud"),
            at=now,
            actor=SYSTEM_ACTOR,
            action="refund.requested",
            target=f"order:{order.id}",
            details={
                "refund_id": refund.id,
                "amount": refund.amount.amount,
                "currency": refund.amount.currency,
                "reason": refund.reason,
            },
        )
    )
    uow.announce(
        DomainEvent.alert(
            "alert.captured_payment_needs_refund",
            now,
            order_id=order.id,
            intent_id=order.intent_id,
            gateway=order.gateway,
            refund_id=refund.id,
            amount=amount.amount,
            currency=amount.currency,
        )
    )


def apply_intent(
    uow: UnitOfWork,
    order: Order,
    intent: PaymentIntent,
    now: datetime,
    *,
    intent_closed: bool,
    ip: str | None = None,
) -> tuple[ConfirmOutcome, dict[str, Any]]:
    """Record what the gateway says about ``order``'s intent (the order locked by the caller);
    returns (outcome, extra body). ``intent_closed``: a declined intent was cancelled at the
    gateway already; if not, the order is left marked to have it cancelled. ``ip``: the
    shopper's address, carried by a decline's event (card testing is watched per address)."""
    if intent.status is IntentStatus.SUCCEEDED:
        match settle_order(uow, order, intent.amount, now):
            case Settled.PAID:
                return ConfirmOutcome.PAID, {}
            case Settled.ALREADY:
                return ConfirmOutcome.ALREADY_PAID, {}
            case Settled.NEEDS_REFUND:
                return ConfirmOutcome.REFUNDING, {
                    "detail": "the payment was taken, but the order could not be completed "
                    "(its stock is gone); the payment is being refunded"
                }
    if intent.declined:
        code = intent.decline_code or "declined"
        end_unpaid(uow, order, code, now, failed=True, cancel_intent=not intent_closed)
        uow.announce(
            DomainEvent.of(
                "payment.declined",
                now,
                order_id=order.id,
                user_id=order.user_id,
                decline_code=intent.decline_code,
                ip=ip,
            )
        )
        return ConfirmOutcome.DECLINED, {
            "decline_code": intent.decline_code,
            "message": intent.decline_message or "Your card was declined.",
        }
    if intent.status is IntentStatus.REQUIRES_ACTION:
        action = intent.action
        return ConfirmOutcome.REQUIRES_ACTION, {
            "status": "requires_action",
            "client_secret": action.client_secret if action else intent.client_secret,
            "next_action": action.to_primitive() if action else None,
        }
    if intent.status is IntentStatus.CANCELED:
        end_unpaid(uow, order, "intent_canceled", now, failed=False)
        return ConfirmOutcome.CANCELED, {}
    return ConfirmOutcome.PROCESSING, {"status": intent.status.value}


def end_unpaid(
    uow: UnitOfWork,
    order: Order,
    code: str,
    now: datetime,
    *,
    failed: bool,
    cancel_intent: bool = False,
) -> bool:
    """Fail (``failed=True``) or cancel an order awaiting payment and give its hold back;
    ``cancel_intent`` marks its gateway intent to be cancelled (``settle_gateway_work``).

    ``False`` and no change if the order had already moved on (a stale event, a second call).
    """
    if failed:
        ended = order.fail_payment(code, now, cancel_intent=cancel_intent)
    else:
        ended = order.cancel(code, now, cancel_intent=cancel_intent)
    if ended:
        give_back(uow, order, now)
    return ended


def settle_gateway_work(
    order_id: str, *, uow: UnitOfWork, gateways: GatewayRegistry, clock: Clock, events: EventSink
) -> None:
    """Ask the order's gateway for what the order still owes it, outside any transaction:
    cancel the intent of an order that ended unpaid, then request the refunds whose outcome the
    gateway has not told yet (a capture owed back; a refund whose call failed or was cut off).

    Idempotent and safe to run concurrently (every gateway call repeats the same key). What the
    gateway cannot do now stays recorded for the next run.
    """
    with publishing(uow, events, clock):
        with uow:
            order = uow.orders.get(order_id)
        if order is None:
            return
        if order.intent_to_cancel and order.intent_id is not None:
            _close_intent(
                order, order.intent_id, uow=uow, gateways=gateways, clock=clock, events=events
            )
        request_owed_refunds(order_id, uow=uow, gateways=gateways, clock=clock)


def _close_intent(
    order: Order,
    intent_id: str,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
) -> None:
    try:
        intent = gateways.get(order.gateway).cancel_intent(
            intent_id, idempotency_key=f"close-{order.id}"
        )
    except GatewayUnavailable as error:
        # Not a state change: the order stays marked and the next run tries again.
        events.emit("payment.intent_cancel_postponed", order_id=order.id, error=str(error)[:200])
        return
    except GatewayError as error:
        # A definitive refusal (no such intent, one the gateway cannot cancel any more): there
        # is nothing to cancel. Should it still capture, its webhook settles it as a late capture.
        intent = None
        events.emit("payment.intent_cancel_refused", order_id=order.id, error=str(error)[:200])
    with uow:
        locked = uow.orders.get(order.id, for_update=True)
        if locked is None:  # pragma: no cover - orders are never deleted
            return
        now = clock.now()
        if intent is not None and intent.status is IntentStatus.SUCCEEDED:
            settle_order(uow, locked, intent.amount, now)  # paid after all, or owed back
        locked.intent_closed(now)
        uow.orders.save(locked)
        uow.commit()


def catch_up_with_gateway(
    order_id: str, *, uow: UnitOfWork, gateways: GatewayRegistry, clock: Clock, events: EventSink
) -> None:
    """What the gateway knows and the shop does not (a webhook lost on the way): an intent of an
    order awaiting payment that succeeded or was canceled there, and the outcome of refunds the
    gateway called pending. Idempotent; what cannot be asked now is asked by the next run."""
    with publishing(uow, events, clock):
        with uow:
            order = uow.orders.get(order_id)
        if order is None:
            return
        if order.is_payable and order.intent_id is not None:
            try:
                intent = gateways.get(order.gateway).get_intent(order.intent_id)
            except GatewayError:
                intent = None
            if intent is not None and intent.status in (
                IntentStatus.SUCCEEDED,
                IntentStatus.CANCELED,
            ):
                with uow:
                    locked = uow.orders.get(order_id, for_update=True)
                    if locked is not None and locked.is_payable:
                        now = clock.now()
                        if intent.status is IntentStatus.SUCCEEDED:
                            settle_order(uow, locked, intent.amount, now)
                        else:
                            end_unpaid(uow, locked, "intent_canceled", now, failed=False)
                        uow.orders.save(locked)
                        uow.commit()
        refresh_pending_refunds(order_id, uow=uow, gateways=gateways, clock=clock)
