"""``make_engine`` configures each database the way the repositories rely on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from adapters.sql import SqlUnitOfWork, make_engine, normalise_url, ping, upgrade
from adapters.sql.migrate import alembic_config
from commerce_core.testing import make_product


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db/shop", "postgresql+psycopg://u:p@db/shop"),
        (
            "postgresql://u@db:5433/shop?sslmode=require",
            "postgresql+psycopg://u@db:5433/shop?sslmode=require",
        ),
        ("postgresql+psycopg://u@db/shop", "postgresql+psycopg://u@db/shop"),
        ("sqlite:///var/shop.db", "sqlite:///var/shop.db"),
    ],
)
def test_plain_postgres_urls_are_pointed_at_psycopg(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_a_sqlite_file_gets_its_directory_wal_a_busy_timeout_and_foreign_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "not" / "yet" / "there" / "shop.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        ping(engine)
        assert path.exists()
        assert isinstance(engine.pool, QueuePool)
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 15000
            assert pragma("foreign_keys") == 1
            assert pragma("synchronous") == 1  # NORMAL
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_is_one_shared_connection(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///:memory:")
    try:
        assert isinstance(engine.pool, StaticPool)
        upgrade(engine)
        product = make_product()
        with SqlUnitOfWork(engine) as uow:
            uow.products.add(product)
            uow.commit()
        with SqlUnitOfWork(engine) as uow:
            assert uow.products.get(product.id) == product
    finally:
        engine.dispose()


def test_sqlite_writers_queue_instead_of_failing_with_database_is_locked(
    sqlite_engine: Engine,
) -> None:
    """Every transaction is BEGIN IMMEDIATE: a second one waits for the first to end (instead of
    reading, then failing to upgrade its lock), and then sees what the first committed."""
    product = make_product(stock=5)
    first = SqlUnitOfWork(sqlite_engine)
    seen: list[int] = []
    entered_at: list[float] = []

    def second() -> None:
        uow = SqlUnitOfWork(sqlite_engine)
        with uow:
            entered_at.append(time.monotonic())
            found = uow.products.lock([product.id])[product.id]
            found.variants[0].take(1, found.updated_at)
            uow.products.save(found)
            seen.append(found.stock)
            uow.commit()

    with first:
        first.products.add(product)
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        assert entered_at == []  # still waiting for our write lock
        committed_at = time.monotonic()
        first.commit()
    thread.join(timeout=10)
    assert entered_at
    assert entered_at[0] >= committed_at
    assert seen == [4]


@pytest.mark.postgres
def test_postgres_gets_a_pre_pinged_pool_in_read_committed(pg_url: str) -> None:
    engine = make_engine(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        ping(engine)
        assert engine.dialect.driver == "psycopg"
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.size() == 10
        with engine.connect() as connection:
            assert connection.get_isolation_level() == "READ COMMITTED"
    finally:
        engine.dispose()


def test_ping_raises_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/shop.db")
    (tmp_path / "shop.db").mkdir()  # a directory where the database file should be
    try:
        with pytest.raises(OperationalError, match="unable to open"):
            ping(engine)
    finally:
        engine.dispose()


def test_a_percent_sign_in_a_database_url_reaches_alembic_intact() -> None:
    url = "postgresql+psycopg://shop:p%40ss%25word@db/shop"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url
