"""The migrations build the schema the tables declare, and the database itself enforces the
invariants: even code that bypasses the domain cannot oversell, attach one intent to two orders,
record one gateway refund twice, claim an idempotency key twice or fork the audit chain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from adapters.sql import SqlUnitOfWork, current, upgrade
from adapters.sql.migrate import declared_metadata
from adapters.sql.tables import (
    audit_log,
    idempotency_records,
    order_lines,
    orders,
    processed_events,
    product_variants,
    refunds,
)
from commerce_core import Money, Order, OrderLine, new_id
from commerce_core.testing import make_product

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    fixture = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(fixture)
    return found


def _order(intent_id: str | None = None) -> Order:
    order = Order.place(
        order_id=new_id("ord"),
        user_id="usr_1",
        lines=[OrderLine("prod_1", "mug", "Mug", Money(1500, "USD"), 2)],
        gateway="fake",
        now=T0,
        hold_expires_at=T0 + timedelta(minutes=15),
    )
    if intent_id:
        order.attach_intent(intent_id, T0)
    return order


def _refund_row(order_id: str, refund_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "id": refund_id,
        "order_id": order_id,
        "position": 0,
        "amount": 100,
        "currency": "USD",
        "status": "succeeded",
        "reason": "",
        "gateway_refund_id": None,
        "requested_by": None,
        "created_at": T0,
        "updated_at": T0,
    }
    return {**row, **overrides}


def _refused(engine: Engine, statement: Callable[[Connection], object]) -> None:
    """The statement fails on a constraint (in its own transaction: on PostgreSQL an error
    aborts the transaction it happens in)."""
    with engine.connect() as connection, pytest.raises(IntegrityError), connection.begin():
        statement(connection)


@pytest.fixture
def stored_order(engine: Engine) -> Order:
    order = _order("pi_taken")
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.orders.add(order)
        uow.commit()
    return order


def test_the_migrations_build_exactly_the_declared_tables(engine: Engine) -> None:
    """Every table, column, type, index and constraint declared on the shared metadata (the
    shop's and other adapters') is what the migrations created: nothing missing, nothing extra."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, declared_metadata()) == []


def test_upgrading_again_changes_nothing_and_current_names_the_head(engine: Engine) -> None:
    head = current(engine)
    assert head is not None
    upgrade(engine)
    assert current(engine) == head


def test_a_database_never_migrated_has_no_current_revision(sqlite_url: str) -> None:
    assert current(sqlite_url) is None


def test_the_database_refuses_negative_stock(engine: Engine) -> None:
    product = make_product(stock=1, now=T0)
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.products.add(product)
        uow.commit()
    _refused(
        engine,
        lambda c: c.execute(
            update(product_variants)
            .where(product_variants.c.product_id == product.id)
            .values(stock=-1)
        ),
    )


def test_the_database_refuses_a_second_order_for_one_intent(
    engine: Engine, stored_order: Order
) -> None:
    other = _order()
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.orders.add(other)
        uow.commit()
    _refused(
        engine,
        lambda c: c.execute(
            update(orders).where(orders.c.id == other.id).values(intent_id="pi_taken")
        ),
    )


def test_the_database_refuses_one_gateway_refund_on_two_refunds(
    engine: Engine, stored_order: Order
) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(refunds), _refund_row(stored_order.id, "re_1", gateway_refund_id="gw_re")
        )
    _refused(
        engine,
        lambda c: c.execute(
            insert(refunds),
            _refund_row(stored_order.id, "re_2", position=1, gateway_refund_id="gw_re"),
        ),
    )


def test_the_database_refuses_non_positive_refunds_and_quantities(
    engine: Engine, stored_order: Order
) -> None:
    _refused(
        engine, lambda c: c.execute(insert(refunds), _refund_row(stored_order.id, "re_0", amount=0))
    )
    line = {
        "order_id": stored_order.id,
        "line_no": 9,
        "product_id": "prod_1",
        "slug": "mug",
        "name": "Mug",
        "unit_price_amount": 1500,
        "currency": "USD",
        "quantity": 0,
    }
    _refused(engine, lambda c: c.execute(insert(order_lines), line))


def test_the_database_refuses_unknown_order_states(engine: Engine, stored_order: Order) -> None:
    _refused(
        engine,
        lambda c: c.execute(
            update(orders).where(orders.c.id == stored_order.id).values(status="shipped")
        ),
    )


def test_the_database_refuses_a_refund_of_a_missing_order(engine: Engine) -> None:
    _refused(engine, lambda c: c.execute(insert(refunds), _refund_row("ord_missing", "re_1")))


def test_the_database_refuses_a_second_claim_of_one_idempotency_key(engine: Engine) -> None:
    row = {
        "user_id": "usr_1",
        "scope": "confirm",
        "key": "k1",
        "fingerprint": "fp",
        "state": "in_progress",
        "created_at": T0,
        "locked_at": T0,
    }
    with engine.begin() as connection:
        connection.execute(insert(idempotency_records), row)
        # The same key for another user or another operation is another record.
        connection.execute(insert(idempotency_records), {**row, "user_id": "usr_2"})
        connection.execute(insert(idempotency_records), {**row, "scope": "refund"})
    _refused(engine, lambda c: c.execute(insert(idempotency_records), {**row, "fingerprint": "x"}))


def test_the_database_refuses_a_gateway_event_twice(engine: Engine) -> None:
    row = {"gateway": "stripe", "event_id": "evt_1", "kind": "payment_succeeded", "received_at": T0}
    with engine.begin() as connection:
        connection.execute(insert(processed_events), row)
    _refused(engine, lambda c: c.execute(insert(processed_events), row))


def test_the_audit_chain_cannot_fork(engine: Engine) -> None:
    entry = {
        "at": T0,
        "actor": "usr_admin",
        "action": "refund.requested",
        "target": "order:ord_1",
        "details": {},
        "prev_hash": "0" * 64,
    }
    with engine.begin() as connection:
        connection.execute(insert(audit_log), {**entry, "id": "aud_1", "hash": "a" * 64})
    # A second successor of the same entry: two appends that both read the same last hash.
    _refused(
        engine,
        lambda c: c.execute(insert(audit_log), {**entry, "id": "aud_2", "hash": "b" * 64}),
    )
