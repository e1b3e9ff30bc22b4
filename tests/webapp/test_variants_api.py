"""Products with variants over HTTP, on SQLite and PostgreSQL: staff create a product with sizes,
shoppers see each variant's price and stock, buy a variant by its id (holding, selling and
giving back that variant's units only), and a product id alone is enough only for a product
without options. Staff add, reprice, count and archive variants by SKU, audited."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from commerce_core import get_product
from tests.support.shipping import shipped
from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container
from webapp.config import Settings

PRODUCTS = "/api/admin/products"
SHIRT = {
    "slug": "shirt",
    "name": "Linen shirt",
    "option_names": ["size", "colour"],
    "variants": [
        {
            "sku": "SHIRT-S",
            "options": {"size": "S", "colour": "white"},
            "price": {"amount": 6000, "currency": "USD"},
            "stock": 2,
            "weight_grams": 250,
        },
        {"sku": "SHIRT-M", "options": {"size": "M", "colour": "white"}, "price": 6500, "stock": 1},
        {"sku": "SHIRT-L", "options": {"size": "L", "colour": "white"}, "price": 7000},
    ],
}


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


def patch(browser: Shopper, path: str, body: Any) -> TestResponse:
    return browser.client.patch(path, json=body, headers={"X-CSRF-Token": browser.csrf()})


def product_of(response: TestResponse, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()["product"]
    return body


def by_sku(product: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["sku"]: v for v in product["variants"]}


def stocks(container: Container, slug: str = "shirt") -> dict[str, int]:
    """SKU -> units the catalog can still sell, read from the database (not the cached page)."""
    return {v.sku: v.stock for v in get_product(container.new_uow(), slug).variants}


def intent(shopper: Shopper, *items: dict[str, Any]) -> TestResponse:
    return shopper.post("/api/checkout/intent", shipped({"items": list(items)}))


@pytest.fixture
def shirt(admin: Shopper, catalog: Catalog) -> dict[str, Any]:
    return product_of(admin.post(PRODUCTS, SHIRT), 201)


def test_shoppers_see_each_variant_and_the_lowest_price(
    app_client: Any, shirt: dict[str, Any]
) -> None:
    shown = app_client.get("/api/products/shirt").get_json()
    assert shown["option_names"] == ["size", "colour"]
    assert shown["price"] == {"amount": 6000, "currency": "USD"}
    assert shown["in_stock"] is True
    variants = by_sku(shown)
    assert list(variants) == ["SHIRT-S", "SHIRT-M", "SHIRT-L"]
    assert variants["SHIRT-M"]["options"] == {"size": "M", "colour": "white"}
    assert variants["SHIRT-M"]["price"] == {"amount": 6500, "currency": "USD"}
    assert [v["in_stock"] for v in variants.values()] == [True, True, False]
    assert variants["SHIRT-S"]["weight_grams"] == 250
    # The listing filters and sorts by the lowest price.
    cheap = app_client.get("/api/products?max_price=6000").get_json()
    assert "shirt" in [p["slug"] for p in cheap["items"]]
    assert app_client.get("/api/products?min_price=6001&q=linen").get_json()["items"] == []


def test_a_variant_is_bought_by_its_id_and_only_its_stock_moves(
    shopper: Shopper, container: Container, shirt: dict[str, Any]
) -> None:
    shopper.register()
    medium = by_sku(shirt)["SHIRT-M"]["id"]
    created = intent(shopper, {"variant_id": medium, "quantity": 1})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["amount"]["amount"] == 6500
    assert stocks(container) == {"SHIRT-S": 2, "SHIRT-M": 0, "SHIRT-L": 0}

    paid = shopper.confirm(created.get_json()["intent_id"], "pm_card_visa")
    assert paid.status_code == 201, paid.get_data(as_text=True)
    [line] = paid.get_json()["order"]["items"]
    assert (line["variant_id"], line["sku"], line["options"]) == (
        medium,
        "SHIRT-M",
        {"size": "M", "colour": "white"},
    )
    assert line["product_id"] == shirt["id"]

    # The last one is gone: another shopper is told which variant, and nothing is held.
    other = intent(shopper, {"variant_id": medium, "quantity": 1})
    body = assert_problem(other, 409, "out_of_stock")
    assert body["variant_ids"] == [medium]
    assert body["product_ids"] == [shirt["id"]]
    assert stocks(container) == {"SHIRT-S": 2, "SHIRT-M": 0, "SHIRT-L": 0}


def test_a_declined_payment_gives_back_the_variant_it_held(
    shopper: Shopper, container: Container, shirt: dict[str, Any]
) -> None:
    shopper.register()
    small = by_sku(shirt)["SHIRT-S"]["id"]
    created = intent(shopper, {"variant_id": small, "quantity": 2}).get_json()
    assert stocks(container)["SHIRT-S"] == 0
    declined = shopper.confirm(created["intent_id"], "pm_card_chargeDeclined")
    assert declined.status_code == 402, declined.get_data(as_text=True)
    assert stocks(container) == {"SHIRT-S": 2, "SHIRT-M": 1, "SHIRT-L": 0}


def test_a_product_id_names_only_a_product_without_options(
    shopper: Shopper, shirt: dict[str, Any], catalog: Catalog
) -> None:
    shopper.register()
    body = assert_problem(
        intent(shopper, {"product_id": shirt["id"], "quantity": 1}), 422, "validation_error"
    )
    assert "several variants" in body["errors"][0]["message"]
    both = intent(
        shopper,
        {"product_id": catalog.mug, "variant_id": by_sku(shirt)["SHIRT-S"]["id"], "quantity": 1},
    )
    assert_problem(both, 422, "validation_error")
    unknown = intent(shopper, {"variant_id": "var_nope", "quantity": 1})
    assert (
        "unknown variant"
        in assert_problem(unknown, 422, "validation_error")["errors"][0]["message"]
    )
    # The mug has no options: its product id still buys its one variant.
    assert intent(shopper, {"product_id": catalog.mug, "quantity": 1}).status_code == 201
    quotes = shopper.get(
        f"/api/shipping/methods?country=US&item={by_sku(shirt)['SHIRT-M']['id']}:1"
    )
    assert quotes.status_code == 200, quotes.get_data(as_text=True)


def test_staff_add_reprice_count_and_archive_variants_by_sku(
    admin: Shopper, shopper: Shopper, shirt: dict[str, Any]
) -> None:
    added = product_of(
        admin.post(
            f"{PRODUCTS}/shirt/variants",
            {"sku": "SHIRT-XL", "options": {"size": "XL", "colour": "white"}, "price": 5500},
        ),
        201,
    )
    assert by_sku(added)["SHIRT-XL"]["price"]["amount"] == 5500
    assert added["price"]["amount"] == 5500  # the lowest price now
    assert_problem(
        admin.post(
            f"{PRODUCTS}/shirt/variants",
            {"sku": "SHIRT-XL2", "options": {"size": "XL", "colour": "white"}, "price": 1},
        ),
        422,
        "validation_error",
    )  # the same options as SHIRT-XL
    assert_problem(
        admin.post(
            f"{PRODUCTS}/shirt/variants",
            {"sku": "mug", "options": {"size": "XS", "colour": "white"}, "price": 1},
        ),
        409,
        "conflict",
    )  # the mug's SKU: unique across the catalogue
    counted = product_of(
        admin.post(f"{PRODUCTS}/shirt/stock", {"sku": "SHIRT-L", "set": 4, "reason": "delivery"})
    )
    assert by_sku(counted)["SHIRT-L"]["stock"] == 4
    assert_problem(
        admin.post(f"{PRODUCTS}/shirt/stock", {"set": 4, "reason": "which one?"}),
        422,
        "validation_error",
    )
    repriced = product_of(patch(admin, f"{PRODUCTS}/shirt/variants/SHIRT-XL", {"price": 8000}))
    assert repriced["price"]["amount"] == 6000
    assert_problem(
        patch(admin, f"{PRODUCTS}/shirt", {"price": 100}), 422, "validation_error"
    )  # a product with options is priced per variant

    archived = product_of(patch(admin, f"{PRODUCTS}/shirt/variants/SHIRT-S", {"archived": True}))
    assert by_sku(archived)["SHIRT-S"]["archived"] is True
    shown = admin.get("/api/products/shirt").get_json()
    assert "SHIRT-S" not in by_sku(shown)  # shoppers no longer see it
    assert shown["price"]["amount"] == 6500
    shopper.register()
    refused = intent(shopper, {"variant_id": by_sku(shirt)["SHIRT-S"]["id"], "quantity": 1})
    assert (
        "no longer sold" in assert_problem(refused, 422, "validation_error")["errors"][0]["message"]
    )

    entries = admin.get("/api/admin/audit-log?per_page=100").get_json()["items"]
    actions = [e["action"] for e in reversed(entries) if e["target"] == f"product:{shirt['id']}"]
    assert actions == [
        "product.create",
        "variant.create",
        "product.stock",
        "variant.edit",
        "variant.edit",
    ]
    stock = next(e for e in entries if e["action"] == "product.stock")
    assert stock["details"] == {
        "sku": "SHIRT-L",
        "before": 0,
        "after": 4,
        "reason": "delivery",
        "set": 4,
    }


def test_options_are_added_to_a_product_that_had_none(admin: Shopper, catalog: Catalog) -> None:
    assert_problem(
        patch(admin, f"{PRODUCTS}/mug", {"option_names": ["colour"]}), 422, "validation_error"
    )  # the mug's one variant needs its colour
    mug = product_of(
        patch(admin, f"{PRODUCTS}/mug", {"option_names": ["colour"], "fill": {"colour": "blue"}})
    )
    assert mug["option_names"] == ["colour"]
    assert mug["variants"][0]["options"] == {"colour": "blue"}
    green = product_of(
        admin.post(
            f"{PRODUCTS}/mug/variants",
            {"sku": "MUG-GREEN", "options": {"colour": "green"}, "price": 2000, "stock": 3},
        ),
        201,
    )
    assert [v["options"]["colour"] for v in green["variants"]] == ["blue", "green"]
    assert green["stock"] == 5 + 3


def test_bad_variant_bodies_are_422_and_change_nothing(
    admin: Shopper, shirt: dict[str, Any]
) -> None:
    for bad in (
        {"sku": "has space", "options": {"size": "XS", "colour": "white"}, "price": 1},
        {"sku": "OK-1", "options": {"size": "XS"}, "price": 1},
        {"sku": "OK-2", "options": {"size": "XS", "colour": "white", "fit": "slim"}, "price": 1},
        {"sku": "OK-3", "options": {"size": "XS", "colour": "white"}, "price": 0},
        {"sku": "OK-4", "options": {"size": "XS", "colour": "white"}, "price": 1.5},
        {"sku": "OK-5", "options": ["XS"], "price": 1},
        {"sku": "OK-6", "options": {"size": "XS", "colour": "white"}, "price": 1, "colour": 1},
        {"sku": "OK-7", "options": {"size": "", "colour": "white"}, "price": 1},
        {"sku": "x" * 65, "options": {"size": "XS", "colour": "white"}, "price": 1},
    ):
        response = admin.post(f"{PRODUCTS}/shirt/variants", bad)
        assert_problem(response, 422, "validation_error")
    assert len(admin.get("/api/products/shirt").get_json()["variants"]) == 3
    assert admin.post(f"{PRODUCTS}/nope/variants", SHIRT["variants"][0]).status_code == 404
    missing = patch(admin, f"{PRODUCTS}/shirt/variants/NOPE", {"price": 1})
    assert_problem(missing, 404, "not_found")
