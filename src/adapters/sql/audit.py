"""``SqlAuditLog``: the hash-chained, append-only audit trail.

Appending reads the last entry's hash and inserts an entry chained to it; two transactions doing
that at once would both chain to the same predecessor and fork the chain. So appends are
serialised: on PostgreSQL by a transaction-scoped advisory lock (held until commit or rollback,
never blocking anything but other appends); on SQLite by ``BEGIN IMMEDIATE``, which already lets
one writer in at a time. The unique ``prev_hash`` column is the backstop: a fork cannot be stored.

Take the append lock last in a transaction - after any order or product row - as every use case
does (the audit entry is written just before commit); taking it first somewhere and a row lock
after it could deadlock against a refund.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import attrs
from sqlalchemy import RowMapping, func, select
from sqlalchemy.engine import Connection

from adapters.sql.tables import audit_log
from commerce_core import GENESIS_HASH, AuditEntry

__all__ = ["AUDIT_APPEND_LOCK", "SqlAuditLog"]

# An arbitrary application-wide constant naming "the audit chain" for pg_advisory_xact_lock.
AUDIT_APPEND_LOCK = 0x61756469745F6C67  # "audit_lg"

# The statements of every append, built once; the entry comes as the execution's parameters.
_APPEND_LOCK = select(func.pg_advisory_xact_lock(AUDIT_APPEND_LOCK))
_LAST_HASH = select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
_INSERT = audit_log.insert()


def _entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        ip=row["ip"],
        details=row["details"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _as_stored(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` as they will read back from the JSON column.

    The hash must be computed over exactly what is stored, or ``verify_chain`` fails on the
    entries read back: values JSON cannot hold are stored as their ``str`` (as the content hash
    already treats them).
    """
    stored: dict[str, Any] = json.loads(json.dumps(details, default=str))
    return stored


class SqlAuditLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, entry: AuditEntry) -> AuditEntry:
        """Seal ``entry`` onto the chain and store it; returns the sealed entry."""
        if self._connection.dialect.name == "postgresql":
            self._connection.execute(_APPEND_LOCK)
        last = self._connection.execute(_LAST_HASH).scalar_one_or_none()
        # Normalised to what reads back (UTC, JSON) so the stored hash verifies later.
        entry = attrs.evolve(entry, at=entry.at.astimezone(UTC), details=_as_stored(entry.details))
        sealed = entry.chained_to(last or GENESIS_HASH)
        self._connection.execute(
            _INSERT,
            {
                "id": sealed.id,
                "at": sealed.at,
                "actor": sealed.actor,
                "action": sealed.action,
                "target": sealed.target,
                "ip": sealed.ip,
                "details": sealed.details,
                "prev_hash": sealed.prev_hash,
                "hash": sealed.hash,
            },
        )
        return sealed

    def list(self, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        """Newest first, and the number of entries."""
        rows = self._connection.execute(
            select(audit_log).order_by(audit_log.c.seq.desc()).offset(offset).limit(limit)
        ).mappings()
        entries = [_entry(row) for row in rows]
        total = self._connection.execute(select(func.count()).select_from(audit_log)).scalar_one()
        return entries, total

    def all(self) -> Sequence[AuditEntry]:
        """The whole chain, oldest first (for ``verify_chain``)."""
        rows = self._connection.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()
        return [_entry(row) for row in rows]

    def for_target(self, target: str) -> Sequence[AuditEntry]:
        """Oldest first (in chain order)."""
        rows = self._connection.execute(
            select(audit_log).where(audit_log.c.target == target).order_by(audit_log.c.seq)
        ).mappings()
        return [_entry(row) for row in rows]
