"""Categories and attributes over HTTP, on SQLite and PostgreSQL: staff build the tree, define
attributes and fill products in; shoppers browse the tree (cacheable), a category's breadcrumb,
the filterable attributes and a product's categories and values. Every change is audited, every
bad value is a 422 naming its field, and only catalog:write may change anything."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from commerce_core import Register, Role, create_staff_user
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container
from webapp.config import Settings

CATEGORIES = "/api/admin/categories"
ATTRIBUTES = "/api/admin/attributes"


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


def put(browser: Shopper, path: str, body: Any) -> TestResponse:
    return browser.client.put(path, json=body, headers={"X-CSRF-Token": browser.csrf()})


def delete(browser: Shopper, path: str) -> TestResponse:
    return browser.client.delete(path, headers={"X-CSRF-Token": browser.csrf()})


def ok(response: TestResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def invalid_fields(response: TestResponse) -> set[str]:
    assert_problem(response, 422, "validation_error")
    return {e["field"] for e in response.get_json()["errors"]}


def build_tree(admin: Shopper) -> None:
    for body in (
        {"slug": "home", "name": "Home", "position": 2},
        {"slug": "kitchen", "name": "Kitchen", "position": 1, "description": "Cook.\nPour."},
        {"slug": "mugs", "name": "Mugs", "parent": "kitchen", "position": 1},
        {"slug": "carafes", "name": "Carafes & jugs", "parent": "kitchen", "position": 2},
        {"slug": "espresso-cups", "name": "Espresso cups", "parent": "mugs"},
        {"slug": "lighting", "name": "Lighting", "parent": "home"},
    ):
        ok(admin.post(CATEGORIES, body), 201)


def define_attributes(admin: Shopper) -> None:
    for body in (
        {
            "code": "material",
            "name": "Material",
            "kind": "choice",
            "choices": ["Stoneware", "Glass"],
        },
        {"code": "capacity", "name": "Capacity", "kind": "number", "unit": "ml"},
        {"code": "care", "name": "Care", "kind": "text", "filterable": False},
    ):
        ok(admin.post(ATTRIBUTES, body), 201)


def audit(admin: Shopper) -> list[tuple[str, str, dict[str, Any]]]:
    entries = admin.get("/api/admin/audit-log?per_page=100").get_json()["items"]
    return [
        (e["action"], e["target"], e["details"])
        for e in reversed(entries)
        if e["action"].startswith("catalog.")
    ]


def staff(app_client_factory: Any, container: Container, role: Role) -> Shopper:
    email = f"{role.value}@example.com"
    create_staff_user(
        Register(email=email, password=PASSWORD, name="Staff", role=role),
        uow=container.new_uow(),
        hasher=container.hasher,
        clock=container.clock,
        events=container.events,
    )
    browser: Shopper = app_client_factory()
    assert browser.log_in(email).status_code == 200
    return browser


def test_shoppers_browse_the_tree_and_a_category_with_its_breadcrumb(
    admin: Shopper, shopper: Shopper
) -> None:
    build_tree(admin)

    response = shopper.get("/api/categories")
    tree = ok(response)["items"]
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert [root["slug"] for root in tree] == ["kitchen", "home"]
    kitchen = tree[0]
    assert kitchen["description"] == "Cook.\nPour."
    assert [c["slug"] for c in kitchen["children"]] == ["mugs", "carafes"]
    assert [c["slug"] for c in kitchen["children"][0]["children"]] == ["espresso-cups"]

    cups = ok(shopper.get("/api/categories/espresso-cups"))
    assert cups["path"] == [
        {"slug": "kitchen", "name": "Kitchen"},
        {"slug": "mugs", "name": "Mugs"},
        {"slug": "espresso-cups", "name": "Espresso cups"},
    ]
    assert cups["children"] == []
    assert [c["slug"] for c in ok(shopper.get("/api/categories/kitchen"))["children"]] == [
        "mugs",
        "carafes",
    ]
    assert_problem(shopper.get("/api/categories/nope"), 404, "not_found")


def test_staff_edit_move_and_delete_categories_but_not_into_a_cycle(admin: Shopper) -> None:
    build_tree(admin)
    # Edited by slug (200): renamed and moved under home.
    moved = ok(admin.post(CATEGORIES, {"slug": "mugs", "name": "Cups", "parent": "home"}))
    assert moved["category"]["name"] == "Cups"
    assert moved["category"]["parent"] == "home"
    path = ok(admin.get("/api/categories/espresso-cups"))["path"]
    assert [c["slug"] for c in path] == ["home", "mugs", "espresso-cups"]

    # Under itself or its own sub-category: refused, nothing changed.
    assert invalid_fields(
        admin.post(CATEGORIES, {"slug": "mugs", "name": "Cups", "parent": "espresso-cups"})
    ) == {"parent"}
    assert invalid_fields(
        admin.post(CATEGORIES, {"slug": "mugs", "name": "Cups", "parent": "mugs"})
    ) == {"parent"}
    assert invalid_fields(
        admin.post(CATEGORIES, {"slug": "new", "name": "New", "parent": "nope"})
    ) == {"parent"}

    # A category with sub-categories stays; a leaf goes; an unknown one is a 404.
    assert_problem(delete(admin, f"{CATEGORIES}/mugs"), 409, "conflict")
    assert delete(admin, f"{CATEGORIES}/espresso-cups").status_code == 204
    assert delete(admin, f"{CATEGORIES}/mugs").status_code == 204
    assert_problem(delete(admin, f"{CATEGORIES}/mugs"), 404, "not_found")

    listed = ok(admin.get(CATEGORIES))
    assert listed["total"] == 4
    assert [(c["slug"], c["parent"]) for c in listed["items"]] == [
        ("kitchen", None),
        ("carafes", "kitchen"),
        ("home", None),
        ("lighting", "home"),
    ]
    actions = [
        (action, details.get("category", {}).get("slug")) for action, _, details in audit(admin)
    ]
    assert ("catalog.category_saved", "mugs") in actions
    assert ("catalog.category_deleted", "espresso-cups") in actions


def test_products_get_categories_and_typed_attribute_values(
    admin: Shopper, shopper: Shopper, catalog: Catalog
) -> None:
    build_tree(admin)
    define_attributes(admin)

    shown = ok(
        put(admin, "/api/admin/products/mug/categories", {"categories": ["mugs", "kitchen"]})
    )
    assert shown["product"]["categories"] == [
        {"slug": "kitchen", "name": "Kitchen"},
        {"slug": "mugs", "name": "Mugs"},
    ]
    values = {"material": "stoneware", "capacity": "350.50", "care": "Hand wash"}
    shown = ok(put(admin, "/api/admin/products/mug/attributes", {"values": values}))
    assert shown["product"]["attributes"] == {
        "capacity": {"name": "Capacity", "value": "350.5", "unit": "ml"},
        "care": {"name": "Care", "value": "Hand wash"},
        "material": {"name": "Material", "value": "Stoneware"},
    }

    mug = ok(shopper.get("/api/products/mug"))
    assert mug["categories"] == shown["product"]["categories"]
    assert mug["attributes"]["capacity"]["value"] == "350.5"
    lamp = ok(shopper.get("/api/products/lamp"))
    assert lamp["categories"] == []
    assert lamp["attributes"] == {}

    # Only the filterable definitions are public.
    public = ok(shopper.get("/api/attributes"))
    assert [a["code"] for a in public["items"]] == ["capacity", "material"]
    assert public["items"][1]["choices"] == ["Stoneware", "Glass"]

    # Replaced as a whole; an emptied list takes the product out of every category.
    ok(put(admin, "/api/admin/products/mug/attributes", {"values": {"capacity": 300}}))
    ok(put(admin, "/api/admin/products/mug/categories", {"categories": []}))
    # Deleting an attribute takes its values with it.
    assert delete(admin, f"{ATTRIBUTES}/capacity").status_code == 204
    assert_problem(delete(admin, f"{ATTRIBUTES}/capacity"), 404, "not_found")

    actions = [(action, target) for action, target, _ in audit(admin)]
    assert ("catalog.product_categories_set", f"product:{catalog.mug}") in actions
    assert ("catalog.product_attributes_set", f"product:{catalog.mug}") in actions
    assert ("catalog.attribute_deleted", "attribute:capacity") in actions
    last_values = [d for action, _, d in audit(admin) if action == "catalog.product_attributes_set"]
    assert last_values[-1] == {
        "values": {"capacity": "300"},
        "previous": {"capacity": "350.5", "care": "Hand wash", "material": "Stoneware"},
    }


def test_bad_values_are_422s_naming_the_field(admin: Shopper, catalog: Catalog) -> None:
    build_tree(admin)
    define_attributes(admin)
    values = {"material": "Oak", "capacity": 1.5, "care": "x\u0000y", "size": "L"}
    assert invalid_fields(put(admin, "/api/admin/products/mug/attributes", {"values": values})) == {
        "values.capacity",
        "values.care",
    }
    refused = invalid_fields(
        put(
            admin,
            "/api/admin/products/mug/attributes",
            {"values": {"material": "Oak", "size": "L", "capacity": "0.00001"}},
        )
    )
    assert refused == {"values.material", "values.size", "values.capacity"}
    assert invalid_fields(
        put(admin, "/api/admin/products/mug/attributes", {"values": {"Bad Key": 1}})
    ) == {"values"}
    assert invalid_fields(put(admin, "/api/admin/products/mug/attributes", {"values": ["x"]})) == {
        "values"
    }
    assert invalid_fields(
        put(admin, "/api/admin/products/mug/categories", {"categories": ["nope"]})
    ) == {"categories[0]"}
    assert invalid_fields(
        put(admin, "/api/admin/products/mug/categories", {"categories": "mugs"})
    ) == {"categories"}
    assert invalid_fields(
        put(admin, "/api/admin/products/mug/categories", {"categories": ["x"] * 21})
    ) == {"categories"}
    assert_problem(
        put(admin, "/api/admin/products/nope/categories", {"categories": []}), 404, "not_found"
    )

    assert invalid_fields(
        admin.post(CATEGORIES, {"slug": "Bad Slug", "name": "", "position": -1})
    ) >= {"slug", "name", "position"}
    assert invalid_fields(admin.post(CATEGORIES, {"slug": "x" * 101, "name": "X"})) == {"slug"}
    assert invalid_fields(
        admin.post(ATTRIBUTES, {"code": "size", "name": "Size", "kind": "colour"})
    ) == {"kind"}
    assert invalid_fields(
        admin.post(ATTRIBUTES, {"code": "size", "name": "Size", "kind": "choice"})
    ) == {"choices"}
    assert invalid_fields(
        admin.post(ATTRIBUTES, {"code": "size", "name": "Size", "kind": "text", "unit": "cm"})
    ) == {"unit"}

    # Nothing of that was saved.
    assert ok(admin.get("/api/products/mug"))["attributes"] == {}
    assert "x" not in {c["slug"] for c in ok(admin.get(CATEGORIES))["items"]}


def test_an_attribute_edit_that_would_strand_values_is_a_conflict(
    admin: Shopper, catalog: Catalog
) -> None:
    define_attributes(admin)
    ok(
        put(
            admin,
            "/api/admin/products/mug/attributes",
            {"values": {"material": "Glass", "capacity": 350}},
        )
    )
    narrowed = {"code": "material", "name": "Material", "kind": "choice", "choices": ["Stoneware"]}
    assert_problem(admin.post(ATTRIBUTES, narrowed), 409, "conflict")
    retyped = {"code": "capacity", "name": "Capacity", "kind": "text"}
    assert_problem(admin.post(ATTRIBUTES, retyped), 409, "conflict")
    widened = {"code": "material", "name": "Made of", "kind": "choice", "choices": ["Glass", "Oak"]}
    assert ok(admin.post(ATTRIBUTES, widened))["attribute"]["name"] == "Made of"


def test_only_catalog_write_may_change_the_catalogue(
    new_shopper: Any, container: Container, admin: Shopper, catalog: Catalog
) -> None:
    build_tree(admin)
    support = staff(new_shopper, container, Role.SUPPORT)
    customer: Shopper = new_shopper()
    customer.register()
    for browser in (support, customer):
        assert_problem(browser.get(CATEGORIES), 403, "forbidden")
        assert_problem(browser.post(CATEGORIES, {"slug": "x", "name": "X"}), 403, "forbidden")
        assert_problem(delete(browser, f"{CATEGORIES}/home"), 403, "forbidden")
        assert_problem(
            put(browser, "/api/admin/products/mug/categories", {"categories": []}), 403, "forbidden"
        )
        assert_problem(browser.get(ATTRIBUTES), 403, "forbidden")
        assert_problem(
            browser.post(ATTRIBUTES, {"code": "x", "name": "X", "kind": "text"}), 403, "forbidden"
        )
        assert_problem(
            put(browser, "/api/admin/products/mug/attributes", {"values": {}}), 403, "forbidden"
        )
        # Even a bad body: the permission comes first.
        assert_problem(browser.post(CATEGORIES, {"slug": 1}), 403, "forbidden")
    anonymous: Shopper = new_shopper()
    assert_problem(anonymous.get(CATEGORIES), 401, "unauthenticated")
    assert [c["slug"] for c in ok(admin.get(CATEGORIES))["items"]] == [
        "kitchen",
        "mugs",
        "espresso-cups",
        "carafes",
        "home",
        "lighting",
    ]
