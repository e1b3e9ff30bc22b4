"""Creating the SQLAlchemy ``Engine`` for SQLite (the embedded default) or PostgreSQL.

SQLite is one file locked as a whole. By default the ``sqlite3`` driver starts a deferred
transaction that takes the write lock only at its first write; two such transactions that both
read first then deadlock on the lock upgrade and one fails at once with "database is locked" -
a double click on "pay" would be a 500. So every transaction here is ``BEGIN IMMEDIATE``: it takes
the write lock up front, and a concurrent one waits for it (up to ``busy_timeout``) instead of
failing. WAL lets readers outside transactions (``ping``) proceed meanwhile. That is the
documented SQLAlchemy recipe: the driver's own BEGIN is switched off on connect and the engine's
"begin" event emits ours.

PostgreSQL gets a pool with pre-ping (a server restart or an idle timeout on a proxy does not
turn into errors on the next request), recycling, and READ COMMITTED stated explicitly, because
the repositories rely on its semantics (a ``SELECT ... FOR UPDATE`` that waited sees the row as
committed by the transaction it waited for; ``INSERT ... ON CONFLICT`` waits for a concurrent
inserter).

Every engine hides bound parameters from its errors (``hide_parameters``): by default a failing
statement's exception text ends in ``[parameters: ...]``, the values themselves - password
hashes, token hashes, emails - and exception texts end up in logs and error reports. Values the
database itself quotes back (PostgreSQL's ``DETAIL: Key (email)=(...)``) are withheld where
errors are rendered (``adapters.observability``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, cast

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool, StaticPool

__all__ = ["ENGINE_DEFAULTS", "SQLITE_BUSY_TIMEOUT_MS", "make_engine", "normalise_url", "ping"]

SQLITE_BUSY_TIMEOUT_MS = 15_000
# For every backend; ``make_engine``'s keywords may override them (a debugging session may want
# the parameters back, on purpose and locally).
ENGINE_DEFAULTS: dict[str, Any] = {"hide_parameters": True}
POSTGRES_POOL_DEFAULTS: dict[str, Any] = {
    "pool_size": 10,
    "max_overflow": 10,
    "pool_timeout": 30,
    "pool_pre_ping": True,
    # Below the usual idle timeouts of managed databases and connection proxies.
    "pool_recycle": 1800,
    "isolation_level": "READ COMMITTED",
}


def normalise_url(url: str) -> str:
    """Point plain ``postgres://`` / ``postgresql://`` URLs (as hosting platforms hand them out)
    at the psycopg 3 driver; anything else is returned unchanged."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


def make_engine(url: str | URL, **kw: Any) -> Engine:
    """An engine for ``url``, configured for this application; ``kw`` overrides the defaults
    and is passed on to ``sqlalchemy.create_engine`` (e.g. ``pool_size=60`` for a load test)."""
    parsed = make_url(normalise_url(url) if isinstance(url, str) else url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, kw)
    if backend == "postgresql":
        options = {**ENGINE_DEFAULTS, **POSTGRES_POOL_DEFAULTS, **kw}
        poolclass = options.get("poolclass")
        if poolclass is not None and not issubclass(poolclass, QueuePool):
            # NullPool (e.g. for a one-off migration) has no size to set.
            for sizing in ("pool_size", "max_overflow", "pool_timeout"):
                options.pop(sizing)
        return create_engine(parsed, **options)
    return create_engine(parsed, **{**ENGINE_DEFAULTS, **kw})


def ping(engine: Engine) -> None:
    """Raise (a ``sqlalchemy.exc.DBAPIError``) unless the database answers: the readiness probe.

    On SQLite the query runs outside any transaction: a transaction there is ``BEGIN
    IMMEDIATE`` and would make the probe queue behind a busy writer.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            cursor = connection.connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        else:
            connection.exec_driver_sql("SELECT 1")


def _is_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def _sqlite_engine(url: URL, kw: dict[str, Any]) -> Engine:
    memory = _is_memory(url)
    options: dict[str, Any]
    if memory:
        # One connection for the engine's life: each new connection would be a new empty database.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        database = url.database or ""
        if not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    engine = create_engine(url, **{**ENGINE_DEFAULTS, **options, **kw})

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        connection = cast(sqlite3.Connection, dbapi_connection)
        # Hand transaction control to SQLAlchemy (see on_begin): the driver emits no BEGIN.
        connection.isolation_level = None
        cursor = connection.cursor()
        try:
            # busy_timeout first: switching to WAL may itself have to wait for a lock.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # Safe with WAL (no corruption on power loss, only the last commits may roll back).
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine
