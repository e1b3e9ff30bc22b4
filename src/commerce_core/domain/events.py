"""Domain events: facts about the shop, announced once the transaction that made them true commits.

A use case announces an event on its unit of work (``uow.announce``) inside the transaction that
makes it true. The unit of work keeps it until ``commit()``; a rollback drops it, so no log line,
metric or alert ever tells of something that did not happen. After the transaction, the use case
hands the committed events to the ``EventSink``.

Most events only feed logs and metrics, and losing one to a crash between commit and publish
costs nothing. A *durable* event is one that matters later - an alert that staff must act on, a
captured payment that must be refunded, a security event - and is also stored in the outbox, in
the same transaction: it survives that crash, and a job publishes what was left unpublished.

    >>> from datetime import UTC, datetime
    >>> DomainEvent.alert("alert.webhook_amount_mismatch", datetime(2026, 1, 1, tzinfo=UTC),
    ...                   order_id="ord_1").durable
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from commerce_core.domain.ids import new_id

__all__ = ["ALERT_PREFIX", "DomainEvent"]

ALERT_PREFIX = "alert."


def _plain(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fields as plain JSON values, so that a stored event reads back equal to the announced one."""
    plain: dict[str, Any] = json.loads(json.dumps(dict(fields), default=str))
    return plain


@attrs.frozen
class DomainEvent:
    id: str
    name: str
    occurred_at: datetime
    fields: dict[str, Any] = attrs.field(factory=dict, converter=_plain)
    # Stored in the outbox in the announcing transaction (alerts and other events that matter
    # later), so that a crash between commit and publish does not lose it.
    durable: bool = False

    @classmethod
    def of(cls, name: str, now: datetime, /, **fields: object) -> DomainEvent:
        """An event for logs and metrics."""
        return cls(new_id("evt"), name, now, fields)

    @classmethod
    def kept(cls, name: str, now: datetime, /, **fields: object) -> DomainEvent:
        """A durable event: stored with the change it reports."""
        return cls(new_id("evt"), name, now, fields, durable=True)

    @classmethod
    def alert(cls, name: str, now: datetime, /, **fields: object) -> DomainEvent:
        """An alert for staff (``alert.*``): always durable."""
        if not name.startswith(ALERT_PREFIX):
            raise ValueError(f"an alert's name starts with {ALERT_PREFIX!r}: {name!r}")
        return cls.kept(name, now, **fields)

    @property
    def is_alert(self) -> bool:
        return self.name.startswith(ALERT_PREFIX)
