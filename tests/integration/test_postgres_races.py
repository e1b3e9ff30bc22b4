"""Real races against a real database: threads released together by a barrier, each with its own
``SqlUnitOfWork``, driving the core's use cases as concurrent HTTP requests would.

What must hold under contention: one payment intent pays one order once; stock is never oversold,
per variant (the last units of one size go to exactly as many buyers, the other sizes untouched);
sales of different variants of one product - serialised by the product's row lock - all land,
none lost; refunds never sum past the capture; no interleaving of confirms, hold expiry and new
checkouts deadlocks; and on SQLite, ``BEGIN IMMEDIATE`` + the busy timeout turn contention into
waiting, never into "database is locked".
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import attrs
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from adapters.sql import SqlUnitOfWork, make_engine, upgrade
from commerce_core import (
    AuditEntry,
    CartItem,
    ChangeStock,
    ConfirmOrder,
    CreateCheckoutIntent,
    EventKind,
    GatewayError,
    GatewayRegistry,
    IdempotencyRequestInProgress,
    Money,
    Order,
    OrderNotPayable,
    OrderStatus,
    OutOfStock,
    Product,
    RefundExceedsCaptured,
    RefundOrder,
    RefundStatus,
    Result,
    Role,
    StockState,
    SystemClock,
    User,
    Variant,
    change_stock,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
    new_id,
    reconcile_payments,
    refund_order,
    release_expired_holds,
    verify_chain,
)
from commerce_core.testing import FakeGateway, RecordingEventSink, make_product

T = TypeVar("T")


def race(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run ``work(0..count-1)`` on ``count`` threads that start together; results in order,
    an exception standing for a call that raised."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T | Exception:
        barrier.wait(timeout=30)
        try:
            return work(i)
        except Exception as exc:  # every outcome, errors included, is for the test to judge
            # Without its traceback: the frames it holds would keep their units of work, and
            # so their pooled connections, checked out until a garbage collection.
            exc.__traceback__ = exc.__context__ = exc.__cause__ = None
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


class Shop:
    """The real use cases over one engine, with the thread-safe in-memory gateway."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.gateway = FakeGateway()
        self.events = RecordingEventSink()
        self.clock = SystemClock()

    def ports(self) -> dict[str, Any]:
        """A fresh unit of work per caller: never one shared between threads."""
        return {
            "uow": SqlUnitOfWork(self.engine),
            "gateways": GatewayRegistry(self.gateway),
            "clock": self.clock,
            "events": self.events,
        }

    def add_product(self, stock: int, price: int = 1500) -> str:
        product = make_product(stock=stock, price=Money(price, "USD"), now=self.clock.now())
        with SqlUnitOfWork(self.engine) as uow:
            uow.products.add(product)
            uow.commit()
        return product.id

    def add_shirt(self, stocks: dict[str, int]) -> str:
        """A shirt with the option ``size``: one variant per size in ``stocks``, SKU
        ``SHIRT-<size>``, each its own price (S 1000, M 1200, L 1400, ...)."""
        now = self.clock.now()
        product = Product(
            id=new_id("prod"),
            slug="shirt",
            name="Shirt",
            description="",
            image_url="",
            created_at=now,
            updated_at=now,
            variants=[
                Variant(
                    id=new_id("var"),
                    sku=f"SHIRT-{size}",
                    price=Money(1000 + 200 * n, "USD"),
                    stock=stock,
                    created_at=now,
                    updated_at=now,
                    options=(("size", size),),
                )
                for n, (size, stock) in enumerate(stocks.items())
            ],
            option_names=("size",),
        )
        with SqlUnitOfWork(self.engine) as uow:
            uow.products.add(product)
            uow.commit()
        return product.id

    def add_staff(self, user_id: str) -> str:
        with SqlUnitOfWork(self.engine) as uow:
            uow.users.add(
                User(
                    user_id,
                    f"{user_id}@example.com",
                    "Staff",
                    "x",
                    Role.ADMIN,
                    True,
                    self.clock.now(),
                )
            )
            uow.commit()
        return user_id

    def stock(self, product_id: str) -> int:
        with SqlUnitOfWork(self.engine) as uow:
            product = uow.products.get(product_id)
        assert product is not None
        return product.stock

    def variants(self, product_id: str) -> dict[str, Variant]:
        """SKU -> the product's variant, as committed."""
        with SqlUnitOfWork(self.engine) as uow:
            product = uow.products.get(product_id)
        assert product is not None
        return {v.sku: v for v in product.variants}

    def sku_stock(self, product_id: str) -> dict[str, int]:
        return {sku: v.stock for sku, v in self.variants(product_id).items()}

    def orders(self) -> list[Order]:
        with SqlUnitOfWork(self.engine) as uow:
            found, _ = uow.orders.list_all(0, 1000)
        return found

    def checkout(self, user_id: str, *items: tuple[str, int], **kw: Any) -> str:
        cart = tuple(CartItem(pid, qty) for pid, qty in items)
        return self.checkout_items(user_id, *cart, **kw)

    def checkout_items(self, user_id: str, *cart: CartItem, **kw: Any) -> str:
        result = create_checkout_intent(CreateCheckoutIntent(user_id, cart), **self.ports(), **kw)
        intent_id: str = result.body["intent_id"]
        return intent_id

    def confirm(self, user_id: str, intent_id: str, key: str, card: str = "pm_card_visa") -> Result:
        return confirm_order(ConfirmOrder(user_id, intent_id, card, key), **self.ports())


@pytest.fixture
def race_engine(pg_engine: Engine) -> Iterator[Engine]:
    """Forty connections: as many transactions at once as the tests need to race, and, with
    the suite's other engines, well inside PostgreSQL's default of 100 clients (more racers
    wait a moment for a connection). ``pg_engine`` has emptied the tables."""
    engine = make_engine(pg_engine.url, pool_size=40, max_overflow=0)
    yield engine
    gc.collect()  # units of work the racers dropped give their connections back first
    engine.dispose()


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def any_engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    if request.param == "postgres":
        yield request.getfixturevalue("race_engine")
        return
    engine = make_engine(sqlite_url, pool_size=35, max_overflow=0)
    upgrade(engine)
    yield engine
    engine.dispose()


def _errors(outcomes: list[Any]) -> list[Exception]:
    return [o for o in outcomes if isinstance(o, Exception)]


@pytest.mark.postgres
def test_fifty_confirms_of_one_intent_pay_one_order_once(race_engine: Engine) -> None:
    shop = Shop(race_engine)
    product = shop.add_product(stock=10)
    intent_id = shop.checkout("usr_buyer", (product, 2))

    outcomes = race(50, lambda i: shop.confirm("usr_buyer", intent_id, f"confirm-{i}"))

    assert _errors(outcomes) == []
    assert Counter(o.outcome for o in outcomes if isinstance(o, Result)) == {
        "paid": 1,
        "already_paid": 49,
    }
    [order] = shop.orders()
    assert (order.status, order.stock_state) == (OrderStatus.PAID, StockState.TAKEN)
    assert order.captured == order.total
    assert shop.stock(product) == 8  # the two held units were taken, once
    assert len(shop.events.of("order.paid")) == 1


@pytest.mark.postgres
def test_twenty_confirms_with_one_key_have_one_effect(race_engine: Engine) -> None:
    shop = Shop(race_engine)
    product = shop.add_product(stock=10)
    intent_id = shop.checkout("usr_buyer", (product, 1))
    calls_before = shop.gateway.calls.count("confirm_intent")

    outcomes = race(20, lambda _: shop.confirm("usr_buyer", intent_id, "the-same-key"))

    assert all(isinstance(e, IdempotencyRequestInProgress) for e in _errors(outcomes))
    results = [o for o in outcomes if isinstance(o, Result)]
    [first] = [r for r in results if not r.replayed]
    assert first.outcome == "paid"
    assert all(r.body == first.body for r in results)  # replays are the first answer
    assert shop.gateway.calls.count("confirm_intent") == calls_before + 1
    assert shop.stock(product) == 9
    assert len(shop.events.of("order.paid")) == 1


def test_thirty_buyers_of_five_units_make_five_paid_orders(any_engine: Engine) -> None:
    shop = Shop(any_engine)
    product = shop.add_product(stock=5)

    def buy(i: int) -> Result:
        intent_id = shop.checkout(f"usr_{i}", (product, 1))
        return shop.confirm(f"usr_{i}", intent_id, f"confirm-{i}")

    outcomes = race(30, buy)

    errors = _errors(outcomes)
    assert all(isinstance(e, OutOfStock) for e in errors), errors  # no "database is locked"
    assert len(errors) == 25
    assert [o.outcome for o in outcomes if isinstance(o, Result)] == ["paid"] * 5
    assert shop.stock(product) == 0
    orders = shop.orders()
    assert len(orders) == 5
    assert all(o.status is OrderStatus.PAID for o in orders)


def _units_by_variant(orders: list[Order], *states: StockState) -> Counter[str]:
    """Variant id -> units of the orders in ``states`` (held, taken)."""
    units: Counter[str] = Counter()
    for order in orders:
        if order.stock_state in states:
            for line in order.lines:
                units[line.variant_id] += line.quantity
    return units


def test_thirty_buyers_of_the_last_three_of_one_size_hold_exactly_three(
    any_engine: Engine,
) -> None:
    """The last three shirts in S, thirty shoppers at once: three holds of one unit, 27 times
    out of stock (409) naming that variant, S at 0 and never below; M and L - other rows under
    the same product lock - keep every unit."""
    shop = Shop(any_engine)
    shirt = shop.add_shirt({"S": 3, "M": 10, "L": 4})
    small = shop.variants(shirt)["SHIRT-S"]

    outcomes = race(
        30, lambda i: shop.checkout_items(f"usr_{i}", CartItem(None, 1, variant_id=small.id))
    )

    errors = _errors(outcomes)
    assert all(isinstance(e, OutOfStock) for e in errors), errors  # no "database is locked"
    assert len(errors) == 27
    assert all(e.variant_ids == (small.id,) for e in errors if isinstance(e, OutOfStock))
    assert len({o for o in outcomes if isinstance(o, str)}) == 3  # three intents
    assert shop.sku_stock(shirt) == {"SHIRT-S": 0, "SHIRT-M": 10, "SHIRT-L": 4}
    orders = shop.orders()
    assert len(orders) == 3
    assert all(o.status is OrderStatus.AWAITING_PAYMENT for o in orders)
    assert all(
        [(line.variant_id, line.sku, line.quantity) for line in o.lines]
        == [(small.id, "SHIRT-S", 1)]
        for o in orders
    )
    assert _units_by_variant(orders, StockState.HELD) == {small.id: 3}


def test_sales_of_different_sizes_of_one_product_at_once_all_land(any_engine: Engine) -> None:
    """Shoppers buy S, M, or a size with a mug (the lines in either order), and pay; staff
    take deliveries of M meanwhile. Every change to a size is made under the shirt's row lock,
    so none is lost (each size down by exactly its sales, M up by exactly its deliveries) and
    none deadlocks with another (products are always locked by ascending id)."""
    shop = Shop(any_engine)
    shirt = shop.add_shirt({"S": 100, "M": 100, "L": 100})
    mug = shop.add_product(stock=100)
    sizes = {sku: v.id for sku, v in shop.variants(shirt).items()}
    staff = shop.add_staff("usr_staff")
    small, medium = (CartItem(None, 1, variant_id=sizes[f"SHIRT-{s}"]) for s in ("S", "M"))
    two_medium = attrs.evolve(medium, quantity=2)
    carts = [
        (small,),
        (two_medium,),
        (small, CartItem(mug, 1)),
        (CartItem(mug, 1), medium),
    ]

    def work(i: int) -> object:
        if i >= 24:
            return change_stock(
                ChangeStock(staff, "shirt", "delivery", add=5, sku="SHIRT-M"),
                uow=SqlUnitOfWork(shop.engine),
                clock=shop.clock,
            )
        intent_id = shop.checkout_items(f"usr_{i}", *carts[i % 4])
        return shop.confirm(f"usr_{i}", intent_id, f"confirm-{i}")

    outcomes = race(28, work)

    errors = _errors(outcomes)
    assert errors == [], errors
    results = [o for o in outcomes if isinstance(o, Result)]
    assert [r.outcome for r in results] == ["paid"] * 24
    orders = shop.orders()
    assert len(orders) == 24
    assert all(o.status is OrderStatus.PAID for o in orders)
    sold = _units_by_variant(orders, StockState.TAKEN)
    # Six carts of each kind: S 6 + 6, M 6 x 2 + 6; and four deliveries of five Ms.
    assert sold[sizes["SHIRT-S"]] == 12
    assert sold[sizes["SHIRT-M"]] == 18
    assert shop.sku_stock(shirt) == {"SHIRT-S": 88, "SHIRT-M": 100 - 18 + 20, "SHIRT-L": 100}
    assert shop.stock(mug) == 100 - 12
    for order in orders:  # each line priced at its own size's price
        for line in order.lines:
            if line.product_id == shirt:
                assert line.unit_price == shop.variants(shirt)[line.sku].price


@pytest.mark.postgres
def test_concurrent_partial_refunds_never_exceed_the_capture(race_engine: Engine) -> None:
    shop = Shop(race_engine)
    product = shop.add_product(stock=1, price=10_000)
    intent_id = shop.checkout("usr_buyer", (product, 1))
    assert shop.confirm("usr_buyer", intent_id, "pay").outcome == "paid"
    [order] = shop.orders()

    outcomes = race(
        10,
        lambda i: refund_order(
            RefundOrder("usr_admin", order.id, Money(1500, "USD"), f"refund-{i}"), **shop.ports()
        ),
    )

    errors = _errors(outcomes)
    assert all(isinstance(e, RefundExceedsCaptured) for e in errors), errors
    assert len(errors) == 4
    assert [o.outcome for o in outcomes if isinstance(o, Result)] == ["succeeded"] * 6
    [refunded] = shop.orders()
    assert refunded.status is OrderStatus.PARTIALLY_REFUNDED
    assert refunded.refunded == Money(9000, "USD")
    assert refunded.refundable == Money(1000, "USD")
    at_gateway = [r.to_refund().amount.amount for r in shop.gateway.refunds.values()]
    assert sum(at_gateway) == 9000
    with SqlUnitOfWork(race_engine) as uow:
        chain = list(uow.audit.all())
    assert len(chain) == 12  # requested + succeeded, for each of the six
    assert verify_chain(chain) == (True, None)


@pytest.mark.postgres
def test_confirms_expiries_and_checkouts_over_shared_products_do_not_deadlock(
    race_engine: Engine,
) -> None:
    """Carts list the same products in opposite orders; declines and expiries give stock back
    while new checkouts take it. Rows are locked in one order everywhere (order, then products
    by id), so PostgreSQL never has to break a deadlock (it would raise DeadlockDetected)."""
    shop = Shop(race_engine)
    a, b = shop.add_product(stock=1000), shop.add_product(stock=1000)
    carts = [((a, 1), (b, 2)), ((b, 1), (a, 3))]
    # Holds that expire at once: half are confirmed while the sweepers release the other half
    # (and race the confirms for theirs); new checkouts take stock meanwhile.
    intents = [shop.checkout(f"usr_{i}", *carts[i % 2], hold_for=timedelta(0)) for i in range(24)]

    def work(i: int) -> object:
        if i < 12:
            card = "pm_card_visa" if i % 2 else "pm_card_chargeDeclined"
            return shop.confirm(f"usr_{i}", intents[i], f"confirm-{i}", card)
        if i < 17:
            return release_expired_holds(**shop.ports())
        intent_id = shop.checkout(f"usr_{i}", *carts[i % 2])
        return shop.confirm(f"usr_{i}", intent_id, f"confirm-{i}", "pm_card_chargeDeclined")

    outcomes = race(25, work)
    errors = _errors(outcomes)
    assert not [e for e in errors if isinstance(e, DBAPIError)], errors
    # Losing to the sweeper is fine: the intent was canceled, or the order already ended.
    assert all(isinstance(e, (GatewayError, OrderNotPayable)) for e in errors), errors
    orders = shop.orders()
    for product, initial in ((a, 1000), (b, 1000)):
        still_held_or_sold = sum(
            line.quantity
            for order in orders
            if order.stock_state is not StockState.RELEASED
            for line in order.lines
            if line.product_id == product
        )
        assert shop.stock(product) + still_held_or_sold == initial


def test_concurrent_audit_appends_never_fork_the_chain(any_engine: Engine) -> None:
    """Appends about unrelated orders share no row lock: only the append lock (an advisory lock
    on PostgreSQL, BEGIN IMMEDIATE on SQLite) keeps them from chaining to the same entry."""

    def append(i: int) -> AuditEntry:
        with SqlUnitOfWork(any_engine) as uow:
            entry = AuditEntry(
                new_id("aud"), SystemClock().now(), "usr_admin", "order.viewed", f"order:{i}"
            )
            sealed = uow.audit.append(entry)
            uow.commit()
        return sealed

    outcomes = race(20, append)

    assert _errors(outcomes) == []
    with SqlUnitOfWork(any_engine) as uow:
        chain = list(uow.audit.all())
    assert len(chain) == 20
    assert verify_chain(chain) == (True, None)


def test_a_capture_owed_back_is_refunded_once_whoever_gets_there(any_engine: Engine) -> None:
    """The failure webhook could not cancel the intent; the stock sold; a late capture arrives
    twice (two event ids) while reconciliation runs on several hosts: one refund, recorded once."""
    shop = Shop(any_engine)
    lamp = shop.add_product(stock=1)
    intent_id = shop.checkout("usr_ann", (lamp, 1))
    shop.gateway.confirm_intent(
        intent_id, payment_method="pm_card_chargeDeclined", idempotency_key="tab-1"
    )
    (failed,) = shop.gateway.take_events()
    shop.gateway.fail_next(1)  # the cancel after the failure does not get through
    handle_gateway_event(failed, **shop.ports())
    shop.checkout("usr_ben", (lamp, 1))
    shop.gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key="tab-2")
    (succeeded,) = [e for e in shop.gateway.take_events() if e.kind is EventKind.PAYMENT_SUCCEEDED]
    shop.gateway.fail_next(1)  # and neither does the refund the late capture now owes
    handle_gateway_event(succeeded, **shop.ports())
    (owed,) = [o for o in shop.orders() if o.intent_id == intent_id]
    assert owed.status is OrderStatus.NEEDS_REFUND
    again = attrs.evolve(succeeded, id="evt_redelivered_under_another_id")

    def work(i: int) -> object:
        if i < 2:
            return handle_gateway_event((succeeded, again)[i], **shop.ports())
        return reconcile_payments(**shop.ports())

    outcomes = race(8, work)

    assert _errors(outcomes) == []
    (order,) = [o for o in shop.orders() if o.intent_id == intent_id]
    assert order.status is OrderStatus.CANCELLED
    assert order.captured == order.refunded == Money(1500, "USD")
    assert [r.status for r in order.refunds] == [RefundStatus.SUCCEEDED]
    assert shop.gateway.intents[intent_id].amount_refunded == 1500
    assert len(shop.gateway.refunds) == 1
    assert shop.stock(lamp) == 0  # Ben's hold untouched
