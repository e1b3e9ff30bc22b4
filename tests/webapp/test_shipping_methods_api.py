"""The public shipping quote over HTTP, on SQLite and PostgreSQL: the methods that ship a cart
(``item=<product_id>:<quantity>``, repeated) to a country, priced from the catalog and weighed,
cheapest first; cacheable a minute per URL; and every bad country or item a 422."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from werkzeug.test import TestResponse

from commerce_core import (
    REST_OF_WORLD,
    Money,
    NewProduct,
    ShippingMethod,
    ShippingSetup,
    ShippingZone,
    configure_shipping,
    get_product,
    stock_catalog,
)
from tests.webapp.browser import Shopper, assert_problem
from webapp.bootstrap import Container
from webapp.config import Settings

USD = "USD"


@attrs.frozen
class Parcel:
    mug: str  # 1800, 450 g
    lamp: str  # 8900, 2.2 kg
    card: str  # 300, weighs nothing


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


@pytest.fixture
def parcel(container: Container) -> Parcel:
    stock_catalog(
        container.new_uow(),
        container.clock,
        [
            NewProduct("mug", "Mug", "A mug.", Money(1800, USD), "/m.svg", 50, weight_grams=450),
            NewProduct("lamp", "Lamp", "A lamp.", Money(8900, USD), "/l.svg", 5, 2200),
            NewProduct("card", "Card", "A card.", Money(300, USD), "/c.svg", 9),
        ],
    )
    configure_shipping(
        container.new_uow(),
        ShippingSetup(
            zones=(
                ShippingZone("domestic", "United States", frozenset({"US"})),
                ShippingZone("world", "Rest of the world", frozenset({REST_OF_WORLD})),
            ),
            methods=(
                ShippingMethod(
                    "standard",
                    "domestic",
                    "Standard",
                    Money(500, USD),
                    free_above=Money(5000, USD),
                ),
                ShippingMethod("express", "domestic", "Express", Money(1500, USD)),
                ShippingMethod(
                    "international",
                    "world",
                    "International",
                    Money(2500, USD),
                    per_kg=Money(800, USD),
                    max_weight_grams=5000,
                ),
            ),
        ),
    )
    ids = {slug: get_product(container.new_uow(), slug).id for slug in ("mug", "lamp", "card")}
    return Parcel(**ids)


def quotes(browser: Shopper, query: str) -> list[tuple[str, str, int]]:
    response = browser.get(f"/api/shipping/methods?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"items"}
    return [(q["id"], q["name"], q["price"]["amount"]) for q in body["items"]]


def test_methods_are_priced_for_the_cart_cheapest_first(
    app_client: Any, parcel: Parcel, shopper: Shopper
) -> None:
    one_mug = f"country=US&item={parcel.mug}:1"
    assert quotes(shopper, one_mug) == [
        ("standard", "Standard", 500),
        ("express", "Express", 1500),
    ]
    # $54 of mugs: standard is free from $50.
    assert quotes(shopper, f"country=us&item={parcel.mug}:3")[0] == ("standard", "Standard", 0)
    # The same product twice counts as one line of both quantities.
    assert quotes(shopper, f"country=US&item={parcel.mug}:2&item={parcel.mug}:1")[0][2] == 0
    # Abroad: weighed, every started kilogram (450 g + 2.2 kg = 2.65 kg: 3 kg).
    assert quotes(shopper, f"country=DE&item={parcel.mug}:1&item={parcel.lamp}:1") == [
        ("international", "International", 2500 + 3 * 800),
    ]
    # Products without a weight ship at the flat rate; over the limit, nothing ships.
    assert quotes(shopper, f"country=JP&item={parcel.card}:5") == [
        ("international", "International", 2500),
    ]
    assert quotes(shopper, f"country=JP&item={parcel.lamp}:3") == []


def test_without_items_each_method_is_priced_for_an_empty_parcel(
    parcel: Parcel, shopper: Shopper
) -> None:
    assert [q[2] for q in quotes(shopper, "country=US")] == [500, 1500]
    assert [q[2] for q in quotes(shopper, "country=BR")] == [2500]


def test_a_quote_is_public_and_cached_a_minute_per_url(
    parcel: Parcel, app_client: Any, shopper: Shopper
) -> None:
    shopper.register()  # a signed-in shopper gets the same answer as anyone
    first: TestResponse = app_client.get("/api/shipping/methods?country=US")
    other: TestResponse = app_client.get(f"/api/shipping/methods?country=US&item={parcel.mug}:3")

    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert other.headers["Cache-Control"] == "public, max-age=60"
    assert "Set-Cookie" not in first.headers
    assert first.get_json() != other.get_json(), "each query string has its own answer"
    assert shopper.get("/api/shipping/methods?country=US").get_json() == first.get_json()


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("", {"country"}),
        ("country=", {"country"}),
        ("country=XX", {"country"}),
        ("country=USA", {"country"}),
        ("country=1A", {"country"}),
        ("country=U%00", {"country"}),
        ("country=US&item=mug", {"item[0]"}),
        ("country=US&item=mug:0", {"item[0]"}),
        ("country=US&item=mug:101", {"item[0]"}),
        ("country=US&item=mug:007", {"item[0]"}),
        ("country=US&item=mug:1.5", {"item[0]"}),
        ("country=US&item=:1", {"item[0]"}),
        ("country=US&item=a:b:1", {"item[0]"}),
        ("country=US&item=a%00b:1", {"item[0]"}),
        # A surrogate cannot come through a query string: it arrives as U+FFFD, naming nothing.
        ("country=US&item=%ED%A0%80:1", {"items"}),
        (f"country=US&item={'p' * 101}:1", {"item[0]"}),
        ("country=US&item=prod_nope:1", {"items"}),
        ("country=XX&item=ok:1&item=bad", {"country", "item[1]"}),
        ("country=US" + "&item=p:1" * 51, {"item"}),
    ],
)
def test_a_bad_country_or_item_is_a_422_naming_it(
    parcel: Parcel, app_client: Any, query: str, fields: set[str]
) -> None:
    response = app_client.get(f"/api/shipping/methods?{query}")

    problem = assert_problem(response, 422, "validation_error")
    assert {error["field"] for error in problem["errors"]} == fields
