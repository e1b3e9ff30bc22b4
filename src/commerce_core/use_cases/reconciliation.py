"""The periodic jobs that finish what a request could not: nothing is left half done for long.

``reconcile_payments`` (``commerce jobs reconcile``, every minute) asks the gateways for what
orders still owe them - intents to cancel, captures to refund, refunds whose outcome is unknown -
and publishes durable events a crash left unpublished. ``purge_idempotency_records`` (``commerce
jobs purge-idempotency-keys``, hourly) forgets stored answers past their retention.

Both are idempotent and safe to run from several hosts at once: every gateway call repeats the
key of its first attempt, and every state change happens under the order's row lock.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from commerce_core.domain.idempotency import IDEMPOTENCY_RETENTION
from commerce_core.ports import Clock, EventSink, GatewayRegistry, UnitOfWork
from commerce_core.use_cases._publishing import publish_stored_events
from commerce_core.use_cases.settlement import settle_gateway_work

__all__ = ["ReconciliationReport", "purge_idempotency_records", "reconcile_payments"]


@attrs.frozen
class ReconciliationReport:
    orders_followed_up: int
    still_owing: int  # orders the gateways could not serve this time (the next run retries)
    events_republished: int


def reconcile_payments(
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
    batch_size: int = 100,
) -> ReconciliationReport:
    """One pass over the orders that still owe their gateway a call, then the outbox."""
    with uow:
        owing = uow.orders.owing_gateway_work(batch_size)
    for order_id in owing:
        settle_gateway_work(order_id, uow=uow, gateways=gateways, clock=clock, events=events)
    with uow:
        still = len(set(owing) & set(uow.orders.owing_gateway_work(batch_size)))
    republished = publish_stored_events(uow, events, clock, batch_size=batch_size)
    report = ReconciliationReport(len(owing), still, republished)
    if owing or republished:
        events.emit("jobs.reconciled", **attrs.asdict(report))
    return report


def purge_idempotency_records(
    *, uow: UnitOfWork, clock: Clock, retention: timedelta = IDEMPOTENCY_RETENTION
) -> int:
    """Forget idempotency records older than ``retention`` (at least the promised 24 hours);
    returns how many. A key older than that is a new request to us, as it is to Stripe."""
    if retention < IDEMPOTENCY_RETENTION:
        raise ValueError(f"keys are promised to be kept at least {IDEMPOTENCY_RETENTION}")
    with uow:
        purged = uow.idempotency.purge_older_than(clock.now() - retention)
        uow.commit()
    return purged
