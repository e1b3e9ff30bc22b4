"""Migrating a shop with orders in it to the schema of addresses, shipping, tax and fulfilment
keeps every order and its total (no address, no shipping, no tax), and the old orders can go
on to be shipped - on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, make_url
from sqlalchemy.pool import NullPool

from adapters.sql import SqlUnitOfWork, current, make_engine, normalise_url, upgrade
from adapters.sql.tables import order_lines, orders, products
from commerce_core import Money, OrderStatus

BEFORE = "0009_notifications"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database (its own, not the session's migrated one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old-shop.db'}"
        return
    request.getfixturevalue("pg_url")  # fails (in CI) or skips without PostgreSQL
    server = make_url(
        normalise_url(
            os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        )
    )
    admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"commerce_migration_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_orders_placed_before_keep_their_totals_and_can_be_shipped(database_url: str) -> None:
    upgrade(database_url, BEFORE)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(products).values(
                    id="prod_old",
                    slug="old-mug",
                    name="Old mug",
                    description="",
                    price_amount=1800,
                    currency="USD",
                    image_url="",
                    stock=3,
                    created_at=T0,
                    updated_at=T0,
                )
            )
            for n, status in enumerate(["paid", "awaiting_payment", "refunded"]):
                connection.execute(
                    insert(orders).values(
                        id=f"ord_{n}",
                        user_id="usr_1",
                        status=status,
                        stock_state="held" if status == "awaiting_payment" else "taken",
                        gateway="fake",
                        intent_id=f"pi_{n}",
                        currency="USD",
                        total_amount=3600,
                        captured_amount=None if status == "awaiting_payment" else 3600,
                        hold_expires_at=T0 + timedelta(minutes=15),
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                connection.execute(
                    insert(order_lines).values(
                        order_id=f"ord_{n}",
                        line_no=1,
                        product_id="prod_old",
                        slug="old-mug",
                        name="Old mug",
                        unit_price_amount=1800,
                        currency="USD",
                        quantity=2,
                    )
                )
        upgrade(database_url)
        assert current(database_url) != BEFORE

        uow = SqlUnitOfWork(engine)
        with uow:
            product = uow.products.get("prod_old")
            assert product is not None
            assert product.weight_grams is None
            assert product.stock == 3
            for n in range(3):
                order = uow.orders.get(f"ord_{n}")
                assert order is not None
                assert order.total == Money(3600, "USD")
                assert order.subtotal == order.total
                assert order.shipping == Money(0, "USD")
                assert order.tax == Money(0, "USD")
                assert order.shipping_address is None
                assert order.fulfilment is None
            paid = uow.orders.get("ord_0", for_update=True)
            assert paid is not None
            assert paid.fulfil("UPS", "1Z-OLD", T0 + timedelta(days=1))
            uow.orders.save(paid)
            uow.commit()
        with uow:
            shipped = uow.orders.get("ord_0")
            assert shipped is not None
            assert shipped.status is OrderStatus.FULFILLED
            assert shipped.fulfilment is not None
            assert shipped.fulfilment.tracking_number == "1Z-OLD"
        uow.close()
    finally:
        engine.dispose()
