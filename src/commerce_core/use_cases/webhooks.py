"""Acting on a verified gateway event (webhook), whatever order and however often it arrives.

The event id is stored (unique) in the same transaction as the effect, so a duplicate delivery
changes nothing and a failed one is retried by the gateway. Only forward transitions happen:
``payment_failed`` after ``succeeded`` is ignored; ``succeeded`` after a confirm is a no-op; a
refund event for a refund we do not (yet) know is recorded and ignored. A signed event is the
gateway's word, but only about the orders paid through that gateway, and its amount and
currency must still match the order, else nothing is paid and an alert is raised.

A failure reported by webhook fails the order and gives its stock back, and then cancels the
intent at the gateway (after the commit, never inside it), so that a retry on the same intent -
another card in the same browser tab - cannot capture behind the shop's back. Should a capture
arrive anyway, it is settled like any late capture: paid if its stock can be held again, else
refunded automatically.
"""

from __future__ import annotations

from datetime import datetime

from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, Refund, RefundStatus
from commerce_core.domain.payments import EventKind, GatewayEvent
from commerce_core.errors import RetryLater
from commerce_core.ports import Clock, EventSink, GatewayRegistry, UnitOfWork
from commerce_core.use_cases._publishing import publishing
from commerce_core.use_cases.notifications import queue_refund_message
from commerce_core.use_cases.outcomes import EventOutcome
from commerce_core.use_cases.refunds import refund_gateway_key
from commerce_core.use_cases.settlement import (
    Settled,
    end_unpaid,
    settle_gateway_work,
    settle_order,
)

__all__ = ["handle_gateway_event"]


def handle_gateway_event(
    event: GatewayEvent,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
) -> EventOutcome:
    """Apply one verified gateway event; ``DUPLICATE`` for an event id seen before.

    ``PROCESSED`` when it changed the order, ``IGNORED`` when it had nothing to change (stale,
    unknown intent, a kind the shop does not act on), ``REJECTED`` when it contradicts the order
    (another gateway's word, another amount) - stored as an alert for staff.
    """
    with publishing(uow, events, clock), uow:
        if not uow.processed_events.record(event, clock.now()):
            return EventOutcome.DUPLICATE
        order = (
            uow.orders.get_by_intent(event.intent_id, for_update=True)
            if event.intent_id and event.kind is not EventKind.IGNORED
            else None
        )
        if order is None:
            if event.kind is not EventKind.IGNORED:
                uow.announce(
                    DomainEvent.of(
                        "webhook.unknown_intent",
                        clock.now(),
                        event_id=event.id,
                        intent_id=event.intent_id,
                    )
                )
            uow.commit()
            return EventOutcome.IGNORED
        outcome = _apply(event, order, uow, clock.now())
        uow.orders.save(order)
        uow.commit()
    if order.owes_gateway_work:
        # The webhook is answered either way; what the gateway cannot do now, the job does.
        settle_gateway_work(order.id, uow=uow, gateways=gateways, clock=clock, events=events)
    return outcome


def _apply(event: GatewayEvent, order: Order, uow: UnitOfWork, now: datetime) -> EventOutcome:
    if event.gateway != order.gateway:
        # Signed by one gateway, about an order paid through another: not its word to give.
        uow.announce(
            DomainEvent.alert(
                "alert.webhook_from_another_gateway",
                now,
                event_id=event.id,
                order_id=order.id,
                order_gateway=order.gateway,
                event_gateway=event.gateway,
            )
        )
        return EventOutcome.REJECTED
    match event.kind:
        case EventKind.PAYMENT_SUCCEEDED:
            if event.amount != order.total:
                uow.announce(
                    DomainEvent.alert(
                        "alert.webhook_amount_mismatch",
                        now,
                        event_id=event.id,
                        order_id=order.id,
                        expected=order.total.amount,
                        expected_currency=order.currency,
                        got=None if event.amount is None else event.amount.amount,
                        got_currency=None if event.amount is None else event.amount.currency,
                    )
                )
                return EventOutcome.REJECTED
            settled = settle_order(uow, order, event.amount, now)
            return EventOutcome.IGNORED if settled is Settled.ALREADY else EventOutcome.PROCESSED
        case EventKind.PAYMENT_FAILED:
            code = event.decline_code or event.kind.value
            # The intent may still be payable (another card in the same browser): cancel it.
            if not end_unpaid(uow, order, code, now, failed=True, cancel_intent=True):
                return EventOutcome.IGNORED  # stale: the order already moved on
            return EventOutcome.PROCESSED
        case EventKind.PAYMENT_CANCELED:
            if not end_unpaid(uow, order, event.kind.value, now, failed=False):
                return EventOutcome.IGNORED
            return EventOutcome.PROCESSED
        case EventKind.REFUND_SUCCEEDED | EventKind.REFUND_FAILED:
            return _apply_refund_event(event, order, uow, now)
        case EventKind.DISPUTE_OPENED | EventKind.DISPUTE_CLOSED:
            return _apply_dispute_event(event, order, uow, now)
        case _:
            return EventOutcome.IGNORED


def _apply_refund_event(
    event: GatewayEvent, order: Order, uow: UnitOfWork, now: datetime
) -> EventOutcome:
    refund = _find_refund(order, event)
    external = _external_refund(event, order) if refund is None else None
    if external is not None:
        return _record_external_refund(*external, order, uow, now)
    if refund is None:
        uow.announce(
            DomainEvent.of(
                "webhook.unknown_refund",
                now,
                event_id=event.id,
                order_id=order.id,
                refund_id=event.refund_id,
            )
        )
        return EventOutcome.IGNORED
    if event.amount is not None and event.amount != refund.amount:
        # Signed, but not what we asked for: trust neither side blindly; staff decide.
        uow.announce(
            DomainEvent.alert(
                "alert.webhook_refund_amount_mismatch",
                now,
                event_id=event.id,
                order_id=order.id,
                refund_id=refund.id,
                expected=refund.amount.amount,
                expected_currency=refund.amount.currency,
                got=event.amount.amount,
                got_currency=event.amount.currency,
            )
        )
        return EventOutcome.REJECTED
    gateway_id = event.refund_id or refund.gateway_refund_id or ""
    if event.kind is EventKind.REFUND_SUCCEEDED:
        if refund.status is RefundStatus.FAILED:
            uow.announce(
                DomainEvent.alert(
                    "alert.refund_succeeded_after_failure",
                    now,
                    order_id=order.id,
                    refund_id=refund.id,
                )
            )
            return EventOutcome.IGNORED
        changed = order.complete_refund(refund.id, gateway_id, now)
        if changed:
            queue_refund_message(uow, order, refund.id, now)
    else:
        changed = order.fail_refund(refund.id, now, event.refund_id)
    return EventOutcome.PROCESSED if changed else EventOutcome.IGNORED


def _external_refund(event: GatewayEvent, order: Order) -> tuple[str, Money] | None:
    """The gateway's refund id and amount of a refund that succeeded there and is none of
    ours (made in its dashboard); ``None`` if the event is not about such a refund."""
    if event.kind is not EventKind.REFUND_SUCCEEDED or not event.refund_id:
        return None
    if event.amount is None or order.captured is None:
        return None
    if any(r.status is RefundStatus.PENDING and r.gateway_refund_id is None for r in order.refunds):
        # One of ours is in flight and has not stored the gateway's id yet: this event may be
        # about it. The transaction rolls back, the event stays unrecorded, the gateway
        # redelivers it, and by then our refund knows its id.
        raise RetryLater(f"order {order.id} has a refund in flight; deliver this event later")
    return event.refund_id, event.amount


def _record_external_refund(
    gateway_refund_id: str, amount: Money, order: Order, uow: UnitOfWork, now: datetime
) -> EventOutcome:
    refund = order.record_external_refund(new_id("re"), gateway_refund_id, amount, now)
    queue_refund_message(uow, order, refund.id, now)
    details = {
        "refund_id": refund.id,
        "gateway_refund_id": gateway_refund_id,
        "amount": refund.amount.amount,
        "currency": refund.amount.currency,
    }
    uow.audit.append(
        AuditEntry(
            id=new_id("aud"),
            at=now,
            actor=f"gateway:{order.gateway}",
            action="refund.external",
            target=f"order:{order.id}",
            details=details,
        )
    )
    # Money went back without the shop asking: someone must see who, and why.
    uow.announce(DomainEvent.alert("alert.external_refund", now, order_id=order.id, **details))
    return EventOutcome.PROCESSED


def _apply_dispute_event(
    event: GatewayEvent, order: Order, uow: UnitOfWork, now: datetime
) -> EventOutcome:
    amount = None if event.amount is None else event.amount.amount
    fields = {"order_id": order.id, "amount": amount, "status": event.decline_code}
    if event.kind is EventKind.DISPUTE_OPENED:
        if not order.open_dispute(now):
            return EventOutcome.IGNORED
        uow.announce(DomainEvent.alert("alert.payment_disputed", now, **fields))
        return EventOutcome.PROCESSED
    if not order.close_dispute(now):
        return EventOutcome.IGNORED
    if event.decline_code == "lost":
        uow.announce(DomainEvent.alert("alert.dispute_lost", now, **fields))
    else:
        uow.announce(DomainEvent.of("payment.dispute_closed", now, **fields))
    return EventOutcome.PROCESSED


def _find_refund(order: Order, event: GatewayEvent) -> Refund | None:
    if event.refund_id:
        found = order.find_refund_by_gateway_id(event.refund_id)
        if found is not None:
            return found
    if event.refund_key:
        return next(
            (r for r in order.refunds if refund_gateway_key(r.id) == event.refund_key), None
        )
    return None
