"""Migrating a shop with stock and orders in it to product variants (``0015_product_variants``)
keeps every unit and every order, on SQLite and on PostgreSQL.

Each product becomes a product with one variant, its default: id ``var_<hex of the product
id>``, SKU = the slug (cut, with a suffix from the product id, when longer than a SKU may be),
the product's price, stock and weight. Every order line names that variant and its SKU, totals
unchanged. The migrated rows then work: an expired hold gives its units back to the variant, a
staff cancel of a paid order restocks it, and a new checkout naming only the product buys it.
Downgrading puts stock and weight back on the products, and upgrading again works.

The rows go in through ``sqlalchemy.table`` definitions of the columns as they were at
``0014_product_search``, not through ``adapters.sql.tables``: those describe today's schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    String,
    column,
    create_engine,
    insert,
    inspect,
    make_url,
    select,
    table,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from adapters.sql import SqlUnitOfWork, current, make_engine, normalise_url, upgrade
from adapters.sql.column_types import UtcDateTime
from adapters.sql.migrate import alembic_config, migration_connection
from commerce_core import (
    CancelPaidOrder,
    CartItem,
    CreateCheckoutIntent,
    GatewayRegistry,
    IntentStatus,
    InvalidInput,
    Money,
    OrderStatus,
    PaymentPorts,
    Role,
    StockState,
    User,
    cancel_paid_order,
    create_checkout_intent,
    release_expired_holds,
)
from commerce_core.testing import FakeClock, FakeGateway, RecordingEventSink

BEFORE = "0014_product_search"
VARIANTS = "0015_product_variants"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

MUG, LAMP, POSTER = (f"prod_{pair * 16}" for pair in ("a1", "b2", "c3"))
LONG_SLUG = "hand-thrown-stoneware-table-lamp-with-a-linen-shade-and-a-solid-brass-switch"
# 76 characters: cut to 55 (no trailing dash), then "-" and the first 8 hex of the id = 64.
LONG_SKU = "hand-thrown-stoneware-table-lamp-with-a-linen-shade-and-b2b2b2b2"

# Product id -> (slug, price, stock, weight, archived) as the old schema had it.
OLD_PRODUCTS = {
    MUG: ("old-mug", 1800, 3, 350, False),
    LAMP: (LONG_SLUG, 4500, 7, None, False),
    POSTER: ("retired-poster", 900, 2, 120, True),
}

# The tables as they were at BEFORE (only the columns written here; the others have defaults).
old_products = table(
    "products",
    column("id", String),
    column("slug", String),
    column("name", String),
    column("description", String),
    column("price_amount", BigInteger),
    column("currency", String),
    column("image_url", String),
    column("stock", Integer),
    column("weight_grams", Integer),
    column("archived", Boolean),
    column("created_at", UtcDateTime),
    column("updated_at", UtcDateTime),
)
old_orders = table(
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
    column("paid_at", UtcDateTime),
    column("hold_expires_at", UtcDateTime),
    column("created_at", UtcDateTime),
    column("updated_at", UtcDateTime),
)
old_order_lines = table(
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
old_refunds = table(
    "refunds",
    column("id", String),
    column("order_id", String),
    column("position", Integer),
    column("amount", BigInteger),
    column("currency", String),
    column("status", String),
    column("reason", String),
    column("gateway_refund_id", String),
    column("created_at", UtcDateTime),
    column("updated_at", UtcDateTime),
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


def downgrade(database_url: str, revision: str) -> None:
    """``adapters.sql.upgrade``'s counterpart: one transaction, the same connection setup."""
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        config = alembic_config(database_url)
        with migration_connection(engine) as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def variant_id(product_id: str) -> str:
    return "var_" + product_id.removeprefix("prod_")


def sku(product_id: str) -> str:
    slug = OLD_PRODUCTS[product_id][0]
    return LONG_SKU if product_id == LAMP else slug


# Order id -> (status, stock state, captured, [(product id, quantity)]).
OLD_ORDERS = {
    "ord_held": ("awaiting_payment", "held", None, [(MUG, 2), (LAMP, 1)]),
    "ord_paid": ("paid", "taken", 3600, [(MUG, 2)]),
    "ord_refunded": ("refunded", "taken", 900, [(POSTER, 1)]),
    "ord_failed": ("payment_failed", "released", None, [(LAMP, 1)]),
}


def _total(order_id: str) -> int:
    return sum(OLD_PRODUCTS[pid][1] * qty for pid, qty in OLD_ORDERS[order_id][3])


def seed_old_shop(connection: Connection, gateway: FakeGateway) -> None:
    """The products and orders above, in the old schema. The held order's intent is live at
    ``gateway`` (so the expiry job can cancel it); the paid order's intent captured there."""
    for pid, (slug, price, stock, weight, archived) in OLD_PRODUCTS.items():
        connection.execute(
            insert(old_products).values(
                id=pid,
                slug=slug,
                name=slug.replace("-", " ").capitalize()[:200],
                description="",
                price_amount=price,
                currency="USD",
                image_url="",
                stock=stock,
                weight_grams=weight,
                archived=archived,
                created_at=T0,
                updated_at=T0,
            )
        )
    for order_id, (status, stock_state, captured, lines) in OLD_ORDERS.items():
        total = _total(order_id)
        intent = gateway.create_intent(
            amount=Money(total, "USD"), order_id=order_id, idempotency_key=f"intent-{order_id}"
        )
        if status == "paid":
            gateway.confirm_intent(
                intent.id, payment_method="pm_card_visa", idempotency_key=f"pay-{order_id}"
            )
        connection.execute(
            insert(old_orders).values(
                id=order_id,
                user_id="usr_old",
                status=status,
                stock_state=stock_state,
                gateway=gateway.name,
                intent_id=intent.id,
                currency="USD",
                total_amount=total,
                captured_amount=captured,
                paid_at=None if captured is None else T0,
                hold_expires_at=T0 + timedelta(minutes=15),
                created_at=T0,
                updated_at=T0,
            )
        )
        for line_no, (pid, quantity) in enumerate(lines, start=1):
            slug, price, *_ = OLD_PRODUCTS[pid]
            connection.execute(
                insert(old_order_lines).values(
                    order_id=order_id,
                    line_no=line_no,
                    product_id=pid,
                    slug=slug,
                    name=slug,
                    unit_price_amount=price,
                    currency="USD",
                    quantity=quantity,
                )
            )
    connection.execute(
        insert(old_refunds).values(
            id="re_old",
            order_id="ord_refunded",
            position=0,
            amount=900,
            currency="USD",
            status="succeeded",
            reason="",
            gateway_refund_id="re_gw_old",
            created_at=T0,
            updated_at=T0,
        )
    )


def _stock(engine: Engine, product_id: str) -> int:
    with SqlUnitOfWork(engine) as uow:
        product = uow.products.get(product_id)
    assert product is not None
    [variant] = product.variants
    return variant.stock


def test_each_product_becomes_its_default_variant_and_the_orders_keep_working(
    database_url: str,
) -> None:
    upgrade(database_url, BEFORE)
    gateway = FakeGateway()
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            seed_old_shop(connection, gateway)
        upgrade(database_url)
        assert current(database_url) not in (BEFORE, None)

        with SqlUnitOfWork(engine) as uow:
            for pid, (slug, price, stock, weight, archived) in OLD_PRODUCTS.items():
                product = uow.products.get(pid)
                assert product is not None
                [variant] = product.variants
                assert variant.id == variant_id(pid)
                assert (variant.sku, variant.price, variant.stock, variant.weight_grams) == (
                    sku(pid),
                    Money(price, "USD"),
                    stock,
                    weight,
                )
                assert (variant.options, variant.archived) == ((), False)
                assert product.option_names == ()
                assert product.default_variant == variant
                assert (product.slug, product.archived) == (slug, archived)
                assert (product.price, product.weight_grams) == (variant.price, weight)
                found = uow.products.get_by_sku(sku(pid))
                assert found is not None
                assert found.id == pid
            for order_id, (status, _, captured, lines) in OLD_ORDERS.items():
                order = uow.orders.get(order_id)
                assert order is not None
                assert order.status.value == status
                assert order.total == order.subtotal == Money(_total(order_id), "USD")
                assert order.captured == (None if captured is None else Money(captured, "USD"))
                assert [
                    (line.product_id, line.variant_id, line.sku, line.options, line.quantity)
                    for line in order.lines
                ] == [(pid, variant_id(pid), sku(pid), (), qty) for pid, qty in lines]

        clock = FakeClock(T0 + timedelta(hours=1))

        def ports() -> PaymentPorts:
            return PaymentPorts(
                uow=SqlUnitOfWork(engine),
                gateways=GatewayRegistry(gateway),
                clock=clock,
                events=RecordingEventSink(),
            )

        # The expiry job: the held order's units go back to the variants they were taken from.
        report = release_expired_holds(**ports())
        assert (report.released, report.settled, report.failed) == (1, 0, 0)
        with SqlUnitOfWork(engine) as uow:
            expired = uow.orders.get("ord_held")
        assert expired is not None
        assert expired.stock_state is StockState.RELEASED
        held_intent = gateway.intents[expired.intent_id or ""]
        assert held_intent.status is IntentStatus.CANCELED
        assert (_stock(engine, MUG), _stock(engine, LAMP)) == (3 + 2, 7 + 1)

        # Staff cancel the old paid order: its two mugs go back on the mug's variant.
        with SqlUnitOfWork(engine) as uow:
            uow.users.add(
                User("usr_staff", "staff@example.com", "Staff", "x", Role.ADMIN, True, clock.now())
            )
            uow.commit()
        cancel_paid_order(CancelPaidOrder("usr_staff", "ord_paid"), **ports())
        with SqlUnitOfWork(engine) as uow:
            cancelled = uow.orders.get("ord_paid")
        assert cancelled is not None
        assert cancelled.status in (OrderStatus.CANCELLED, OrderStatus.NEEDS_REFUND)
        assert cancelled.stock_state is StockState.RELEASED
        assert _stock(engine, MUG) == 5 + 2

        # A new checkout naming only the product buys its default variant (and by variant id).
        body = create_checkout_intent(
            CreateCheckoutIntent(
                "usr_new", (CartItem(MUG, 2), CartItem(None, 1, variant_id=variant_id(LAMP)))
            ),
            **ports(),
        ).body
        with SqlUnitOfWork(engine) as uow:
            placed = uow.orders.get(body["order_id"])
        assert placed is not None
        assert [(line.variant_id, line.sku, line.unit_price) for line in placed.lines] == sorted(
            [
                (variant_id(MUG), "old-mug", Money(1800, "USD")),
                (variant_id(LAMP), LONG_SKU, Money(4500, "USD")),
            ]
        )
        assert placed.total == Money(2 * 1800 + 4500, "USD")
        assert (_stock(engine, MUG), _stock(engine, LAMP)) == (7 - 2, 8 - 1)

        # The archived product stays off sale: naming it is refused, its stock untouched.
        with pytest.raises(InvalidInput, match="no longer sold"):
            create_checkout_intent(
                CreateCheckoutIntent("usr_new", (CartItem(POSTER, 1),)),
                **ports(),
            )
        assert _stock(engine, POSTER) == 2
    finally:
        engine.dispose()


def test_downgrading_puts_stock_and_weight_back_on_the_products(database_url: str) -> None:
    upgrade(database_url, BEFORE)
    gateway = FakeGateway()
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            seed_old_shop(connection, gateway)
        upgrade(database_url, VARIANTS)
        # A sale after the migration: the mug's variant is down to 2.
        create_checkout_intent(
            CreateCheckoutIntent("usr_new", (CartItem(MUG, 1),)),
            uow=SqlUnitOfWork(engine),
            gateways=GatewayRegistry(gateway),
            clock=FakeClock(T0 + timedelta(hours=1)),
            events=RecordingEventSink(),
        )
        assert _stock(engine, MUG) == 2
        engine.dispose()

        downgrade(database_url, BEFORE)
        assert current(database_url) == BEFORE
        with engine.connect() as connection:
            schema = inspect(connection)
            assert "product_variants" not in schema.get_table_names()
            line_columns = {c["name"] for c in schema.get_columns("order_lines")}
            assert not line_columns & {"variant_id", "sku", "options"}
            rows = connection.execute(
                select(
                    old_products.c.id,
                    old_products.c.stock,
                    old_products.c.weight_grams,
                    old_products.c.price_amount,
                    old_products.c.archived,
                ).order_by(old_products.c.id)
            ).all()
        assert [tuple(row) for row in rows] == [
            (MUG, 2, 350, 1800, False),
            (LAMP, 7, None, 4500, False),
            (POSTER, 2, 120, 900, True),
        ]
        engine.dispose()

        upgrade(database_url)
        assert current(database_url) not in (BEFORE, None)
        with SqlUnitOfWork(engine) as uow:
            for pid, (_, price, stock, weight, _) in OLD_PRODUCTS.items():
                product = uow.products.get(pid)
                assert product is not None
                [variant] = product.variants
                assert (variant.id, variant.sku, variant.price) == (
                    variant_id(pid),
                    sku(pid),
                    Money(price, "USD"),
                )
                assert variant.stock == (2 if pid == MUG else stock)
                assert variant.weight_grams == weight
            orders, _ = uow.orders.list_all(0, 100)
        assert len(orders) == len(OLD_ORDERS) + 1
        for order in orders:
            assert all(line.variant_id == variant_id(line.product_id) for line in order.lines)
        # And it still sells: the mug's default variant by the product's id.
        create_checkout_intent(
            CreateCheckoutIntent("usr_again", (CartItem(MUG, 2),)),
            uow=SqlUnitOfWork(engine),
            gateways=GatewayRegistry(gateway),
            clock=FakeClock(T0 + timedelta(hours=2)),
            events=RecordingEventSink(),
        )
        assert _stock(engine, MUG) == 0
    finally:
        engine.dispose()
