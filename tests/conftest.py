"""Fixtures shared by every test directory: real, migrated databases.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: a local server, database ``test``). Each
test session gets a freshly created database of its own, dropped at the end, so concurrent
sessions (CI jobs, developers) never see each other's rows. If the server is unreachable, tests
that need it are skipped - except in CI (``CI=true``), where they fail: a green CI run must have
run them. Every test using ``pg_url`` is marked ``postgres`` automatically (``-m "not postgres"``
deselects them).

Redis comes from ``TEST_REDIS_URL`` (default: a local server, database 0), the same way: a test
using ``redis_url`` is marked ``redis``, skipped without a server except in CI, and gets a key
prefix of its own (``redis_prefix``) whose keys are deleted afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from adapters.sql import make_engine, normalise_url, upgrade

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)


def _unreachable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a reachable Redis server (skipped without one, failed in CI)."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unreachable(f"Redis is not reachable at {url} (set TEST_REDIS_URL): {exc}")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix private to this test; every key under it is deleted afterwards."""
    import redis

    prefix = f"commerce-test-{secrets.token_hex(6)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for this test session."""
    server = make_url(normalise_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)))
    admin = create_engine(
        server,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    name = f"commerce_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        admin.dispose()
        where = server.render_as_string(hide_password=True)
        _unreachable(f"PostgreSQL is not reachable at {where} (set TEST_DATABASE_URL): {exc.orig}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a SQLite database file (not yet created) private to the test."""
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """An engine on a SQLite file migrated with the real migrations (they take milliseconds)."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _pg_session_engine(pg_url: str) -> Iterator[tuple[Engine, list[Table]]]:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    schema = MetaData()
    schema.reflect(engine)
    # Children before parents, so foreign keys never stand in the way of emptying.
    tables = [t for t in reversed(schema.sorted_tables) if t.name != "alembic_version"]
    yield engine, tables
    engine.dispose()


def _empty(engine: Engine, tables: list[Table]) -> None:
    # Re-migrating a database per test would take far longer; on tables this small a DELETE
    # per table is several times faster than TRUNCATE.
    with engine.begin() as connection:
        for table in tables:
            connection.execute(table.delete())


@pytest.fixture
def pg_engine(_pg_session_engine: tuple[Engine, list[Table]]) -> Iterator[Engine]:
    """An engine on the session's migrated PostgreSQL database, emptied before and after."""
    engine, tables = _pg_session_engine
    _empty(engine, tables)
    yield engine
    _empty(engine, tables)
