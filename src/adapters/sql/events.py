"""``SqlProcessedEventRepository``: which gateway events (webhooks) have been acted on.

The row is inserted in the same transaction as the event's effect, so a duplicate delivery -
even one racing the first on another worker - finds the row (or waits for it on the primary key)
and changes nothing, while a delivery whose processing failed left no row and is processed when
the gateway retries it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from adapters.sql.conflicts import insert_on_conflict
from adapters.sql.tables import processed_events
from commerce_core import GatewayEvent

__all__ = ["SqlProcessedEventRepository"]


@functools.cache
def _record_statement(dialect: str) -> Any:
    """Built once per dialect; the row comes as the execution's parameters."""
    return (
        insert_on_conflict(dialect, processed_events)
        .on_conflict_do_nothing(
            index_elements=[processed_events.c.gateway, processed_events.c.event_id]
        )
        # SQLAlchemy reports an INSERT's rowcount only when asked to.
        .execution_options(preserve_rowcount=True)
    )


class SqlProcessedEventRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def record(self, event: GatewayEvent, received_at: datetime) -> bool:
        """``True`` if this (gateway, event id) is new; ``False`` for a duplicate delivery."""
        row = {
            "gateway": event.gateway,
            "event_id": event.id,
            "kind": event.kind.value,
            "intent_id": event.intent_id,
            "received_at": received_at,
        }
        insert = _record_statement(self._connection.dialect.name)
        return bool(self._connection.execute(insert, row).rowcount == 1)
