"""``SqlJobLeases``: which of the shop's processes runs a periodic job this time.

Every serving process runs the same scheduler; before each run it asks for the job's lease.
Taking it is one conditional ``UPDATE`` (free, or expired, or already ours), so of several
processes asking at once exactly one gets it, on SQLite and PostgreSQL alike. A process that
dies holding a lease loses it when it expires: the jobs are idempotent, so a late second run
does no harm - the lease only spares the database the duplicate work.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.engine import Engine

from adapters.sql.conflicts import insert_on_conflict
from adapters.sql.tables import job_leases as leases

__all__ = ["SqlJobLeases"]

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@functools.cache
def _ensure_statement(dialect: str) -> Any:
    return insert_on_conflict(dialect, leases).on_conflict_do_nothing(index_elements=["name"])


class SqlJobLeases:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take ``name``'s lease until ``now + ttl`` if it is free, expired or ``holder``'s."""
        with self._engine.begin() as connection:
            connection.execute(
                _ensure_statement(connection.dialect.name).values(
                    name=name, holder="", leased_until=_NEVER
                )
            )
            taken = connection.execute(
                leases.update()
                .where(
                    leases.c.name == name,
                    or_(leases.c.leased_until <= now, leases.c.holder == holder),
                )
                .values(holder=holder, leased_until=now + ttl)
            )
            return taken.rowcount == 1

    def release(self, name: str, holder: str) -> None:
        """Give the lease back early (a process shutting down)."""
        with self._engine.begin() as connection:
            connection.execute(
                leases.update()
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(leased_until=_NEVER)
            )
