"""Column types that make SQLite and PostgreSQL hand back the same Python values.

SQLite has no timestamp type: SQLAlchemy stores a ``DateTime`` as ISO text and drops the tzinfo,
so an aware datetime written in goes out naive, and comparing it with ``clock.now()`` then raises
``TypeError``. ``UtcDateTime`` stores every instant as UTC and always returns it aware (UTC), on
both databases, so the domain never sees a naive datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UtcDateTime"]


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that refuses naive values and always reads back UTC-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive datetime is ambiguous; guessing its zone is how timestamps go wrong.
            raise ValueError(f"naive datetime {value!r} refused: pass a timezone-aware UTC time")
        utc: datetime = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored as text without an offset; a fixed zone (UTC) keeps it sortable and comparable.
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - the impl type parses it
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
