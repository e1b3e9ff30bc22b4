"""The SQL persistence adapter: SQLite (embedded default) or PostgreSQL, via SQLAlchemy Core.

>>> from adapters.sql import SqlUnitOfWork, make_engine, upgrade
>>> engine = make_engine("sqlite:///:memory:")   # or "postgresql://user@host/shop"
>>> upgrade(engine)                              # Alembic migrations to the latest revision
>>> uow = SqlUnitOfWork(engine)                  # one per request or thread; the engine is shared

Tables are Core ``Table``s (``adapters.sql.tables``); repositories map rows to the domain's attrs
classes by hand, so ``commerce_core`` knows nothing of SQLAlchemy.
"""

from adapters.sql.engine import make_engine, normalise_url, ping
from adapters.sql.metadata import metadata
from adapters.sql.migrate import current, upgrade
from adapters.sql.unit_of_work import SqlUnitOfWork

__all__ = [
    "SqlUnitOfWork",
    "current",
    "make_engine",
    "metadata",
    "normalise_url",
    "ping",
    "upgrade",
]
