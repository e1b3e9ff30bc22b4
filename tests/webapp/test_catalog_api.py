"""The public catalog: paging, search, strong ETags and 304s."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog


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
    }


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


def test_the_etag_changes_when_the_stock_does(
    app_client: FlaskClient, catalog: Catalog, shopper: Shopper
) -> None:
    before = app_client.get("/api/products/lamp").headers["ETag"]
    shopper.register()
    shopper.intent(catalog.lamp)

    after = app_client.get("/api/products/lamp", headers={"If-None-Match": before})

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
