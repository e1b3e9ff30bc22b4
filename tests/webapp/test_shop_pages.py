"""The catalogue pages (home, category, search, product) through the test client on SQLite and
PostgreSQL, over the demo shop: what each page shows is what the core's read use cases (and the
JSON API) say, the filters, sort and pages work without a script, bad or hostile query strings
are a 422 page or a 404 and never a 500, the variant picker's data is the variants', and the
caching headers tell anonymous pages from personal ones."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from commerce_core import Money, NewProduct, stock_catalog
from tests.webapp.browser import Shopper
from tests.webapp.demo import DEMO_PRODUCTS, seed_demo_shop
from tests.webapp.html_page import Element, parse
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.pages.money_format import format_price
from webapp.pages.shop import PER_PAGE, stock_text

PUBLIC_URL = "https://shop.example"


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


def page(client: FlaskClient, path: str, status: int = 200) -> Element:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return parse(response.get_data(as_text=True))


def card_names(document: Element) -> list[str]:
    return [h.text for h in document.find_all("h3", class_="card-name")]


def api_slugs(client: FlaskClient, query: str) -> list[str]:
    body = client.get(f"/api/products?per_page=100&{query}").get_json()
    return [item["name"] for item in body["items"]]


# -- every page ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/categories/kitchen",
        "/categories/shirts",
        "/search",
        "/search?q=mug",
        "/products/linen-shirt",
        "/products/ceramic-mug",
        "/products/pour-over-set",
    ],
)
def test_every_catalogue_page_renders_with_one_heading_and_no_inline_script(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    document = parse(response.get_data(as_text=True))
    assert len(document.find_all("h1")) == 1
    assert document.find("main", id="main")
    for script in document.find_all("script"):
        # Code only from files; inline blocks are data (JSON-LD, the variant list), never run.
        assert script.has("src") or script.get("type") in (
            "application/ld+json",
            "application/json",
        )
    for image in document.find_all("img"):
        assert all(image.has(name) for name in ("alt", "width", "height"))


def test_the_home_page_shows_the_top_categories_and_product_cards(client: FlaskClient) -> None:
    document = page(client, "/")
    assert document.find("h1").text == "Shop"
    assert (
        f"{DEMO_PRODUCTS} products in 4 categories" in document.find("p", class_="hero-line").text
    )
    tiles = document.find_all("a", class_="category-tile")
    assert [t["href"] for t in tiles] == [
        "/categories/kitchen",
        "/categories/home",
        "/categories/stationery",
        "/categories/clothing",
    ]
    cards = document.find_all("li", class_="card")
    assert len(cards) == 12
    by_name = {c.find("h3").text: c for c in cards}
    # Sorted by name, the first twelve.
    assert list(by_name) == sorted(by_name)
    shirt = by_name.get("Linen Shirt") or page(client, "/search?q=shirt").find("li", class_="card")
    assert shirt.find("p", class_="card-price").text == "From $68.00"
    mug = by_name["Ceramic Mug"]
    assert mug.find("p", class_="card-price").text == "$18.00"
    assert mug.find("a")["href"] == "/products/ceramic-mug"
    image = mug.find("img")
    assert (image["loading"], image["width"], image["height"]) == ("lazy", "480", "480")
    assert not image.has("srcset")  # a drawing, not an upload: used as it is
    assert document.find("a", href="/search").text == "Browse them all"


def test_an_out_of_stock_product_wears_a_badge(client: FlaskClient) -> None:
    cards = {
        c.find("h3").text: c for c in page(client, "/search?q=pour").find_all("li", class_="card")
    }
    assert cards["Pour-over Coffee Set"].find("span", class_="badge").text == "Out of stock"
    in_stock = page(client, "/search?q=mug").find("li", class_="card")
    assert in_stock.first("span", class_="badge") is None


def test_a_category_page_has_its_breadcrumb_sub_categories_and_products(
    client: FlaskClient,
) -> None:
    kitchen = page(client, "/categories/kitchen")
    assert kitchen.find("h1").text == "Kitchen"
    crumbs = kitchen.find("nav", aria_label="Breadcrumb").find_all("a")
    assert [(a.text, a["href"]) for a in crumbs] == [
        ("Home", "/"),
        ("Kitchen", "/categories/kitchen"),
    ]
    assert crumbs[-1]["aria-current"] == "page"
    subs = kitchen.find("nav", class_="subcategories").find_all("a")
    assert [a.text for a in subs] == ["Mugs", "Carafes & jugs", "Kitchen textiles"]
    # Its products and its sub-categories' products, as the API counts them.
    assert sorted(card_names(kitchen)) == sorted(api_slugs(client, "category=kitchen"))
    assert "Ceramic Mug" in card_names(kitchen)
    shirts = page(client, "/categories/shirts")
    crumbs = shirts.find("nav", aria_label="Breadcrumb").find_all("a")
    assert [a.text for a in crumbs] == ["Home", "Clothing", "Shirts"]
    assert card_names(shirts) == ["Linen Shirt"]
    # A category page takes the same filters as search, but not another category.
    filtered = page(client, "/categories/kitchen?in_stock=true&category=shirts")
    assert "Pour-over Coffee Set" not in card_names(filtered)
    assert sorted(card_names(filtered)) == sorted(
        api_slugs(client, "category=kitchen&in_stock=true")
    )


def test_search_pages_through_every_product_with_prev_and_next(client: FlaskClient) -> None:
    first = page(client, "/search")
    assert first.find("h1").text == "All products"
    assert first.find("p", class_="result-count").text == f"Showing 1 to {PER_PAGE} of 15 products"
    assert len(card_names(first)) == PER_PAGE
    pagination = first.find("nav", aria_label="Pagination")
    assert pagination.find("a", rel="next")["href"] == "/search?page=2"
    assert pagination.first("a", rel="prev") is None
    assert pagination.find("a", aria_current="page").text == "Page 1"
    assert first.find("link", rel="next")["href"] == "/search?page=2"
    sold_out = page(client, "/search?in_stock=false&sort=price&page=1")
    assert card_names(sold_out) == ["Pour-over Coffee Set"]
    assert sold_out.find("link", rel="canonical")["href"].endswith(
        "/search?in_stock=false&sort=price"
    )

    second = page(client, "/search?page=2")
    assert second.find("p", class_="result-count").text == "Showing 13 to 15 of 15 products"
    assert card_names(first) + card_names(second) == sorted(api_slugs(client, ""))
    assert second.find("a", rel="prev")["href"] == "/search"
    assert second.first("a", rel="next") is None

    beyond = page(client, "/search?page=9")
    assert card_names(beyond) == []
    assert "past the last one" in beyond.find("div", class_="empty-state").text


@pytest.mark.parametrize(
    ("query", "api_query"),
    [
        ("q=linen", "q=linen"),
        ("in_stock=true", "in_stock=true"),
        ("in_stock=false", "in_stock=false"),
        ("in_stock=true&q=o", "in_stock=true&q=o"),
        ("min_price=20&max_price=40", "min_price=2000&max_price=4000"),
        ("min_price=24.5", "min_price=2450"),
        ("attr[material]=Linen", "attr[material]=Linen"),
        ("attr[material]=linen&attr[material]=glass", "attr[material]=Linen,Glass"),
        ("attr[colour]=White&attr[material]=Linen", "attr[colour]=White&attr[material]=Linen"),
        ("category=carafes-and-jugs", "category=carafes-and-jugs"),
        ("category=kitchen&sort=-price", "category=kitchen&sort=-price"),
        ("sort=price", "sort=price"),
        ("sort=newest", "sort=newest"),
    ],
)
def test_search_filters_and_sorts_as_the_api_does(
    client: FlaskClient, query: str, api_query: str
) -> None:
    document = page(client, f"/search?{query}")
    assert card_names(document) == api_slugs(client, api_query)[:PER_PAGE]


def test_the_filter_form_is_a_plain_get_form_showing_what_was_chosen(client: FlaskClient) -> None:
    document = page(
        client, "/search?q=linen&in_stock=true&attr[material]=linen&min_price=10&sort=-price"
    )
    form = document.find("form", class_="filter-form")
    assert (form["method"], form["action"]) == ("get", "/search")
    assert form.find("input", name="q")["value"] == "linen"
    assert form.find("input", name="min_price")["value"] == "10"
    assert form.find("input", name="in_stock").has("checked")
    assert form.find("option", value="-price").has("selected")
    linen = form.find("input", name="attr[material]", value="Linen")  # as the catalogue spells it
    assert linen.has("checked")
    for control in form.find_all("input") + form.find_all("select"):
        if control.get("type") not in ("hidden", "radio", "checkbox"):
            assert form.find("label", for_=control["id"])
    for control in form.find_all("input", type="checkbox") + form.find_all("input", type="radio"):
        assert form.find("label", for_=control["id"])
    assert form.find("button", type="submit").text == "Apply"


def test_attribute_facets_count_as_the_core_does(client: FlaskClient) -> None:
    document = page(client, "/search")
    facets = client.get("/api/products").get_json()["facets"]["attributes"]
    material = {
        box["value"]: int(re.search(r"\((\d+)\)", box.parent.text).group(1))  # type: ignore[union-attr]
        for box in document.find_all("input", name="attr[material]")
    }
    assert material == {f["value"]: f["count"] for f in facets["material"]}
    # With one value chosen, the others still show how many they would add ("any of").
    chosen = page(client, "/search?attr[material]=Linen")
    values = [box["value"] for box in chosen.find_all("input", name="attr[material]")]
    assert set(values) == set(material)


def test_price_range_links_lead_to_as_many_products_as_they_say(client: FlaskClient) -> None:
    document = page(client, "/search")
    links = document.find("ul", class_="price-links").find_all("a")
    assert links
    total = 0
    for link in links:
        count = int(re.search(r"\((\d+)\)", link.parent.text).group(1))  # type: ignore[union-attr]
        total += count
        target = page(client, link["href"])
        assert target.find("p", class_="result-count").text.endswith(
            f"of {count} product{'' if count == 1 else 's'}"
        )
    assert total == DEMO_PRODUCTS
    under_10 = dict(parse_qsl(urlsplit(links[0]["href"]).query))
    assert under_10 == {"max_price": "9.99"}


def test_a_search_without_results_says_so(client: FlaskClient) -> None:
    document = page(client, "/search?q=submarine")
    assert "No products match these filters" in document.find("div", class_="empty-state").text
    assert document.find("div", class_="empty-state").find("a", href="/search")
    assert document.first("nav", aria_label="Pagination") is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("min_price=abc", "Minimum price: must be an amount such as 25 or 19.99"),
        ("max_price=-5", "Maximum price: must be an amount such as 25 or 19.99"),
        ("min_price=1.999", "Minimum price: has more decimals than USD prices have"),
        ("min_price=50&max_price=10", "Maximum price: must not be below min_price"),
        ("max_price=999999999999", "Maximum price: must be at most $100,000,000.00"),
        ("in_stock=yes", "In stock: must be true or false"),
        ("sort=cheapest", "Sort: must be one of"),
        ("page=0", "Page: must be a whole number from 1"),
        ("page=1e3", "Page: must be a whole number"),
        ("category=nowhere", "Category: no such category"),
        ("attr[material]=Unobtainium", "Material:"),
        ("attr[shoe_size]=42", "attr[shoe_size]: is not an attribute the catalogue filters by"),
        ("attr=x", "attr: is not a filter"),
        ("q=" + "a" * 101, "Search: must be at most 100 characters"),
    ],
)
def test_filters_that_cannot_be_used_answer_422_with_the_message(
    client: FlaskClient, query: str, message: str
) -> None:
    response = client.get(f"/search?{query}")
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "private, no-store"
    document = parse(response.get_data(as_text=True))
    errors = document.find("div", id="filter-errors")
    assert errors["role"] == "alert"
    assert message in errors.text
    assert document.find("form", class_="filter-form")  # to fix it
    assert document.find("meta", name="robots")["content"] == "noindex,follow"
    # The category page reads them the same way.
    if not query.startswith("category"):
        assert client.get(f"/categories/kitchen?{query}").status_code == 422


@pytest.mark.parametrize(
    "query",
    [
        "q=" + "x" * 100_000,
        "q=%00%01%1b",
        "q=%ED%A0%80",  # a lone surrogate, as UTF-8 would carry it
        "q=%FF%FE",
        "q=<script>alert(1)</script>",
        "min_price=1e309&max_price=NaN",
        "min_price=Infinity",
        "min_price=%EF%BC%91",  # a full-width digit
        "page=99999999999999999999",
        "page=-1&per_page=100000",
        "attr[material]=" + ",".join(["Linen"] * 500),
        "&".join(f"attr[a{i}]=x" for i in range(50)),
        "attr[%00]=x&attr[[x]]]=y",
        "category=%00",
        "category=" + "k" * 5000,
        "sort=%00&in_stock=%00",
        "q=linen&" + "&".join(["q=mug"] * 1000),
    ],
)
def test_hostile_query_strings_never_fail_the_server(client: FlaskClient, query: str) -> None:
    for path in ("/search", "/categories/kitchen"):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 422), (path, query, response.status_code)
        assert response.mimetype == "text/html"
        assert "<script>alert" not in response.get_data(as_text=True)


def test_unknown_pages_are_404_pages(client: FlaskClient) -> None:
    for path in ("/categories/nowhere", "/products/nothing", "/products/%00", "/categories/a%0ab"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"


# -- the product page ----------------------------------------------------------------------------


def picker_data(document: Element) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(document.find("script", id="variant-data").text)
    return data


def test_the_variant_picker_data_is_the_products_variants(client: FlaskClient) -> None:
    document = page(client, "/products/linen-shirt")
    api = client.get("/api/products/linen-shirt").get_json()
    data = picker_data(document)
    assert [
        (v["id"], v["sku"], v["options"], v["price"], v["in_stock"]) for v in data["variants"]
    ] == [
        (v["id"], v["sku"], v["options"], format_price(Money(**v["price"])), v["in_stock"])
        for v in api["variants"]
    ]
    assert [v["stock_text"] for v in data["variants"]] == [
        stock_text(v["stock"]) for v in api["variants"]
    ]
    assert {v["sku"]: v["stock_text"] for v in data["variants"]}["SHIRT-L-SAGE"] == "Only 2 left"
    assert data["selected"] == api["variants"][0]["id"]

    # One radio group per option (shown by the script), each a fieldset with a legend.
    groups = document.find("div", id="variant-options").find_all("fieldset")
    assert [g.find("legend").text for g in groups] == ["Size", "Colour"]
    assert [r["value"] for r in groups[0].find_all("input", type="radio")] == ["S", "M", "L"]
    assert [r["value"] for r in groups[1].find_all("input", type="radio")] == ["White", "Sage"]
    assert document.find("script", src=True)["src"].startswith("/assets/js/variant-picker.")

    # Without the script: a select of every variant with its price and availability.
    form = document.find("form", id="add-to-cart-form")
    assert (form["method"], form["action"]) == ("post", "/cart/add")
    assert form.find("input", name="csrf_token")["value"]
    options = form.find("select", name="variant_id").find_all("option")
    assert [o["value"] for o in options] == [v["id"] for v in api["variants"]]
    assert options[-1].text == "L / Sage: $72.00, Only 2 left"
    assert form.find("input", name="quantity")["value"] == "1"
    assert not form.find("button", type="submit").has("disabled")
    # The price shown without the script says it varies.
    assert document.find("p", id="product-price").text == "From $68.00"


def test_an_out_of_stock_variant_cannot_be_chosen(client: FlaskClient) -> None:
    document = page(client, "/products/cotton-apron")
    rust = next(v for v in picker_data(document)["variants"] if v["sku"] == "APRON-RUST")
    assert (rust["in_stock"], rust["stock_text"], rust["price"]) == (
        False,
        "Out of stock",
        "$36.00",
    )
    option = document.find("option", value=rust["id"])
    assert option.has("disabled")
    assert option.text == "Rust: $36.00, Out of stock"
    # The first variant in stock is chosen to begin with.
    selected = document.find("option", selected=True)
    assert selected.text.startswith("Natural")


def test_a_product_without_options_posts_its_product_id(client: FlaskClient) -> None:
    document = page(client, "/products/ceramic-mug")
    api = client.get("/api/products/ceramic-mug").get_json()
    form = document.find("form", id="add-to-cart-form")
    assert form.find("input", name="product_id")["value"] == api["id"]
    assert form.first("select") is None
    assert document.first("script", id="variant-data") is None
    assert document.find("p", id="product-stock").text == "In stock"
    assert document.find("p", id="product-price").text == "$18.00"
    details = {
        row.find("th").text: row.find("td").text
        for row in document.find("div", class_="product-details").find_all("tr")
    }
    assert details == {"Capacity": "350 ml", "Colour": "White", "Material": "Stoneware"}
    crumbs = document.find("nav", aria_label="Breadcrumb").find_all("a")
    assert [a.text for a in crumbs] == ["Home", "Kitchen", "Mugs", "Ceramic Mug"]


def test_a_sold_out_product_cannot_be_added(client: FlaskClient) -> None:
    document = page(client, "/products/pour-over-set")
    assert document.find("p", id="product-stock").text == "Out of stock"
    assert document.find("button", id="add-to-cart").has("disabled")


def test_an_archived_product_is_a_404_page(app: Flask, admin: Shopper, demo: None) -> None:
    archived = admin.post("/api/admin/products/fig-candle/archive")
    assert archived.status_code == 200, archived.get_data(as_text=True)
    client = app.test_client()
    response = client.get("/products/fig-candle")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Fig Scented Candle" not in card_names(page(client, "/search?q=candle"))


# -- caching -------------------------------------------------------------------------------------


def assert_revalidates(client: FlaskClient, path: str, response: TestResponse) -> None:
    etag = response.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304, again.get_data(as_text=True)[:500]
    assert again.data == b""


@pytest.mark.parametrize("path", ["/", "/categories/kitchen", "/search?q=linen&page=1"])
def test_anonymous_listings_are_public_for_a_minute_and_revalidate(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.headers["Cache-Control"] == f"public, max-age={60}"
    assert "Cookie" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers
    assert_revalidates(client, path, response)
    # The same bytes for every anonymous visitor: another browser gets the same tag.
    assert client.application.test_client().get(path).headers["ETag"] == response.headers["ETag"]


def test_an_anonymous_product_page_is_cached_by_the_browser_alone(client: FlaskClient) -> None:
    """Its form carries a token bound to this browser's session cookie: no shared cache may
    keep it, and the ETag ignores the token's changing signature."""
    first = client.get("/products/linen-shirt")
    assert first.headers["Cache-Control"] == "private, max-age=60"
    assert "Cookie" in first.headers["Vary"]
    second = client.get("/products/linen-shirt")
    assert second.headers["ETag"] == first.headers["ETag"]
    assert_revalidates(client, "/products/linen-shirt", second)
    # Another browser has another session, hence another tag.
    other = client.application.test_client().get("/products/linen-shirt")
    assert other.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize("path", ["/", "/search", "/categories/kitchen", "/products/linen-shirt"])
def test_pages_of_a_signed_in_shopper_are_never_stored(app: Flask, demo: None, path: str) -> None:
    shopper = Shopper(app.test_client())
    shopper.register()
    response = shopper.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    assert "Cookie" in response.headers["Vary"]
    assert parse(response.get_data(as_text=True)).find("a", href="/account")
    revalidated = shopper.get(path, headers={"If-None-Match": "*"})
    assert revalidated.status_code == 200


def test_a_page_whose_header_shows_a_cart_is_never_stored(app: Flask, demo: None) -> None:
    """Whatever module counts the cart: a header with a count is personal."""
    app.context_processor(lambda: {"cart_count": 3})
    for path in ("/", "/search", "/categories/kitchen", "/products/linen-shirt"):
        response = app.test_client().get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in response.headers


def test_pages_of_a_shopper_with_a_cart_are_never_stored(app: Flask, demo: None) -> None:
    """The product page's form puts something in the cart (``/cart/add``): from then on the
    header shows it, and no page is kept."""
    client = app.test_client()
    response = client.get("/products/ceramic-mug")
    form = parse(response.get_data(as_text=True)).find("form", id="add-to-cart-form")
    added = client.post(
        "/cart/add",
        data={
            "csrf_token": form.find("input", name="csrf_token")["value"],
            "product_id": form.find("input", name="product_id")["value"],
            "quantity": "2",
        },
    )
    assert added.status_code == 303, added.get_data(as_text=True)[:1000]
    for path in ("/", "/search", "/products/linen-shirt"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        badge = parse(response.get_data(as_text=True)).find("span", class_="badge")
        assert badge.text == "2"


def test_a_new_product_shows_on_the_pages(app: Flask, container: Container, demo: None) -> None:
    stock_catalog(
        container.new_uow(),
        container.clock,
        [NewProduct("zinc-tray", "Zinc Tray", "A tray.", Money(1250, "USD"), "", 4)],
    )
    document = page(app.test_client(), "/search?q=zinc")
    card = document.find("li", class_="card")
    assert card.find("h3").text == "Zinc Tray"
    assert card.find("p", class_="card-price").text == "$12.50"
    product = page(app.test_client(), "/products/zinc-tray")
    assert product.find("p", id="product-stock").text == "Only 4 left"


def test_the_sold_out_colour_is_refused_even_if_posted(app: Flask, demo: None) -> None:
    """The button is disabled and the option too; a hand-made post is refused all the same."""
    client = app.test_client()
    document = parse(client.get("/products/cotton-apron").get_data(as_text=True))
    rust = next(v for v in picker_data(document)["variants"] if v["sku"] == "APRON-RUST")
    token = document.find("input", name="csrf_token")["value"]
    refused = client.post(
        "/cart/add", data={"csrf_token": token, "variant_id": rust["id"], "quantity": "1"}
    )
    assert refused.status_code == 409, refused.get_data(as_text=True)[:1000]
    header = parse(client.get("/").get_data(as_text=True)).find("nav", aria_label="Account")
    assert header.first("span", class_="badge") is None  # nothing was added
