"""The public catalog: paging, search, strong ETags and 304s."""

from __future__ import annotations

import threading

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient

from commerce_core import UnitOfWork
from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.api.catalog import CATALOG_MAX_AGE
from webapp.app import create_app
from webapp.catalog_cache import CATALOG_CACHE_KEY, DEFAULT_TTL_SECONDS, CatalogCache
from webapp.request_ports import CONTAINER_KEY


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_clock(app: Flask) -> FakeMonotonic:
    """The app's catalog cache, on a clock the test moves."""
    clock = FakeMonotonic()
    app.extensions[CATALOG_CACHE_KEY] = CatalogCache(ttl=DEFAULT_TTL_SECONDS, clock=clock)
    return clock


def _database_reads(app: Flask) -> list[int]:
    """A counter of the units of work the app hands out (each a way to the database)."""
    container = app.extensions[CONTAINER_KEY]
    made = [0]

    def counting() -> UnitOfWork:
        made[0] += 1
        return container.new_uow()

    app.extensions[CONTAINER_KEY] = attrs.evolve(container, new_uow=counting)
    return made


def test_the_catalog_lists_products_with_money_in_minor_units(
    app_client: FlaskClient, catalog: Catalog
) -> None:
    response = app_client.get("/api/products")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 2)
    lamp = next(p for p in body["items"] if p["slug"] == "lamp")
    assert lamp == {
        "id": catalog.lamp,
        "slug": "lamp",
        "name": "Lamp",
        "description": "A lamp.",
        "price": {"amount": 8900, "currency": "USD"},
        "image_url": "/static/products/l.svg",
        "stock": 1,
        "in_stock": True,
        "option_names": [],
        "variants": [
            {
                "id": lamp["variants"][0]["id"],
                "sku": "lamp",
                "options": {},
                "price": {"amount": 8900, "currency": "USD"},
                "stock": 1,
                "in_stock": True,
                "weight_grams": None,
                "image_url": "",
            }
        ],
    }
    assert lamp["variants"][0]["id"].startswith("var_")


def test_the_catalog_pages_and_searches(app_client: FlaskClient, catalog: Catalog) -> None:
    second = app_client.get("/api/products?page=2&per_page=1").get_json()
    found = app_client.get("/api/products?q=lam").get_json()

    assert (second["page"], second["per_page"], second["total"]) == (2, 1, 2)
    assert len(second["items"]) == 1
    assert [p["slug"] for p in found["items"]] == ["lamp"]


def test_bad_paging_parameters_are_422(app_client: FlaskClient, catalog: Catalog) -> None:
    for query in ("page=0", "page=abc", "per_page=1000", "page=-1", "page=1.5"):
        response = app_client.get(f"/api/products?{query}")
        assert_problem(response, 422, "validation_error")


def test_the_catalog_is_publicly_cacheable_and_revalidates_with_a_strong_etag(
    app_client: FlaskClient, catalog: Catalog
) -> None:
    first = app_client.get("/api/products")
    etag = first.headers["ETag"]

    again = app_client.get("/api/products", headers={"If-None-Match": etag})

    assert not etag.startswith("W/")
    assert first.headers["Cache-Control"].startswith("public")
    assert "max-age=" in first.headers["Cache-Control"]
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert again.headers["X-Request-ID"]


def test_the_etag_changes_when_the_stock_does_once_the_cache_expires(
    app_client: FlaskClient, catalog: Catalog, shopper: Shopper, cache_clock: FakeMonotonic
) -> None:
    before = app_client.get("/api/products/lamp").headers["ETag"]
    shopper.register()
    shopper.intent(catalog.lamp)
    within_ttl = app_client.get("/api/products/lamp", headers={"If-None-Match": before})
    cache_clock.now += DEFAULT_TTL_SECONDS

    after = app_client.get("/api/products/lamp", headers={"If-None-Match": before})

    assert within_ttl.status_code == 304  # stale by design, for at most the cache's TTL
    assert after.status_code == 200
    assert after.headers["ETag"] != before
    assert after.get_json()["in_stock"] is False


def test_a_product_by_slug_has_an_etag_and_a_missing_one_is_404(
    app_client: FlaskClient, catalog: Catalog
) -> None:
    found = app_client.get("/api/products/mug")
    cached = app_client.get("/api/products/mug", headers={"If-None-Match": found.headers["ETag"]})

    assert found.get_json()["id"] == catalog.mug
    assert cached.status_code == 304
    assert_problem(app_client.get("/api/products/no-such-thing"), 404, "not_found")


def test_a_cached_catalog_answer_and_its_304_need_no_database(
    app: Flask, app_client: FlaskClient, catalog: Catalog, cache_clock: FakeMonotonic
) -> None:
    first = app_client.get("/api/products?per_page=5")
    reads = _database_reads(app)

    again = app_client.get("/api/products?per_page=5")
    revalidated = app_client.get(
        "/api/products?per_page=5", headers={"If-None-Match": first.headers["ETag"]}
    )
    other_query = app_client.get("/api/products?per_page=6")

    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert revalidated.status_code == 304
    assert other_query.status_code == 200
    assert reads == [1]  # only the query string not seen before went to the database


def test_errors_are_not_cached(
    app: Flask, app_client: FlaskClient, catalog: Catalog, cache_clock: FakeMonotonic
) -> None:
    assert_problem(app_client.get("/api/products/no-such-thing"), 404, "not_found")
    assert_problem(app_client.get("/api/products?page=0"), 422, "validation_error")
    reads = _database_reads(app)

    assert_problem(app_client.get("/api/products/no-such-thing"), 404, "not_found")
    assert reads == [1]


def test_the_server_cache_is_shorter_than_what_clients_may_cache() -> None:
    assert 0 < DEFAULT_TTL_SECONDS <= 2 < CATALOG_MAX_AGE


def test_the_catalog_cache_is_bounded_expires_and_is_thread_safe() -> None:
    clock = FakeMonotonic()
    cache = CatalogCache(ttl=1.0, max_entries=3, clock=clock)
    for i in range(5):
        cache.put(f"/p?{i}", b"{}", f"tag{i}", read_at=clock.now)
    assert len(cache) == 3
    assert cache.get("/p?0") is None
    assert cache.get("/p?4") is not None
    clock.now += 1.0
    assert cache.get("/p?4") is None

    busy = CatalogCache(ttl=60.0, max_entries=50)

    def hammer(n: int) -> None:
        for i in range(2000):
            busy.put(f"/p?{(n * 7 + i) % 80}", b"{}", "t", read_at=busy.now())
            busy.get(f"/p?{i % 80}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(busy) == 50


def test_each_app_has_a_catalog_cache_of_its_own(app: Flask) -> None:
    other = create_app(
        app.config["COMMERCE_SETTINGS"], container=app.extensions["commerce.container"]
    )
    assert other.extensions[CATALOG_CACHE_KEY] is not app.extensions[CATALOG_CACHE_KEY]
