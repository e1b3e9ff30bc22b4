"""Refunding an order, partially or fully, idempotently and never past what was captured.

Three steps, so no transaction is open while the gateway is called: (1) under the order's row
lock, check what remains and add a *pending* refund, which already counts against the remainder;
(2) ask the order's gateway, with an Idempotency-Key derived from the refund id; (3) under the
lock again, record the gateway's answer. If the process dies between (1) and (3), or the gateway
cannot be reached, the pending refund keeps its amount reserved; a retry with the same key, or
the reconciliation job (``request_owed_refunds``), asks again with the same gateway key.

Staff refunds come through ``refund_order``. The shop refunds by itself a capture it cannot turn
into a paid order (``settlement``): that refund is recorded in step (1) by the settlement, and
steps (2) and (3) are ``request_owed_refunds``, shared with the recovery of staff refunds.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import attrs

from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.idempotency import IDEMPOTENCY_LEASE
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, OrderStatus, Refund, RefundStatus
from commerce_core.domain.payments import GatewayRefund, GatewayRefundStatus
from commerce_core.errors import (
    GatewayError,
    GatewayUnavailable,
    InvalidInput,
    NotFound,
)
from commerce_core.ports import Clock, EventSink, GatewayRegistry, UnitOfWork
from commerce_core.use_cases._idempotent import IdempotentRequest, Result
from commerce_core.use_cases._publishing import publishing
from commerce_core.use_cases.notifications import queue_refund_message
from commerce_core.use_cases.outcomes import RefundOutcome
from commerce_core.views import order_view, refund_view

__all__ = [
    "MAX_REASON",
    "SYSTEM_ACTOR",
    "RefundOrder",
    "refresh_pending_refunds",
    "refund_gateway_key",
    "refund_order",
    "request_owed_refunds",
]

MAX_REASON = 500
# Who the audit log names for what the shop did by itself (automatic refunds).
SYSTEM_ACTOR = "system"


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


@attrs.frozen
class _Target:
    """Where a refund goes: the order's gateway and intent, as read under the lock."""

    order_id: str
    gateway: str
    intent_id: str


def refund_order(
    command: RefundOrder,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
) -> Result[RefundOutcome]:
    """Refund ``amount`` (default: all that remains) of a paid order - or of one that owes its
    capture back, should the shop's own refund have been refused.

    Outcomes ``SUCCEEDED``, ``PENDING`` (the gateway will tell by webhook) or ``FAILED``, each
    with body ``{refund, order}``. Raises ``NotFound``, ``OrderNotRefundable``,
    ``RefundExceedsCaptured``, ``InvalidInput``, ``IdempotencyKeyReused``, ``GatewayError``
    (refused: nothing refunded, the key is free again), ``GatewayUnavailable`` (unknown: the
    amount stays reserved, and a retry with the same key or the reconciliation job finishes it).
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

    with publishing(uow, events, clock):
        try:
            refund, target = _reserve(command, idem, uow, clock)
        except Exception as error:
            idem.release_after(error)
            raise
        try:
            answer = _ask_gateway(gateways, target, refund)
        except GatewayUnavailable:
            # Whether the gateway refunded is unknown: the refund stays pending (its amount
            # reserved) and the key in progress, so a retry after the lease resumes it with the
            # same gateway key - never two refunds.
            raise
        except GatewayError as refused:
            # A definitive refusal: nothing was refunded, so the amount is freed and the key too.
            with uow:
                order = _locked(uow, target.order_id)
                _record_refusal(uow, order, refund, clock.now(), command.actor_id, str(refused))
                uow.idempotency.delete(idem.record)
                uow.commit()
            raise
        with uow:
            order = _locked(uow, target.order_id)
            final = _record_answer(uow, order, refund, answer, clock.now(), command.ip)
            result = idem.finish(uow, RefundOutcome(final.status.value), _body(final, order))
            uow.commit()
    return result


def request_owed_refunds(
    order_id: str,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    at_once: Collection[str] = (),
) -> None:
    """Ask the gateway for the order's refunds whose outcome it never told us: the capture the
    shop owes back, and staff refunds whose call failed or was cut off (once their request's
    idempotency lease ran out, so as not to race a request still running). Same gateway key as
    the first attempt, so a refund that did go through is answered, not repeated.

    ``at_once``: refunds to ask for now, lease or not - the caller just recorded them and no
    other request is asking for them.

    Events go to ``uow``: the caller publishes them.
    """
    with uow:
        order = uow.orders.get(order_id)
    if order is None:
        return
    now = clock.now()
    owed = [
        refund
        for refund in order.refunds
        if refund.status is RefundStatus.PENDING
        and refund.gateway_refund_id is None
        and (
            refund.requested_by is None
            or refund.id in at_once
            or now - refund.created_at > IDEMPOTENCY_LEASE
        )
    ]
    target = _Target(order.id, order.gateway, order.intent_id or "")
    for refund in owed:
        try:
            answer = _ask_gateway(gateways, target, refund)
        except GatewayUnavailable:
            continue  # still unknown: the next run asks again
        except GatewayError as refused:
            with uow:
                locked = _locked(uow, order_id)
                actor = refund.requested_by or SYSTEM_ACTOR
                _record_refusal(uow, locked, refund, clock.now(), actor, str(refused))
                uow.commit()
            continue
        with uow:
            _record_answer(uow, _locked(uow, order_id), refund, answer, clock.now(), None)
            uow.commit()


def refresh_pending_refunds(
    order_id: str, *, uow: UnitOfWork, gateways: GatewayRegistry, clock: Clock
) -> None:
    """Ask the gateway how the order's refunds it called pending ended (their webhook may
    have been lost), and record what it says. Events go to ``uow``: the caller publishes."""
    with uow:
        order = uow.orders.get(order_id)
    if order is None or order.intent_id is None:
        return
    for refund in order.refunds:
        if refund.status is not RefundStatus.PENDING or refund.gateway_refund_id is None:
            continue
        try:
            answer = gateways.get(order.gateway).get_refund(
                order.intent_id, refund.gateway_refund_id
            )
        except GatewayError:
            continue  # unknown now, out of reach, or not configured: the next run asks again
        if answer.status is GatewayRefundStatus.PENDING:
            continue
        with uow:
            _record_answer(uow, _locked(uow, order_id), refund, answer, clock.now(), None)
            uow.commit()


def _ask_gateway(gateways: GatewayRegistry, target: _Target, refund: Refund) -> GatewayRefund:
    return gateways.get(target.gateway).refund(
        target.intent_id, amount=refund.amount, idempotency_key=refund_gateway_key(refund.id)
    )


def _record_answer(
    uow: UnitOfWork,
    order: Order,
    refund: Refund,
    answer: GatewayRefund,
    now: datetime,
    ip: str | None,
) -> Refund:
    """Step (3): what the gateway answered, under the order's lock; audited and announced."""
    if answer.status is GatewayRefundStatus.SUCCEEDED:
        if order.complete_refund(refund.id, answer.id, now):
            queue_refund_message(uow, order, refund.id, now)
    elif answer.status is GatewayRefundStatus.FAILED:
        order.fail_refund(refund.id, now, answer.id)
    else:
        _note_gateway_id(order, refund.id, answer.id)
    uow.orders.save(order)
    final = order.find_refund(refund.id) or refund
    actor = final.requested_by or SYSTEM_ACTOR
    action = f"refund.{final.status.value}"
    _audit(uow, order, final, action, actor, now, ip, gateway_refund_id=answer.id)
    uow.announce(
        DomainEvent.of(
            action,
            now,
            order_id=order.id,
            refund_id=final.id,
            amount=final.amount.amount,
            currency=final.amount.currency,
            actor_id=actor,
        )
    )
    return final


def _record_refusal(
    uow: UnitOfWork, order: Order, refund: Refund, now: datetime, actor: str, reason: str
) -> None:
    order.fail_refund(refund.id, now)
    uow.orders.save(order)
    _audit(uow, order, refund, "refund.refused", actor, now, None, gateway_error=reason)
    if order.status is OrderStatus.NEEDS_REFUND:
        # The shop owes this money back and the gateway would not take it: people must act.
        uow.announce(
            DomainEvent.alert(
                "alert.refund_refused",
                now,
                order_id=order.id,
                refund_id=refund.id,
                amount=refund.amount.amount,
                currency=refund.amount.currency,
                error=reason[:200],
            )
        )


def _audit(
    uow: UnitOfWork,
    order: Order,
    refund: Refund,
    action: str,
    actor: str,
    now: datetime,
    ip: str | None,
    **details: object,
) -> None:
    uow.audit.append(
        AuditEntry(
            id=new_id("aud"),
            at=now,
            actor=actor,
            action=action,
            target=f"order:{order.id}",
            ip=ip,
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
) -> tuple[Refund, _Target]:
    """Step (1), or on a takeover of an abandoned request the refund it already reserved."""
    with uow:
        order = _locked(uow, command.order_id)
        target = _Target(order.id, order.gateway, order.intent_id or "")
        resumed = order.find_refund(idem.record.resource_id) if idem.record.resource_id else None
        if resumed is not None:
            # A takeover: the same refund, asked again with the same gateway key.
            return resumed, target
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
        _audit(
            uow, order, refund, "refund.requested", command.actor_id, now, command.ip,
            reason=command.reason,
        )  # fmt: skip
        # Counted per staff member by the suspicious activity monitor (refund velocity).
        uow.announce(
            DomainEvent.of(
                "refund.requested",
                now,
                order_id=order.id,
                refund_id=refund.id,
                amount=refund.amount.amount,
                currency=refund.amount.currency,
                actor_id=command.actor_id,
                ip=command.ip,
            )
        )
        uow.commit()
        return refund, target


def _note_gateway_id(order: Order, refund_id: str, gateway_refund_id: str) -> None:
    refund = order.find_refund(refund_id)
    if refund is not None and refund.gateway_refund_id is None:
        refund.gateway_refund_id = gateway_refund_id


def _body(refund: Refund, order: Order) -> dict[str, Any]:
    return {"refund": refund_view(refund), "order": order_view(order)}
