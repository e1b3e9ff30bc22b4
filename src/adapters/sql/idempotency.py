"""``SqlIdempotencyRepository``: the stored first answers to money-moving requests.

``claim`` is one ``INSERT ... ON CONFLICT (user_id, scope, key) DO NOTHING``: whichever of two
concurrent duplicates inserts first owns the key; the primary key, not a lock plus a lookup,
decides. On PostgreSQL (READ COMMITTED) the loser's insert waits until the winner's transaction
ends, and the ``SELECT`` that follows sees the winner's committed row. On SQLite ``BEGIN
IMMEDIATE`` has serialised the two transactions already.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, select
from sqlalchemy.engine import Connection

from adapters.sql.conflicts import insert_on_conflict
from adapters.sql.tables import idempotency_records as records
from commerce_core import IdempotencyRecord, IdempotencyState

__all__ = ["SqlIdempotencyRepository"]

# A claim whose competitor vanished between our INSERT and our SELECT (it was abandoned and
# deleted in between) tries again; twice in a row would take a pathological scheduler.
_CLAIM_ATTEMPTS = 3


_KEY = (records.c.user_id, records.c.scope, records.c.key)
_UPDATED = ("fingerprint", "state", "outcome", "response", "resource_id", "locked_at")
_GET = select(records).where(
    records.c.user_id == bindparam("u"),
    records.c.scope == bindparam("s"),
    records.c.key == bindparam("k"),
)
_GET_FOR_UPDATE = _GET.with_for_update()


# Each dialect's INSERT ... ON CONFLICT statements, built once per dialect; the row's values
# are the execution's parameters.
@functools.cache
def _claim_statement(dialect: str) -> Any:
    return (
        insert_on_conflict(dialect, records)
        .on_conflict_do_nothing(index_elements=list(_KEY))
        # SQLAlchemy reports an INSERT's rowcount only when asked to.
        .execution_options(preserve_rowcount=True)
    )


@functools.cache
def _save_statement(dialect: str) -> Any:
    upsert = insert_on_conflict(dialect, records)
    return upsert.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={name: getattr(upsert.excluded, name) for name in _UPDATED},
    )


def _values(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        "user_id": record.user_id,
        "scope": record.scope,
        "key": record.key,
        "fingerprint": record.fingerprint,
        "state": record.state.value,
        "outcome": record.outcome,
        "response": record.response,
        "resource_id": record.resource_id,
        "created_at": record.created_at,
        "locked_at": record.locked_at,
    }


def _record(row: RowMapping) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=row["user_id"],
        scope=row["scope"],
        key=row["key"],
        fingerprint=row["fingerprint"],
        state=IdempotencyState(row["state"]),
        created_at=row["created_at"],
        locked_at=row["locked_at"],
        outcome=row["outcome"],
        response=row["response"],
        resource_id=row["resource_id"],
    )


class SqlIdempotencyRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """``None`` if ``record`` was inserted (the caller owns the key), else the existing one."""
        insert = _claim_statement(self._connection.dialect.name)
        values = _values(record)
        for _ in range(_CLAIM_ATTEMPTS):
            if self._connection.execute(insert, values).rowcount == 1:
                return None
            existing = self.get(record.user_id, record.scope, record.key)
            if existing is not None:
                return existing
        raise RuntimeError(  # pragma: no cover - see _CLAIM_ATTEMPTS
            f"could not claim idempotency key {record.key!r}: it keeps appearing and vanishing"
        )

    def get(
        self, user_id: str, scope: str, key: str, *, for_update: bool = False
    ) -> IdempotencyRecord | None:
        query = _GET_FOR_UPDATE if for_update else _GET
        row = (
            self._connection.execute(query, {"u": user_id, "s": scope, "k": key}).mappings().first()
        )
        return None if row is None else _record(row)

    def save(self, record: IdempotencyRecord) -> None:
        """Write the record back; an upsert, so saving one that was purged meanwhile restores it."""
        statement = _save_statement(self._connection.dialect.name)
        self._connection.execute(statement, _values(record))

    def delete(self, record: IdempotencyRecord) -> None:
        self._connection.execute(
            records.delete().where(
                records.c.user_id == record.user_id,
                records.c.scope == record.scope,
                records.c.key == record.key,
            )
        )

    def purge_older_than(self, cutoff: datetime) -> int:
        """Delete records created before ``cutoff`` (served by the created_at index)."""
        return self._connection.execute(
            records.delete().where(records.c.created_at < cutoff)
        ).rowcount
