"""``SqlAttemptStore``: the core's ``AttemptStore`` (login-failure counters) in the shop's own
database, for deployments without Redis - every app instance shares it.

Each call is its own short transaction. A change first makes sure the row exists (``INSERT ...
ON CONFLICT DO NOTHING``), then reads it ``FOR UPDATE`` and writes the new state: on PostgreSQL
the row lock serialises concurrent failures of one key, on SQLite ``BEGIN IMMEDIATE`` serialises
the transactions; either way none is lost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.engine import Connection, Engine

from adapters.sql.conflicts import insert_on_conflict
from adapters.sql.tables import login_attempts as attempts
from commerce_core import AttemptState

__all__ = ["SqlAttemptStore"]


@functools.cache
def _ensure_statement(dialect: str) -> Any:
    return insert_on_conflict(dialect, attempts).on_conflict_do_nothing(index_elements=["key"])


def _state(row: RowMapping | None) -> AttemptState:
    if row is None:
        return AttemptState()
    return AttemptState(row["failures"], row["locked_until"], row["lockouts"])


class SqlAttemptStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, key: str) -> AttemptState:
        with self._engine.begin() as connection:
            row = (
                connection.execute(select(attempts).where(attempts.c.key == key)).mappings().first()
            )
        return _state(row)

    def add_failure(self, key: str, now: datetime, window: timedelta) -> AttemptState:
        def counted(row: RowMapping) -> dict[str, Any]:
            started = row["window_started_at"]
            if started is None or now >= started + window:
                return {"failures": 1, "window_started_at": now}
            return {"failures": row["failures"] + 1}

        return self._change(key, now, counted)

    def lock(self, key: str, until: datetime, now: datetime, *, extend: bool) -> AttemptState:
        def locked(row: RowMapping) -> dict[str, Any]:
            current = row["locked_until"]
            if current is not None and now < current and not extend:
                return {}
            return {
                "locked_until": until,
                "lockouts": row["lockouts"] + 1,
                "failures": 0,
                "window_started_at": None,
            }

        return self._change(key, now, locked)

    def clear(self, key: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(attempts.delete().where(attempts.c.key == key))

    def clear_prefix(self, prefix: str) -> int:
        with self._engine.begin() as connection:
            # autoescape: a % or _ in the prefix is itself, not a wildcard.
            doomed = attempts.c.key.startswith(prefix, autoescape=True)
            return connection.execute(attempts.delete().where(doomed)).rowcount

    def delete_idle(self, before: datetime) -> int:
        """Forget counters nobody touched since ``before`` (a purge job's)."""
        with self._engine.begin() as connection:
            return connection.execute(
                attempts.delete().where(attempts.c.updated_at < before)
            ).rowcount

    def _change(
        self, key: str, now: datetime, change: Callable[[RowMapping], dict[str, Any]]
    ) -> AttemptState:
        with self._engine.begin() as connection:
            row = self._locked_row(connection, key, now)
            values = change(row)
            if values:
                connection.execute(
                    attempts.update().where(attempts.c.key == key).values(**values, updated_at=now)
                )
            merged = {**row, **values}
        return AttemptState(merged["failures"], merged["locked_until"], merged["lockouts"])

    def _locked_row(self, connection: Connection, key: str, now: datetime) -> RowMapping:
        connection.execute(
            _ensure_statement(connection.dialect.name).values(
                key=key,
                failures=0,
                window_started_at=None,
                locked_until=None,
                lockouts=0,
                updated_at=now,
            )
        )
        return (
            connection.execute(select(attempts).where(attempts.c.key == key).with_for_update())
            .mappings()
            .one()
        )
