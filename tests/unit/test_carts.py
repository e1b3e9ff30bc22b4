"""The cart with the fakes: add, change and view (priced now, problems flagged, nothing dropped),
the anonymous cart folded into the account's at sign-in, checkout of the cart (what a paid order
bought leaves it, a decline leaves it alone, a new checkout ends the one before) and the purge
of untouched carts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest

from commerce_core import (
    CART_RETENTION,
    MAX_LINES,
    MAX_QUANTITY,
    Address,
    AddToCart,
    CartOwner,
    CartProblem,
    CheckoutCart,
    ConfirmOrder,
    ConfirmOutcome,
    InvalidInput,
    Money,
    NotFound,
    OrderStatus,
    OutOfStock,
    Product,
    SetCartQuantity,
    Variant,
    add_to_cart,
    cart_units,
    checkout_cart,
    configure_shipping,
    confirm_order,
    merge_carts,
    new_id,
    purge_stale_carts,
    remove_from_cart,
    set_cart_quantity,
    settle_cart,
    view_cart,
)
from commerce_core.testing import InMemoryShop
from tests.support.shipping import FREE_DOMESTIC, METHOD, US_ADDRESS

ALICE = "usr_alice"
BOB = "usr_bob"
ADDRESS = Address.parse(US_ADDRESS)


def shirt(shop: InMemoryShop, stocks: tuple[int, int] = (3, 5)) -> Product:
    """A shirt in sizes S ($60) and M ($65)."""
    now = shop.clock.now()
    product = Product(
        id=new_id("prod"),
        slug="shirt",
        name="Linen shirt",
        description="",
        image_url="/static/products/shirt.svg",
        created_at=now,
        updated_at=now,
        option_names=("size",),
        variants=[
            Variant(
                id=new_id("var"),
                sku=f"SHIRT-{size}",
                price=Money(price, "USD"),
                stock=stock,
                created_at=now,
                updated_at=now,
                options=(("size", size),),
            )
            for (size, price), stock in zip((("S", 6000), ("M", 6500)), stocks, strict=True)
        ],
    )
    with shop.uow as uow:
        uow.products.add(product)
        uow.commit()
    return product


def edit(shop: InMemoryShop, product_id: str, **changes: Any) -> None:
    """Staff changed a product's variants (stock, archived) behind the cart's back."""
    with shop.uow as uow:
        product = uow.products.get(product_id)
        assert product is not None
        product.variants = [attrs.evolve(v, **changes) for v in product.variants]
        uow.products.save(product)
        uow.commit()


def add(shop: InMemoryShop, owner: CartOwner, quantity: int = 1, **ref: Any) -> str:
    return add_to_cart(AddToCart(owner, quantity, **ref), uow=shop.uow, clock=shop.clock).id


def set_quantity(shop: InMemoryShop, owner: CartOwner, variant_id: str, quantity: int) -> None:
    set_cart_quantity(SetCartQuantity(owner, variant_id, quantity), uow=shop.uow, clock=shop.clock)


def lines(shop: InMemoryShop, owner: CartOwner) -> list[tuple[str, int]]:
    return [(line.variant_id, line.quantity) for line in view_cart(owner, uow=shop.uow).lines]


def check_out(shop: InMemoryShop, user: str = ALICE) -> dict[str, Any]:
    result = checkout_cart(
        CheckoutCart(user, ADDRESS, METHOD), **shop.ports, hold_for=timedelta(minutes=15)
    )
    return result.body


def pay(shop: InMemoryShop, intent_id: str, card: str = "pm_card_visa") -> ConfirmOutcome:
    result = confirm_order(
        ConfirmOrder(ALICE, intent_id, card, idempotency_key=new_id("key")), **shop.ports
    )
    return result.outcome


@pytest.fixture
def shop() -> InMemoryShop:
    shop = InMemoryShop.with_demo_product(stock=5, price=Money(1800, "USD"))
    configure_shipping(shop.uow, FREE_DOMESTIC)
    return shop


# -- adding and viewing -------------------------------------------------------------------------


def test_an_anonymous_visitor_gets_a_cart_priced_from_the_catalogue(shop: InMemoryShop) -> None:
    product = shirt(shop)
    small, medium = product.variants
    cart_id = add(shop, CartOwner(), 2, variant_id=medium.id)
    owner = CartOwner(cart_id=cart_id)
    add(shop, owner, 1, product_id=shop.product_id)
    add(shop, owner, 1, variant_id=medium.id)

    contents = view_cart(owner, uow=shop.uow)

    assert contents.cart_id == cart_id
    first, second = contents.lines
    assert (first.variant_id, first.quantity, first.name, first.slug) == (
        medium.id,
        3,
        "Linen shirt",
        "shirt",
    )
    assert (first.options_label, first.image_url) == ("M", "/static/products/shirt.svg")
    assert (first.unit_price, first.line_total) == (Money(6500, "USD"), Money(19500, "USD"))
    assert (second.product_id, second.options_label, second.line_total) == (
        shop.product_id,
        "",
        Money(1800, "USD"),
    )
    assert contents.subtotal == Money(21300, "USD")
    assert contents.units == cart_units(owner, uow=shop.uow) == 4
    assert contents.can_check_out
    assert small.id not in {line.variant_id for line in contents.lines}


def test_the_price_shown_is_todays_not_the_one_at_adding(shop: InMemoryShop) -> None:
    cart_id = add(shop, CartOwner(), 2, product_id=shop.product_id)
    edit(shop, shop.product_id, price=Money(2500, "USD"))
    assert view_cart(CartOwner(cart_id=cart_id), uow=shop.uow).subtotal == Money(5000, "USD")


def test_a_product_with_options_needs_its_variant(shop: InMemoryShop) -> None:
    product = shirt(shop)
    with pytest.raises(InvalidInput) as refused:
        add(shop, CartOwner(), product_id=product.id)
    assert refused.value.errors[0].field == "product_id"


@pytest.mark.parametrize(
    "ref",
    [
        {"variant_id": "var_missing"},
        {"product_id": "prod_missing"},
        {"variant_id": ""},
        {"variant_id": "x" * 65},
        {"variant_id": "var\n1"},
        {},
        {"variant_id": "var_1", "product_id": "prod_1"},
    ],
)
def test_an_unknown_or_malformed_item_is_refused_and_makes_no_cart(
    shop: InMemoryShop, ref: dict[str, str]
) -> None:
    with pytest.raises(InvalidInput):
        add(shop, CartOwner(), **ref)
    with shop.uow as uow:
        assert uow.carts.purge_untouched(shop.clock.now() + timedelta(days=1)) == 0


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, 10**12, True, "2", 1.5, None])
def test_absurd_quantities_are_refused(shop: InMemoryShop, quantity: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        add(shop, CartOwner(), quantity, product_id=shop.product_id)
    assert refused.value.errors[0].field == "quantity"


def test_archived_and_out_of_stock_items_cannot_be_added(shop: InMemoryShop) -> None:
    product = shirt(shop, stocks=(0, 2))
    small, medium = product.variants
    with pytest.raises(OutOfStock, match="out of stock"):
        add(shop, CartOwner(), variant_id=small.id)
    cart_id = add(shop, CartOwner(), 2, variant_id=medium.id)
    with pytest.raises(OutOfStock, match="only 2"):
        add(shop, CartOwner(cart_id=cart_id), 1, variant_id=medium.id)
    edit(shop, product.id, archived=True)
    with pytest.raises(InvalidInput, match="no longer sold"):
        add(shop, CartOwner(cart_id=cart_id), variant_id=medium.id)


def test_a_cart_holds_what_checkout_takes_and_no_more() -> None:
    shop = InMemoryShop()
    products = [shop.add_product(stock=MAX_QUANTITY + 5) for _ in range(MAX_LINES + 1)]
    cart_id = add(shop, CartOwner(), MAX_QUANTITY, product_id=products[0].id)
    owner = CartOwner(cart_id=cart_id)
    with pytest.raises(InvalidInput, match=f"at most {MAX_QUANTITY}"):
        add(shop, owner, 1, product_id=products[0].id)
    for product in products[1:MAX_LINES]:
        add(shop, owner, 1, product_id=product.id)
    with pytest.raises(InvalidInput, match=f"at most {MAX_LINES} different"):
        add(shop, owner, 1, product_id=products[MAX_LINES].id)
    assert len(lines(shop, owner)) == MAX_LINES


def test_quantities_are_set_and_lines_removed(shop: InMemoryShop) -> None:
    medium = shirt(shop).variants[1]
    cart_id = add(shop, CartOwner(), 1, variant_id=medium.id)
    owner = CartOwner(cart_id=cart_id)
    add(shop, owner, 1, product_id=shop.product_id)
    default = lines(shop, owner)[1][0]

    set_quantity(shop, owner, medium.id, 4)
    assert lines(shop, owner) == [(medium.id, 4), (default, 1)]
    with pytest.raises(OutOfStock):
        set_quantity(shop, owner, medium.id, 6)
    with pytest.raises(NotFound):
        set_quantity(shop, owner, "var_elsewhere", 1)
    set_quantity(shop, owner, "var_elsewhere", 0)  # nothing to remove: nothing to do
    set_quantity(shop, owner, medium.id, 0)
    assert lines(shop, owner) == [(default, 1)]
    remove_from_cart(owner, default, uow=shop.uow, clock=shop.clock)
    remove_from_cart(owner, default, uow=shop.uow, clock=shop.clock)  # a double click
    assert lines(shop, owner) == []
    # No cart at all: nothing to change.
    assert remove_from_cart(CartOwner(), default, uow=shop.uow, clock=shop.clock) is None


def test_lines_the_catalogue_can_no_longer_sell_are_flagged_never_dropped(
    shop: InMemoryShop,
) -> None:
    product = shirt(shop, stocks=(3, 5))
    small, medium = product.variants
    cart_id = add(shop, CartOwner(), 2, variant_id=small.id)
    owner = CartOwner(cart_id=cart_id)
    add(shop, owner, 4, variant_id=medium.id)
    add(shop, owner, 1, product_id=shop.product_id)

    edit(shop, shop.product_id, archived=True)
    with shop.uow as uow:
        found = uow.products.get(product.id)
        assert found is not None
        found.variants[0].stock = 0
        found.variants[1].stock = 3
        uow.products.save(found)
        uow.commit()

    contents = view_cart(owner, uow=shop.uow)
    assert [(line.variant_id, line.problem) for line in contents.lines] == [
        (small.id, CartProblem.OUT_OF_STOCK),
        (medium.id, CartProblem.NOT_ENOUGH_STOCK),
        (lines(shop, owner)[2][0], CartProblem.NO_LONGER_SOLD),
    ]
    assert [line.available for line in contents.lines] == [0, 3, 0]
    assert contents.subtotal is None
    assert not contents.can_check_out
    # Fewer units are always fine, even of what is no longer sold.
    set_quantity(shop, owner, medium.id, 3)
    assert view_cart(owner, uow=shop.uow).lines[1].problem is None


def test_an_anonymous_cart_id_never_opens_an_accounts_cart(shop: InMemoryShop) -> None:
    theirs = add(shop, CartOwner(user_id=BOB), 1, product_id=shop.product_id)
    assert view_cart(CartOwner(cart_id=theirs), uow=shop.uow).lines == ()
    # Adding with that id makes a new anonymous cart instead of touching Bob's.
    mine = add(shop, CartOwner(cart_id=theirs), 2, product_id=shop.product_id)
    assert mine != theirs
    assert view_cart(CartOwner(user_id=BOB), uow=shop.uow).units == 1


# -- signing in ---------------------------------------------------------------------------------


def test_signing_in_without_a_cart_makes_the_anonymous_one_the_accounts(
    shop: InMemoryShop,
) -> None:
    cart_id = add(shop, CartOwner(), 2, product_id=shop.product_id)
    merged = merge_carts(ALICE, cart_id, uow=shop.uow, clock=shop.clock)
    assert merged is not None
    assert (merged.cart.user_id, merged.left_out) == (ALICE, 0)
    assert view_cart(CartOwner(user_id=ALICE), uow=shop.uow).units == 2
    assert view_cart(CartOwner(cart_id=cart_id), uow=shop.uow).lines == ()
    assert merge_carts(ALICE, cart_id, uow=shop.uow, clock=shop.clock) is None


def test_signing_in_adds_the_anonymous_cart_to_the_accounts_capped(shop: InMemoryShop) -> None:
    medium = shirt(shop, stocks=(3, 5)).variants[1]
    add(shop, CartOwner(user_id=ALICE), 3, variant_id=medium.id)
    cart_id = add(shop, CartOwner(), 4, variant_id=medium.id)
    add(shop, CartOwner(cart_id=cart_id), 1, product_id=shop.product_id)
    with shop.uow as uow:  # capping needs a line over the cap: put one there directly
        cart = uow.carts.get_for_user(ALICE)
        assert cart is not None
        cart.lines = [attrs.evolve(cart.lines[0], quantity=MAX_QUANTITY - 1)]
        uow.carts.save(cart)
        uow.commit()

    merged = merge_carts(ALICE, cart_id, uow=shop.uow, clock=shop.clock)

    assert merged is not None
    assert merged.left_out == 3
    assert [q for _, q in lines(shop, CartOwner(user_id=ALICE))] == [MAX_QUANTITY, 1]
    assert merge_carts(ALICE, cart_id, uow=shop.uow, clock=shop.clock) is None
    assert merge_carts(ALICE, "cart_unknown", uow=shop.uow, clock=shop.clock) is None
    assert merge_carts(ALICE, "\x00" * 500, uow=shop.uow, clock=shop.clock) is None


# -- checking out -------------------------------------------------------------------------------


def test_a_paid_order_takes_what_it_bought_out_of_the_cart(shop: InMemoryShop) -> None:
    medium = shirt(shop).variants[1]
    owner = CartOwner(user_id=ALICE)
    add(shop, owner, 2, variant_id=medium.id)
    placed = check_out(shop)
    # Meanwhile, in another tab:
    add(shop, owner, 1, variant_id=medium.id)
    add(shop, owner, 1, product_id=shop.product_id)

    assert pay(shop, placed["intent_id"]) is ConfirmOutcome.PAID

    assert [q for _, q in lines(shop, owner)] == [1, 1]
    settle_cart(ALICE, uow=shop.uow, clock=shop.clock)
    with shop.uow as uow:
        stored = uow.carts.get_for_user(ALICE)
    assert stored is not None
    assert (stored.order_id, [line.quantity for line in stored.lines]) == (None, [1, 1])


def test_a_declined_card_leaves_the_cart_to_try_again(shop: InMemoryShop) -> None:
    owner = CartOwner(user_id=ALICE)
    add(shop, owner, 2, product_id=shop.product_id)
    placed = check_out(shop)
    assert placed["subtotal"] == {"amount": 3600, "currency": "USD"}
    assert pay(shop, placed["intent_id"], "pm_card_chargeDeclined") is ConfirmOutcome.DECLINED
    assert view_cart(owner, uow=shop.uow).units == 2
    again = check_out(shop)
    assert pay(shop, again["intent_id"]) is ConfirmOutcome.PAID
    assert view_cart(owner, uow=shop.uow).lines == ()
    assert shop.product(shop.product_id).stock == 3


def test_a_new_checkout_of_the_cart_ends_the_one_before(shop: InMemoryShop) -> None:
    add(shop, CartOwner(user_id=ALICE), 2, product_id=shop.product_id)
    first = check_out(shop)
    second = check_out(shop)
    third = check_out(shop)  # more than the three unpaid orders a shopper may hold at once
    fourth = check_out(shop)

    with shop.uow as uow:
        statuses = [uow.orders.get(o["order_id"]) for o in (first, second, third, fourth)]
    assert [o.status if o else None for o in statuses] == [
        OrderStatus.CANCELLED,
        OrderStatus.CANCELLED,
        OrderStatus.CANCELLED,
        OrderStatus.AWAITING_PAYMENT,
    ]
    assert shop.product(shop.product_id).stock == 3  # held once, by the last one
    assert pay(shop, fourth["intent_id"]) is ConfirmOutcome.PAID


def test_an_empty_cart_or_one_with_problems_cannot_be_checked_out(shop: InMemoryShop) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        check_out(shop)
    add(shop, CartOwner(user_id=ALICE), 2, product_id=shop.product_id)
    edit(shop, shop.product_id, stock=1)
    with pytest.raises(InvalidInput, match="not enough stock"):
        check_out(shop)


# -- the purge ----------------------------------------------------------------------------------


def test_carts_untouched_for_thirty_days_are_purged(shop: InMemoryShop) -> None:
    stale = add(shop, CartOwner(), 1, product_id=shop.product_id)
    add(shop, CartOwner(user_id=ALICE), 1, product_id=shop.product_id)
    shop.clock.advance(CART_RETENTION - timedelta(days=1))
    fresh = add(shop, CartOwner(), 1, product_id=shop.product_id)
    add(shop, CartOwner(user_id=ALICE), 1, product_id=shop.product_id)  # touched: kept
    shop.clock.advance(timedelta(days=2))

    assert purge_stale_carts(uow=shop.uow, clock=shop.clock) == 1
    assert view_cart(CartOwner(cart_id=stale), uow=shop.uow).lines == ()
    assert view_cart(CartOwner(cart_id=fresh), uow=shop.uow).units == 1
    assert view_cart(CartOwner(user_id=ALICE), uow=shop.uow).units == 2
