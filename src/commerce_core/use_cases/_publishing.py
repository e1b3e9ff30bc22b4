"""Handing committed domain events to the ``EventSink`` - after the commit, never before.

Every use case that announces events runs its body inside ``publishing(uow, events, clock)``:
whatever happens (an answer, an error half-way through its transactions), what its committed
transactions announced is published when it ends, and what a rolled-back one announced never is.
Durable events are then marked published; one that a crash kept from being published is sent
by ``publish_stored_events`` (a reconciliation job), so it reaches the sink at least once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from commerce_core.domain.events import DomainEvent
from commerce_core.ports import Clock, EventSink, UnitOfWork

__all__ = ["PUBLISH_GRACE", "publish_committed", "publish_stored_events", "publishing"]

# A stored event younger than this may still be on its way through the use case that stored
# it; the job leaves it to that use case instead of publishing it a second time.
PUBLISH_GRACE = timedelta(minutes=1)


@contextmanager
def publishing(uow: UnitOfWork, sink: EventSink, clock: Clock) -> Iterator[None]:
    try:
        yield
    finally:
        publish_committed(uow, sink, clock)


def publish_committed(uow: UnitOfWork, sink: EventSink, clock: Clock) -> None:
    """Publish what ``uow``'s committed transactions announced and nobody collected yet."""
    _publish(uow.collect_new_events(), uow, sink, clock)


def publish_stored_events(
    uow: UnitOfWork, sink: EventSink, clock: Clock, *, batch_size: int = 100
) -> int:
    """Publish durable events a crash left unpublished (older than ``PUBLISH_GRACE``); how many."""
    with uow:
        waiting = uow.outbox.unpublished(clock.now() - PUBLISH_GRACE, batch_size)
    _publish(waiting, uow, sink, clock)
    return len(waiting)


def _publish(
    announced: Sequence[DomainEvent], uow: UnitOfWork, sink: EventSink, clock: Clock
) -> None:
    for event in announced:
        sink.emit(event.name, **event.fields)
    durable = [event.id for event in announced if event.durable]
    if not durable:
        return
    try:
        with uow:
            uow.outbox.mark_published(durable, clock.now())
            uow.commit()
    except Exception as error:
        # The events did reach the sink; failing the use case now would report an error for
        # work that is done. Left marked unpublished, they are published once more by the job.
        sink.emit("events.mark_published_failed", count=len(durable), error=type(error).__name__)
