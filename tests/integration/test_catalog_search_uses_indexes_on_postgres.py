"""On PostgreSQL the catalogue's text search is served by the trigram indexes, never a scan of
the products table, and the console's sales per day by the paid_at index: the statements the
repositories really run, explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from adapters.sql import SqlUnitOfWork
from commerce_core import CatalogQuery, CatalogSort, Money
from commerce_core.testing import make_product

pytestmark = pytest.mark.postgres


def _statements_of(engine: Engine, where: CatalogQuery) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with SqlUnitOfWork(engine) as uow:
            uow.products.search(where, 0, 20)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return [(s, p) for s, p in seen if "FROM products" in s and "LIMIT" in s]


def test_a_text_search_uses_the_trigram_indexes(pg_engine: Engine) -> None:
    with SqlUnitOfWork(pg_engine) as uow:
        for n in range(200):
            uow.products.add(
                make_product(slug=f"thing-{n}", name=f"Thing {n}", price=Money(100 + n, "USD"))
            )
        uow.products.add(make_product(slug="blue-mug", name="Blue mug", price=Money(900, "USD")))
        uow.commit()
    ((statement, parameters),) = _statements_of(pg_engine, CatalogQuery(text="mug"))
    with pg_engine.connect() as connection:
        connection.execute(text("ANALYZE products"))
        # Discourage the scan a tiny table would otherwise get, as a large catalogue would.
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
    assert "ix_products_name_trgm" in plan, plan
    assert "ix_products_description_trgm" in plan, plan
    assert "Seq Scan on products" not in plan, plan


def test_price_order_uses_the_price_index(pg_engine: Engine) -> None:
    ((statement, parameters),) = _statements_of(pg_engine, CatalogQuery(sort=CatalogSort.PRICE))
    with pg_engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
    assert "ix_products_price_amount" in plan, plan


def test_the_sales_per_day_find_the_paid_orders_by_their_index(pg_engine: Engine) -> None:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    until = datetime(2026, 3, 31, tzinfo=UTC)
    event.listen(pg_engine, "before_cursor_execute", record)
    try:
        with SqlUnitOfWork(pg_engine) as uow:
            uow.orders.paid_by_day(until - timedelta(days=30), until)
    finally:
        event.remove(pg_engine, "before_cursor_execute", record)
    ((statement, parameters),) = [(s, p) for s, p in seen if "paid_at" in s]
    with pg_engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
    assert "ix_orders_paid_at" in plan, plan
