"""Migrating a shop with orders in it to the schema of addresses, shipping, tax and fulfilment
(and on to the head, through product variants) keeps every order and its total (no address, no
shipping, no tax), and the old orders can go on to be shipped - on SQLite and on PostgreSQL.

The rows go in through ``sqlalchemy.table`` definitions of the columns as they were at
``0009_notifications``, not through ``adapters.sql.tables``: those describe today's schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Integer, String, column, create_engine, insert, make_url, table
from sqlalchemy.pool import NullPool

from adapters.sql import SqlUnitOfWork, current, make_engine, normalise_url, upgrade
from adapters.sql.column_types import UtcDateTime
from commerce_core import Money, OrderStatus

BEFORE = "0009_notifications"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# The tables as they were at BEFORE (only the columns written here; the others have defaults).
products = table(
    "products",
    column("id", String),
    column("slug", String),
    column("name", String),
    column("description", String),
    column("price_amount", BigInteger),
    column("currency", String),
    column("image_url", String),
    column("stock", Integer),
    column("created_at", UtcDateTime),
    column("updated_at", UtcDateTime),
)
orders = table(
    "orders",
    column("id", String),
    column("user_id", String),
    column("status", String),
    column("stock_state", String),
    column("gateway", String),
    column("intent_id", String),
    column("currency", String),
    column("total_amount", BigInteger),
    column("captured_amount", BigInteger),
    column("hold_expires_at", UtcDateTime),
    column("created_at", UtcDateTime),
    column("updated_at", UtcDateTime),
)
order_lines = table(
    "order_lines",
    column("order_id", String),
    column("line_no", Integer),
    column("product_id", String),
    column("slug", String),
    column("name", String),
    column("unit_price_amount", BigInteger),
    column("currency", String),
    column("quantity", Integer),
)


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
            # Weight and stock now live on the product's one (default) variant.
            [variant] = product.variants
            assert product.default_variant == variant
            assert (variant.sku, variant.price, variant.stock) == ("old-mug", Money(1800, "USD"), 3)
            assert variant.weight_grams is None  # never weighed: ships as weighing nothing
            assert product.weight_grams is None
            assert product.stock == 3  # the read-only sum over its variants on sale
            for n in range(3):
                order = uow.orders.get(f"ord_{n}")
                assert order is not None
                [line] = order.lines
                assert (line.variant_id, line.sku, line.quantity) == (variant.id, "old-mug", 2)
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
