"""``SqlEventOutbox``: durable domain events, stored with the change they report.

``add`` runs inside the announcing use case's transaction (``SqlUnitOfWork.announce``), so an
event is stored exactly when its change commits; ``mark_published`` runs after the event reached
the sink, and ``unpublished`` is what a crash in between left for the republishing job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, bindparam, func, select, update
from sqlalchemy.engine import Connection

from adapters.sql.tables import event_outbox
from commerce_core import DomainEvent

__all__ = ["SqlEventOutbox"]

_INSERT = event_outbox.insert()
_MARK = (
    update(event_outbox)
    .where(
        event_outbox.c.id.in_(bindparam("ids", expanding=True)),
        event_outbox.c.published_at.is_(None),
    )
    .values(published_at=bindparam("at"))
)


def _event(row: RowMapping) -> DomainEvent:
    return DomainEvent(
        id=row["id"],
        name=row["name"],
        occurred_at=row["occurred_at"],
        fields=row["fields"],
        durable=True,
    )


class SqlEventOutbox:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, event: DomainEvent) -> None:
        self._connection.execute(
            _INSERT,
            {
                "id": event.id,
                "name": event.name,
                "is_alert": event.is_alert,
                "fields": event.fields,
                "occurred_at": event.occurred_at,
                "published_at": None,
            },
        )

    def unpublished(self, before: datetime, limit: int) -> list[DomainEvent]:
        rows = self._connection.execute(
            select(event_outbox)
            .where(event_outbox.c.published_at.is_(None), event_outbox.c.occurred_at < before)
            .order_by(event_outbox.c.occurred_at, event_outbox.c.id)
            .limit(limit)
        ).mappings()
        return [_event(row) for row in rows]

    def mark_published(self, event_ids: Sequence[str], at: datetime) -> None:
        if event_ids:
            self._connection.execute(_MARK, {"ids": list(event_ids), "at": at})

    def alerts(self, offset: int, limit: int) -> tuple[list[DomainEvent], int]:
        alerts = event_outbox.c.is_alert.is_(True)
        rows = self._connection.execute(
            select(event_outbox)
            .where(alerts)
            .order_by(event_outbox.c.occurred_at.desc(), event_outbox.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).mappings()
        total = self._connection.execute(
            select(func.count()).select_from(event_outbox).where(alerts)
        ).scalar_one()
        return [_event(row) for row in rows], total
