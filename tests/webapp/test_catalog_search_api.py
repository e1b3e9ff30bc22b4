"""`GET /api/products` on SQLite and PostgreSQL: text, price range, stock and sort filters, the
facet counts of the whole match, strict parameters (422 naming the one at fault), and the
listing's caching per query (ETag, 304)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from commerce_core import (
    AssignProductCategories,
    Money,
    NewProduct,
    Register,
    Role,
    SaveAttribute,
    SaveCategory,
    SetProductAttributes,
    assign_product_categories,
    create_staff_user,
    save_attribute,
    save_category,
    set_product_attributes,
    stock_catalog,
)
from tests.webapp.browser import assert_problem
from webapp.bootstrap import Container
from webapp.config import Settings

PRODUCTS = [
    ("espresso-cup", "Espresso cup", 900, 0),
    ("tea-mug", "Tea mug", 1800, 5),
    ("big-mug", "Big mug", 2400, 2),
    ("carafe", "Glass carafe", 4500, 1),
    ("lamp", "Desk lamp", 30000, 3),
]


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


@pytest.fixture
def shop(container: Container) -> None:
    stock_catalog(
        container.new_uow(),
        container.clock,
        [
            NewProduct(slug, name, f"A {name.lower()}.", Money(price, "USD"), "", stock)
            for slug, name, price, stock in PRODUCTS
        ],
    )


def _search(client: FlaskClient, query: str) -> dict[str, Any]:
    response = client.get(f"/api/products?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def _slugs(client: FlaskClient, query: str) -> list[str]:
    return [item["slug"] for item in _search(client, query)["items"]]


@pytest.mark.usefixtures("shop")
def test_filters_combine_and_sorts_order(app_client: FlaskClient) -> None:
    assert _slugs(app_client, "q=MUG") == ["big-mug", "tea-mug"]
    assert _slugs(app_client, "q=mug&sort=-price") == ["big-mug", "tea-mug"]
    assert _slugs(app_client, "min_price=1800&max_price=4500") == ["big-mug", "carafe", "tea-mug"]
    assert _slugs(app_client, "in_stock=false") == ["espresso-cup"]
    assert _slugs(app_client, "in_stock=true&sort=price") == [
        "tea-mug",
        "big-mug",
        "carafe",
        "lamp",
    ]
    assert _slugs(app_client, "sort=-price&per_page=2&page=2") == ["big-mug", "tea-mug"]
    page = _search(app_client, "sort=price&per_page=2")
    assert (page["page"], page["per_page"], page["total"]) == (1, 2, 5)


@pytest.mark.usefixtures("shop")
def test_facets_count_the_whole_match_not_the_page(app_client: FlaskClient) -> None:
    found = _search(app_client, "q=mug&per_page=1")
    assert found["total"] == 2
    assert len(found["items"]) == 1
    ranges = {(r["min"], r["max"]): r["count"] for r in found["facets"]["price_ranges"]}
    assert ranges[(1000, 2500)] == 2
    assert sum(ranges.values()) == found["total"]
    everything = _search(app_client, "")
    counts = {(r["min"], r["max"]): r["count"] for r in everything["facets"]["price_ranges"]}
    assert counts[(0, 1000)] == 1
    assert counts[(1000, 2500)] == 2
    assert counts[(25000, None)] == 1


@pytest.mark.usefixtures("shop")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("min_price=-1", "min_price"),
        ("min_price=1.5", "min_price"),
        ("max_price=9999999999", "max_price"),
        ("min_price=500&max_price=100", "max_price"),
        ("in_stock=yes", "in_stock"),
        ("sort=cheapest", "sort"),
        ("q=" + "x" * 101, "q"),
        ("q=mug%00", "q"),
        ("page=0", "page"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(
    app_client: FlaskClient, query: str, field: str
) -> None:
    problem = assert_problem(app_client.get(f"/api/products?{query}"), 422, "validation_error")
    assert field in {error["field"] for error in problem["errors"]}, problem


@pytest.mark.usefixtures("shop")
def test_each_query_is_cached_and_revalidated_on_its_own(app_client: FlaskClient) -> None:
    mugs = app_client.get("/api/products?q=mug")
    lamps = app_client.get("/api/products?q=lamp")
    assert mugs.headers["ETag"] != lamps.headers["ETag"]
    again = app_client.get("/api/products?q=mug", headers={"If-None-Match": mugs.headers["ETag"]})
    assert again.status_code == 304
    other = app_client.get("/api/products?q=lamp", headers={"If-None-Match": mugs.headers["ETag"]})
    assert other.status_code == 200


@pytest.fixture
def browsable(container: Container, shop: None) -> None:
    """Kitchen > Mugs, Kitchen > Carafes, Home; a material attribute and a capacity."""
    admin = create_staff_user(
        Register("cat@example.com", "a long enough passphrase", "Cat", role=Role.ADMIN),
        **container.account_ports(),
    ).id

    def run(use_case: Any, command: Any) -> None:
        use_case(command, uow=container.new_uow(), clock=container.clock)

    for slug, name, parent in [
        ("kitchen", "Kitchen", None),
        ("mugs", "Mugs", "kitchen"),
        ("carafes", "Carafes", "kitchen"),
        ("home", "Home", None),
    ]:
        run(save_category, SaveCategory(admin, slug, name, parent=parent))
    for product, categories in [
        ("espresso-cup", ("mugs",)),
        ("tea-mug", ("mugs",)),
        ("big-mug", ("mugs",)),
        ("carafe", ("carafes",)),
        ("lamp", ("home",)),
    ]:
        run(assign_product_categories, AssignProductCategories(admin, product, categories))
    run(
        save_attribute,
        SaveAttribute(admin, "material", "Material", "choice", choices=("stoneware", "glass")),
    )
    run(save_attribute, SaveAttribute(admin, "capacity", "Capacity", "number", unit="ml"))
    for product, values in [
        ("espresso-cup", {"material": "stoneware", "capacity": 90}),
        ("tea-mug", {"material": "stoneware", "capacity": 350}),
        ("big-mug", {"material": "glass", "capacity": 500}),
        ("carafe", {"material": "glass", "capacity": 1000}),
    ]:
        run(set_product_attributes, SetProductAttributes(admin, product, values))


@pytest.mark.usefixtures("browsable")
def test_a_category_takes_in_its_sub_categories_and_facets_count_them(
    app_client: FlaskClient,
) -> None:
    assert _slugs(app_client, "category=mugs") == ["big-mug", "espresso-cup", "tea-mug"]
    assert _slugs(app_client, "category=kitchen") == [
        "big-mug",
        "espresso-cup",
        "carafe",
        "tea-mug",
    ]
    assert _slugs(app_client, "category=kitchen&in_stock=true&max_price=2000") == ["tea-mug"]
    facets = _search(app_client, "category=kitchen")["facets"]
    assert {f["slug"]: f["count"] for f in facets["categories"]} == {"mugs": 3, "carafes": 1}
    assert {f["slug"]: f["name"] for f in facets["categories"]}["mugs"] == "Mugs"
    problem = assert_problem(app_client.get("/api/products?category=nope"), 422, "validation_error")
    assert problem["errors"][0]["field"] == "category"


@pytest.mark.usefixtures("browsable")
def test_attribute_filters_match_any_value_and_facets_count_values(
    app_client: FlaskClient,
) -> None:
    assert _slugs(app_client, "attr[material]=glass") == ["big-mug", "carafe"]
    assert _slugs(app_client, "attr[material]=glass,stoneware&category=mugs") == [
        "big-mug",
        "espresso-cup",
        "tea-mug",
    ]
    assert _slugs(app_client, "attr[material]=stoneware&attr[capacity]=350") == ["tea-mug"]
    facets = _search(app_client, "category=mugs")["facets"]["attributes"]
    assert facets["material"] == [
        {"value": "stoneware", "count": 2},
        {"value": "glass", "count": 1},
    ]
    assert {f["value"] for f in facets["capacity"]} == {"90", "350", "500"}
    for query, field in [
        ("attr[colour]=red", "attr[colour]"),
        ("attr[material]=wood", "attr[material]"),
        ("attr[capacity]=lots", "attr[capacity]"),
        ("attr=glass", "attr"),
        ("attr[Material]=glass", "attr[Material]"),
    ]:
        problem = assert_problem(app_client.get(f"/api/products?{query}"), 422, "validation_error")
        assert field in {error["field"] for error in problem["errors"]}, (query, problem)
