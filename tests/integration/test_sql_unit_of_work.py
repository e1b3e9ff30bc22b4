"""``SqlUnitOfWork`` on SQLite and PostgreSQL: the ``UnitOfWorkContract`` every unit of work
passes (at the end of this module), and what is particular to SQL - timestamps, statement
counts on the hot paths, savepoints, errors mapped to the domain's."""

from __future__ import annotations

import gc
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from adapters.sql import SqlUnitOfWork, make_engine, upgrade
from commerce_core import (
    AuditEntry,
    CatalogQuery,
    Conflict,
    EmailAlreadyRegistered,
    EventKind,
    GatewayEvent,
    IdempotencyRecord,
    IdempotencyState,
    Money,
    Order,
    OrderLine,
    RefundStatus,
    Role,
    Session,
    UnitOfWork,
    User,
    new_id,
    verify_chain,
)
from commerce_core.testing import make_product
from commerce_core.testing.contracts import UnitOfWorkContract

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PARIS = timezone(timedelta(hours=2))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    fixture = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def uow(engine: Engine) -> Iterator[SqlUnitOfWork]:
    uow = SqlUnitOfWork(engine)
    yield uow
    uow.close()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The data statements (not BEGIN/SAVEPOINT/COMMIT) the engine runs inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2]).lstrip()
        if re.match(r"(?i)(SELECT|INSERT|UPDATE|DELETE)\b", statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _order(user_id: str = "usr_1", at: datetime = T0) -> Order:
    return Order.place(
        order_id=new_id("ord"),
        user_id=user_id,
        lines=[
            OrderLine("prod_1", "mug", "Mug", Money(1500, "USD"), 2),
            OrderLine("prod_2", "cap", "Cap", Money(999, "USD"), 1),
        ],
        gateway="fake",
        now=at,
        hold_expires_at=at + timedelta(minutes=15),
    )


def _paid(order: Order, intent_id: str) -> Order:
    order.attach_intent(intent_id, T0)
    order.settle(order.total, T0)
    return order


def test_timestamps_come_back_as_the_same_instant_in_aware_utc(uow: SqlUnitOfWork) -> None:
    product = make_product(now=datetime(2026, 6, 1, 14, 0, 0, 123456, tzinfo=PARIS))
    with uow:
        uow.products.add(product)
        uow.commit()
    with uow:
        stored = uow.products.get(product.id)
    assert stored is not None
    assert stored.created_at == product.created_at
    assert stored.created_at.tzinfo is UTC
    assert stored.created_at.isoformat() == "2026-06-01T12:00:00.123456+00:00"


def test_naive_timestamps_are_refused(uow: SqlUnitOfWork) -> None:
    product = make_product(now=datetime(2026, 6, 1, 14, 0))  # noqa: DTZ001 - the point of the test
    with uow, pytest.raises(Exception, match="naive datetime"):
        uow.products.add(product)


def test_expired_holds_compare_instants_not_wall_clock_text(uow: SqlUnitOfWork) -> None:
    order = _order(at=T0)  # hold expires at 09:45 UTC
    with uow:
        uow.orders.add(order)
        uow.commit()
    with uow:
        # 11:44 in Paris is 09:44 UTC: not expired yet; 11:46 is.
        assert uow.orders.expired_holds(datetime(2026, 3, 1, 11, 44, tzinfo=PARIS), 10) == []
        assert uow.orders.expired_holds(datetime(2026, 3, 1, 11, 46, tzinfo=PARIS), 10) == [
            order.id
        ]


def test_leaving_without_commit_keeps_no_order_line_or_refund(uow: SqlUnitOfWork) -> None:
    order = _paid(_order(), "pi_1")
    order.request_refund(refund_id="re_1", amount=None, reason="", requested_by=None, now=T0)
    with uow:
        uow.orders.add(order)
    with uow:
        assert uow.orders.get(order.id) is None
        assert uow.orders.list_all(0, 10) == ([], 0)


def test_work_after_a_commit_in_the_same_block_is_rolled_back_unless_committed(
    uow: SqlUnitOfWork,
) -> None:
    kept, dropped = make_product(), make_product()
    with uow:
        uow.products.add(kept)
        uow.commit()
        uow.products.add(dropped)
    with uow:
        assert uow.products.get(kept.id) is not None
        assert uow.products.get(dropped.id) is None


def test_a_nested_with_on_one_unit_of_work_is_refused(uow: SqlUnitOfWork) -> None:
    with uow, pytest.raises(RuntimeError, match="already in a transaction"), uow:
        pass


def test_reading_a_paid_order_costs_three_statements_and_a_page_four(
    engine: Engine, uow: SqlUnitOfWork
) -> None:
    orders = [_paid(_order(at=T0 + timedelta(seconds=i)), f"pi_{i}") for i in range(10)]
    for order in orders:
        order.request_refund(
            refund_id=f"re_{order.id}",
            amount=Money(100, "USD"),
            reason="",
            requested_by=None,
            now=T0,
        )
    with uow:
        for order in orders:
            uow.orders.add(order)
        uow.commit()
    with uow, statements(engine) as seen:
        assert uow.orders.get(orders[0].id, for_update=True) == orders[0]
        assert len(seen) == 3
        seen.clear()
        page, total = uow.orders.list_all(0, 10)
        assert (page, total) == (orders[::-1], 10)
        assert len(seen) == 4


def test_an_order_that_was_never_paid_is_read_without_its_refunds_table(
    engine: Engine, uow: SqlUnitOfWork
) -> None:
    """Only a captured order can have refunds, so an unpaid one costs two statements."""
    unpaid, paid = _order(), _paid(_order(at=T0 + timedelta(seconds=1)), "pi_paid")
    paid.request_refund(refund_id="re_1", amount=None, reason="", requested_by=None, now=T0)
    with uow:
        uow.orders.add(unpaid)
        uow.orders.add(paid)
        uow.commit()
    with uow, statements(engine) as seen:
        assert uow.orders.get(unpaid.id, for_update=True) == unpaid
        assert not any("refunds" in statement for statement in seen)
        assert len(seen) == 2
        seen.clear()
        assert uow.orders.list_all(0, 10) == ([paid, unpaid], 2)
        assert len(seen) == 4  # the refunds of the paid one are read


def test_saving_writes_only_what_changed_one_statement_per_table(
    engine: Engine, uow: SqlUnitOfWork
) -> None:
    order = _order()
    with uow:
        uow.orders.add(order)
        uow.commit()
    with uow, statements(engine) as seen:
        loaded = uow.orders.get(order.id, for_update=True)
        assert loaded is not None
        seen.clear()
        _paid(loaded, "pi_1")
        uow.orders.save(loaded)
        uow.orders.save(loaded)  # unchanged since: nothing to write
        assert [s.split()[0] for s in seen] == ["UPDATE"]
        seen.clear()
        loaded.request_refund(
            refund_id="re_1", amount=None, reason="", requested_by=None, now=T0 + timedelta(1)
        )
        uow.orders.save(loaded)
        assert [s.split()[0] for s in seen] == ["UPDATE", "INSERT"]
        uow.commit()
    with uow:
        stored = uow.orders.get(order.id)
    assert stored == loaded


def test_a_sale_updates_only_the_stock_of_a_locked_variant(
    engine: Engine, uow: SqlUnitOfWork
) -> None:
    product = make_product(stock=5)
    with uow:
        uow.products.add(product)
        uow.commit()
    with uow, statements(engine) as seen:
        locked = uow.products.lock([product.id])[product.id]
        seen.clear()
        uow.products.save(locked)  # unchanged: nothing to write
        assert seen == []
        locked.variants[0].take(2, T0 + timedelta(days=1))
        uow.products.save(locked)
        (update,) = seen
        assert update.startswith("UPDATE product_variants SET ")
        set_clause = update.split(" SET ")[1].split(" WHERE ")[0]
        assert re.findall(r"(\w+)=", set_clause) == ["stock", "updated_at"]
        uow.commit()
    with uow:
        assert uow.products.get(product.id) == locked


def test_refunds_read_back_in_request_order(uow: SqlUnitOfWork) -> None:
    order = _paid(_order(), "pi_1")
    for refund_id in ("re_c", "re_a", "re_b"):  # same timestamp, ids not in order
        order.request_refund(
            refund_id=refund_id, amount=Money(100, "USD"), reason="", requested_by=None, now=T0
        )
    with uow:
        uow.orders.add(order)
        uow.commit()
    with uow:
        stored = uow.orders.get(order.id)
    assert stored is not None
    assert [r.id for r in stored.refunds] == ["re_c", "re_a", "re_b"]


def test_one_gateway_refund_on_two_orders_is_a_conflict(uow: SqlUnitOfWork) -> None:
    first, second = _paid(_order(), "pi_1"), _paid(_order(), "pi_2")
    for order, refund_id in ((first, "re_1"), (second, "re_2")):
        order.request_refund(refund_id=refund_id, amount=None, reason="", requested_by=None, now=T0)
    first.complete_refund("re_1", "gw_re_same", T0)
    with uow:
        uow.orders.add(first)
        uow.orders.add(second)
        uow.commit()
    second.complete_refund("re_2", "gw_re_same", T0)
    with uow, pytest.raises(Conflict, match="gateway refund"):
        uow.orders.save(second)
    with uow:
        stored = uow.orders.get(second.id)
    assert stored is not None
    assert stored.refunds[0].status is RefundStatus.PENDING


def test_search_takes_percent_and_underscore_literally(uow: SqlUnitOfWork) -> None:
    with uow:
        uow.products.add(make_product(slug="half", name="50% off mug"))
        uow.products.add(make_product(slug="plain", name="500 mugs"))
        uow.products.add(make_product(slug="snake", name="snake_case cap"))
        uow.commit()
    with uow:
        assert [p.slug for p in uow.products.search(CatalogQuery(text="50%"), 0, 10)[0]] == ["half"]
        assert [p.slug for p in uow.products.search(CatalogQuery(text="e_c"), 0, 10)[0]] == [
            "snake"
        ]


def test_a_duplicate_slug_is_a_conflict(uow: SqlUnitOfWork) -> None:
    with uow:
        uow.products.add(make_product(slug="mug"))
        uow.commit()
    with uow, pytest.raises(Conflict, match="slug"):
        uow.products.add(make_product(slug="mug"))


def test_an_empty_idempotency_response_is_stored_as_null(uow: SqlUnitOfWork) -> None:
    record = IdempotencyRecord("usr_1", "confirm", "k", "fp", IdempotencyState.IN_PROGRESS, T0, T0)
    with uow:
        assert uow.idempotency.claim(record) is None
        uow.commit()
    with uow:
        assert uow.idempotency.get("usr_1", "confirm", "k", for_update=True) == record


def test_gateway_event_ids_are_unique_per_gateway(uow: SqlUnitOfWork) -> None:
    stripe = GatewayEvent("evt_1", EventKind.PAYMENT_SUCCEEDED, "stripe", "pi_1", T0)
    other = GatewayEvent("evt_1", EventKind.PAYMENT_SUCCEEDED, "paypal", "pi_1", T0)
    with uow:
        assert uow.processed_events.record(stripe, T0)
        assert uow.processed_events.record(other, T0)
        assert not uow.processed_events.record(stripe, T0)


def test_audit_details_that_json_cannot_hold_still_verify(uow: SqlUnitOfWork) -> None:
    entry = AuditEntry(
        new_id("aud"),
        T0.astimezone(PARIS),
        "usr_admin",
        "refund.requested",
        "order:ord_1",
        details={"amount": Money(100, "USD"), "at": T0, "ids": ("a", "b")},
    )
    with uow:
        sealed = uow.audit.append(entry)
        uow.commit()
    with uow:
        stored = list(uow.audit.all())
    assert stored == [sealed]
    assert stored[0].details == {"amount": "1.00 USD", "at": str(T0), "ids": ["a", "b"]}
    assert verify_chain(stored) == (True, None)


@pytest.mark.postgres
def test_an_email_taken_by_a_concurrent_sign_up_is_refused_and_the_transaction_lives_on(
    pg_engine: Engine,
) -> None:
    """The pre-check cannot see an uncommitted sign-up; the unique index then refuses ours
    inside a SAVEPOINT, so our transaction can still commit its other work."""
    theirs = User(new_id("usr"), "ada@example.com", "Ada", "h", Role.CUSTOMER, True, T0)
    ours = User(new_id("usr"), "ada@example.com", "Ada Too", "h", Role.CUSTOMER, True, T0)
    outcome: list[str] = []

    def sign_up() -> None:
        with SqlUnitOfWork(pg_engine) as uow:
            try:
                uow.users.add(ours)  # blocks on their uncommitted row, then violates
            except EmailAlreadyRegistered:
                outcome.append("refused")
            uow.sessions.add(Session("h_ours", ours.id, T0, T0))
            uow.commit()

    competitor = SqlUnitOfWork(pg_engine)
    with competitor:
        competitor.users.add(theirs)
        thread = threading.Thread(target=sign_up)
        thread.start()
        time.sleep(0.3)
        competitor.commit()
    thread.join(timeout=10)
    assert outcome == ["refused"]
    with SqlUnitOfWork(pg_engine) as uow:
        assert uow.sessions.get("h_ours") is not None
        found = uow.users.get_by_email("ada@example.com")
        assert found is not None
        assert found.id == theirs.id


# -- one pooled connection per unit of work ---------------------------------------------------


@contextmanager
def checkouts(engine: Engine) -> Iterator[list[int]]:
    """Pool checkouts during the block (each one a pre-ping on PostgreSQL)."""
    seen = [0]

    def count(*_args: Any) -> None:
        seen[0] += 1

    event.listen(engine, "checkout", count)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", count)


def _checked_out(engine: Engine) -> int:
    """Connections out of the pool. The PostgreSQL engine is the session's, so tests compare
    against the count at their start; garbage is collected first, so that an earlier test's
    unit of work caught in a reference cycle (an exception's traceback) cannot give its
    connection back halfway through the count."""
    gc.collect()
    count: int = engine.pool.checkedout()  # type: ignore[attr-defined]
    return count


def test_a_unit_of_work_keeps_one_connection_across_its_transactions(engine: Engine) -> None:
    base = _checked_out(engine)
    uow = SqlUnitOfWork(engine)
    product = make_product()
    with checkouts(engine) as seen:
        with uow:
            uow.products.add(product)
            uow.commit()
        with uow:
            assert uow.products.get(product.id) is not None
        with uow:
            uow.products.add(make_product())  # rolled back: never committed
        assert _checked_out(engine) == base + 1
        uow.close()
        uow.close()  # idempotent
    assert seen == [1]
    assert _checked_out(engine) == base
    with uow:  # usable again after close: it checks out a connection anew
        assert uow.products.get(product.id) is not None
        assert uow.orders.list_all(0, 10) == ([], 0)
    uow.close()


def test_between_blocks_the_kept_connection_holds_no_transaction(engine: Engine) -> None:
    idle = SqlUnitOfWork(engine)
    with idle:
        idle.products.add(make_product(stock=3))
        idle.commit()
    # Another writer gets through at once (on SQLite: BEGIN IMMEDIATE takes the write lock).
    with SqlUnitOfWork(engine) as other:
        other.products.add(make_product())
        other.commit()
    with idle:
        assert len(idle.products.search(CatalogQuery(), 0, 10)[0]) == 2
    idle.close()


def test_a_failed_transaction_leaves_the_connection_reusable(engine: Engine) -> None:
    base = _checked_out(engine)
    uow = SqlUnitOfWork(engine)
    order = _order()
    with uow:
        uow.orders.add(order)
        uow.commit()
    with pytest.raises(Conflict), uow:
        uow.orders.add(order)  # on PostgreSQL this aborts the transaction
    with uow:
        assert uow.orders.get(order.id) is not None
        uow.products.add(make_product())
        uow.commit()
    assert _checked_out(engine) == base + 1
    uow.close()


def test_an_unclosed_unit_of_work_gives_its_connection_back_when_collected(
    engine: Engine,
) -> None:
    base = _checked_out(engine)
    uow = SqlUnitOfWork(engine)
    with uow:
        uow.products.add(make_product())
    assert _checked_out(engine) == base + 1
    del uow
    assert _checked_out(engine) == base


def test_closing_inside_a_block_rolls_it_back(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine)
    product = make_product()
    with uow:
        uow.products.add(product)
        uow.close()
    with uow:
        assert uow.products.get(product.id) is None
    uow.close()


def test_in_memory_sqlite_units_of_work_do_not_disturb_each_other() -> None:
    """StaticPool shares one connection: each unit of work lets go of it at every block's end."""
    engine = make_engine("sqlite:///:memory:")
    upgrade(engine)
    product = make_product()
    first = SqlUnitOfWork(engine)
    with first:
        first.products.add(product)
        first.commit()
    second = SqlUnitOfWork(engine)
    with second:
        second.products.add(make_product())
        first.close()  # would roll back `second` if `first` still held the shared connection
        second.commit()
    with second:
        assert len(second.products.search(CatalogQuery(), 0, 10)[0]) == 2
    engine.dispose()


# -- the contract every UnitOfWork passes --------------------------------------------------------


class TestSqliteUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def new_uow(self, sqlite_engine: Engine) -> Callable[[], UnitOfWork]:
        return lambda: SqlUnitOfWork(sqlite_engine)


class TestInMemorySqliteUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def new_uow(self) -> Iterator[Callable[[], UnitOfWork]]:
        engine = make_engine("sqlite:///:memory:")
        upgrade(engine)
        yield lambda: SqlUnitOfWork(engine)
        engine.dispose()


@pytest.mark.postgres
class TestPostgresUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def new_uow(self, pg_engine: Engine) -> Callable[[], UnitOfWork]:
        return lambda: SqlUnitOfWork(pg_engine)
