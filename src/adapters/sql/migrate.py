"""Running the Alembic migrations from Python, with no ``alembic.ini`` needed at runtime.

``upgrade(url)`` is what the app's ``commerce db upgrade`` command and the test fixtures call;
``alembic -c src/adapters/sql/alembic.ini ...`` works too, for writing new revisions.

All revisions run in ONE transaction (both databases have transactional DDL, SQLite once the
driver's own transaction handling is off - see ``engine``), so a failed migration leaves the
schema as it was. On PostgreSQL an advisory lock makes app instances that boot together migrate
one after the other. On SQLite foreign keys are switched off for the duration - a "batch"
migration copies a table, drops the original and renames the copy, and dropping ``orders`` with
foreign keys on would cascade-delete every order line and refund - and checked before commit.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from adapters.sql.engine import make_engine
from adapters.sql.metadata import metadata

__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "current",
    "declared_metadata",
    "migration_connection",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# An arbitrary application-wide constant naming "the schema migration" for pg_advisory_xact_lock.
MIGRATION_LOCK = 0x6D696772617465  # "migrate"


# Modules of other adapters that declare their tables on the same `metadata`, when installed.
OPTIONAL_TABLE_MODULES = ("adapters.payments.fake_tables",)


def declared_metadata() -> MetaData:
    """The shared ``metadata`` with every table of the application declared on it: what the
    migrations must build (Alembic's autogenerate compares the database against this)."""
    importlib.import_module("adapters.sql.tables")
    for name in OPTIONAL_TABLE_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # its parent package is not there either
            found = False
        if found:
            importlib.import_module(name)
    return metadata


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at this package's migrations (and at ``database_url``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url is not None:
        # ConfigParser interpolation: a literal '%' (URL-encoded passwords) must be doubled.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction, prepared for running migrations; commits on success."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Outside a transaction (SQLite ignores it inside one), hence on the driver's connection.
            _outside_transaction(connection, "PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                _outside_transaction(connection, "PRAGMA foreign_keys = ON")


def _outside_transaction(connection: Connection, sql: str) -> None:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def upgrade(database_url: str | Engine, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` to ``revision``.

    An ``Engine`` may be passed instead of a URL, to migrate exactly that database (e.g. an
    in-memory SQLite, where a second engine would see a different, empty database).
    """
    engine, owned = _engine(database_url)
    try:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with migration_connection(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if owned:
            engine.dispose()


def current(database_url: str | Engine) -> str | None:
    """The revision the database is at; ``None`` if it was never migrated."""
    engine, owned = _engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def _engine(database_url: str | Engine) -> tuple[Engine, bool]:
    if isinstance(database_url, Engine):
        return database_url, False
    # No pool: the migration's one connection is closed, not kept, when it is done.
    return make_engine(database_url, poolclass=NullPool), True
