"""Releasing stock holds whose time ran out.

For each expired order, the gateway's intent is cancelled first (outside any transaction): if the
gateway says the intent already succeeded, the shopper paid in time and the order is settled;
otherwise the order is cancelled and its stock given back. Cancelling first closes the race in
which a payment succeeds just after its stock was released.
"""

from __future__ import annotations

import attrs

from commerce_core.domain.payments import IntentStatus, PaymentIntent
from commerce_core.errors import GatewayError
from commerce_core.ports import Clock, EventSink, GatewayRegistry, UnitOfWork
from commerce_core.use_cases._publishing import publishing
from commerce_core.use_cases.settlement import Settled, end_unpaid, settle_order

__all__ = ["ReleaseReport", "release_expired_holds"]


@attrs.frozen
class ReleaseReport:
    released: int = 0
    settled: int = 0
    failed: int = 0


def release_expired_holds(
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
    batch_size: int = 100,
) -> ReleaseReport:
    with publishing(uow, events, clock):
        return _release(uow, gateways, clock, events, batch_size)


def _release(
    uow: UnitOfWork, gateways: GatewayRegistry, clock: Clock, events: EventSink, batch_size: int
) -> ReleaseReport:
    released = settled = failed = 0
    with uow:
        order_ids = uow.orders.expired_holds(clock.now(), batch_size)
    for order_id in order_ids:
        with uow:
            order = uow.orders.get(order_id)
            if order is None or not order.is_payable or order.hold_expires_at > clock.now():
                continue
            intent_id, gateway_name = order.intent_id, order.gateway
        intent: PaymentIntent | None = None
        if intent_id is not None:
            try:
                gateway = gateways.get(gateway_name)
                intent = gateway.cancel_intent(intent_id, idempotency_key=f"expire-{order_id}")
            except GatewayError as exc:
                events.emit("holds.cancel_failed", order_id=order_id, error=str(exc))
                failed += 1
                continue
        with uow:
            order = uow.orders.get(order_id, for_update=True)
            if order is None or not order.is_payable:
                continue
            now = clock.now()
            if intent is not None and intent.status is IntentStatus.SUCCEEDED:
                # Its stock is still held: the shopper paid in time, and the order is paid.
                if settle_order(uow, order, intent.amount, now) is Settled.PAID:
                    uow.orders.save(order)
                    settled += 1
            elif end_unpaid(uow, order, "hold_expired", now, failed=False):
                uow.orders.save(order)
                released += 1
            uow.commit()
    if released or settled or failed:
        events.emit("holds.released", released=released, settled=settled, failed=failed)
    return ReleaseReport(released=released, settled=settled, failed=failed)
