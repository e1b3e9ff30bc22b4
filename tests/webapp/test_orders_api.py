"""A shopper sees their own orders and nobody else's."""

from __future__ import annotations

from typing import Any

from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog


def test_a_shopper_lists_their_own_orders_paginated(
    shopper: Shopper, new_shopper: Any, catalog: Catalog
) -> None:
    shopper.register()
    mine = [shopper.buy(catalog.mug), shopper.buy(catalog.mug)]
    other = new_shopper()
    other.register()
    other.buy(catalog.mug)

    page = shopper.get("/api/orders?per_page=1").get_json()
    everything = shopper.get("/api/orders").get_json()

    assert (page["page"], page["per_page"], page["total"]) == (1, 1, 2)
    assert len(page["items"]) == 1
    assert {o["id"] for o in everything["items"]} == {o["id"] for o in mine}


def test_another_shoppers_order_is_404_like_a_missing_one(
    shopper: Shopper, new_shopper: Any, catalog: Catalog
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug)
    snoop = new_shopper()
    snoop.register()

    theirs = snoop.get(f"/api/orders/{order['id']}")
    missing = snoop.get("/api/orders/ord_does_not_exist")

    assert_problem(theirs, 404, "not_found")
    assert_problem(missing, 404, "not_found")
    assert theirs.get_json() == missing.get_json()
