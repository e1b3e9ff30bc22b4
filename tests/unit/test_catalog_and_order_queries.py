"""Read-side use cases (catalog, one's own orders) and seeding the catalog."""

from __future__ import annotations

from typing import Any

import pytest

from commerce_core import (
    CartItem,
    CreateCheckoutIntent,
    InvalidInput,
    Money,
    NewProduct,
    NotFound,
    PageRequest,
    create_checkout_intent,
    get_order,
    get_product,
    list_orders,
    list_products,
    stock_catalog,
)
from commerce_core.testing import InMemoryShop

ALICE = "usr_alice"
BOB = "usr_bob"


def mug(**overrides: Any) -> NewProduct:
    fields: dict[str, Any] = {
        "slug": "blue-mug",
        "name": "Blue Mug",
        "description": "Holds tea.",
        "price": Money(1200, "USD"),
        "image_url": "/static/mug.svg",
        "stock": 3,
    } | overrides
    return NewProduct(**fields)


def test_another_users_order_is_not_found_like_a_missing_one(shop: InMemoryShop) -> None:
    body = create_checkout_intent(
        CreateCheckoutIntent(ALICE, (CartItem(shop.product_id, 1),)), **shop.ports
    ).body
    assert get_order(shop.uow, ALICE, body["order_id"]).id == body["order_id"]
    with pytest.raises(NotFound) as theirs:
        get_order(shop.uow, BOB, body["order_id"])
    with pytest.raises(NotFound) as missing:
        get_order(shop.uow, BOB, "ord_missing")
    assert str(theirs.value) == str(missing.value)


def test_a_shopper_lists_only_their_own_orders(shop: InMemoryShop) -> None:
    for user in (ALICE, ALICE, BOB):
        create_checkout_intent(
            CreateCheckoutIntent(user, (CartItem(shop.product_id, 1),)), **shop.ports
        )
    page = list_orders(shop.uow, ALICE, PageRequest(page=1, per_page=1))
    assert page.total == 2
    assert len(page.items) == 1
    assert {o.user_id for o in list_orders(shop.uow, ALICE, PageRequest()).items} == {ALICE}


@pytest.mark.parametrize(("page", "per_page"), [(0, 20), (1, 0), (1, 101), (100_001, 1)])
def test_paging_is_bounded(page: int, per_page: int) -> None:
    with pytest.raises(InvalidInput):
        PageRequest(page=page, per_page=per_page)


def test_seeding_the_catalog_is_idempotent_by_slug() -> None:
    shop = InMemoryShop()
    assert stock_catalog(shop.uow, shop.clock, [mug(), mug(slug="red-mug", name="Red")]) == 2
    assert stock_catalog(shop.uow, shop.clock, [mug(stock=99)]) == 0
    product = get_product(shop.uow, "blue-mug")
    assert product.stock == 3
    assert list_products(shop.uow, PageRequest(), "red").total == 1
    with pytest.raises(NotFound):
        get_product(shop.uow, "green-mug")


@pytest.mark.parametrize(
    "bad",
    [
        {"slug": "Blue Mug"},
        {"name": ""},
        {"price": Money(0, "USD")},
        {"stock": -1},
    ],
)
def test_an_invalid_product_seeds_nothing(bad: dict[str, Any]) -> None:
    shop = InMemoryShop()
    with pytest.raises(InvalidInput):
        stock_catalog(shop.uow, shop.clock, [mug(slug="fine-mug"), mug(**bad)])
    assert list_products(shop.uow, PageRequest()).total == 0


def test_a_product_entry_is_read_from_primitives() -> None:
    entry = {"slug": "cap", "name": "Cap", "price": 1500, "stock": 4}
    assert NewProduct.from_primitive(entry, "EUR").price == Money(1500, "EUR")
    with pytest.raises(InvalidInput):
        NewProduct.from_primitive({"slug": "cap"}, "EUR")


# Regression: int() used to truncate 19.99 to 19 cents and 2.7 to 2 units.
@pytest.mark.parametrize(("field", "value"), [("price", 19.99), ("stock", 2.7), ("price", True)])
def test_a_product_entry_with_a_float_or_bool_is_refused(field: str, value: object) -> None:
    entry: dict[str, Any] = {"slug": "cap", "name": "Cap", "price": 1500, "stock": 4}
    entry[field] = value
    with pytest.raises(InvalidInput):
        NewProduct.from_primitive(entry, "USD")
