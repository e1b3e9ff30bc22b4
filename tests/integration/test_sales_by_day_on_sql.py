"""``SqlOrderRepository.paid_by_day`` on SQLite and PostgreSQL: the ``SalesByDayContract`` the
in-memory repository passes too, and on PostgreSQL days stay UTC days whatever the session's
time zone (the database's ``date()`` of a ``timestamptz`` would otherwise follow it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from adapters.sql import SqlUnitOfWork, make_engine
from commerce_core import DailySales, Money, Order, OrderLine, UnitOfWork, new_id
from commerce_core.testing.contracts.sales import SalesByDayContract


class TestSqliteSalesByDay(SalesByDayContract):
    @pytest.fixture
    def new_uow(self, sqlite_engine: Engine) -> Callable[[], UnitOfWork]:
        return lambda: SqlUnitOfWork(sqlite_engine)


@pytest.mark.postgres
class TestPostgresSalesByDay(SalesByDayContract):
    @pytest.fixture
    def new_uow(self, pg_engine: Engine) -> Callable[[], UnitOfWork]:
        return lambda: SqlUnitOfWork(pg_engine)


@pytest.fixture
def far_east_engine(pg_engine: Engine, pg_url: str) -> Iterator[Engine]:
    """The same database, its sessions in Auckland's time zone (UTC+13 in March)."""
    engine = make_engine(pg_url, connect_args={"options": "-c timezone=Pacific/Auckland"})
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_days_are_utc_days_whatever_the_session_time_zone(far_east_engine: Engine) -> None:
    # 20:00 UTC on the 10th is already the 11th in Auckland.
    paid_at = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    order = Order.place(
        order_id=new_id("ord"),
        user_id="usr_ada",
        lines=[OrderLine("prod_1", "mug", "Mug", Money(1500, "USD"), 1)],
        gateway="fake",
        now=paid_at,
        hold_expires_at=paid_at + timedelta(minutes=15),
    )
    order.settle(order.total, paid_at)
    uow = SqlUnitOfWork(far_east_engine)
    try:
        with uow:
            uow.orders.add(order)
            uow.commit()
        with uow:
            shown = uow.orders.paid_by_day(
                datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 12, tzinfo=UTC)
            )
    finally:
        uow.close()
    assert shown == [DailySales(date(2026, 3, 10), "USD", 1, 1500)]
