"""Staff ship a paid order, or cancel one before it ships (refunding it and restocking).

``fulfil_order`` records the carrier and tracking number under the order's row lock, moves the
order to ``fulfilled``, audits it and queues the shipping notice in the same transaction.
Fulfilling again with the same parcel changes nothing (a double click is harmless).

``cancel_paid_order`` owes the shopper everything not yet refunded (one pending refund) and puts
the sold units back in the catalog, in one transaction under the order's lock then the
products' (the shop's one lock order); then, outside any transaction, asks the gateway for the
refund (``settle_gateway_work``, idempotent by the refund's id). If the gateway cannot be
reached, the reconciliation job asks again; the order is ``needs_refund`` until the gateway
refunded it, then ``cancelled``.
"""

from __future__ import annotations

import attrs

from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.orders import Order
from commerce_core.domain.permissions import Permission
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ports import Clock, EventSink, GatewayRegistry, UnitOfWork
from commerce_core.use_cases._publishing import publish_committed, publishing
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
from commerce_core.use_cases.notifications import queue_shipped_message
from commerce_core.use_cases.refunds import MAX_REASON, request_owed_refunds
from commerce_core.use_cases.stock import put_back_lines
from commerce_core.views import order_view

__all__ = ["CancelPaidOrder", "FulfilOrder", "cancel_paid_order", "fulfil_order"]

MAX_CARRIER = 100
MAX_TRACKING = 100


@attrs.frozen
class FulfilOrder:
    actor_id: str
    order_id: str
    carrier: str
    tracking_number: str
    ip: str | None = None


@attrs.frozen
class CancelPaidOrder:
    actor_id: str
    order_id: str
    reason: str = ""
    ip: str | None = None


def _text(field: str, value: object, longest: int, errors: list[FieldError]) -> str:
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        errors.append(FieldError(field, "must be printable text"))
        return ""
    if len(value.strip()) > longest:
        errors.append(FieldError(field, f"must be at most {longest} characters"))
    return value.strip()


def _locked(uow: UnitOfWork, order_id: str) -> Order:
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def fulfil_order(
    command: FulfilOrder, *, uow: UnitOfWork, clock: Clock, events: EventSink
) -> dict[str, object]:
    """Mark a paid order shipped; the order's view. ``PermissionDenied`` without
    ``orders:fulfil``, ``NotFound``, ``IllegalTransition`` for an order that cannot ship (not
    paid, already shipped with another parcel, cancelled), ``InvalidInput``."""
    errors: list[FieldError] = []
    carrier = _text("carrier", command.carrier, MAX_CARRIER, errors)
    tracking = _text("tracking_number", command.tracking_number, MAX_TRACKING, errors)
    if errors:
        raise InvalidInput(errors=errors)
    now = clock.now()
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.ORDERS_FULFIL)
        order = _locked(uow, command.order_id)
        if order.fulfil(carrier, tracking, now):
            uow.orders.save(order)
            audit_staff_action(
                uow,
                now,
                actor,
                "order.fulfilled",
                f"order:{order.id}",
                command.ip,
                carrier=carrier,
                tracking_number=tracking,
            )
            queue_shipped_message(uow, order, now)
            uow.announce(
                DomainEvent.kept("order.fulfilled", now, order_id=order.id, actor_id=actor.id)
            )
        view = order_view(order)
        uow.commit()
    publish_committed(uow, events, clock)
    return view


def cancel_paid_order(
    command: CancelPaidOrder,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
) -> dict[str, object]:
    """Cancel a paid order before it ships: refund what remains, restock its units; the order's
    view once the gateway was asked. ``PermissionDenied`` without ``orders:refund``,
    ``NotFound``, ``IllegalTransition`` (not paid, or already shipped: refund a return instead)."""
    if not isinstance(command.reason, str) or len(command.reason) > MAX_REASON:
        raise InvalidInput.for_field("reason", f"must be at most {MAX_REASON} characters")
    now = clock.now()
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.ORDERS_REFUND)
        order = _locked(uow, command.order_id)
        refund, returned = order.cancel_paid(new_id("re"), actor.id, now)
        put_back_lines(uow, returned, now)
        uow.orders.save(order)
        audit_staff_action(
            uow,
            now,
            actor,
            "order.cancelled_by_staff",
            f"order:{order.id}",
            command.ip,
            reason=command.reason,
            refund_id=None if refund is None else refund.id,
            amount=None if refund is None else refund.amount.amount,
            currency=order.currency,
            units_returned=sum(line.quantity for line in returned),
        )
        uow.announce(
            DomainEvent.kept("order.cancelled_by_staff", now, order_id=order.id, actor_id=actor.id)
        )
        uow.commit()
    publish_committed(uow, events, clock)
    if refund is not None:
        # Recorded just now, by this request alone: ask the gateway at once (same key as any
        # later retry, so it cannot refund twice); the reconciliation job retries what fails.
        with publishing(uow, events, clock):
            request_owed_refunds(
                order.id, uow=uow, gateways=gateways, clock=clock, at_once=(refund.id,)
            )
    with uow:
        final = uow.orders.get(order.id)
        view = order_view(final if final is not None else order)
    return view
