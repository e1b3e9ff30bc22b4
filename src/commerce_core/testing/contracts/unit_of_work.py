"""``UnitOfWorkContract``: what every ``UnitOfWork`` and the repositories it hands out do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from commerce_core.domain.accounts import Role, Session, User
from commerce_core.domain.addresses import Address
from commerce_core.domain.audit import AuditEntry, verify_chain
from commerce_core.domain.catalog import Product, Variant
from commerce_core.domain.catalog_search import CatalogQuery, CatalogSort
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.hold_limits import HeldStock
from commerce_core.domain.idempotency import IdempotencyRecord, IdempotencyState
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, OrderLine, OrderStatus
from commerce_core.domain.payments import EventKind, GatewayEvent
from commerce_core.domain.refresh_tokens import RefreshToken
from commerce_core.domain.shipping import ShippingQuote
from commerce_core.domain.tax import TaxRate, price_order
from commerce_core.errors import CommerceError, Conflict, EmailAlreadyRegistered
from commerce_core.ports import UnitOfWork
from commerce_core.testing.contracts._support import T0
from commerce_core.testing.contracts._support import raises as _raises
from commerce_core.testing.contracts.carts import CartContract
from commerce_core.testing.contracts.catalog_details import AttributeContract, CategoryContract
from commerce_core.testing.contracts.message_outbox import AccountMailContract
from commerce_core.testing.contracts.shipping import AddressBookContract, ShippingContract
from commerce_core.testing.contracts.staff_queries import StaffQueriesContract
from commerce_core.testing.shop import make_product

__all__ = ["UnitOfWorkContract"]


NewUow = Callable[[], UnitOfWork]


def _order(user_id: str = "usr_1", *, product_id: str = "prod_1", at: datetime = T0) -> Order:
    return Order.place(
        order_id=new_id("ord"),
        user_id=user_id,
        lines=[
            OrderLine(product_id, "mug", "Mug", Money(1500, "USD"), 2),
            OrderLine("prod_2", "cap", "Cap", Money(999, "USD"), 1),
        ],
        gateway="fake",
        now=at,
        hold_expires_at=at + timedelta(minutes=15),
    )


def _user(email: str = "ada@example.com") -> User:
    return User(new_id("usr"), email, "Ada", "hash", Role.CUSTOMER, True, T0)


def _variant(sku: str, options: dict[str, str], price: int, stock: int) -> Variant:
    return Variant(
        id=new_id("var"),
        sku=sku,
        price=Money(price, "USD"),
        stock=stock,
        created_at=T0,
        updated_at=T0,
        options=tuple(options.items()),
    )


def _shirt(slug: str, *, stocks: tuple[int, int, int], sku_prefix: str | None = None) -> Product:
    """A product with three sizes (S 10.00, M 12.00, L 14.00) of one colour."""
    prefix = sku_prefix or slug.upper()
    return Product(
        id=new_id("prod"),
        slug=slug,
        name=slug.title(),
        description="",
        image_url="",
        created_at=T0,
        updated_at=T0,
        variants=[
            _variant(f"{prefix}-{size}", {"size": size, "colour": "blue"}, price, stock)
            for (size, price), stock in zip(
                (("S", 1000), ("M", 1200), ("L", 1400)), stocks, strict=True
            )
        ],
        option_names=("size", "colour"),
    )


class UnitOfWorkContract(
    StaffQueriesContract,
    AccountMailContract,
    ShippingContract,
    AddressBookContract,
    CategoryContract,
    AttributeContract,
    CartContract,
):
    """Every ``UnitOfWork`` (and the repositories it hands out) behaves like this - and answers
    the staff's searches alike (``StaffQueriesContract``), keeps messages, reset tokens and
    sign-in addresses alike (``AccountMailContract``), shipping zones, methods and tax rates
    (``ShippingContract``), shoppers' saved addresses (``AddressBookContract``), the category
    tree (``CategoryContract``), product attributes (``AttributeContract``) and shoppers' carts
    (``CartContract``)."""

    def test_committed_work_is_kept(self, new_uow: NewUow) -> None:
        product = make_product(now=T0)
        with new_uow() as uow:
            uow.products.add(product)
            uow.commit()
        with new_uow() as uow:
            assert uow.products.get(product.id) == product

    def test_work_not_committed_is_rolled_back(self, new_uow: NewUow) -> None:
        product = make_product(now=T0)
        with new_uow() as uow:
            uow.products.add(product)
        with new_uow() as uow:
            assert uow.products.get(product.id) is None

    def test_an_exception_rolls_back(self, new_uow: NewUow) -> None:
        product = make_product(now=T0)

        def fail() -> None:
            with new_uow() as uow:
                uow.products.add(product)
                raise CommerceError("boom")

        _raises(CommerceError, fail)
        with new_uow() as uow:
            assert uow.products.get(product.id) is None

    def test_a_unit_of_work_can_be_entered_again(self, new_uow: NewUow) -> None:
        uow = new_uow()
        product = make_product(now=T0)
        with uow:
            uow.products.add(product)
            uow.commit()
        with uow:
            assert uow.products.get_by_slug(product.slug) == product

    def test_products_are_found_by_slug_and_searched_by_name(self, new_uow: NewUow) -> None:
        names = ["Blue Mug", "Red Mug", "Green Cap", "Mug Tree"]
        with new_uow() as uow:
            for name in names:
                uow.products.add(
                    make_product(slug=name.lower().replace(" ", "-"), name=name, now=T0)
                )
            uow.commit()
        with new_uow() as uow:
            found, total = uow.products.search(CatalogQuery(text="mug"), 0, 2)
            assert total == 3
            assert [p.name for p in found] == ["Blue Mug", "Mug Tree"]
            rest, _ = uow.products.search(CatalogQuery(text="MUG"), 2, 2)
            assert [p.name for p in rest] == ["Red Mug"]
            _, everything = uow.products.search(CatalogQuery(), 0, 100)
            assert everything == 4
            assert uow.products.get_by_slug("green-cap") is not None
            assert uow.products.get_by_slug("nope") is None

    def test_lock_returns_known_products_and_skips_unknown_ones(self, new_uow: NewUow) -> None:
        a, b = make_product(now=T0), make_product(now=T0)
        with new_uow() as uow:
            uow.products.add(a)
            uow.products.add(b)
            uow.commit()
        with new_uow() as uow:
            locked = uow.products.lock([b.id, "prod_unknown", a.id])
            assert set(locked) == {a.id, b.id}
            locked[a.id].variants[0].take(3, T0)
            uow.products.save(locked[a.id])
            uow.commit()
        with new_uow() as uow:
            stored = uow.products.get(a.id)
            assert stored is not None
            assert stored.stock == a.stock - 3

    def test_stock_cannot_be_saved_negative(self, new_uow: NewUow) -> None:
        product = make_product(stock=1, now=T0)
        with new_uow() as uow:
            uow.products.add(product)
            uow.commit()

        def save() -> None:
            with new_uow() as uow:
                sneaky = uow.products.lock([product.id])[product.id]
                # Bypass the domain to test the storage's own guard.
                object.__setattr__(sneaky.variants[0], "stock", -1)
                uow.products.save(sneaky)
                uow.commit()

        _raises(Exception, save)
        with new_uow() as uow:
            stored = uow.products.get(product.id)
            assert stored is not None
            assert stored.stock == 1

    def test_orders_round_trip_with_lines_refunds_and_intent(self, new_uow: NewUow) -> None:
        order = _order()
        with new_uow() as uow:
            uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            loaded = uow.orders.get(order.id, for_update=True)
            assert loaded == order
            loaded.attach_intent("pi_123", T0)
            loaded.settle(loaded.total, T0 + timedelta(minutes=1))
            loaded.request_refund(
                refund_id="re_1",
                amount=Money(500, "USD"),
                reason="dent",
                requested_by="usr_admin",
                now=T0,
            )
            uow.orders.save(loaded)
            uow.commit()
        with new_uow() as uow:
            again = uow.orders.get_by_intent("pi_123")
            assert again == loaded
            assert again.paid_at is not None
            assert again.paid_at.tzinfo is not None
            again.complete_refund("re_1", "gw_re_1", T0)
            again.request_refund(
                refund_id="re_2", amount=None, reason="", requested_by=None, now=T0
            )
            uow.orders.save(again)
            uow.commit()
        with new_uow() as uow:
            final = uow.orders.get(order.id)
            assert final == again
            assert final.status is OrderStatus.PARTIALLY_REFUNDED
            assert final.refundable.is_zero

    def test_an_order_keeps_its_address_shipping_tax_and_fulfilment(self, new_uow: NewUow) -> None:
        lines = [OrderLine("prod_1", "mug", "Mug", Money(1800, "USD"), 2)]
        quote = ShippingQuote("standard", "Standard", Money(500, "USD"), True)
        pricing = price_order(
            [("prod_1", Money(3600, "USD"))],
            quote,
            rate=TaxRate("US", "NY", 400, "New York"),
            prices_include_tax=False,
        )
        order = Order.place(
            order_id=new_id("ord"),
            user_id="usr_1",
            lines=lines,
            gateway="fake",
            now=T0,
            hold_expires_at=T0 + timedelta(minutes=15),
            shipping_address=Address(
                "Zoë", "1 Broadway", "New York", "10004", "US", line2="Apt 5", region="NY"
            ),
            shipping_method=quote,
            pricing=pricing,
        )
        with new_uow() as uow:
            uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            loaded = uow.orders.get(order.id, for_update=True)
            assert loaded == order
            assert loaded.total == Money(3600 + 500 + 144 + 20, "USD")
            loaded.settle(loaded.total, T0)
            loaded.fulfil("UPS", "1Z999", T0 + timedelta(days=1))
            uow.orders.save(loaded)
            uow.commit()
        with new_uow() as uow:
            shipped = uow.orders.get(order.id)
            assert shipped == loaded
            assert shipped.status is OrderStatus.FULFILLED
            assert shipped.fulfilment is not None
            assert shipped.fulfilment.fulfilled_at.tzinfo is not None

    def test_a_product_keeps_its_weight(self, new_uow: NewUow) -> None:
        product = make_product()
        product.variants[0].weight_grams = 1250
        with new_uow() as uow:
            uow.products.add(product)
            uow.commit()
        with new_uow() as uow:
            assert uow.products.get(product.id) == product

    def test_variants_round_trip_in_order_with_options(self, new_uow: NewUow) -> None:
        shirt = _shirt("tee", stocks=(3, 0, 5))
        with new_uow() as uow:
            uow.products.add(shirt)
            uow.commit()
        with new_uow() as uow:
            loaded = uow.products.get(shirt.id)
            assert loaded == shirt
            assert [v.sku for v in loaded.variants] == ["TEE-S", "TEE-M", "TEE-L"]
            assert loaded.variants[1].option_values == {"size": "M", "colour": "blue"}
            assert loaded.price == Money(1000, "USD")  # the lowest variant price
            assert uow.products.get_by_sku("TEE-M") == shirt
            assert uow.products.get_by_sku("NOPE") is None
            ids = [v.id for v in shirt.variants]
            assert uow.products.owners([*ids, "var_unknown"]) == dict.fromkeys(ids, shirt.id)

    def test_saving_writes_changed_and_new_variants(self, new_uow: NewUow) -> None:
        shirt = _shirt("polo", stocks=(1, 1, 1))
        with new_uow() as uow:
            uow.products.add(shirt)
            uow.commit()
        extra = _variant("POLO-XL", {"size": "XL", "colour": "blue"}, 1500, 7)
        with new_uow() as uow:
            locked = uow.products.lock([shirt.id])[shirt.id]
            locked.variants[0].take(1, T0)
            locked.add_variant(extra, T0)
            uow.products.save(locked)
            uow.commit()
        with new_uow() as uow:
            stored = uow.products.get(shirt.id)
            assert stored is not None
            assert [v.stock for v in stored.variants] == [0, 1, 1, 7]
            assert stored.variant_by_sku("POLO-XL") == extra

    def test_a_sku_is_unique_across_products(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            uow.products.add(_shirt("one", stocks=(1, 1, 1)))
            uow.commit()
        clash = _shirt("two", stocks=(1, 1, 1), sku_prefix="ONE")

        def add() -> None:
            with new_uow() as uow:
                uow.products.add(clash)
                uow.commit()

        _raises(Conflict, add)
        with new_uow() as uow:
            assert uow.products.get(clash.id) is None

    def test_a_variant_is_never_deleted(self, new_uow: NewUow) -> None:
        shirt = _shirt("cap", stocks=(1, 1, 1))
        with new_uow() as uow:
            uow.products.add(shirt)
            uow.commit()

        def drop() -> None:
            with new_uow() as uow:
                locked = uow.products.lock([shirt.id])[shirt.id]
                object.__setattr__(locked, "variants", locked.variants[:2])
                uow.products.save(locked)
                uow.commit()

        _raises(Conflict, drop)
        with new_uow() as uow:
            stored = uow.products.get(shirt.id)
            assert stored is not None
            assert len(stored.variants) == 3

    def test_in_stock_and_price_follow_the_variants_on_sale(self, new_uow: NewUow) -> None:
        some = _shirt("some", stocks=(0, 0, 2))
        none = _shirt("none", stocks=(0, 0, 0))
        with new_uow() as uow:
            uow.products.add(some)
            uow.products.add(none)
            uow.commit()
        with new_uow() as uow:
            found, _ = uow.products.search(CatalogQuery(in_stock=True), 0, 10)
            assert [p.slug for p in found] == ["some"]
            found, _ = uow.products.search(CatalogQuery(in_stock=False), 0, 10)
            assert [p.slug for p in found] == ["none"]
            found, _ = uow.products.search(CatalogQuery(min_price=1000, max_price=1000), 0, 10)
            assert {p.slug for p in found} == {"some", "none"}
            locked = uow.products.lock([some.id])[some.id]
            last = locked.variants[2]
            locked.replace_variant(attrs.evolve(last, archived=True), T0)
            cheapest = locked.variants[0]
            locked.replace_variant(attrs.evolve(cheapest, archived=True), T0)
            uow.products.save(locked)
            uow.commit()
        with new_uow() as uow:
            found, _ = uow.products.search(CatalogQuery(in_stock=True), 0, 10)
            assert found == []  # its only variant with stock is archived
            found, _ = uow.products.search(CatalogQuery(min_price=1200), 0, 10)
            assert [p.slug for p in found] == ["some"]  # from 12.00 now

    def test_archived_products_are_kept_and_listed_for_staff(self, new_uow: NewUow) -> None:
        kept = attrs.evolve(make_product(name="Bowl", now=T0), archived=True)
        shown = make_product(name="Apron", now=T0)
        with new_uow() as uow:
            uow.products.add(kept)
            uow.products.add(shown)
            uow.commit()
        with new_uow() as uow:
            assert uow.products.get(kept.id) == kept
            locked = uow.products.lock([shown.id])[shown.id]
            locked.archived = True
            uow.products.save(locked)
            uow.commit()
        with new_uow() as uow:
            everything, total = uow.products.list_for_staff(0, 10)
            assert total == 2
            assert [(p.name, p.archived) for p in everything] == [("Apron", True), ("Bowl", True)]
            assert uow.products.list_for_staff(1, 10)[0] == [kept]

    def test_a_slug_is_unique_also_when_it_is_changed(self, new_uow: NewUow) -> None:
        first, second = make_product(slug="first", now=T0), make_product(slug="second", now=T0)
        with new_uow() as uow:
            uow.products.add(first)
            uow.products.add(second)
            uow.commit()
        with new_uow() as uow:
            renamed = attrs.evolve(uow.products.lock([second.id])[second.id], slug="first")
            _raises(Conflict, lambda: uow.products.save(renamed))
        with new_uow() as uow:
            assert uow.products.get(second.id) == second

    def test_the_catalogue_is_filtered_sorted_and_counted_alike(self, new_uow: NewUow) -> None:
        rows = [
            ("espresso-cup", "Espresso cup", 900, 0, 1),
            ("tea-mug", "Tea mug", 1800, 5, 2),
            ("big-mug", "Big mug", 2400, 2, 3),
            ("carafe", "Glass carafe", 4500, 1, 4),
            ("lamp", "Desk lamp", 30000, 3, 5),
        ]
        with new_uow() as uow:
            for slug, name, price, stock, day in rows:
                uow.products.add(
                    attrs.evolve(
                        make_product(slug=slug, name=name, price=Money(price, "USD"), stock=stock),
                        created_at=T0 + timedelta(days=day),
                        description=f"A {name.lower()}, made to last.",
                    )
                )
            uow.commit()

        def slugs(where: CatalogQuery) -> list[str]:
            with new_uow() as uow:
                found, total = uow.products.search(where, 0, 100)
            assert total == len(found)
            return [p.slug for p in found]

        assert slugs(CatalogQuery(text="MUG")) == ["big-mug", "tea-mug"]
        assert slugs(CatalogQuery(text="made to")) == [
            "big-mug",
            "lamp",
            "espresso-cup",
            "carafe",
            "tea-mug",
        ]
        assert slugs(CatalogQuery(min_price=1800, max_price=4500)) == [
            "big-mug",
            "carafe",
            "tea-mug",
        ]
        assert slugs(CatalogQuery(in_stock=False)) == ["espresso-cup"]
        assert slugs(CatalogQuery(sort=CatalogSort.PRICE)) == [
            "espresso-cup",
            "tea-mug",
            "big-mug",
            "carafe",
            "lamp",
        ]
        assert slugs(CatalogQuery(sort=CatalogSort.PRICE_DESC))[0] == "lamp"
        assert slugs(CatalogQuery(sort=CatalogSort.NEWEST))[:2] == ["lamp", "carafe"]
        with new_uow() as uow:
            ranges = uow.products.facets(CatalogQuery(in_stock=True)).price_ranges
        by_low = {(r.min, r.max): r.count for r in ranges}
        assert by_low == {
            (0, 1000): 0,
            (1000, 2500): 2,
            (2500, 5000): 1,
            (5000, 10000): 0,
            (10000, 25000): 0,
            (25000, None): 1,
        }
        assert {r.currency for r in ranges} == {"USD"}

    def test_one_intent_belongs_to_one_order(self, new_uow: NewUow) -> None:
        first, second = _order(), _order()
        with new_uow() as uow:
            first.attach_intent("pi_same", T0)
            uow.orders.add(first)
            uow.orders.add(second)
            uow.commit()

        def steal() -> None:
            with new_uow() as uow:
                loaded = uow.orders.get(second.id, for_update=True)
                assert loaded is not None
                loaded.attach_intent("pi_same", T0)
                uow.orders.save(loaded)
                uow.commit()

        _raises(Conflict, steal)

    def test_expired_holds_lists_only_unpaid_orders_past_their_hold(self, new_uow: NewUow) -> None:
        old, newer, fresh, paid = (_order(at=T0 - timedelta(minutes=m)) for m in (40, 30, 0, 50))
        paid.settle(paid.total, T0)
        with new_uow() as uow:
            for order in (old, newer, fresh, paid):
                uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            assert uow.orders.expired_holds(T0, 10) == [old.id, newer.id]
            assert uow.orders.expired_holds(T0, 1) == [old.id]

    def test_orders_are_listed_per_user_newest_first(self, new_uow: NewUow) -> None:
        mine = [_order("usr_me", at=T0 + timedelta(minutes=i)) for i in range(3)]
        theirs = _order("usr_other")
        with new_uow() as uow:
            for order in [*mine, theirs]:
                uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            page, total = uow.orders.list_for_user("usr_me", 0, 2)
            assert total == 3
            assert [o.id for o in page] == [mine[2].id, mine[1].id]
            _, everyone = uow.orders.list_all(0, 10)
            assert everyone == 4

    def test_an_idempotency_key_is_claimed_once(self, new_uow: NewUow) -> None:
        record = IdempotencyRecord(
            "usr_1", "confirm", "k1", "fp", IdempotencyState.IN_PROGRESS, T0, T0
        )
        with new_uow() as uow:
            assert uow.idempotency.claim(record) is None
            uow.commit()
        with new_uow() as uow:
            existing = uow.idempotency.claim(attrs.evolve(record, fingerprint="other"))
            assert existing is not None
            assert existing.fingerprint == "fp"
            existing.complete("paid", {"order": {"id": "ord_1", "total": {"amount": 1}}})
            uow.idempotency.save(existing)
            uow.commit()
        with new_uow() as uow:
            stored = uow.idempotency.get("usr_1", "confirm", "k1")
            assert stored is not None
            assert stored.completed
            assert stored.response == {"order": {"id": "ord_1", "total": {"amount": 1}}}
            assert uow.idempotency.get("usr_2", "confirm", "k1") is None
            assert uow.idempotency.purge_older_than(T0 + timedelta(hours=25)) == 1
            uow.commit()
        with new_uow() as uow:
            assert uow.idempotency.get("usr_1", "confirm", "k1") is None

    def test_a_released_idempotency_key_can_be_claimed_again(self, new_uow: NewUow) -> None:
        record = IdempotencyRecord(
            "usr_1", "refund", "k", "fp", IdempotencyState.IN_PROGRESS, T0, T0
        )
        with new_uow() as uow:
            uow.idempotency.claim(record)
            uow.commit()
        with new_uow() as uow:
            uow.idempotency.delete(record)
            uow.commit()
        with new_uow() as uow:
            assert uow.idempotency.claim(record) is None

    def test_a_gateway_event_is_recorded_once(self, new_uow: NewUow) -> None:
        event = GatewayEvent("evt_1", EventKind.PAYMENT_SUCCEEDED, "fake", "pi_1", T0)
        with new_uow() as uow:
            assert uow.processed_events.record(event, T0)
            uow.commit()
        with new_uow() as uow:
            assert not uow.processed_events.record(event, T0)

    def test_an_email_is_registered_once(self, new_uow: NewUow) -> None:
        user = _user()
        with new_uow() as uow:
            uow.users.add(user)
            uow.commit()
        with new_uow() as uow:
            assert uow.users.get_by_email("ada@example.com") == user
            _raises(EmailAlreadyRegistered, lambda: uow.users.add(_user()))
        with new_uow() as uow:
            user.role = Role.ADMIN
            uow.users.save(user)
            uow.commit()
        with new_uow() as uow:
            stored = uow.users.get(user.id)
            assert stored is not None
            assert stored.role is Role.ADMIN

    def test_sessions_are_stored_touched_and_ended(self, new_uow: NewUow) -> None:
        one, two = Session("h1", "usr_1", T0, T0), Session("h2", "usr_1", T0, T0)
        with new_uow() as uow:
            uow.sessions.add(one)
            uow.sessions.add(two)
            uow.commit()
        with new_uow() as uow:
            one.last_seen_at = T0 + timedelta(minutes=5)
            uow.sessions.save(one)
            uow.sessions.delete("h2")
            uow.commit()
        with new_uow() as uow:
            assert uow.sessions.get("h1") == one
            assert uow.sessions.get("h2") is None
            assert uow.sessions.delete_for_user("usr_1") == 1
            uow.commit()
        with new_uow() as uow:
            assert uow.sessions.get("h1") is None

    def test_a_session_is_read_with_its_user(self, new_uow: NewUow) -> None:
        user = _user()
        with new_uow() as uow:
            uow.users.add(user)
            uow.sessions.add(Session("h1", user.id, T0, T0 + timedelta(minutes=1)))
            uow.sessions.add(Session("h_orphan", "usr_gone", T0, T0))
            uow.commit()
        with new_uow() as uow:
            assert uow.sessions.get_with_user("h1") == (
                Session("h1", user.id, T0, T0 + timedelta(minutes=1)),
                user,
            )
            assert uow.sessions.get_with_user("h_orphan") is None
            assert uow.sessions.get_with_user("h_missing") is None

    def test_sessions_of_a_refresh_family_end_together(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            uow.sessions.add(Session("h1", "usr_1", T0, T0, "rtf_a"))
            uow.sessions.add(Session("h2", "usr_1", T0, T0, "rtf_a"))
            uow.sessions.add(Session("h3", "usr_1", T0, T0, "rtf_b"))
            uow.commit()
        with new_uow() as uow:
            assert uow.sessions.get("h1") == Session("h1", "usr_1", T0, T0, "rtf_a")
            assert uow.sessions.delete_family("rtf_a") == 2
            uow.commit()
        with new_uow() as uow:
            assert [uow.sessions.get(h) is None for h in ("h1", "h2", "h3")] == [True, True, False]

    def test_a_refresh_token_rotates_once(self, new_uow: NewUow) -> None:
        token = RefreshToken("r1", "rtf_a", "usr_1", T0, T0 + timedelta(days=30))
        with new_uow() as uow:
            uow.refresh_tokens.add(token)
            uow.commit()
        later = T0 + timedelta(minutes=10)
        with new_uow() as uow:
            assert uow.refresh_tokens.rotate("r1", later) is True
            assert uow.refresh_tokens.rotate("r1", later) is False  # the second rotation loses
            assert uow.refresh_tokens.rotate("r_missing", later) is False
            uow.commit()
        with new_uow() as uow:
            assert uow.refresh_tokens.get("r1") == attrs.evolve(token, rotated_at=later)
            assert uow.refresh_tokens.get("r_missing") is None

    def test_refresh_tokens_are_revoked_by_family_and_by_user(self, new_uow: NewUow) -> None:
        expiry = T0 + timedelta(days=30)
        with new_uow() as uow:
            uow.refresh_tokens.add(RefreshToken("a1", "rtf_a", "usr_1", T0, expiry))
            uow.refresh_tokens.add(RefreshToken("a2", "rtf_a", "usr_1", T0, expiry))
            uow.refresh_tokens.add(RefreshToken("b1", "rtf_b", "usr_1", T0, expiry))
            uow.refresh_tokens.add(RefreshToken("c1", "rtf_c", "usr_2", T0, T0))
            uow.commit()
        now = T0 + timedelta(hours=1)
        with new_uow() as uow:
            assert uow.refresh_tokens.revoke_family("rtf_a", now) == 2
            assert uow.refresh_tokens.rotate("a1", now) is False  # revoked: not rotatable
            assert uow.refresh_tokens.revoke_for_user("usr_1", now) == 1  # only b1 was left
            assert uow.refresh_tokens.delete_expired(now) == 1  # c1 expired at T0
            uow.commit()
        with new_uow() as uow:
            revoked = [uow.refresh_tokens.get(h) for h in ("a1", "a2", "b1")]
            assert [t.revoked_at if t else None for t in revoked] == [now, now, now]
            assert uow.refresh_tokens.get("c1") is None

    def test_unpaid_holds_are_counted_per_user_and_per_address(self, new_uow: NewUow) -> None:
        mine = [attrs.evolve(_order("usr_h"), client_ip="203.0.113.5") for _ in range(2)]
        paid = attrs.evolve(_order("usr_h"), client_ip="203.0.113.5")
        paid.status = OrderStatus.PAID
        elsewhere = attrs.evolve(_order("usr_o"), client_ip="203.0.113.5")
        unknown = _order("usr_h")
        with new_uow() as uow:
            for order in [*mine, paid, elsewhere, unknown]:
                uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            uow.users.lock("usr_h")  # harmless, also for a user without a row
            assert uow.orders.held_unpaid(user_id="usr_h") == HeldStock(3, 9)
            assert uow.orders.held_unpaid(client_ip="203.0.113.5") == HeldStock(3, 9)
            assert uow.orders.held_unpaid(user_id="usr_nobody") == HeldStock(0, 0)

    def test_active_admins_are_counted(self, new_uow: NewUow) -> None:
        admins = [_user(f"admin{i}@example.com") for i in range(3)]
        for admin in admins:
            admin.role = Role.ADMIN
        admins[2].is_active = False
        with new_uow() as uow:
            for user in [*admins, _user("customer@example.com")]:
                uow.users.add(user)
            assert uow.users.count_active_admins() == 2
            uow.commit()

    def test_the_audit_log_is_a_verifiable_chain(self, new_uow: NewUow) -> None:
        for i in range(3):
            with new_uow() as uow:
                uow.audit.append(
                    AuditEntry(
                        new_id("aud"),
                        T0 + timedelta(seconds=i),
                        "usr_admin",
                        "refund.requested",
                        f"order:ord_{i}",
                        "203.0.113.9",
                        {"amount": i},
                    )
                )
                uow.commit()
        with new_uow() as uow:
            entries = list(uow.audit.all())
            page, total = uow.audit.list(0, 2)
        assert total == 3
        assert [e.target for e in page] == ["order:ord_2", "order:ord_1"]
        assert verify_chain(entries) == (True, None)
        tampered = [entries[0], attrs.evolve(entries[1], details={"amount": 999}), entries[2]]
        assert verify_chain(tampered) == (False, entries[1].id)

    # -- domain events: announced in a transaction, handed out only once it committed ---------

    def test_announced_events_are_collected_only_after_commit(self, new_uow: NewUow) -> None:
        uow = new_uow()
        first, second = DomainEvent.of("order.paid", T0), DomainEvent.of("refund.succeeded", T0)
        with uow:
            uow.announce(first)
            uow.announce(second)
            assert uow.collect_new_events() == [], "handed out before the commit"
            uow.commit()
        assert uow.collect_new_events() == [first, second]
        assert uow.collect_new_events() == [], "handed out twice"

    def test_events_of_a_transaction_that_did_not_commit_are_dropped(self, new_uow: NewUow) -> None:
        uow = new_uow()
        with uow:
            uow.announce(DomainEvent.of("left.without.commit", T0))
        with uow:
            uow.announce(DomainEvent.of("rolled.back", T0))
            uow.rollback()
            kept = DomainEvent.of("after.the.rollback", T0)
            uow.announce(kept)
            uow.commit()

        def fail() -> None:
            with uow:
                uow.announce(DomainEvent.of("failed", T0))
                raise CommerceError("boom")

        _raises(CommerceError, fail)
        assert uow.collect_new_events() == [kept]

    def test_a_durable_event_is_stored_exactly_when_its_transaction_commits(
        self, new_uow: NewUow
    ) -> None:
        kept = DomainEvent.alert("alert.kept", T0, order_id="ord_1", amount=500)
        dropped = DomainEvent.alert("alert.dropped", T0)
        with new_uow() as uow:
            uow.announce(DomainEvent.of("just.a.log.line", T0))
            uow.announce(kept)
            uow.commit()
        with new_uow() as uow:
            uow.announce(dropped)
        with new_uow() as uow:
            waiting = uow.outbox.unpublished(T0 + timedelta(seconds=1), 10)
        assert waiting == [kept], "only the committed durable event is stored, as announced"

    def test_stored_events_wait_until_marked_published(self, new_uow: NewUow) -> None:
        older = DomainEvent.kept("security.token_reused", T0, user_id="usr_1")
        newer = DomainEvent.alert("alert.card_testing", T0 + timedelta(minutes=5), ip="192.0.2.1")
        with new_uow() as uow:
            uow.announce(newer)
            uow.announce(older)
            uow.commit()
        with new_uow() as uow:
            assert uow.outbox.unpublished(T0 + timedelta(minutes=1), 10) == [older]
            assert uow.outbox.unpublished(T0 + timedelta(hours=1), 10) == [older, newer]
            assert uow.outbox.unpublished(T0 + timedelta(hours=1), 1) == [older]
            uow.outbox.mark_published([older.id], T0 + timedelta(minutes=6))
            uow.commit()
        with new_uow() as uow:
            assert uow.outbox.unpublished(T0 + timedelta(hours=1), 10) == [newer]

    def test_stored_alerts_are_listed_newest_first(self, new_uow: NewUow) -> None:
        alerts = [
            DomainEvent.alert(f"alert.n{i}", T0 + timedelta(minutes=i), n=i) for i in range(3)
        ]
        with new_uow() as uow:
            for alert in alerts:
                uow.announce(alert)
            uow.announce(DomainEvent.kept("security.not_an_alert", T0))
            uow.commit()
        with new_uow() as uow:
            page, total = uow.outbox.alerts(0, 2)
            rest, _ = uow.outbox.alerts(2, 2)
        assert total == 3
        assert page == [alerts[2], alerts[1]]
        assert rest == [alerts[0]]

    def test_orders_owing_their_gateway_a_call_or_awaiting_its_word_are_found(
        self, new_uow: NewUow
    ) -> None:
        waiting, fresh, paid, to_cancel = (
            _order(at=T0 - timedelta(minutes=m)) for m in (10, 1, 20, 30)
        )
        for order, intent in (
            (waiting, "pi_w"),
            (fresh, "pi_f"),
            (paid, "pi_p"),
            (to_cancel, "pi_c"),
        ):
            order.attach_intent(intent, T0)
        paid.settle(paid.total, T0)
        paid.request_refund(
            refund_id="re_p", amount=Money(100, "USD"), reason="", requested_by=None, now=T0
        )
        to_cancel.fail_payment("card_declined", T0, cancel_intent=True)
        with new_uow() as uow:
            for order in (waiting, fresh, paid, to_cancel):
                uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            assert uow.orders.owing_gateway_work(10) == sorted([paid.id, to_cancel.id])
            # Only orders placed before the cutoff are asked about; a refund without the
            # gateway's id yet is owed work, not a question.
            assert uow.orders.awaiting_gateway_word(T0 - timedelta(minutes=5), 10) == [waiting.id]
            stored = uow.orders.get(paid.id, for_update=True)
            assert stored is not None
            stored.refunds[0].gateway_refund_id = "gw_re_p"  # the gateway said: pending
            uow.orders.save(stored)
            uow.commit()
        with new_uow() as uow:
            assert uow.orders.owing_gateway_work(10) == [to_cancel.id]
            assert uow.orders.awaiting_gateway_word(T0 - timedelta(minutes=5), 10) == [
                paid.id,
                waiting.id,
            ]
