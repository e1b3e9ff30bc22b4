"""What search engines and link previews read from the catalogue, on SQLite and PostgreSQL: each
page's title, description, absolute canonical URL (from PUBLIC_URL, never the request's host),
OpenGraph and Twitter tags, JSON-LD that parses with the right prices and availability, the
sitemap and robots.txt."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient

from commerce_core import Money, NewProduct, get_product, stock_catalog
from tests.webapp.browser import Shopper
from tests.webapp.demo import DEMO_PRODUCTS, seed_demo_shop
from tests.webapp.html_page import Element, json_ld, meta, parse
from webapp.bootstrap import Container
from webapp.config import Settings

PUBLIC_URL = "https://shop.example"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
CATEGORIES = 13


@pytest.fixture
def settings(settings_on_both_databases: Settings, tmp_path: Any) -> Settings:
    return attrs.evolve(
        settings_on_both_databases, public_url=PUBLIC_URL, media_dir=str(tmp_path / "media")
    )


@pytest.fixture
def demo(container: Container) -> None:
    seed_demo_shop(container)


@pytest.fixture
def client(app: Flask, demo: None) -> FlaskClient:
    return app.test_client()


def page(client: FlaskClient, path: str, **kwargs: Any) -> Element:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return parse(response.get_data(as_text=True))


def canonical(document: Element) -> str:
    return document.find("link", rel="canonical")["href"]


def robots(document: Element) -> str | None:
    return meta(document, "robots")


def of_type(blocks: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [block] = [b for b in blocks if b["@type"] == kind]
    return block


def test_the_home_page_describes_the_shop(client: FlaskClient) -> None:
    document = page(client, "/", headers={"Host": "evil.example"})
    assert document.find("title").text == "Home · Shop"
    assert (
        meta(document, "description")
        == f"Shop: {DEMO_PRODUCTS} products in Kitchen, Home, Stationery, Clothing."
    )
    assert canonical(document) == f"{PUBLIC_URL}/"  # never the Host the request named
    assert robots(document) is None
    assert meta(document, "og:type") == "website"
    assert meta(document, "og:url") == f"{PUBLIC_URL}/"
    assert meta(
        document,
        "og:image",
    ).startswith(f"{PUBLIC_URL}/static/products/")  # type: ignore[union-attr]
    assert meta(document, "twitter:card") == "summary_large_image"
    blocks = json_ld(document)
    organization = of_type(blocks, "Organization")
    assert organization == {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Shop",
        "url": f"{PUBLIC_URL}/",
    }
    search = of_type(blocks, "WebSite")["potentialAction"]
    assert search["target"]["urlTemplate"] == f"{PUBLIC_URL}/search?q={{search_term_string}}"


def test_a_product_page_carries_offers_per_variant(client: FlaskClient) -> None:
    document = page(client, "/products/linen-shirt")
    assert document.find("title").text == "Linen Shirt · Shop"
    description = meta(document, "description")
    assert description is not None
    assert description.startswith("A relaxed shirt")
    assert canonical(document) == f"{PUBLIC_URL}/products/linen-shirt"
    assert meta(document, "og:type") == "product"
    assert meta(document, "og:title") == "Linen Shirt"
    assert meta(document, "og:description") == description
    assert meta(document, "og:url") == f"{PUBLIC_URL}/products/linen-shirt"
    assert meta(document, "og:image") == f"{PUBLIC_URL}/static/products/linen-shirt.svg"
    assert meta(document, "twitter:title") == "Linen Shirt"
    assert meta(document, "twitter:image") == f"{PUBLIC_URL}/static/products/linen-shirt.svg"

    blocks = json_ld(document)
    product = of_type(blocks, "Product")
    assert product["name"] == "Linen Shirt"
    assert product["url"] == f"{PUBLIC_URL}/products/linen-shirt"
    assert product["image"] == [f"{PUBLIC_URL}/static/products/linen-shirt.svg"]
    assert product["category"] == "Clothing > Shirts"
    offers = product["offers"]
    assert offers["@type"] == "AggregateOffer"
    assert (offers["lowPrice"], offers["highPrice"], offers["priceCurrency"]) == (
        "68.00",
        "72.00",
        "USD",
    )
    assert offers["offerCount"] == 6
    assert offers["availability"] == "https://schema.org/InStock"
    by_sku = {o["sku"]: o for o in offers["offers"]}
    assert by_sku["SHIRT-L-SAGE"]["price"] == "72.00"
    assert by_sku["SHIRT-M-WHITE"]["price"] == "68.00"
    assert all(o["availability"] == "https://schema.org/InStock" for o in by_sku.values())

    breadcrumb = of_type(blocks, "BreadcrumbList")
    assert [(i["position"], i["name"], i["item"]) for i in breadcrumb["itemListElement"]] == [
        (1, "Home", f"{PUBLIC_URL}/"),
        (2, "Clothing", f"{PUBLIC_URL}/categories/clothing"),
        (3, "Shirts", f"{PUBLIC_URL}/categories/shirts"),
        (4, "Linen Shirt", f"{PUBLIC_URL}/products/linen-shirt"),
    ]


def test_an_out_of_stock_variant_is_an_out_of_stock_offer(client: FlaskClient) -> None:
    offers = of_type(json_ld(page(client, "/products/cotton-apron")), "Product")["offers"]
    by_sku = {o["sku"]: o for o in offers["offers"]}
    assert by_sku["APRON-RUST"]["availability"] == "https://schema.org/OutOfStock"
    assert by_sku["APRON-RUST"]["price"] == "36.00"
    assert by_sku["APRON-NATURAL"]["availability"] == "https://schema.org/InStock"
    assert (offers["lowPrice"], offers["highPrice"]) == ("34.00", "36.00")


def test_a_product_without_options_has_one_offer(client: FlaskClient) -> None:
    product = of_type(json_ld(page(client, "/products/ceramic-mug")), "Product")
    assert product["sku"] == "ceramic-mug"
    assert product["offers"] == {
        "@type": "Offer",
        "url": f"{PUBLIC_URL}/products/ceramic-mug",
        "sku": "ceramic-mug",
        "price": "18.00",
        "priceCurrency": "USD",
        "availability": "https://schema.org/InStock",
        "itemCondition": "https://schema.org/NewCondition",
    }
    sold_out = of_type(json_ld(page(client, "/products/pour-over-set")), "Product")
    assert sold_out["offers"]["availability"] == "https://schema.org/OutOfStock"


def test_json_ld_stays_data_whatever_a_name_holds(app: Flask, container: Container) -> None:
    stock_catalog(
        container.new_uow(),
        container.clock,
        [
            NewProduct(
                "odd-mug",
                "Mug </script><script>alert(1)</script> & co",
                'Says "hi" </script>',
                Money(500, "USD"),
                "",
                1,
            )
        ],
    )
    response = app.test_client().get("/products/odd-mug")
    html = response.get_data(as_text=True)
    assert html.count("</script>") == html.count("<script")  # no block was closed early
    product = of_type(json_ld(parse(html)), "Product")
    assert product["name"] == "Mug </script><script>alert(1)</script> & co"
    assert "image" not in product
    assert meta(parse(html), "og:image") is None
    assert meta(parse(html), "twitter:card") == "summary"


def test_a_category_page_canonical_breadcrumb_and_paging(client: FlaskClient) -> None:
    document = page(client, "/categories/shirts")
    assert document.find("title").text == "Shirts · Shop"
    assert meta(document, "description") == "1 product in Shirts."
    assert canonical(document) == f"{PUBLIC_URL}/categories/shirts"
    assert robots(document) is None
    breadcrumb = of_type(json_ld(document), "BreadcrumbList")
    assert [i["item"] for i in breadcrumb["itemListElement"]] == [
        f"{PUBLIC_URL}/",
        f"{PUBLIC_URL}/categories/clothing",
        f"{PUBLIC_URL}/categories/shirts",
    ]
    kitchen = page(client, "/categories/kitchen")
    assert meta(kitchen, "description") == "Things to cook, pour and drink with."
    assert meta(kitchen, "og:type") == "website"


def test_paginated_pages_keep_their_page_and_drop_tracking(client: FlaskClient) -> None:
    second = page(client, "/search?page=2&utm_source=news&fbclid=abc&gclid=x")
    assert canonical(second) == f"{PUBLIC_URL}/search?page=2"
    assert second.find("title").text == "All products (page 2) · Shop"
    assert robots(second) is None  # every product, page by page: worth indexing
    first = page(client, "/search?page=1&utm_campaign=spring")
    assert canonical(first) == f"{PUBLIC_URL}/search"


def test_filtered_searches_canonicalise_to_their_filters_and_are_not_indexed(
    client: FlaskClient,
) -> None:
    document = page(
        client,
        "/search?utm_source=x&sort=price&attr[material]=linen&in_stock=true&q=Linen&ref=abc",
    )
    assert canonical(document) == (
        f"{PUBLIC_URL}/search?q=Linen&in_stock=true&attr%5Bmaterial%5D=Linen&sort=price"
    )
    assert robots(document) == "noindex,follow"
    assert document.find("title").text == "Results for “Linen” · Shop"
    assert meta(document, "description") == "2 products matching “Linen”."
    # The same search written differently names the same canonical URL.
    other = page(client, "/search?q=Linen&attr[material]=LINEN&sort=price&in_stock=true&min_price=")
    assert canonical(other) == canonical(document)
    narrowed_category = page(client, "/categories/kitchen?in_stock=true")
    assert robots(narrowed_category) == "noindex,follow"
    assert canonical(narrowed_category) == f"{PUBLIC_URL}/categories/kitchen?in_stock=true"


def test_the_sitemap_lists_home_categories_and_every_product_on_sale(
    app: Flask, admin: Shopper, demo: None, container: Container
) -> None:
    assert admin.post("/api/admin/products/fig-candle/archive").status_code == 200
    response = app.test_client().get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["Cache-Control"].startswith("public")
    root = ET.fromstring(response.data)  # noqa: S314 - our own answer, in a test
    assert root.tag == f"{SITEMAP_NS}urlset"
    entries = {
        url.findtext(f"{SITEMAP_NS}loc"): url.findtext(f"{SITEMAP_NS}lastmod")
        for url in root.findall(f"{SITEMAP_NS}url")
    }
    assert f"{PUBLIC_URL}/" in entries
    categories = [loc for loc in entries if "/categories/" in loc]  # type: ignore[operator]
    assert len(categories) == CATEGORIES
    assert f"{PUBLIC_URL}/categories/kitchen-textiles" in categories
    products = {loc: lastmod for loc, lastmod in entries.items() if "/products/" in loc}  # type: ignore[operator]
    assert len(products) == DEMO_PRODUCTS - 1
    assert f"{PUBLIC_URL}/products/fig-candle" not in products
    mug = get_product(container.new_uow(), "ceramic-mug")
    lastmod = products[f"{PUBLIC_URL}/products/ceramic-mug"]
    assert lastmod is not None
    assert datetime.fromisoformat(lastmod) == mug.updated_at.replace(microsecond=0)
    assert all(datetime.fromisoformat(value).tzinfo for value in products.values() if value)


def test_robots_txt_keeps_crawlers_out_of_private_paths(client: FlaskClient) -> None:
    response = client.get("/robots.txt", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/admin", "/account", "/cart", "/checkout", "/api/"):
        assert f"Disallow: {path}" in lines
    assert "Allow: /api/docs" in lines
    assert f"Sitemap: {PUBLIC_URL}/sitemap.xml" in lines
    assert not any(line.startswith("Disallow: /search") for line in lines)


def test_every_json_ld_block_of_every_page_parses(client: FlaskClient) -> None:
    for path in ("/", "/search", "/categories/kitchen", "/products/linen-shirt"):
        html = client.get(path).get_data(as_text=True)
        blocks = json_ld(parse(html))
        for block in blocks:
            assert block["@context"] == "https://schema.org"
            json.dumps(block)
