"""The periodic jobs that finish what a request could not: nothing is left half done for long.

``reconcile_payments`` (``commerce jobs reconcile``, every minute) asks the gateways for what
orders still owe them - intents to cancel, captures to refund, refunds whose outcome is unknown -
and what they know that the shop does not (a capture or a refund outcome whose webhook was
lost), releases expired holds, and publishes durable events a crash left unpublished. ``purge_idempotency_records`` (``commerce
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
from commerce_core.use_cases.holds import release_expired_holds
from commerce_core.use_cases.settlement import catch_up_with_gateway, settle_gateway_work

__all__ = ["ReconciliationReport", "purge_idempotency_records", "reconcile_payments"]


# A webhook normally arrives within seconds; an order still awaiting payment after this long
# may have lost its own, and the gateway is asked (until its hold expires).
ASK_AFTER = timedelta(minutes=5)


@attrs.frozen
class ReconciliationReport:
    orders_followed_up: int
    still_owing: int  # orders the gateways could not serve this time (the next run retries)
    orders_caught_up: int  # orders the gateways were asked about
    holds_released: int
    events_republished: int


def reconcile_payments(
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
    batch_size: int = 100,
) -> ReconciliationReport:
    """One pass: what orders owe their gateway, what the gateways know, expired holds, then
    the outbox."""
    with uow:
        owing = uow.orders.owing_gateway_work(batch_size)
    for order_id in owing:
        settle_gateway_work(order_id, uow=uow, gateways=gateways, clock=clock, events=events)
    with uow:
        still = len(set(owing) & set(uow.orders.owing_gateway_work(batch_size)))
        waiting = uow.orders.awaiting_gateway_word(clock.now() - ASK_AFTER, batch_size)
    for order_id in waiting:
        catch_up_with_gateway(order_id, uow=uow, gateways=gateways, clock=clock, events=events)
    released = release_expired_holds(
        uow=uow, gateways=gateways, clock=clock, events=events, batch_size=batch_size
    )
    republished = publish_stored_events(uow, events, clock, batch_size=batch_size)
    report = ReconciliationReport(
        orders_followed_up=len(owing),
        still_owing=still,
        orders_caught_up=len(waiting),
        holds_released=released.released,
        events_republished=republished,
    )
    if any(attrs.astuple(report)):
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
