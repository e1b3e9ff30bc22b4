"""``SqlUnitOfWork``: one database transaction per ``with`` block, all on one pooled connection.

Use cases open several short transactions in a row on one unit of work (no transaction may stay
open while the payment gateway is called), so the object is re-enterable: every ``with uow:``
begins a transaction and binds fresh repositories to it; ``commit()`` commits; leaving the block
rolls back whatever was not committed. After ``commit()`` the block may go on: the next statement
begins a new transaction (SQLAlchemy's commit-as-you-go), which the end of the block rolls back if
uncommitted.

The connection is checked out of the engine's pool at the first ``with`` and kept, idle and
outside any transaction, between blocks - so a request pays for one checkout (and, on PostgreSQL,
one pre-ping) however many transactions it runs. ``close()`` returns it to the pool (the web app
calls it when each request ends, errors included); a unit of work that is never closed returns it
when it is garbage-collected. A connection that broke (invalidated) is dropped at the end of its
block and the next block checks out another. Pools that hand every caller the same connection
(``StaticPool`` for in-memory SQLite) get it back at the end of every block, as before: holding it
buys nothing there, and releasing a shared connection later would roll back whoever uses it then.

It holds per-block state, so it is not thread-safe: make one per request or per thread (they are
cheap; the engine and its pool are what is shared).
"""

from __future__ import annotations

import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from adapters.sql.accounts import (
    SqlRefreshTokenRepository,
    SqlSessionRepository,
    SqlUserRepository,
)
from adapters.sql.addresses import SqlAddressBook
from adapters.sql.attributes import SqlAttributeRepository
from adapters.sql.audit import SqlAuditLog
from adapters.sql.carts import SqlCartRepository
from adapters.sql.categories import SqlCategoryRepository
from adapters.sql.events import SqlProcessedEventRepository
from adapters.sql.idempotency import SqlIdempotencyRepository
from adapters.sql.notifications import (
    SqlMessageOutbox,
    SqlPasswordResetRepository,
    SqlSignInAddressRepository,
)
from adapters.sql.orders import SqlOrderRepository
from adapters.sql.outbox import SqlEventOutbox
from adapters.sql.products import SqlProductRepository
from adapters.sql.shipping import SqlShippingRepository, SqlTaxRateRepository
from commerce_core import (
    AddressBook,
    AttributeRepository,
    AuditLog,
    CartRepository,
    CategoryRepository,
    DomainEvent,
    EventBuffer,
    EventOutbox,
    IdempotencyRepository,
    MessageOutbox,
    OrderRepository,
    PasswordResetRepository,
    ProcessedEventRepository,
    ProductRepository,
    RefreshTokenRepository,
    SessionRepository,
    ShippingRepository,
    SignInAddressRepository,
    TaxRateRepository,
    UserRepository,
)

if TYPE_CHECKING:
    from commerce_core import UnitOfWork

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
    processed_events: ProcessedEventRepository
    outbox: EventOutbox
    users: UserRepository
    sessions: SessionRepository
    refresh_tokens: RefreshTokenRepository
    audit: AuditLog
    messages: MessageOutbox
    password_resets: PasswordResetRepository
    sign_in_addresses: SignInAddressRepository
    shipping: ShippingRepository
    tax_rates: TaxRateRepository
    addresses: AddressBook
    categories: CategoryRepository
    attributes: AttributeRepository
    carts: CartRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._in_block = False
        self._release: weakref.finalize[[], SqlUnitOfWork] | None = None
        self._events = EventBuffer()

    @property
    def engine(self) -> Engine:
        return self._engine

    def __enter__(self) -> Self:
        if self._in_block:
            raise RuntimeError(
                "this unit of work is already in a transaction; "
                "nested `with uow:` blocks would silently share it"
            )
        connection = self._connection
        if connection is None:
            connection = self._check_out()
        try:
            connection.begin()
        except BaseException:
            self.close()
            raise
        self._in_block = True
        self.products = SqlProductRepository(connection)
        self.orders = SqlOrderRepository(connection)
        self.idempotency = SqlIdempotencyRepository(connection)
        self.processed_events = SqlProcessedEventRepository(connection)
        self.outbox = SqlEventOutbox(connection)
        self.users = SqlUserRepository(connection)
        self.sessions = SqlSessionRepository(connection)
        self.refresh_tokens = SqlRefreshTokenRepository(connection)
        self.audit = SqlAuditLog(connection)
        self.messages = SqlMessageOutbox(connection)
        self.password_resets = SqlPasswordResetRepository(connection)
        self.sign_in_addresses = SqlSignInAddressRepository(connection)
        self.shipping = SqlShippingRepository(connection)
        self.tax_rates = SqlTaxRateRepository(connection)
        self.addresses = SqlAddressBook(connection)
        self.categories = SqlCategoryRepository(connection)
        self.attributes = SqlAttributeRepository(connection)
        self.carts = SqlCartRepository(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._in_block:  # pragma: no cover - __exit__ without __enter__
            return
        self._in_block = False
        self._events.dropped()  # whatever was not committed never happened
        connection = self._connection
        if connection is None:  # closed inside the block; closing rolled it back
            return
        try:
            # Whatever was not committed - also a transaction an error aborted (PostgreSQL
            # refuses every statement after one until it is rolled back).
            if connection.in_transaction():
                connection.rollback()
        except BaseException:
            self.close()
            raise
        if connection.invalidated or not self._keeps_connection():
            self.close()

    def commit(self) -> None:
        self._open().commit()
        self._events.committed()

    def rollback(self) -> None:
        self._open().rollback()
        self._events.dropped()

    def announce(self, event: DomainEvent) -> None:
        self._open()
        self._events.announce(event, self.outbox)

    def collect_new_events(self) -> list[DomainEvent]:
        return self._events.collect()

    def close(self) -> None:
        """Return the connection to the pool (rolling back a block still open). Idempotent; the
        unit of work stays usable: a later ``with`` checks out a connection again."""
        release, self._release, self._connection = self._release, None, None
        if release is not None:
            release()

    def _check_out(self) -> Connection:
        connection = self._engine.connect()
        self._connection = connection
        # Not a bound method of self: the finalizer must not keep the unit of work alive.
        self._release = weakref.finalize(self, connection.close)
        self._release.atexit = False
        return connection

    def _keeps_connection(self) -> bool:
        return not isinstance(self._engine.pool, StaticPool | SingletonThreadPool)

    def _open(self) -> Connection:
        if self._connection is None or not self._in_block:
            raise RuntimeError("commit() and rollback() belong inside `with uow:`")
        return self._connection


if TYPE_CHECKING:
    # mypy proves here that SqlUnitOfWork satisfies the port.
    _conforms: type[UnitOfWork] = SqlUnitOfWork
