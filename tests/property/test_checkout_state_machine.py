"""The whole core driven at random through the in-memory shop, its invariants checked at every step.

The shop sells products without options (one variant each, bought by product id or by variant id)
and a product in three sizes, each size its own variant with its own price and stock (bought by
variant id only: naming that product alone is refused and changes nothing). Shoppers create
intents for random carts and confirm them with random cards and idempotency keys (repeating keys
on purpose); browsers confirm at the gateway directly and pass or fail 3-D Secure; the gateway's
webhooks arrive late, duplicated and shuffled; staff refund random amounts with random keys,
cancel paid orders and count or move a variant's stock by its SKU; the gateway goes down now and
then; time passes and expired holds are released. Whatever happens:

- one intent belongs to one order, for good; no stock ever goes negative;
- stock is conserved per variant: ``stock + units held + units sold == units received`` for every
  variant (what it started with, plus what staff added or counted since), the units held and sold
  summed over the order lines naming that variant;
- a paid order has its stock taken (and an unpaid one has not); it captured exactly its total;
- refunds: ``refunded <= captured`` and ``refundable >= 0``; the gateway never refunds more than
  our ledger reserved nor charges an intent twice;
- an idempotent replay answers exactly the first answer; a key reused for another request is
  refused;
- an order that owes its capture back (``needs_refund``) never took stock, and one cancelled
  after such a capture got all of it back;
- and once every webhook is delivered and every job has run (the teardown): an intent captured
  and not refunded has a paid order, and no ended order's intent can still be paid.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from commerce_core import (
    DEFAULT_HOLD_LIMITS,
    IDEMPOTENCY_LEASE,
    MAX_QUANTITY,
    CancelPaidOrder,
    CartItem,
    ChangeStock,
    CommerceError,
    ConfirmOrder,
    CreateCheckoutIntent,
    EventKind,
    EventOutcome,
    FulfilOrder,
    GatewayError,
    GatewayEvent,
    GatewayRefund,
    GatewayUnavailable,
    HoldLimitReached,
    HoldLimits,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    IllegalTransition,
    IntentStatus,
    InvalidInput,
    Money,
    NotFound,
    Order,
    OrderNotPayable,
    OrderNotRefundable,
    OrderStatus,
    OutOfStock,
    PaymentIntent,
    Product,
    Refund,
    RefundExceedsCaptured,
    RefundOrder,
    RefundStatus,
    Result,
    Role,
    StockState,
    User,
    Variant,
    cancel_paid_order,
    change_stock,
    confirm_order,
    create_checkout_intent,
    fulfil_order,
    handle_gateway_event,
    new_id,
    reconcile_payments,
    refund_order,
    release_expired_holds,
)
from commerce_core.testing import FakeClock, FakeGateway, InMemoryShop
from commerce_core.testing import strategies as cst
from commerce_core.use_cases.settlement import end_unpaid

UNCAPPED = HoldLimits(10**6, 10**6, 10**6, 10**6)
SIZES = ("S", "M", "L")
SHOPPERS = ("usr_ann", "usr_ben")
STAFF = ("usr_staff_1", "usr_staff_2")
CONFIRM_OUTCOMES = {"paid", "already_paid", "requires_action", "declined", "processing"}
CLOCK_STEPS = st.sampled_from(
    [
        timedelta(seconds=5),
        IDEMPOTENCY_LEASE + timedelta(seconds=1),
        timedelta(minutes=5),
        timedelta(minutes=16),
    ]
)


def sized_product(shop: InMemoryShop, slug: str, sizes: Iterable[tuple[Money, int]]) -> Product:
    """A product with the option ``size``: one variant per (price, stock), sized S, M and L
    in turn (at most three), with SKUs ``<SLUG>-S`` and so on; added to ``shop``."""
    now = shop.clock.now()
    product = Product(
        id=new_id("prod"),
        slug=slug,
        name=slug.title(),
        description="",
        image_url="",
        created_at=now,
        updated_at=now,
        variants=[
            Variant(
                id=new_id("var"),
                sku=f"{slug.upper()}-{size}",
                price=price,
                stock=stock,
                created_at=now,
                updated_at=now,
                options=(("size", size),),
            )
            for size, (price, stock) in zip(SIZES, sizes, strict=False)
        ],
        option_names=("size",),
    )
    with shop.uow as uow:
        uow.products.add(product)
        uow.commit()
    return product


# -- the invariants, as a plain function so that a test can prove it can fail ---------------


# The checks read the store's committed data directly: no unit of work is open between steps,
# and copying the whole store for every check would make the machine several times slower.


def all_orders(shop: InMemoryShop) -> list[Order]:
    return list(shop.store.data.orders.values())


def check_shop_invariants(shop: InMemoryShop, received: Mapping[str, int]) -> None:
    """Raise ``AssertionError`` if the shop's committed state breaks any invariant.

    ``received`` maps every variant id to the units it ever received (its initial stock, plus
    what staff added or counted since): stock is conserved per variant, never per product."""
    variants = {v.id: v for p in shop.store.data.products.values() for v in p.variants}
    orders = all_orders(shop)

    intents = [o.intent_id for o in orders if o.intent_id is not None]
    assert len(intents) == len(set(intents)), "one payment intent is attached to two orders"

    held, taken = _units_by_variant(shop, orders)
    for order in orders:
        if order.stock_state is StockState.HELD:
            assert order.status is OrderStatus.AWAITING_PAYMENT, f"{order.id} holds stock"
        if order.status.is_paid:
            assert order.stock_state is StockState.TAKEN, f"paid {order.id} lacks its stock"
            assert order.captured == order.total, f"{order.id} captured {order.captured}"
            _check_refund_ledger(order)
        elif order.captured is not None:
            # A capture for an ended order whose stock was gone: owed back, never sold.
            assert order.stock_state is not StockState.TAKEN, f"{order.id} sold, unpaid"
            _check_refund_ledger(order)
            if order.status is OrderStatus.CANCELLED:
                assert order.refunded == order.captured, f"{order.id} cancelled, money kept"
            else:
                assert order.status is OrderStatus.NEEDS_REFUND, f"{order.id} {order.status}"
        else:
            assert order.stock_state is not StockState.TAKEN, f"unpaid {order.id} took stock"
            assert order.status is not OrderStatus.NEEDS_REFUND, f"{order.id} owes nothing"
            assert order.refunds == [], f"unpaid {order.id} has refunds"

    assert set(variants) == set(received), "a variant appeared or vanished"
    for vid, units in received.items():
        stock = variants[vid].stock
        assert stock >= 0, f"{vid} stock is negative: {stock}"
        assert stock + held[vid] + taken[vid] == units, (
            f"{vid}: stock {stock} + held {held[vid]} + sold {taken[vid]} != {units} received"
        )


def _units_by_variant(shop: InMemoryShop, orders: list[Order]) -> tuple[Counter[str], Counter[str]]:
    """Variant id -> units held, and -> units sold (taken), over the orders' lines; each line
    must name a variant of its own product, by its SKU."""
    owner = {v.id: (p.id, v.sku) for p in shop.store.data.products.values() for v in p.variants}
    held: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    for order in orders:
        for line in order.lines:
            assert owner.get(line.variant_id) == (line.product_id, line.sku), (
                f"{order.id} sold {line.variant_id!r} ({line.sku!r}), "
                f"not a variant of {line.product_id}"
            )
            if order.stock_state is StockState.HELD:
                held[line.variant_id] += line.quantity
            elif order.stock_state is StockState.TAKEN:
                taken[line.variant_id] += line.quantity
    return held, taken


def _check_refund_ledger(order: Order) -> None:
    assert order.captured is not None
    # Summed here rather than trusting the aggregate's own properties.
    succeeded = sum(r.amount.amount for r in order.refunds if r.status is RefundStatus.SUCCEEDED)
    reserved = sum(r.amount.amount for r in order.refunds if r.status is not RefundStatus.FAILED)
    assert succeeded <= order.captured.amount, f"{order.id} refunded past its capture"
    assert reserved <= order.captured.amount, f"{order.id} reserved past its capture"
    assert order.refundable.amount == order.captured.amount - reserved, order.id
    assert order.refundable.amount >= 0, f"{order.id} refundable is negative"


def check_captured_money_settled(shop: InMemoryShop, gateway: FakeGateway) -> None:
    """Once every webhook is delivered and every job has run: captured money ended in a paid
    order or a refund, and nobody can pay an order that ended. Raises ``AssertionError``."""
    by_intent = {o.intent_id: o for o in all_orders(shop) if o.intent_id is not None}
    for intent in gateway.intents.values():
        order = by_intent.get(intent.id)
        captured = intent.status is IntentStatus.SUCCEEDED
        kept = intent.amount.amount - intent.amount_refunded
        if captured and kept > 0:
            assert order is not None, f"{intent.id} captured for no order"
            assert order.status.is_paid, (
                f"{intent.id} captured and not refunded, but {order.id} is {order.status.value}"
            )
        if order is not None and order.status in (
            OrderStatus.PAYMENT_FAILED,
            OrderStatus.CANCELLED,
        ):
            assert intent.status is IntentStatus.CANCELED or (captured and kept == 0), (
                f"{order.id} ended {order.status.value}, yet its intent is {intent.status.value}"
            )
    for order in all_orders(shop):
        assert order.status is not OrderStatus.NEEDS_REFUND, f"{order.id} still owes a refund"
        assert not order.owes_gateway_work, f"{order.id} still owes its gateway a call"


# -- a worker that dies right after the gateway acted ---------------------------------------


class WorkerDied(Exception):
    """The process running a use case died (deploy, OOM kill) just after a gateway call."""


class CrashingGateway(FakeGateway):
    """A ``FakeGateway`` after whose next confirm, cancel or refund the calling worker dies,
    and whose next cancel can be made to find it out of reach (so an intent stays payable)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.die_after_next_call = False
        self.next_cancel_unreachable = False

    def _maybe_die(self) -> None:
        if self.die_after_next_call:
            self.die_after_next_call = False
            raise WorkerDied

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        intent = super().confirm_intent(
            intent_id, payment_method=payment_method, idempotency_key=idempotency_key
        )
        self._maybe_die()
        return intent

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        if self.next_cancel_unreachable:
            self.next_cancel_unreachable = False
            raise GatewayUnavailable("simulated outage during cancel_intent")
        intent = super().cancel_intent(intent_id, idempotency_key=idempotency_key)
        self._maybe_die()
        return intent

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        answer = super().refund(intent_id, amount=amount, idempotency_key=idempotency_key)
        self._maybe_die()
        return answer


# -- the model's memory of idempotent requests ----------------------------------------------


@attrs.define
class KeyUse:
    """What the model knows about one (user, key): the request, and the first answer if any."""

    request: Any
    result: Result | None = None  # None: the request is still in progress (it died mid-way)
    locked_at: datetime | None = None

    def lease_expired(self, now: datetime) -> bool:
        """Whether a request still in progress looks abandoned (its lease has run out)."""
        assert self.locked_at is not None
        return now - self.locked_at > IDEMPOTENCY_LEASE


@attrs.frozen
class ConfirmAttempt:
    """One confirm request and what the model knew just before it was made."""

    used: tuple[str, str]
    request: tuple[str, str]
    prior: KeyUse | None
    owner: str
    status_before: OrderStatus
    intent_canceled: bool
    now: datetime
    armed: bool


@attrs.frozen
class RefundAttempt:
    """One refund request and what the model knew just before it was made."""

    used: tuple[str, str]
    request: Any
    prior: KeyUse | None
    before: Order
    amount: Money | None
    now: datetime
    armed: bool


class CheckoutMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.shop = InMemoryShop()
        self.gateway = CrashingGateway(self.shop.clock)
        self.shop.gateway = self.gateway
        # Variant id -> units ever received (initial stock, then staff's counts and moves).
        self.received: dict[str, int] = {}
        # Creation order throughout: random ids must not steer choices.
        self.variant_ids: list[str] = []
        self.single_ids: list[str] = []  # products without options (one variant each)
        self.sized_ids: list[str] = []  # products with options (a variant per size)
        self.default_of: dict[str, str] = {}  # a product without options -> its one variant
        self.product_of: dict[str, Product] = {}  # variant id -> its product (as created)
        self.sku_of: dict[str, str] = {}  # variant id -> SKU
        self.intents: list[str] = []
        self.owner: dict[str, str] = {}  # intent id -> shopper
        self.order_of_intent: dict[str, str] = {}  # intent id -> order id, for good
        self.order_ids: list[str] = []
        self.checkout_keys: dict[tuple[str, str], KeyUse] = {}
        self.confirm_keys: dict[tuple[str, str], KeyUse] = {}
        self.refund_keys: dict[tuple[str, str], KeyUse] = {}
        self.undelivered: list[GatewayEvent] = []
        self.delivered: list[GatewayEvent] = []
        self.published: list[GatewayEvent] = []
        self.browser_calls = 0

    # -- helpers ---------------------------------------------------------------------------

    @property
    def outage_armed(self) -> bool:
        return self.shop.gateway._failures > 0

    def _order(self, order_id: str) -> Order:
        return copy.deepcopy(self.shop.store.data.orders[order_id])

    def _stock(self) -> dict[str, int]:
        """Variant id -> its committed stock."""
        return {v.id: v.stock for p in self.shop.store.data.products.values() for v in p.variants}

    def _order_count(self) -> int:
        return len(self.shop.store.data.orders)

    def _collect_events(self) -> None:
        fresh = self.shop.gateway.take_events()
        self.undelivered.extend(fresh)
        self.published.extend(fresh)

    def _adopt(self, user: str, result: Result) -> str:
        """Take a new checkout into the model; its intent id."""
        intent_id, order_id = str(result.body["intent_id"]), str(result.body["order_id"])
        assert intent_id not in self.owner, "a new checkout reused an existing intent"
        self.intents.append(intent_id)
        self.owner[intent_id] = user
        self.order_of_intent[intent_id] = order_id
        self.order_ids.append(order_id)
        return intent_id

    def _key(self, data: st.DataObject, used: Mapping[tuple[str, str], KeyUse], user: str) -> str:
        mine = [key for (who, key) in used if who == user]
        if mine:
            reuse = data.draw(st.booleans(), label="reuse a key")
            if reuse:
                return data.draw(st.sampled_from(mine), label="reused key")
        return data.draw(cst.idempotency_keys(max_size=6), label="key")

    @staticmethod
    def _replays(result: Result, first: Result) -> None:
        assert result.replayed, "a repeated key with the same request was executed again"
        assert (result.outcome, result.body) == (first.outcome, first.body), (
            "a replay differs from the first answer"
        )

    # -- set up ----------------------------------------------------------------------------

    @initialize(
        currency=cst.currencies(),
        stocks=st.lists(st.integers(0, 12), min_size=1, max_size=2),
        size_stocks=st.lists(st.integers(0, 6), min_size=len(SIZES), max_size=len(SIZES)),
        data=st.data(),
    )
    def open_shop(
        self, currency: str, stocks: list[int], size_stocks: list[int], data: st.DataObject
    ) -> None:
        """Products without options, and a shirt whose sizes differ in price and stock."""
        with self.shop.uow as uow:
            for n, staff in enumerate(STAFF):
                now = self.shop.clock.now()
                uow.users.add(User(staff, f"staff{n}@example.com", "S", "x", Role.ADMIN, True, now))
            uow.commit()
        prices = cst.money(currency=currency, min_amount=1, max_amount=100_000)
        for stock in stocks:
            product = self.shop.add_product(stock=stock, price=data.draw(prices, label="price"))
            self._adopt_product(product)
        size_prices = data.draw(
            st.lists(prices, min_size=3, max_size=3, unique_by=lambda m: m.amount),
            label="size prices",
        )
        shirt = sized_product(self.shop, "shirt", zip(size_prices, size_stocks, strict=True))
        self._adopt_product(shirt)

    def _adopt_product(self, product: Product) -> None:
        if product.option_names:
            self.sized_ids.append(product.id)
        else:
            self.single_ids.append(product.id)
            self.default_of[product.id] = product.variants[0].id
        for variant in product.variants:
            self.received[variant.id] = variant.stock
            self.variant_ids.append(variant.id)
            self.product_of[variant.id] = product
            self.sku_of[variant.id] = variant.sku

    # -- shoppers --------------------------------------------------------------------------

    @rule(data=st.data())
    def create_intent(self, data: st.DataObject) -> None:
        self._create_intent(data)

    @rule(data=st.data())
    def check_out_and_pay(self, data: st.DataObject) -> None:
        """The usual path: a new intent confirmed straight away by its shopper."""
        intent_id = self._create_intent(data)
        if intent_id is not None:
            self._confirm(data, intent_id)

    @precondition(lambda self: self.intents)
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        self._confirm(data, data.draw(st.sampled_from(self.intents), label="intent"))

    def _cart(self, data: st.DataObject) -> tuple[CartItem, ...]:
        """One or two lines: a variant by its id, a product without options by its id (its
        one variant), and now and then the product with sizes named without a size."""
        refs = [CartItem(None, 1, variant_id=vid) for vid in self.variant_ids]
        refs += [CartItem(pid, 1) for pid in self.single_ids]
        lines = data.draw(
            st.lists(st.tuples(st.sampled_from(refs), st.integers(1, 2)), min_size=1, max_size=2),
            label="cart",
        )
        items = [attrs.evolve(ref, quantity=qty) for ref, qty in lines]
        if data.draw(st.integers(0, 11), label="size forgotten?") == 0:
            pid = data.draw(st.sampled_from(self.sized_ids), label="sized product")
            items.append(CartItem(pid, 1))
        return tuple(items)

    def _create_intent(self, data: st.DataObject) -> str | None:
        # A tick per checkout: orders get distinct hold deadlines, so the expiry job handles
        # them in creation order rather than in the order of their random ids (which would
        # make runs irreproducible for hypothesis).
        self.shop.clock.advance(timedelta(seconds=1))
        user = data.draw(st.sampled_from(SHOPPERS), label="shopper")
        items = self._cart(data)
        keyed = data.draw(st.booleans(), label="with a key")
        key = self._key(data, self.checkout_keys, user) if keyed else None
        # What the cart names, as the core's idempotency sees it: a product's default variant
        # named by the product is another request than the same variant named by its id.
        named: Counter[tuple[str, str]] = Counter()
        wanted: Counter[str] = Counter()  # variant id -> units
        for item in items:
            named[item.key] += item.quantity
            if item.variant_id is not None:
                wanted[item.variant_id] += item.quantity
            elif item.product_id in self.default_of:
                wanted[self.default_of[item.product_id]] += item.quantity
        request = tuple(sorted(named.items()))
        # A product with sizes named without one: the shopper must choose, nothing is held.
        unresolved = any(
            item.variant_id is None and item.product_id in self.sized_ids for item in items
        )
        prior = self.checkout_keys.get((user, key)) if key is not None else None
        stock = self._stock()
        orders = self._order_count()
        short = any(qty > stock[vid] for vid, qty in wanted.items())
        armed = self.outage_armed

        try:
            result = create_checkout_intent(
                CreateCheckoutIntent(user, items, idempotency_key=key), **self.shop.ports
            )
        except IdempotencyKeyReused:
            event("checkout: key reused")
            assert prior is not None
            assert prior.request != request
            return None
        except InvalidInput as refused:
            event("checkout: a product with sizes named without its size")
            reasons = [e.message for e in refused.errors]
            assert unresolved, reasons
            assert prior is None
            assert any("several variants" in reason for reason in reasons), reasons
            assert self._stock() == stock
            assert self._order_count() == orders
            return None
        except OutOfStock as short_of:
            event("checkout: out of stock")
            named_short = set(short_of.variant_ids)
            assert prior is None
            assert not unresolved
            assert short
            # It names exactly the variants short of stock, whichever way the cart named them.
            assert named_short == {vid for vid, qty in wanted.items() if qty > stock[vid]}
            assert self._stock() == stock
            assert self._order_count() == orders
            return None
        except HoldLimitReached:
            event("checkout: hold limit")
            assert prior is None
            with self.shop.uow as uow:
                held = uow.orders.held_unpaid(user_id=user)
            limits = DEFAULT_HOLD_LIMITS
            assert held.orders >= limits.orders_per_account or (
                held.units + sum(named.values()) > limits.units_per_account
            )
            assert self._stock() == stock  # a refused checkout holds nothing
            return None
        except GatewayError:
            assert prior is None
            assert armed
            assert not short
            assert not unresolved
            assert self._stock() == stock  # the order was cancelled, its hold given back
            return None
        if prior is not None:
            assert prior.request == request, "a key reused for another cart was accepted"
            assert prior.result is not None
            self._replays(result, prior.result)
            return None
        event("checkout: created")
        assert not short, "an intent was created without enough stock"
        assert not unresolved, "a product with sizes was sold without naming the size"
        assert not result.replayed
        intent_id = self._adopt(user, result)
        placed = self._order(str(result.body["order_id"]))
        sold: Counter[str] = Counter()
        for line in placed.lines:
            sold[line.variant_id] += line.quantity
            assert (
                line.unit_price
                == self.product_of[line.variant_id].must_variant(line.variant_id).price
            ), "a line priced at another variant's price"
        assert sold == wanted, "the order holds other variants than the cart named"
        if key is not None:
            self.checkout_keys[(user, key)] = KeyUse(request, result)
        return intent_id

    @precondition(lambda self: self.confirm_keys)
    @rule(data=st.data())
    def shopper_retries_a_confirm(self, data: st.DataObject) -> None:
        """A double click or a proxy retry: the very same request with the very same key."""
        user, key = data.draw(st.sampled_from(list(self.confirm_keys)), label="retried")
        intent_id, method = self.confirm_keys[(user, key)].request
        self._send_confirm(user, intent_id, method, key)

    def _confirm(self, data: st.DataObject, intent_id: str) -> None:
        owner = self.owner[intent_id]
        stranger = data.draw(st.integers(0, 5), label="stranger?") == 0
        user = next(u for u in SHOPPERS if u != owner) if stranger else owner
        method = data.draw(cst.payment_methods(), label="payment method")
        key = self._key(data, self.confirm_keys, user)
        self._send_confirm(user, intent_id, method, key)

    def _send_confirm(self, user: str, intent_id: str, method: str, key: str) -> None:
        attempt = ConfirmAttempt(
            used=(user, key),
            request=(intent_id, method),
            prior=self.confirm_keys.get((user, key)),
            owner=self.owner[intent_id],
            status_before=self._order(self.order_of_intent[intent_id]).status,
            intent_canceled=self.shop.gateway.intents[intent_id].status is IntentStatus.CANCELED,
            now=self.shop.clock.now(),
            armed=self.outage_armed,
        )
        try:
            result = confirm_order(ConfirmOrder(user, intent_id, method, key), **self.shop.ports)
        except (CommerceError, WorkerDied) as error:
            event(f"confirm: {getattr(error, 'code', 'worker died')}")
            self._confirm_refused(attempt, error)
            return
        finally:
            self._collect_events()
        self._confirm_answered(attempt, result)

    def _confirm_refused(self, attempt: ConfirmAttempt, error: Exception) -> None:
        prior, request = attempt.prior, attempt.request
        if isinstance(error, IdempotencyKeyReused):
            assert prior is not None
            assert prior.request != request
            return
        if isinstance(error, IdempotencyRequestInProgress):
            assert prior is not None
            assert prior.request == request
            assert prior.result is None
            assert not prior.lease_expired(attempt.now), "a stale request blocks"
            return
        if isinstance(error, WorkerDied):  # after the gateway acted: the key stays claimed
            self.confirm_keys[attempt.used] = KeyUse(request, None, attempt.now)
            return
        # Any other refusal frees the key (abandon), also after a takeover.
        self.confirm_keys.pop(attempt.used, None)
        assert prior is None or prior.result is None
        if isinstance(error, NotFound):
            assert attempt.used[0] != attempt.owner
        elif isinstance(error, OrderNotPayable):
            assert attempt.used[0] == attempt.owner
            assert attempt.status_before in (
                OrderStatus.PAYMENT_FAILED,
                OrderStatus.CANCELLED,
                OrderStatus.NEEDS_REFUND,
            )
        elif isinstance(error, GatewayError):
            assert attempt.used[0] == attempt.owner
            assert attempt.armed or attempt.intent_canceled, error
            assert attempt.status_before is OrderStatus.AWAITING_PAYMENT
        else:
            raise error

    def _confirm_answered(self, attempt: ConfirmAttempt, result: Result) -> None:
        prior = attempt.prior
        if prior is not None and prior.result is not None:
            assert prior.request == attempt.request, "a key reused for another payment"
            self._replays(result, prior.result)
            event("confirm: replayed")
            return
        if prior is not None:  # took over an abandoned confirm
            assert prior.request == attempt.request
            assert prior.lease_expired(attempt.now), "took over a live request"
            event("confirm: took over")
        event(f"confirm: {result.outcome}")
        intent_id = attempt.request[0]
        assert attempt.used[0] == attempt.owner, "a shopper confirmed someone else's intent"
        assert not result.replayed
        assert result.outcome in CONFIRM_OUTCOMES, result.outcome
        order = self._order(self.order_of_intent[intent_id])
        expected_status = {
            "paid": {OrderStatus.PAID},
            "already_paid": {
                OrderStatus.PAID,
                OrderStatus.PARTIALLY_REFUNDED,
                OrderStatus.REFUNDED,
                OrderStatus.FULFILLED,
            },
            "declined": {OrderStatus.PAYMENT_FAILED},
            "requires_action": {OrderStatus.AWAITING_PAYMENT},
            "processing": {OrderStatus.AWAITING_PAYMENT},
        }[result.outcome]
        assert order.status in expected_status, (result.outcome, order.status)
        assert result.body["order"]["status"] == order.status.value
        self.confirm_keys[attempt.used] = KeyUse(attempt.request, result)

    @precondition(lambda self: self.intents)
    @rule(data=st.data())
    def browser_confirms_at_the_gateway(self, data: st.DataObject) -> None:
        """Stripe.js confirms in the browser; we only hear about it by webhook."""
        intent_id = data.draw(st.sampled_from(self.intents), label="intent")
        method = data.draw(cst.payment_methods(), label="payment method")
        self.browser_calls += 1
        # A canceled intent or an outage: the browser shows an error, nothing else happens.
        with contextlib.suppress(GatewayError):
            FakeGateway.confirm_intent(  # the browser is not our worker: it never "dies"
                self.gateway,
                intent_id,
                payment_method=method,
                idempotency_key=f"browser-{self.browser_calls}",
            )
        self._collect_events()

    @rule(data=st.data(), sell_out=st.booleans())
    def a_failed_order_is_captured_late(self, data: st.DataObject, sell_out: bool) -> None:
        """The story behind the money hole, as one step: a card declines in the browser, the
        failure webhook cannot cancel the intent (the gateway is out of reach), perhaps the
        released stock sells out meanwhile, and the tab retries with another card, which the
        gateway captures. The capture's own webhook is left to the other rules."""
        intent_id = self._create_intent(data)
        if intent_id is None:
            return
        FakeGateway.confirm_intent(
            self.gateway,
            intent_id,
            payment_method="pm_card_chargeDeclined",
            idempotency_key=f"story-{intent_id}-decline",
        )
        self._collect_events()
        failure = self.undelivered.pop()
        assert failure.kind is EventKind.PAYMENT_FAILED
        self.gateway.next_cancel_unreachable = True
        try:
            handle_gateway_event(failure, **self.shop.ports)
        except WorkerDied:
            pass  # committed; the follow-up is the job's
        finally:
            self.gateway.next_cancel_unreachable = False
            self._collect_events()
        self.delivered.append(failure)
        order = self._order(self.order_of_intent[intent_id])
        if sell_out:
            rest = self._stock()
            others = tuple(
                CartItem(None, min(rest[vid], MAX_QUANTITY), variant_id=vid)
                for vid in sorted({line.variant_id for line in order.lines})
                if rest[vid] > 0
            )
            if others:
                user = next(u for u in SHOPPERS if u != self.owner[intent_id])
                # Another shopper buying the rest: the caps on unpaid holds are not the story.
                result = create_checkout_intent(
                    CreateCheckoutIntent(user, others), **self.shop.ports, hold_limits=UNCAPPED
                )
                self._adopt(user, result)
        with contextlib.suppress(GatewayError):  # the job may have cancelled it after all
            FakeGateway.confirm_intent(
                self.gateway,
                intent_id,
                payment_method="pm_card_visa",
                idempotency_key=f"story-{intent_id}-retry",
            )
            event(f"story: captured late{' after a sell-out' if sell_out else ''}")
        self._collect_events()

    @precondition(lambda self: self.intents)
    @rule(data=st.data())
    def browser_retries_a_failed_order(self, data: st.DataObject) -> None:
        """The shopper's tab still holds the client secret of an order that failed, and tries
        another card on it: refused if the shop cancelled the intent, a late capture if not."""
        retryable = [
            i
            for i in self.intents
            if self.shop.store.data.orders[self.order_of_intent[i]].status
            in (OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED)
        ]
        if not retryable:
            return
        intent_id = data.draw(st.sampled_from(retryable), label="failed order's intent")
        method = data.draw(cst.payment_methods(cst.SUCCEEDING_PAYMENT_METHODS), label="card")
        self.browser_calls += 1
        try:
            FakeGateway.confirm_intent(
                self.gateway,
                intent_id,
                payment_method=method,
                idempotency_key=f"browser-{self.browser_calls}",
            )
            event("browser: a failed order's intent captured late")
        except GatewayError:
            event("browser: a failed order's intent refused (cancelled)")
        self._collect_events()

    @precondition(lambda self: self.intents)
    @rule(data=st.data())
    def complete_3ds(self, data: st.DataObject) -> None:
        waiting = [
            i
            for i in self.intents
            if self.shop.gateway.intents[i].status is IntentStatus.REQUIRES_ACTION
        ]
        if not waiting:
            return
        intent_id = data.draw(st.sampled_from(waiting), label="3DS intent")
        self.shop.gateway.authenticate(intent_id, success=data.draw(st.booleans(), label="passes"))
        self._collect_events()

    # -- the gateway -----------------------------------------------------------------------

    @rule(data=st.data())
    def deliver_webhooks(self, data: st.DataObject) -> None:
        self._collect_events()
        batch = data.draw(st.permutations(self.undelivered), label="delivery order")
        now = data.draw(st.integers(0, len(batch)), label="how many now")
        fresh, self.undelivered = batch[:now], batch[now:]
        replays = (
            data.draw(st.lists(st.sampled_from(self.delivered), max_size=3), label="redelivered")
            if self.delivered
            else []
        )
        deliveries = [(e, True) for e in fresh] + [(e, False) for e in replays]
        deliveries = data.draw(st.permutations(deliveries), label="interleaving")
        for sent, first_time in deliveries:
            received = sent
            if data.draw(st.booleans(), label="through the signed payload"):
                body, headers = self.shop.gateway.event_payload(sent)
                received = self.shop.gateway.parse_event(body, headers)
            try:
                outcome = handle_gateway_event(received, **self.shop.ports)
            except WorkerDied:
                # It died in the follow-up call to the gateway (cancel, owed refund), after the
                # event's own transaction committed: the gateway sees no 2xx and redelivers,
                # and what the follow-up did not finish, the reconciliation job does.
                event("webhook: worker died in the follow-up")
                if first_time:
                    self.delivered.append(received)
                continue
            finally:
                self._collect_events()
            note(f"{received.kind.value} {received.intent_id} -> {outcome.value}")
            event(f"webhook: {received.kind.value} -> {outcome.value}")
            order_id = self.order_of_intent.get(received.intent_id or "")
            order = self.shop.store.data.orders.get(order_id or "")
            if order is not None and order.captured is not None and not order.status.is_paid:
                event(f"webhook: a late capture owed back, now {order.status.value}")
            if first_time:
                assert outcome is not EventOutcome.DUPLICATE, "a first delivery was a duplicate"
                assert outcome is not EventOutcome.REJECTED, "a genuine event was rejected"
                self.delivered.append(received)
            else:
                assert outcome is EventOutcome.DUPLICATE, "a redelivered event acted again"

    @rule(times=st.integers(1, 2))
    def gateway_outage(self, times: int) -> None:
        self.shop.gateway.fail_next(times)

    @rule()
    def next_worker_dies_after_the_gateway_call(self) -> None:
        self.gateway.die_after_next_call = True

    @rule()
    def next_cancel_finds_the_gateway_unreachable(self) -> None:
        """So that an ended order's intent stays payable for a while, and a browser retry can
        capture it late: the money path the reconciliation must still bring home."""
        self.gateway.next_cancel_unreachable = True

    # -- staff -----------------------------------------------------------------------------

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        paid = [i for i in self.order_ids if self.shop.store.data.orders[i].status.is_paid]
        mostly_paid = paid and data.draw(st.integers(0, 3), label="a paid order?") > 0
        order_id = data.draw(
            st.sampled_from(paid if mostly_paid else self.order_ids), label="order"
        )
        actor = data.draw(st.sampled_from(STAFF), label="staff")
        key = self._key(data, self.refund_keys, actor)
        total = self.shop.store.data.orders[order_id].total
        if data.draw(st.booleans(), label="all that remains"):
            amount = None
        else:
            cents = data.draw(st.integers(1, total.amount + 50), label="amount")
            amount = Money(cents, total.currency)
        self._send_refund(actor, key, order_id, amount)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def staff_ship_an_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.order_ids), label="order")
        before = self._order(order_id)
        try:
            fulfil_order(
                FulfilOrder(STAFF[0], order_id, "UPS", f"1Z-{order_id[-6:]}"),
                uow=self.shop.uow,
                clock=self.shop.clock,
                events=self.shop.events,
            )
        except IllegalTransition:
            event("ship: refused")
            assert before.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
            assert self._order(order_id) == before
            return
        event("ship: shipped")
        after = self._order(order_id)
        assert before.status.is_paid
        assert after.status is OrderStatus.FULFILLED or before.fulfilment is not None
        assert after.fulfilment is not None
        assert after.captured == before.captured

    @rule(data=st.data())
    def staff_count_or_move_stock(self, data: st.DataObject) -> None:
        """A stock take or a delivery, for one SKU: the shelf counted (``set_to``) or units
        moved in or out (``add``; taking out more than is left is refused). The product without
        options may be named alone (its one variant); the shirt only with a size's SKU."""
        vid = data.draw(st.sampled_from(self.variant_ids), label="variant")
        product = self.product_of[vid]
        by_sku = data.draw(st.integers(0, 3), label="names the SKU?") > 0
        sku = self.sku_of[vid] if by_sku else None
        set_to, add = data.draw(
            st.one_of(
                st.tuples(st.integers(0, 12), st.none()),
                st.tuples(st.none(), st.sampled_from([-4, -3, -2, -1, 1, 2, 3, 6])),
            ),
            label="set to / add",
        )
        stock = self._stock()
        before = stock[vid]
        try:
            change_stock(
                ChangeStock(STAFF[0], product.slug, "stock take", set_to, add, sku=sku),
                uow=self.shop.uow,
                clock=self.shop.clock,
            )
        except InvalidInput:
            event("stock: the shirt named without a size's SKU")
            assert sku is None
            assert product.option_names
            assert self._stock() == stock
            return
        except OutOfStock as refused:
            event("stock: taking out more than is left refused")
            named_short = refused.variant_ids
            assert add is not None
            assert before + add < 0
            assert named_short == (vid,)
            assert self._stock() == stock
            return
        event(f"stock: {'counted' if set_to is not None else 'moved'}")
        assert sku is not None or not product.option_names
        after = set_to if set_to is not None else before + (add or 0)
        assert self._stock() == {**stock, vid: after}, "another variant's stock moved"
        self.received[vid] += after - before

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def staff_cancel_a_paid_order(self, data: st.DataObject) -> None:
        paid = [i for i in self.order_ids if self.shop.store.data.orders[i].status.is_paid]
        order_id = data.draw(st.sampled_from(paid or self.order_ids), label="order")
        before = self._order(order_id)
        stock = self._stock()
        try:
            cancel_paid_order(CancelPaidOrder(STAFF[1], order_id), **self.shop.ports)
        except IllegalTransition:
            event("cancel paid: refused")
            assert before.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED) or (
                before.fulfilment is not None
            )
            assert self._stock() == stock
            return
        except WorkerDied:
            event("cancel paid: worker died")
        finally:
            self._collect_events()
        event("cancel paid: cancelled")
        after = self._order(order_id)
        assert after.status in (OrderStatus.NEEDS_REFUND, OrderStatus.CANCELLED)
        assert after.stock_state is StockState.RELEASED
        returned: Counter[str] = Counter()
        for line in before.lines:
            returned[line.variant_id] += line.quantity
        # Each sold unit back on the very variant it was sold from, no other stock touched.
        assert self._stock() == {vid: stock[vid] + returned[vid] for vid in stock}

    @precondition(lambda self: self.refund_keys)
    @rule(data=st.data())
    def staff_retries_a_refund(self, data: st.DataObject) -> None:
        """The same refund request again: a replay, a wait, or a takeover of a dead attempt."""
        actor, key = data.draw(st.sampled_from(list(self.refund_keys)), label="retried")
        order_id, amount = self.refund_keys[(actor, key)].request
        self._send_refund(actor, key, order_id, amount)

    def _send_refund(self, actor: str, key: str, order_id: str, amount: Money | None) -> None:
        before = self._order(order_id)
        attempt = RefundAttempt(
            used=(actor, key),
            request=(order_id, amount),
            prior=self.refund_keys.get((actor, key)),
            before=before,
            amount=amount,
            now=self.shop.clock.now(),
            armed=self.outage_armed,
        )
        try:
            result = refund_order(RefundOrder(actor, order_id, amount, key), **self.shop.ports)
        except (CommerceError, WorkerDied) as error:
            event(f"refund: {getattr(error, 'code', 'worker died')}")
            self._refund_refused(attempt, error)
            return
        finally:
            self._collect_events()
        event(f"refund: {'replayed' if result.replayed else result.outcome}")
        self._refund_answered(attempt, result)

    def _refund_refused(self, attempt: RefundAttempt, error: Exception) -> None:
        prior, request = attempt.prior, attempt.request
        if isinstance(error, IdempotencyKeyReused):
            assert prior is not None
            assert prior.request != request
        elif isinstance(error, IdempotencyRequestInProgress):
            assert prior is not None
            assert prior.request == request
            assert prior.result is None
            assert not prior.lease_expired(attempt.now), "a stale request blocks"
        elif isinstance(error, OrderNotRefundable):
            assert prior is None
            assert not attempt.before.status.is_paid
        elif isinstance(error, RefundExceedsCaptured):
            assert prior is None
            remaining = attempt.before.refundable
            assert remaining.is_zero if attempt.amount is None else attempt.amount > remaining
        elif isinstance(error, GatewayUnavailable | WorkerDied):
            assert attempt.armed or isinstance(error, WorkerDied)
            if prior is None:
                self.refund_keys[attempt.used] = KeyUse(request, None, attempt.now)
            else:  # a takeover that failed again keeps the key, with a fresh lease
                assert prior.result is None
                assert prior.request == request
                prior.locked_at = attempt.now
        else:
            raise error

    def _refund_answered(self, attempt: RefundAttempt, result: Result) -> None:
        prior = attempt.prior
        if prior is not None and prior.result is not None:
            assert prior.request == attempt.request, "a refund key reused for another refund"
            self._replays(result, prior.result)
            return
        if prior is not None:  # took over an abandoned refund
            assert prior.request == attempt.request
            assert prior.lease_expired(attempt.now), "took over a live request"
        else:
            assert attempt.before.status.is_paid
            remaining = attempt.before.refundable
            expected = remaining if attempt.amount is None else attempt.amount
            assert result.body["refund"]["amount"] == expected.to_primitive()
        assert not result.replayed
        assert result.outcome == "succeeded"
        self.refund_keys[attempt.used] = KeyUse(attempt.request, result)

    # -- time ------------------------------------------------------------------------------

    @rule(step=CLOCK_STEPS, run_the_job=st.booleans())
    def time_passes(self, step: timedelta, run_the_job: bool) -> None:
        """Time passes, and the periodic job releasing expired holds may run."""
        self.shop.clock.advance(step)
        if not run_the_job:
            return
        with self.shop.uow as uow:
            due = uow.orders.expired_holds(self.shop.clock.now(), 1_000)
        try:
            report = release_expired_holds(**self.shop.ports)
        except WorkerDied:
            event("holds: worker died")
            return  # the next run picks up where this one stopped
        finally:
            self._collect_events()
        if report.released:
            event("holds: released")
        if report.settled:
            event("holds: settled")
        assert report.released + report.settled + report.failed <= len(due)
        if not self.outage_armed and report.failed == 0:
            with self.shop.uow as uow:
                assert uow.orders.expired_holds(self.shop.clock.now(), 1_000) == []

    @rule()
    def reconciliation_job_runs(self) -> None:
        try:
            report = reconcile_payments(**self.shop.ports)
        except WorkerDied:
            event("reconcile: worker died")
            return  # the next run picks up where this one stopped
        finally:
            self._collect_events()
        if report.orders_followed_up:
            event("reconcile: followed up orders")

    def teardown(self) -> None:
        """Let the world settle - the gateway is reachable again, every webhook arrives, the
        jobs run until there is nothing left to do - and check where the money ended."""
        self.shop.gateway.fail_next(0)
        self.gateway.die_after_next_call = self.gateway.next_cancel_unreachable = False
        self.shop.clock.advance(IDEMPOTENCY_LEASE + timedelta(seconds=1))
        for _ in range(10):
            self._collect_events()
            pending, self.undelivered = self.undelivered, []
            for sent in pending:
                handle_gateway_event(sent, **self.shop.ports)
            reconcile_payments(**self.shop.ports)
            self._collect_events()
            if not self.undelivered:
                break
        check_shop_invariants(self.shop, self.received)
        check_captured_money_settled(self.shop, self.gateway)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def shop_is_consistent(self) -> None:
        check_shop_invariants(self.shop, self.received)

    @invariant()
    def an_intent_keeps_its_order(self) -> None:
        by_intent = {o.intent_id: o.id for o in all_orders(self.shop) if o.intent_id is not None}
        for intent_id, order_id in self.order_of_intent.items():
            assert by_intent.get(intent_id) == order_id, f"{intent_id} moved to another order"

    @invariant()
    def the_gateway_never_charges_or_refunds_twice(self) -> None:
        self._collect_events()
        charges = Counter(
            e.intent_id for e in self.published if e.kind is EventKind.PAYMENT_SUCCEEDED
        )
        assert all(n == 1 for n in charges.values()), charges
        for order in all_orders(self.shop):
            if order.intent_id is None:
                continue
            at_gateway = self.shop.gateway.intents[order.intent_id].amount_refunded
            succeeded = sum(
                r.amount.amount for r in order.refunds if r.status is RefundStatus.SUCCEEDED
            )
            reserved = sum(
                r.amount.amount for r in order.refunds if r.status is not RefundStatus.FAILED
            )
            assert succeeded <= at_gateway <= reserved, (order.id, succeeded, at_gateway, reserved)


TestCheckoutStateMachine = CheckoutMachine.TestCase
if os.environ.get("HYPOTHESIS_PROFILE") == "thorough":
    # Minutes of honest work, not a hang: the suite-wide timeout is meant for hangs.
    TestCheckoutStateMachine = pytest.mark.timeout(0)(TestCheckoutStateMachine)


# -- the invariant checks can fail ----------------------------------------------------------


def _stored(shop: InMemoryShop, sku: str) -> Variant:
    """The committed variant ``sku`` itself (not a copy): for a test to corrupt it."""
    for product in shop.store.data.products.values():
        variant = product.variant_by_sku(sku)
        if variant is not None:
            return variant
    raise LookupError(sku)


def _demo_variant(shop: InMemoryShop) -> str:
    """The id of the one variant of the shop's demo product."""
    return shop.store.data.products[shop.product_id].variants[0].id


def _busy_shop() -> tuple[InMemoryShop, dict[str, int]]:
    """A demo product (5 in stock) and a shirt in S, M, L (4 of each); Ann paid for two of the
    demo product and two shirts in M, Ben holds a shirt in M and one in L."""
    shop = InMemoryShop.with_demo_product(stock=5)
    shirt = sized_product(shop, "shirt", [(Money(p, "USD"), 4) for p in (1000, 1200, 1400)])
    size = {v.options[0][1]: v.id for v in shirt.variants}
    carts = {
        "usr_ann": (CartItem(shop.product_id, 2), CartItem(None, 2, variant_id=size["M"])),
        "usr_ben": (
            CartItem(None, 1, variant_id=size["M"]),
            CartItem(None, 1, variant_id=size["L"]),
        ),
    }
    for user, method in (("usr_ann", "pm_card_visa"), ("usr_ben", None)):
        body = create_checkout_intent(CreateCheckoutIntent(user, carts[user]), **shop.ports).body
        if method:
            confirm_order(ConfirmOrder(user, body["intent_id"], method, "k"), **shop.ports)
    received = {_demo_variant(shop): 5} | dict.fromkeys(size.values(), 4)
    check_shop_invariants(shop, received)
    assert [_stored(shop, f"SHIRT-{s}").stock for s in SIZES] == [4, 1, 3]
    return shop, received


def test_the_invariant_check_catches_a_corrupted_stock_level() -> None:
    """A unit moved from one size to another: the shirt's stock as a whole is right, yet S
    has one unit too few and M one too many - only a per-variant count sees it."""
    shop, received = _busy_shop()
    total = sum(_stored(shop, f"SHIRT-{s}").stock for s in SIZES)
    _stored(shop, "SHIRT-S").stock -= 1
    _stored(shop, "SHIRT-M").stock += 1
    assert sum(_stored(shop, f"SHIRT-{s}").stock for s in SIZES) == total
    with pytest.raises(AssertionError, match="held"):
        check_shop_invariants(shop, received)


def test_the_invariant_check_catches_a_hold_booked_to_another_size() -> None:
    """Ben's hold on an L said to be on an S: the units held per variant no longer add up."""
    shop, received = _busy_shop()
    held = next(o for o in shop.store.data.orders.values() if o.status is not OrderStatus.PAID)
    small = _stored(shop, "SHIRT-S")
    held.lines = tuple(
        attrs.evolve(line, variant_id=small.id, sku=small.sku) if line.sku == "SHIRT-L" else line
        for line in held.lines
    )
    with pytest.raises(AssertionError, match="held"):
        check_shop_invariants(shop, received)


def test_the_invariant_check_catches_negative_stock() -> None:
    shop, received = _busy_shop()
    _stored(shop, "SHIRT-L").stock = -1
    with pytest.raises(AssertionError, match="negative"):
        check_shop_invariants(shop, received)


def test_the_invariant_check_catches_a_paid_order_without_its_stock() -> None:
    shop, initial = _busy_shop()
    paid = next(o for o in shop.store.data.orders.values() if o.status is OrderStatus.PAID)
    paid.stock_state = StockState.RELEASED
    with pytest.raises(AssertionError, match="lacks its stock"):
        check_shop_invariants(shop, initial)


def test_the_invariant_check_catches_an_intent_shared_by_two_orders() -> None:
    shop, initial = _busy_shop()
    first, second = shop.store.data.orders.values()
    second.intent_id = first.intent_id
    with pytest.raises(AssertionError, match="two orders"):
        check_shop_invariants(shop, initial)


def test_the_invariant_check_catches_a_refund_past_the_capture() -> None:
    shop, initial = _busy_shop()
    paid = next(o for o in shop.store.data.orders.values() if o.status is OrderStatus.PAID)
    now = shop.clock.now()
    # Two full refunds that a broken ledger let through.
    paid.refunds = [
        Refund(f"re_{n}", paid.total, RefundStatus.SUCCEEDED, now, now) for n in range(2)
    ]
    with pytest.raises(AssertionError, match="refunded past its capture"):
        check_shop_invariants(shop, initial)


# -- the captured-money check can fail --------------------------------------------------------


def _captured_after_the_order_ended() -> tuple[InMemoryShop, FakeGateway, Order]:
    """An order that ended unpaid - its stock then sold to another shopper - and a capture on
    its intent the shop has not yet heard of."""
    shop = InMemoryShop.with_demo_product(stock=5)
    assert isinstance(shop.gateway, FakeGateway)
    body = create_checkout_intent(
        CreateCheckoutIntent("usr_ann", (CartItem(shop.product_id, 2),)), **shop.ports
    ).body
    with shop.uow as uow:
        order = uow.orders.get(body["order_id"], for_update=True)
        assert order is not None
        end_unpaid(uow, order, "hold_expired", shop.clock.now(), failed=False)
        uow.orders.save(order)
        uow.commit()
    create_checkout_intent(
        CreateCheckoutIntent("usr_ben", (CartItem(shop.product_id, 5),)), **shop.ports
    )
    shop.gateway.confirm_intent(
        body["intent_id"], payment_method="pm_card_visa", idempotency_key="browser"
    )
    return shop, shop.gateway, shop.store.data.orders[body["order_id"]]


def test_the_settled_money_check_catches_a_capture_kept_for_an_ended_order() -> None:
    shop, gateway, _ = _captured_after_the_order_ended()
    with pytest.raises(AssertionError, match="captured and not refunded"):
        check_captured_money_settled(shop, gateway)


def test_the_settled_money_check_catches_an_ended_order_whose_intent_can_still_be_paid() -> None:
    shop = InMemoryShop.with_demo_product(stock=5)
    assert isinstance(shop.gateway, FakeGateway)
    body = create_checkout_intent(
        CreateCheckoutIntent("usr_ann", (CartItem(shop.product_id, 1),)), **shop.ports
    ).body
    order = shop.store.data.orders[body["order_id"]]
    order.status = OrderStatus.PAYMENT_FAILED  # ended, but nobody cancelled the intent
    with pytest.raises(AssertionError, match="yet its intent is requires_payment_method"):
        check_captured_money_settled(shop, shop.gateway)


def test_the_settled_money_check_catches_a_refund_still_owed() -> None:
    shop, gateway, order = _captured_after_the_order_ended()
    order.capture_without_stock(order.total, "re_owed", shop.clock.now())
    gateway.intents[order.intent_id or ""].amount_refunded = order.total.amount
    with pytest.raises(AssertionError, match="still owes a refund"):
        check_captured_money_settled(shop, gateway)


def test_the_settled_money_check_passes_once_the_capture_is_refunded() -> None:
    shop, gateway, order = _captured_after_the_order_ended()
    event = next(e for e in gateway.take_events() if e.kind is EventKind.PAYMENT_SUCCEEDED)
    handle_gateway_event(event, **shop.ports)
    check_captured_money_settled(shop, gateway)
    check_shop_invariants(shop, {_demo_variant(shop): 5})
    assert shop.store.data.orders[order.id].status is OrderStatus.CANCELLED
