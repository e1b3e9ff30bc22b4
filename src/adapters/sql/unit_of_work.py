"""``SqlUnitOfWork``: one database transaction per ``with`` block, on a connection of its own.

Use cases open several short transactions in a row on one unit of work (no transaction may stay
open while the payment gateway is called), so the object is re-enterable: every ``with uow:``
checks a connection out of the engine's pool, begins a transaction and binds fresh repositories
to it; ``commit()`` commits; leaving the block rolls back whatever was not committed and returns
the connection. After ``commit()`` the block may go on: the next statement begins a new
transaction (SQLAlchemy's commit-as-you-go), which the end of the block rolls back if uncommitted.

It holds per-block state, so it is not thread-safe: make one per request or per thread (they are
cheap; the engine and its pool are what is shared).
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy.engine import Connection, Engine

from adapters.sql.accounts import SqlSessionRepository, SqlUserRepository
from adapters.sql.audit import SqlAuditLog
from adapters.sql.events import SqlProcessedEventRepository
from adapters.sql.idempotency import SqlIdempotencyRepository
from adapters.sql.orders import SqlOrderRepository
from adapters.sql.products import SqlProductRepository
from commerce_core.ports import (
    AuditLog,
    IdempotencyRepository,
    OrderRepository,
    ProcessedEventRepository,
    ProductRepository,
    SessionRepository,
    UserRepository,
)

if TYPE_CHECKING:
    from commerce_core.ports import UnitOfWork

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork:
    """The ``UnitOfWork`` port over a SQLAlchemy engine (SQLite or PostgreSQL).

    >>> from adapters.sql import make_engine, upgrade
    >>> engine = make_engine("sqlite:///:memory:")
    >>> upgrade(engine)
    >>> uow = SqlUnitOfWork(engine)
    >>> with uow:
    ...     uow.products.get("prod_missing") is None
    True
    """

    # The repositories of the block in progress; they exist from the first ``__enter__`` on.
    products: ProductRepository
    orders: OrderRepository
    idempotency: IdempotencyRepository
    events: ProcessedEventRepository
    users: UserRepository
    sessions: SessionRepository
    audit: AuditLog

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    @property
    def engine(self) -> Engine:
        return self._engine

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError(
                "this unit of work is already in a transaction; "
                "nested `with uow:` blocks would silently share it"
            )
        connection = self._engine.connect()
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        self.products = SqlProductRepository(connection)
        self.orders = SqlOrderRepository(connection)
        self.idempotency = SqlIdempotencyRepository(connection)
        self.events = SqlProcessedEventRepository(connection)
        self.users = SqlUserRepository(connection)
        self.sessions = SqlSessionRepository(connection)
        self.audit = SqlAuditLog(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:  # pragma: no cover - __exit__ without __enter__
            return
        # Closing rolls back whatever was not committed, then returns the connection to the pool.
        connection.close()

    def commit(self) -> None:
        self._open().commit()

    def rollback(self) -> None:
        self._open().rollback()

    def _open(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("commit() and rollback() belong inside `with uow:`")
        return self._connection


if TYPE_CHECKING:
    # mypy proves here that SqlUnitOfWork satisfies the port.
    _conforms: type[UnitOfWork] = SqlUnitOfWork
