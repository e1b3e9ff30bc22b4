"""Alembic's environment for the shop's schema.

``target_metadata`` is the one shared ``MetaData`` with every module that declares tables on it
imported (the shop's, and the fake payment gateway's when that adapter is installed; see
``adapters.sql.migrate.declared_metadata``), so ``alembic revision --autogenerate`` sees every
table.

``adapters.sql.migrate.upgrade`` hands over a ready connection in ``config.attributes``; the
``alembic`` command line instead gives a URL (``-x url=...``, ``sqlalchemy.url`` or
``DATABASE_URL``).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from adapters.sql.engine import make_engine, normalise_url
from adapters.sql.migrate import declared_metadata, migration_connection

config = context.config
target_metadata = declared_metadata()


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise SystemExit("no database: pass -x url=..., set sqlalchemy.url or DATABASE_URL")
    return normalise_url(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite's DDL is transactional once the driver stops managing transactions (engine.py).
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), poolclass=NullPool)
    try:
        with migration_connection(engine) as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
