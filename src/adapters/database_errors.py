"""What a database error may say in a log line or an error report: never a value from a row.

PostgreSQL quotes values back in its errors: a unique violation says ``DETAIL: Key
(email)=(ada@example.com) already exists``, a NOT NULL or CHECK violation ``DETAIL: Failing row
contains (...)`` - the whole row, password hash included - and some messages quote the offending
input (``invalid input syntax for type integer: "..."``). psycopg puts all of it in the
exception's text, SQLAlchemy's exception repeats that text (and appends the bound parameters
unless the engine hides them), and exception texts are what logs and Sentry record.

``withheld_texts(error)`` pairs the text of every database error in an exception's chain with a
description that keeps what is safe and useful - the error's class, the SQLSTATE, the names of
the constraint, table and column (psycopg's structured diagnostics), SQLite's message (which
names a constraint or column, never a value), the server's message for errors about connections,
locks, resources and schema objects (no row in them), and the SQL statement (its values are bound
parameters, never inlined). ``withhold`` and ``withhold_in`` swap them in a text or in any nested
structure; the log renderers and Sentry's ``before_send`` apply them (``adapters.observability``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.exc import StatementError

__all__ = ["describe_database_error", "withheld_texts", "withhold", "withhold_in"]

# SQLSTATE classes whose server message names no value: connection (08), transaction rollback
# such as deadlocks (40), syntax and access rules (42), insufficient resources (53), operator
# intervention (57), system errors (58). Data exceptions (22) and integrity violations (23) -
# the ones that quote values - and everything else get no message at all.
_MESSAGE_IS_SAFE = frozenset({"08", "40", "42", "53", "57", "58"})
_MAX_DEPTH = 20
_MAX_CHAIN = 200

Replacements = Sequence[tuple[str, str]]


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # a broken __str__ must not break logging
        return ""


def _qualified(error: BaseException) -> str:
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}"


def _is_psycopg(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] == "psycopg"


def _describe_psycopg(error: BaseException) -> str:
    diag = getattr(error, "diag", None)
    sqlstate = getattr(diag, "sqlstate", None)
    if not sqlstate:
        # Raised on the client (a refused connection, a closed pool): no server row in it.
        return _text(error)
    parts = [f"SQLSTATE {sqlstate}"]
    for label, attribute in (
        ("constraint", "constraint_name"),
        ("table", "table_name"),
        ("column", "column_name"),
        ("type", "datatype_name"),
    ):
        name = getattr(diag, attribute, None)
        if name:
            parts.append(f"{label} {name}")
    primary = getattr(diag, "message_primary", None)
    if primary and sqlstate[:2] in _MESSAGE_IS_SAFE:
        parts.append(str(primary))
    else:
        parts.append("the server's message is withheld: it may quote row values")
    return "; ".join(parts)


def describe_database_error(error: BaseException) -> str | None:
    """A description of ``error`` that holds no row or parameter value, or ``None`` if it is not
    a database error."""
    if isinstance(error, StatementError):
        orig = error.orig
        if isinstance(orig, BaseException):
            reason = describe_database_error(orig) or "its message is withheld"
            head = f"({_qualified(orig)}) {reason}"
        else:
            head = type(error).__name__
        return f"{head}\n[SQL: {error.statement}]"
    if _is_psycopg(error):
        return _describe_psycopg(error)
    if isinstance(error, sqlite3.Error):
        return _text(error)
    return None


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """``error``, its causes and contexts, and the members of exception groups, each once."""
    seen: set[int] = set()
    pending = [error]
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend((current.__cause__, current.__context__))
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)


def withheld_texts(error: BaseException | None) -> list[tuple[str, str]]:
    """``(text, safe text)`` for every database error around ``error``, longest text first (an
    outer error's text contains its cause's)."""
    pairs: dict[str, str] = {}
    for current in _chain(error):
        safe = describe_database_error(current)
        if safe is not None:
            raw = _text(current)
            if raw and raw != safe:
                pairs[raw] = safe
        if isinstance(current, StatementError) and isinstance(current.orig, BaseException):
            orig = current.orig
            if describe_database_error(orig) is None:
                # Raised while binding a parameter (a TypeError, a ValueError): it may quote it.
                pairs.setdefault(_text(orig), f"{_qualified(orig)}: its message is withheld")
    pairs.pop("", None)
    return sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)


def withhold(text: str, replacements: Replacements) -> str:
    for raw, safe in replacements:
        if raw in text:
            text = text.replace(raw, safe)
    return text


def withhold_in(value: Any, replacements: Replacements, _depth: int = 0) -> Any:
    """A copy of ``value`` (strings, and dicts, lists and tuples of them) with ``withhold``
    applied to every string in it."""
    if not replacements or _depth > _MAX_DEPTH:
        return value
    if isinstance(value, str):
        return withhold(value, replacements)
    if isinstance(value, dict):
        return {k: withhold_in(v, replacements, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [withhold_in(v, replacements, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(withhold_in(v, replacements, _depth + 1) for v in value)
    return value
