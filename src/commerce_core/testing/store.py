"""``InMemoryStore`` and ``InMemoryUnitOfWork``: the ``UnitOfWork`` port (and every repository
it hands out) over plain dicts, thread-safe and held to ``UnitOfWorkContract`` like the SQL one.

``InMemoryUnitOfWork`` runs each ``with`` block as one serialisable transaction over a private
copy of the store: commit publishes the copy, anything else discards it.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Self

import attrs

from commerce_core.domain.accounts import Role, Session, User
from commerce_core.domain.attributes import AttributeDefinition, AttributeValue
from commerce_core.domain.audit import GENESIS_HASH, AuditEntry
from commerce_core.domain.carts import Cart
from commerce_core.domain.catalog import Product
from commerce_core.domain.catalog_search import (
    CatalogFacets,
    CatalogQuery,
    attribute_facets,
    count_price_ranges,
    facet_counts,
)
from commerce_core.domain.categories import Category
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.filters import OrderFilter, UserFilter
from commerce_core.domain.hold_limits import HeldStock
from commerce_core.domain.idempotency import IdempotencyRecord
from commerce_core.domain.notifications import QueuedMessage
from commerce_core.domain.orders import Order, OrderStatus, RefundStatus, StockState
from commerce_core.domain.password_resets import PasswordResetToken
from commerce_core.domain.payments import GatewayEvent
from commerce_core.domain.refresh_tokens import RefreshToken
from commerce_core.domain.saved_addresses import SavedAddress
from commerce_core.domain.shipping import ShippingMethod, ShippingZone
from commerce_core.domain.tax import TaxRate
from commerce_core.errors import Conflict, EmailAlreadyRegistered, NotFound
from commerce_core.ports import DailySales, EventBuffer
from commerce_core.testing.catalog_store import InMemoryAttributes, InMemoryCategories
from commerce_core.testing.notification_store import (
    InMemoryMessageOutbox,
    InMemoryPasswordResets,
    InMemorySignInAddresses,
)

__all__ = ["InMemoryStore", "InMemoryUnitOfWork"]


@attrs.define
class _Data:
    products: dict[str, Product] = attrs.Factory(dict)
    orders: dict[str, Order] = attrs.Factory(dict)
    idempotency: dict[tuple[str, str, str], IdempotencyRecord] = attrs.Factory(dict)
    events: set[str] = attrs.Factory(set)
    users: dict[str, User] = attrs.Factory(dict)
    sessions: dict[str, Session] = attrs.Factory(dict)
    refresh_tokens: dict[str, RefreshToken] = attrs.Factory(dict)
    audit: list[AuditEntry] = attrs.Factory(list)
    outbox: dict[str, tuple[DomainEvent, datetime | None]] = attrs.Factory(dict)
    messages: dict[str, QueuedMessage] = attrs.Factory(dict)
    password_resets: dict[str, PasswordResetToken] = attrs.Factory(dict)
    sign_in_addresses: dict[tuple[str, str], datetime] = attrs.Factory(dict)
    shipping_zones: dict[str, ShippingZone] = attrs.Factory(dict)
    shipping_methods: dict[str, ShippingMethod] = attrs.Factory(dict)
    tax_rates: dict[tuple[str, str], TaxRate] = attrs.Factory(dict)
    saved_addresses: dict[str, SavedAddress] = attrs.Factory(dict)
    categories: dict[str, Category] = attrs.Factory(dict)
    # Product id -> the ids of its categories (none: absent).
    product_categories: dict[str, frozenset[str]] = attrs.Factory(dict)
    attribute_definitions: dict[str, AttributeDefinition] = attrs.Factory(dict)
    # Product id -> attribute code -> its value (none: absent).
    attribute_values: dict[str, dict[str, AttributeValue]] = attrs.Factory(dict)
    carts: dict[str, Cart] = attrs.Factory(dict)


class InMemoryStore:
    """The shared 'database' of any number of ``InMemoryUnitOfWork``s (one per thread/request)."""

    def __init__(self) -> None:
        self.data = _Data()
        self.lock = threading.Lock()
        self.commits = 0


class _Repo:
    def __init__(self, data: _Data) -> None:
        self._data = data


class _Products(_Repo):
    def _check_unique(self, product: Product) -> None:
        """The slug's and the SKUs' unique indexes, emulated."""
        for other in self._data.products.values():
            if other.id == product.id:
                continue
            if other.slug == product.slug:
                raise Conflict(f"slug {product.slug!r} is taken")
            taken = {v.sku for v in other.variants} & {v.sku for v in product.variants}
            if taken:
                raise Conflict(f"SKU {sorted(taken)[0]!r} is taken")

    def add(self, product: Product) -> None:
        if product.id in self._data.products:
            raise Conflict(f"product {product.id} already exists")
        self._check_unique(product)
        self._data.products[product.id] = copy.deepcopy(product)

    def get(self, product_id: str) -> Product | None:
        return copy.deepcopy(self._data.products.get(product_id))

    def get_by_slug(self, slug: str) -> Product | None:
        found = next((p for p in self._data.products.values() if p.slug == slug), None)
        return copy.deepcopy(found)

    def get_by_sku(self, sku: str) -> Product | None:
        found = next(
            (p for p in self._data.products.values() if p.variant_by_sku(sku) is not None), None
        )
        return copy.deepcopy(found)

    def owners(self, variant_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(variant_ids)
        return {
            v.id: p.id for p in self._data.products.values() for v in p.variants if v.id in wanted
        }

    def lock(self, product_ids: Iterable[str]) -> dict[str, Product]:
        return {
            pid: copy.deepcopy(self._data.products[pid])
            for pid in sorted(set(product_ids))
            if pid in self._data.products
        }

    def save(self, product: Product) -> None:
        if product.id not in self._data.products:
            raise NotFound(f"no product {product.id} to save")
        if any(v.stock < 0 for v in product.variants):  # the database's CHECK, emulated
            raise Conflict("stock cannot be negative")
        kept = {v.id for v in self._data.products[product.id].variants}
        if not kept <= {v.id for v in product.variants}:
            raise Conflict("a variant is never deleted (orders refer to it): archive it")
        self._check_unique(product)
        self._data.products[product.id] = copy.deepcopy(product)

    def list_for_staff(self, offset: int, limit: int) -> tuple[list[Product], int]:
        everything = sorted(self._data.products.values(), key=lambda p: (p.name, p.id))
        return copy.deepcopy(everything[offset : offset + limit]), len(everything)

    def search(self, where: CatalogQuery, offset: int, limit: int) -> tuple[list[Product], int]:
        found = sorted(self._matching(where), key=where.sort_key)
        return copy.deepcopy(found[offset : offset + limit]), len(found)

    def facets(self, where: CatalogQuery) -> CatalogFacets:
        prices: dict[tuple[str, int], int] = {}
        categories: dict[str, int] = {}
        values: dict[tuple[str, str], int] = {}
        filterable = {code for code, d in self._data.attribute_definitions.items() if d.filterable}
        for product in self._matching(where):
            key = (product.price.currency, product.price.amount)
            prices[key] = prices.get(key, 0) + 1
            for category in self._data.product_categories.get(product.id, ()):
                categories[category] = categories.get(category, 0) + 1
            for code, value in self._data.attribute_values.get(product.id, {}).items():
                if code in filterable:
                    values[(code, value.text)] = values.get((code, value.text), 0) + 1
        return CatalogFacets(
            categories=facet_counts(categories.items()),
            attributes=attribute_facets((c, v, n) for (c, v), n in values.items()),
            price_ranges=count_price_ranges((c, a, n) for (c, a), n in prices.items()),
        )

    def _matching(self, where: CatalogQuery) -> list[Product]:
        return [
            p
            for p in self._data.products.values()
            if where.matches(
                p,
                self._data.product_categories.get(p.id, frozenset()),
                {
                    code: value.text
                    for code, value in self._data.attribute_values.get(p.id, {}).items()
                },
            )
        ]


class _Orders(_Repo):
    def add(self, order: Order) -> None:
        if order.id in self._data.orders:
            raise Conflict(f"order {order.id} exists")
        self._check_unique(order)
        self._data.orders[order.id] = copy.deepcopy(order)

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        return copy.deepcopy(self._data.orders.get(order_id))

    def get_by_intent(self, intent_id: str, *, for_update: bool = False) -> Order | None:
        found = next((o for o in self._data.orders.values() if o.intent_id == intent_id), None)
        return copy.deepcopy(found)

    def save(self, order: Order) -> None:
        self._check_unique(order)
        self._data.orders[order.id] = copy.deepcopy(order)

    def _check_unique(self, order: Order) -> None:
        for other in self._data.orders.values():
            if other.id == order.id:
                continue
            if order.intent_id is not None and other.intent_id == order.intent_id:
                raise Conflict(f"payment intent {order.intent_id} already belongs to an order")
            theirs = {r.gateway_refund_id for r in other.refunds if r.gateway_refund_id}
            if any(r.gateway_refund_id in theirs for r in order.refunds if r.gateway_refund_id):
                raise Conflict("gateway refund id already recorded on another order")

    def _page(self, orders: Iterable[Order], offset: int, limit: int) -> tuple[list[Order], int]:
        ordered = sorted(orders, key=lambda o: (o.created_at, o.id), reverse=True)
        return copy.deepcopy(ordered[offset : offset + limit]), len(ordered)

    def list_for_user(self, user_id: str, offset: int, limit: int) -> tuple[list[Order], int]:
        return self._page(
            (o for o in self._data.orders.values() if o.user_id == user_id), offset, limit
        )

    def list_all(self, offset: int, limit: int) -> tuple[list[Order], int]:
        return self._page(self._data.orders.values(), offset, limit)

    def search(self, where: OrderFilter, offset: int, limit: int) -> tuple[list[Order], int]:
        return self._page(filter(where.matches, self._data.orders.values()), offset, limit)

    def held_unpaid(self, *, user_id: str | None = None, client_ip: str | None = None) -> HeldStock:
        if (user_id is None) == (client_ip is None):
            raise ValueError("count the holds of one user or of one address")
        held = [
            o
            for o in self._data.orders.values()
            if o.status is OrderStatus.AWAITING_PAYMENT
            and o.stock_state is StockState.HELD
            and (o.user_id == user_id if user_id is not None else o.client_ip == client_ip)
        ]
        return HeldStock(len(held), sum(line.quantity for o in held for line in o.lines))

    def expired_holds(self, now: datetime, limit: int) -> list[str]:
        expired = sorted(
            (
                o
                for o in self._data.orders.values()
                if o.status is OrderStatus.AWAITING_PAYMENT
                and o.stock_state is StockState.HELD
                and o.hold_expires_at < now
            ),
            key=lambda o: (o.hold_expires_at, o.id),
        )
        return [o.id for o in expired[:limit]]

    def paid_by_day(self, paid_from: datetime, paid_to: datetime) -> list[DailySales]:
        orders: Counter[tuple[date, str]] = Counter()
        amounts: Counter[tuple[date, str]] = Counter()
        for o in self._data.orders.values():
            if o.status.is_paid and o.paid_at is not None and paid_from <= o.paid_at < paid_to:
                key = (o.paid_at.astimezone(UTC).date(), o.currency)
                orders[key] += 1
                amounts[key] += 0 if o.captured is None else o.captured.amount
        return [
            DailySales(day, currency, orders[day, currency], amounts[day, currency])
            for day, currency in sorted(orders)
        ]

    def awaiting_gateway_word(self, placed_before: datetime, limit: int) -> list[str]:
        waiting = sorted(
            (
                o
                for o in self._data.orders.values()
                if (
                    o.status is OrderStatus.AWAITING_PAYMENT
                    and o.intent_id is not None
                    and o.created_at < placed_before
                )
                or any(
                    r.status is RefundStatus.PENDING and r.gateway_refund_id is not None
                    for r in o.refunds
                )
            ),
            key=lambda o: (o.created_at, o.id),
        )
        return [o.id for o in waiting[:limit]]

    def owing_gateway_work(self, limit: int) -> list[str]:
        owing = sorted(
            (o for o in self._data.orders.values() if o.owes_gateway_work),
            key=lambda o: (o.updated_at, o.id),
        )
        return [o.id for o in owing[:limit]]


class _Idempotency(_Repo):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        key = (record.user_id, record.scope, record.key)
        existing = self._data.idempotency.get(key)
        if existing is not None:
            return copy.deepcopy(existing)
        self._data.idempotency[key] = copy.deepcopy(record)
        return None

    def get(
        self, user_id: str, scope: str, key: str, *, for_update: bool = False
    ) -> IdempotencyRecord | None:
        return copy.deepcopy(self._data.idempotency.get((user_id, scope, key)))

    def save(self, record: IdempotencyRecord) -> None:
        self._data.idempotency[(record.user_id, record.scope, record.key)] = copy.deepcopy(record)

    def delete(self, record: IdempotencyRecord) -> None:
        self._data.idempotency.pop((record.user_id, record.scope, record.key), None)

    def purge_older_than(self, cutoff: datetime) -> int:
        old = [k for k, r in self._data.idempotency.items() if r.created_at < cutoff]
        for k in old:
            del self._data.idempotency[k]
        return len(old)


class _ProcessedEvents(_Repo):
    def record(self, event: GatewayEvent, received_at: datetime) -> bool:
        if event.id in self._data.events:
            return False
        self._data.events.add(event.id)
        return True


class _Users(_Repo):
    def add(self, user: User) -> None:
        if any(u.email == user.email for u in self._data.users.values()):
            raise EmailAlreadyRegistered("this email is already registered")
        self._data.users[user.id] = copy.deepcopy(user)

    def get(self, user_id: str) -> User | None:
        return copy.deepcopy(self._data.users.get(user_id))

    def get_by_email(self, email: str) -> User | None:
        found = next((u for u in self._data.users.values() if u.email == email), None)
        return copy.deepcopy(found)

    def save(self, user: User) -> None:
        self._data.users[user.id] = copy.deepcopy(user)

    def lock(self, user_id: str) -> None:
        """Nothing to do: a unit of work here is one serialised transaction already."""

    def count_active_admins(self) -> int:
        return sum(1 for u in self._data.users.values() if u.role is Role.ADMIN and u.is_active)

    def search(self, where: UserFilter, offset: int, limit: int) -> tuple[list[User], int]:
        found = sorted(
            filter(where.matches, self._data.users.values()),
            key=lambda u: (u.created_at, u.id),
            reverse=True,
        )
        return copy.deepcopy(found[offset : offset + limit]), len(found)


class _Sessions(_Repo):
    def add(self, session: Session) -> None:
        self._data.sessions[session.token_hash] = copy.deepcopy(session)

    def get(self, token_hash: str) -> Session | None:
        return copy.deepcopy(self._data.sessions.get(token_hash))

    def get_with_user(self, token_hash: str) -> tuple[Session, User] | None:
        session = self._data.sessions.get(token_hash)
        user = None if session is None else self._data.users.get(session.user_id)
        if session is None or user is None:
            return None
        return copy.deepcopy(session), copy.deepcopy(user)

    def save(self, session: Session) -> None:
        self._data.sessions[session.token_hash] = copy.deepcopy(session)

    def delete(self, token_hash: str) -> None:
        self._data.sessions.pop(token_hash, None)

    def delete_for_user(self, user_id: str) -> int:
        doomed = [h for h, s in self._data.sessions.items() if s.user_id == user_id]
        for h in doomed:
            del self._data.sessions[h]
        return len(doomed)

    def delete_family(self, family_id: str) -> int:
        doomed = [h for h, s in self._data.sessions.items() if s.family_id == family_id]
        for h in doomed:
            del self._data.sessions[h]
        return len(doomed)


class _RefreshTokens(_Repo):
    def add(self, token: RefreshToken) -> None:
        if token.token_hash in self._data.refresh_tokens:
            raise Conflict("refresh token already stored")
        self._data.refresh_tokens[token.token_hash] = copy.deepcopy(token)

    def get(self, token_hash: str) -> RefreshToken | None:
        return copy.deepcopy(self._data.refresh_tokens.get(token_hash))

    def rotate(self, token_hash: str, now: datetime) -> bool:
        token = self._data.refresh_tokens.get(token_hash)
        if token is None or token.rotated_at is not None or token.revoked_at is not None:
            return False
        token.rotated_at = now
        return True

    def revoke_family(self, family_id: str, now: datetime) -> int:
        return self._revoke(lambda t: t.family_id == family_id, now)

    def revoke_for_user(self, user_id: str, now: datetime) -> int:
        return self._revoke(lambda t: t.user_id == user_id, now)

    def _revoke(self, matches: Callable[[RefreshToken], bool], now: datetime) -> int:
        revoked = 0
        for token in self._data.refresh_tokens.values():
            if token.revoked_at is None and matches(token):
                token.revoked_at = now
                revoked += 1
        return revoked

    def delete_expired(self, now: datetime) -> int:
        doomed = [h for h, t in self._data.refresh_tokens.items() if t.expires_at <= now]
        for h in doomed:
            del self._data.refresh_tokens[h]
        return len(doomed)


class _Audit(_Repo):
    def append(self, entry: AuditEntry) -> AuditEntry:
        prev = self._data.audit[-1].hash if self._data.audit else GENESIS_HASH
        sealed = entry.chained_to(prev)
        self._data.audit.append(sealed)
        return sealed

    def list(self, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        newest_first = list(reversed(self._data.audit))
        return newest_first[offset : offset + limit], len(newest_first)

    def all(self) -> Sequence[AuditEntry]:
        return list(self._data.audit)

    def for_target(self, target: str) -> Sequence[AuditEntry]:
        return [entry for entry in self._data.audit if entry.target == target]


class _Outbox(_Repo):
    def add(self, event: DomainEvent) -> None:
        if event.id in self._data.outbox:
            raise Conflict(f"event {event.id} is already stored")
        self._data.outbox[event.id] = (event, None)

    def unpublished(self, before: datetime, limit: int) -> list[DomainEvent]:
        waiting = sorted(
            (e for e, published in self._data.outbox.values() if published is None),
            key=lambda e: (e.occurred_at, e.id),
        )
        return [e for e in waiting if e.occurred_at < before][:limit]

    def mark_published(self, event_ids: Sequence[str], at: datetime) -> None:
        for event_id in event_ids:
            stored = self._data.outbox.get(event_id)
            if stored is not None and stored[1] is None:
                self._data.outbox[event_id] = (stored[0], at)

    def alerts(self, offset: int, limit: int) -> tuple[list[DomainEvent], int]:
        alerts = sorted(
            (e for e, _ in self._data.outbox.values() if e.is_alert),
            key=lambda e: (e.occurred_at, e.id),
            reverse=True,
        )
        return alerts[offset : offset + limit], len(alerts)


class _Shipping(_Repo):
    def zones(self) -> list[ShippingZone]:
        return [self._data.shipping_zones[k] for k in sorted(self._data.shipping_zones)]

    def methods(self) -> list[ShippingMethod]:
        return [self._data.shipping_methods[k] for k in sorted(self._data.shipping_methods)]

    def save_zone(self, zone: ShippingZone) -> None:
        self._data.shipping_zones[zone.id] = zone

    def delete_zone(self, zone_id: str) -> bool:
        for method in list(self._data.shipping_methods.values()):
            if method.zone_id == zone_id:
                del self._data.shipping_methods[method.id]
        return self._data.shipping_zones.pop(zone_id, None) is not None

    def save_method(self, method: ShippingMethod) -> None:
        if method.zone_id not in self._data.shipping_zones:
            raise Conflict(f"no shipping zone {method.zone_id}")
        self._data.shipping_methods[method.id] = method

    def delete_method(self, method_id: str) -> bool:
        return self._data.shipping_methods.pop(method_id, None) is not None


class _TaxRates(_Repo):
    def list(self) -> list[TaxRate]:
        return [self._data.tax_rates[k] for k in sorted(self._data.tax_rates)]

    def save(self, rate: TaxRate) -> None:
        self._data.tax_rates[rate.key] = rate

    def delete(self, country: str, region: str) -> bool:
        return self._data.tax_rates.pop((country, region), None) is not None


class _AddressBook(_Repo):
    def list_for_user(self, user_id: str) -> list[SavedAddress]:
        mine = [a for a in self._data.saved_addresses.values() if a.user_id == user_id]
        return sorted(mine, key=lambda a: (a.created_at, a.id))

    def add(self, address: SavedAddress) -> None:
        if address.id in self._data.saved_addresses:
            raise Conflict(f"address {address.id} exists")
        self._data.saved_addresses[address.id] = address

    def delete(self, user_id: str, address_id: str) -> bool:
        found = self._data.saved_addresses.get(address_id)
        if found is None or found.user_id != user_id:
            return False
        del self._data.saved_addresses[address_id]
        return True

    def count_for_user(self, user_id: str) -> int:
        return sum(a.user_id == user_id for a in self._data.saved_addresses.values())


class _Carts(_Repo):
    def get(self, cart_id: str, *, for_update: bool = False) -> Cart | None:
        return copy.deepcopy(self._data.carts.get(cart_id))

    def get_for_user(self, user_id: str, *, for_update: bool = False) -> Cart | None:
        found = next((c for c in self._data.carts.values() if c.user_id == user_id), None)
        return copy.deepcopy(found)

    def add(self, cart: Cart) -> None:
        if cart.id in self._data.carts:
            raise Conflict(f"cart {cart.id} exists")
        self._check_owner(cart)
        self._data.carts[cart.id] = copy.deepcopy(cart)

    def save(self, cart: Cart) -> None:
        if cart.id not in self._data.carts:
            raise NotFound(f"no cart {cart.id} to save")
        self._check_owner(cart)
        self._data.carts[cart.id] = copy.deepcopy(cart)

    def _check_owner(self, cart: Cart) -> None:
        """One cart per account: the unique index, emulated."""
        if cart.user_id is not None and any(
            c.user_id == cart.user_id and c.id != cart.id for c in self._data.carts.values()
        ):
            raise Conflict("this account has a cart already")

    def delete(self, cart_id: str) -> bool:
        return self._data.carts.pop(cart_id, None) is not None

    def purge_untouched(self, before: datetime) -> int:
        stale = [k for k, c in self._data.carts.items() if c.updated_at < before]
        for k in stale:
            del self._data.carts[k]
        return len(stale)


class InMemoryUnitOfWork:
    """A ``UnitOfWork`` over an ``InMemoryStore``. One per thread; re-enterable."""

    products: _Products
    orders: _Orders
    idempotency: _Idempotency
    processed_events: _ProcessedEvents
    outbox: _Outbox
    users: _Users
    sessions: _Sessions
    refresh_tokens: _RefreshTokens
    audit: _Audit
    messages: InMemoryMessageOutbox
    password_resets: InMemoryPasswordResets
    sign_in_addresses: InMemorySignInAddresses
    shipping: _Shipping
    tax_rates: _TaxRates
    addresses: _AddressBook
    categories: InMemoryCategories
    attributes: InMemoryAttributes
    carts: _Carts

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()
        self._working: _Data | None = None
        self.committed = False
        self._events = EventBuffer()

    def __enter__(self) -> Self:
        if self._working is not None:
            raise RuntimeError("this unit of work is already open; use one per thread")
        self.store.lock.acquire()
        self.committed = False
        self._begin()
        return self

    def _begin(self) -> None:
        """A private copy of the store, and repositories over it."""
        self._working = working = copy.deepcopy(self.store.data)
        self.products = _Products(working)
        self.orders = _Orders(working)
        self.idempotency = _Idempotency(working)
        self.processed_events = _ProcessedEvents(working)
        self.outbox = _Outbox(working)
        self.users = _Users(working)
        self.sessions = _Sessions(working)
        self.refresh_tokens = _RefreshTokens(working)
        self.audit = _Audit(working)
        self.messages = InMemoryMessageOutbox(working.messages)
        self.password_resets = InMemoryPasswordResets(working.password_resets)
        self.sign_in_addresses = InMemorySignInAddresses(working.sign_in_addresses)
        self.shipping = _Shipping(working)
        self.tax_rates = _TaxRates(working)
        self.addresses = _AddressBook(working)
        self.categories = InMemoryCategories(
            working.categories, working.product_categories, working.products
        )
        self.attributes = InMemoryAttributes(
            working.attribute_definitions, working.attribute_values, working.products
        )
        self.carts = _Carts(working)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        self._events.dropped()
        self.store.lock.release()

    def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit outside a transaction")
        self.store.data = copy.deepcopy(self._working)
        self.store.commits += 1
        self.committed = True
        self._events.committed()

    def rollback(self) -> None:
        # The repositories must see the fresh copy too, or later writes would land in the
        # discarded one.
        if self._working is not None:
            self._begin()
        self._events.dropped()

    def announce(self, event: DomainEvent) -> None:
        if self._working is None:
            raise RuntimeError("announce() belongs inside `with uow:`")
        self._events.announce(event, self.outbox)

    def collect_new_events(self) -> list[DomainEvent]:
        return self._events.collect()
