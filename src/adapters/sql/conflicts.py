"""Uniqueness conflicts on both databases: ``INSERT ... ON CONFLICT`` and reading a violation.

Shared by the repositories and by the fake payment gateway's tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

__all__ = ["insert_on_conflict", "violates"]


def insert_on_conflict(dialect: str, table: Table) -> Any:
    """An ``INSERT`` into ``table`` offering ``on_conflict_do_nothing/do_update``, for the
    dialect named ``dialect`` (``connection.dialect.name``); build it once per dialect.

    PostgreSQL and SQLite (3.24+) both have ``INSERT ... ON CONFLICT``; SQLAlchemy exposes it
    through each dialect's own ``insert`` with the same API. (Typed ``Any`` because the two
    dialects' ``Insert`` classes share no base that declares those methods.)
    """
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(  # pragma: no cover - only the two supported databases
        f"INSERT ... ON CONFLICT is not wired for {dialect}"
    )


def violates(error: IntegrityError, column: Column[Any]) -> bool:
    """Whether ``error`` is a duplicate of ``column``'s unique constraint (or primary key).

    PostgreSQL reports the constraint's name, which our naming convention derives from the
    column (``uq_orders_intent_id``, ``pk_orders``); SQLite's message names the column
    (``UNIQUE constraint failed: orders.intent_id``).
    """
    table = column.table.name
    expected = f"pk_{table}" if column.primary_key else f"uq_{table}_{column.name}"
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if isinstance(constraint, str):
        return constraint == expected
    prefix, _, columns = str(error.orig).partition(":")
    return prefix == "UNIQUE constraint failed" and f"{table}.{column.name}" in {
        c.strip() for c in columns.split(",")
    }
