"""Refunding a paid order, partially or fully, idempotently and never past what was captured.

Three steps, so no transaction is open while the gateway is called: (1) under the order's row
lock, check what remains and add a *pending* refund, which already counts against the remainder;
(2) ask the gateway, with an Idempotency-Key derived from the refund id; (3) under the lock again,
record the gateway's answer. If the process dies between (1) and (3), the pending refund keeps
its amount reserved and a retry with the same key resumes it with the same gateway key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, Refund
from commerce_core.domain.payments import GatewayRefundStatus
from commerce_core.errors import (
    CommerceError,
    GatewayError,
    GatewayUnavailable,
    InvalidInput,
    NotFound,
)
from commerce_core.ports import Clock, EventSink, PaymentGateway, UnitOfWork
from commerce_core.use_cases._idempotent import IdempotentRequest, Result
from commerce_core.use_cases._publishing import publish_committed
from commerce_core.use_cases.outcomes import RefundOutcome
from commerce_core.views import order_view, refund_view

__all__ = ["MAX_REASON", "RefundOrder", "refund_gateway_key", "refund_order"]

MAX_REASON = 500


@attrs.frozen
class RefundOrder:
    actor_id: str
    order_id: str
    # Money, or an int of minor units in the order's own currency (what HTTP clients send);
    # None refunds everything that remains.
    amount: Money | int | None
    idempotency_key: str
    reason: str = ""
    ip: str | None = None


def refund_gateway_key(refund_id: str) -> str:
    """The Idempotency-Key our refund request carries; gateways echo it back in refund events."""
    return f"refund-{refund_id}"


def refund_order(
    command: RefundOrder,
    *,
    uow: UnitOfWork,
    gateway: PaymentGateway,
    clock: Clock,
    events: EventSink,
) -> Result[RefundOutcome]:
    """Refund ``amount`` (default: all that remains) of a paid order.

    Outcomes ``"succeeded"``, ``"pending"`` (the gateway will tell by webhook) or ``"failed"``,
    each with body ``{refund, order}``. Raises ``NotFound``, ``OrderNotRefundable``,
    ``RefundExceedsCaptured``, ``InvalidInput``, ``IdempotencyKeyReused``, ``GatewayError``.
    """
    if len(command.reason) > MAX_REASON:
        raise InvalidInput.for_field("reason", f"must be at most {MAX_REASON} characters")
    idem = IdempotentRequest(
        uow,
        clock,
        RefundOutcome,
        user_id=command.actor_id,
        scope="refund",
        key=command.idempotency_key,
        request={
            "order_id": command.order_id,
            "amount": (
                command.amount.to_primitive()
                if isinstance(command.amount, Money)
                else command.amount
            ),
            "reason": command.reason,
        },
    )
    replay = idem.begin()
    if replay is not None:
        return replay

    try:
        refund, intent_id = _reserve(command, idem, uow, clock)
    except CommerceError:
        idem.abandon()
        raise

    try:
        answer = gateway.refund(
            intent_id, amount=refund.amount, idempotency_key=refund_gateway_key(refund.id)
        )
    except GatewayUnavailable:
        # Whether the gateway refunded is unknown: the refund stays pending (its amount
        # reserved) and the key in progress, so a retry after the lease resumes it with the
        # same gateway key - never two refunds.
        raise
    except GatewayError as refused:
        # A definitive refusal: nothing was refunded, so the amount is freed and the key too.
        _record_refusal(command, refund, idem, uow, clock, str(refused))
        raise

    with uow:
        order = _locked(uow, command.order_id)
        now = clock.now()
        if answer.status is GatewayRefundStatus.SUCCEEDED:
            order.complete_refund(refund.id, answer.id, now)
        elif answer.status is GatewayRefundStatus.FAILED:
            order.fail_refund(refund.id, now, answer.id)
        else:
            _note_gateway_id(order, refund.id, answer.id)
        uow.orders.save(order)
        final = order.find_refund(refund.id) or refund
        _audit(
            uow, command, f"refund.{final.status.value}", final, now, gateway_refund_id=answer.id
        )
        result = idem.finish(uow, RefundOutcome(final.status.value), _body(final, order))
        uow.announce(
            DomainEvent.of(
                "refund." + final.status.value,
                now,
                order_id=order.id,
                refund_id=final.id,
                amount=final.amount.amount,
                currency=final.amount.currency,
                actor_id=command.actor_id,
            )
        )
        uow.commit()
    publish_committed(uow, events, clock)
    return result


def _record_refusal(
    command: RefundOrder,
    refund: Refund,
    idem: IdempotentRequest[RefundOutcome],
    uow: UnitOfWork,
    clock: Clock,
    reason: str,
) -> None:
    with uow:
        order = _locked(uow, command.order_id)
        now = clock.now()
        order.fail_refund(refund.id, now)
        uow.orders.save(order)
        _audit(uow, command, "refund.refused", refund, now, gateway_error=reason)
        uow.idempotency.delete(idem.record)
        uow.commit()


def _audit(
    uow: UnitOfWork,
    command: RefundOrder,
    action: str,
    refund: Refund,
    now: datetime,
    **details: object,
) -> None:
    uow.audit.append(
        AuditEntry(
            id=new_id("aud"),
            at=now,
            actor=command.actor_id,
            action=action,
            target=f"order:{command.order_id}",
            ip=command.ip,
            details={
                "refund_id": refund.id,
                "amount": refund.amount.amount,
                "currency": refund.amount.currency,
                **details,
            },
        )
    )


def _locked(uow: UnitOfWork, order_id: str) -> Order:
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def _reserve(
    command: RefundOrder, idem: IdempotentRequest[RefundOutcome], uow: UnitOfWork, clock: Clock
) -> tuple[Refund, str]:
    with uow:
        order = _locked(uow, command.order_id)
        resumed = order.find_refund(idem.record.resource_id) if idem.record.resource_id else None
        if resumed is not None:
            # A takeover: the same refund, asked again with the same gateway key.
            return resumed, order.intent_id or ""
        now = clock.now()
        amount = command.amount
        if amount is not None and not isinstance(amount, Money):
            if type(amount) is not int:
                raise InvalidInput.for_field("amount", "must be an integer of minor units")
            amount = Money(amount, order.currency)
        refund = order.request_refund(
            refund_id=new_id("re"),
            amount=amount,
            reason=command.reason,
            requested_by=command.actor_id,
            now=now,
        )
        uow.orders.save(order)
        idem.record.resource_id = refund.id
        uow.idempotency.save(idem.record)
        _audit(uow, command, "refund.requested", refund, now, reason=command.reason)
        uow.commit()
        return refund, order.intent_id or ""


def _note_gateway_id(order: Order, refund_id: str, gateway_refund_id: str) -> None:
    refund = order.find_refund(refund_id)
    if refund is not None and refund.gateway_refund_id is None:
        refund.gateway_refund_id = gateway_refund_id


def _body(refund: Refund, order: Order) -> dict[str, Any]:
    return {"refund": refund_view(refund), "order": order_view(order)}
