"""Staff set up shipping zones, methods and tax rates over HTTP, on SQLite and PostgreSQL:
create or replace by key, list as pages, delete (a zone with its methods), every change audited
with what it replaced, every bad value a 422 naming its field - and only with shipping:manage."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from commerce_core import Register, Role, create_staff_user
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from webapp.bootstrap import Container
from webapp.config import Settings

ZONES = "/api/admin/shipping/zones"
METHODS = "/api/admin/shipping/methods"
RATES = "/api/admin/tax-rates"

DOMESTIC = {"id": "domestic", "name": "United States", "countries": ["US"]}
WORLD = {"id": "world", "name": "Rest of the world", "countries": ["*"]}
STANDARD = {
    "id": "standard",
    "zone_id": "domestic",
    "name": "Standard",
    "price": {"amount": 500, "currency": "USD"},
    "free_above": {"amount": 5000, "currency": "USD"},
}
CALIFORNIA = {
    "country": "US",
    "region": "CA",
    "basis_points": 725,
    "name": "California sales tax",
    "shipping_taxable": False,
}


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


def delete(browser: Shopper, path: str) -> TestResponse:
    return browser.client.delete(path, headers={"X-CSRF-Token": browser.csrf()})


def saved(response: TestResponse, status: int, key: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()[key]
    return body


def page(browser: Shopper, path: str) -> list[dict[str, Any]]:
    response = browser.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"items", "page", "per_page", "total"}
    assert body["total"] >= len(body["items"])
    assert response.headers["Cache-Control"] == "no-store"
    items: list[dict[str, Any]] = body["items"]
    return items


def audit_actions(admin: Shopper) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, target, details) of the shipping entries of the audit log, oldest first."""
    entries = admin.get("/api/admin/audit-log?per_page=100").get_json()["items"]
    return [
        (e["action"], e["target"], e["details"])
        for e in reversed(entries)
        if e["action"].startswith("shipping.")
    ]


def staff_member(app_client_factory: Any, container: Container, role: Role) -> Shopper:
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


def test_staff_create_replace_list_and_delete_zones_and_methods(admin: Shopper) -> None:
    assert saved(admin.post(ZONES, DOMESTIC), 201, "zone") == DOMESTIC
    assert saved(admin.post(ZONES, WORLD), 201, "zone") == WORLD
    assert saved(admin.post(METHODS, STANDARD), 201, "method") == {
        **STANDARD,
        "per_kg": None,
        "max_weight_grams": None,
        "taxable": True,
        "active": True,
    }
    heavy = {
        "id": "international",
        "zone_id": "world",
        "name": "International",
        "price": {"amount": 2500, "currency": "USD"},
        "per_kg": 800,  # minor units of the price's currency
        "max_weight_grams": 20000,
        "taxable": False,
        "active": None,  # null: the default
    }
    assert saved(admin.post(METHODS, heavy), 201, "method")["per_kg"] == {
        "amount": 800,
        "currency": "USD",
    }
    # Saved again under the same id: replaced (200), codes in any case, names trimmed.
    renamed = {"id": "domestic", "name": "  Home ", "countries": ["us", "pr"]}
    assert saved(admin.post(ZONES, renamed), 200, "zone") == {
        "id": "domestic",
        "name": "Home",
        "countries": ["PR", "US"],
    }

    assert [z["id"] for z in page(admin, ZONES)] == ["domestic", "world"]
    assert [m["id"] for m in page(admin, METHODS)] == ["international", "standard"]
    assert [z["id"] for z in page(admin, f"{ZONES}?per_page=1&page=2")] == ["world"]

    assert delete(admin, f"{ZONES}/domestic").status_code == 204
    assert [z["id"] for z in page(admin, ZONES)] == ["world"]
    assert [m["id"] for m in page(admin, METHODS)] == ["international"], "its methods went too"
    assert delete(admin, f"{METHODS}/international").status_code == 204
    assert page(admin, METHODS) == []
    assert_problem(delete(admin, f"{METHODS}/international"), 404, "not_found")
    assert_problem(delete(admin, f"{ZONES}/domestic"), 404, "not_found")


def test_every_shipping_change_is_audited_with_what_it_replaced(admin: Shopper) -> None:
    admin.post(ZONES, DOMESTIC)
    admin.post(ZONES, {**DOMESTIC, "name": "Home"})
    admin.post(METHODS, STANDARD)
    admin.post(RATES, CALIFORNIA)
    delete(admin, f"{RATES}/US?region=CA")
    delete(admin, f"{ZONES}/domestic")

    actions = audit_actions(admin)

    assert [(action, target) for action, target, _ in actions] == [
        ("shipping.zone_saved", "shipping_zone:domestic"),
        ("shipping.zone_saved", "shipping_zone:domestic"),
        ("shipping.method_saved", "shipping_method:standard"),
        ("shipping.tax_rate_saved", "tax_rate:US/CA"),
        ("shipping.tax_rate_deleted", "tax_rate:US/CA"),
        ("shipping.zone_deleted", "shipping_zone:domestic"),
    ]
    created, replaced = actions[0][2], actions[1][2]
    assert created == {"zone": DOMESTIC, "previous": None}
    assert replaced == {"zone": {**DOMESTIC, "name": "Home"}, "previous": DOMESTIC}
    assert actions[3][2]["tax_rate"] == CALIFORNIA
    assert actions[5][2]["methods_deleted"] == ["standard"]
    entries = admin.get("/api/admin/audit-log").get_json()
    assert entries["chain"]["intact"] is True


def test_tax_rates_are_replaced_and_deleted_by_country_and_region_in_any_case(
    admin: Shopper,
) -> None:
    assert saved(admin.post(RATES, CALIFORNIA), 201, "tax_rate") == CALIFORNIA
    country_wide = {"country": "de", "basis_points": 1900, "name": "MwSt"}
    assert saved(admin.post(RATES, country_wide), 201, "tax_rate") == {
        "country": "DE",
        "region": "",
        "basis_points": 1900,
        "name": "MwSt",
        "shipping_taxable": True,
    }
    raised = {**CALIFORNIA, "region": "ca", "basis_points": 750}
    assert saved(admin.post(RATES, raised), 200, "tax_rate")["region"] == "ca"

    rates = page(admin, RATES)
    assert [(r["country"], r["region"], r["basis_points"]) for r in rates] == [
        ("DE", "", 1900),
        ("US", "ca", 750),
    ]
    assert_problem(delete(admin, f"{RATES}/US"), 404, "not_found")  # no country-wide US rate
    assert_problem(delete(admin, f"{RATES}/US?region=NY"), 404, "not_found")
    assert_problem(delete(admin, f"{RATES}/walked-nowhere"), 404, "not_found")
    assert delete(admin, f"{RATES}/us?region=CA").status_code == 204
    assert delete(admin, f"{RATES}/DE").status_code == 204
    assert page(admin, RATES) == []


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        (ZONES, {}, {"id", "name", "countries"}),
        (ZONES, {"id": "Bad Id", "name": "", "countries": []}, {"id", "name", "countries"}),
        (
            ZONES,
            {**DOMESTIC, "countries": ["US", "XX", "gb", "1A"]},
            {"countries[1]", "countries[3]"},
        ),
        (
            ZONES,
            {**DOMESTIC, "countries": ["US", 7, "USA", ""]},
            {"countries[1]", "countries[2]", "countries[3]"},
        ),
        (ZONES, {**DOMESTIC, "countries": ["*", "US"]}, {"countries"}),
        (ZONES, {**DOMESTIC, "countries": "US"}, {"countries"}),
        (ZONES, {**DOMESTIC, "name": "a\x00b"}, {"name"}),
        (ZONES, {**DOMESTIC, "id": "x" * 65}, {"id"}),
        (METHODS, {}, {"id", "zone_id", "name", "price"}),
        (METHODS, {**STANDARD, "zone_id": "atlantis"}, {"zone_id"}),
        (METHODS, {**STANDARD, "price": 500}, {"price"}),
        (METHODS, {**STANDARD, "price": {"amount": -1, "currency": "USD"}}, {"price"}),
        (METHODS, {**STANDARD, "price": {"amount": 1, "currency": "XYZ"}}, {"price"}),
        (METHODS, {**STANDARD, "free_above": {"amount": 1, "currency": "EUR"}}, {"free_above"}),
        (METHODS, {**STANDARD, "per_kg": -5}, {"per_kg"}),
        (METHODS, {**STANDARD, "per_kg": 10**16}, {"per_kg"}),
        (METHODS, {**STANDARD, "max_weight_grams": 0}, {"max_weight_grams"}),
        (METHODS, {**STANDARD, "max_weight_grams": 10**8}, {"max_weight_grams"}),
        (METHODS, {**STANDARD, "max_weight_grams": 1.5}, {"max_weight_grams"}),
        (METHODS, {**STANDARD, "taxable": "yes", "active": 1}, {"taxable", "active"}),
        (RATES, {}, {"country", "basis_points", "name"}),
        (RATES, {**CALIFORNIA, "country": "ZZ"}, {"country"}),
        (RATES, {**CALIFORNIA, "country": "USA"}, {"country"}),
        (RATES, {**CALIFORNIA, "basis_points": 10_001}, {"basis_points"}),
        (RATES, {**CALIFORNIA, "basis_points": -1}, {"basis_points"}),
        (RATES, {**CALIFORNIA, "basis_points": 7.25}, {"basis_points"}),
        (RATES, {**CALIFORNIA, "region": "r" * 101}, {"region"}),
        (RATES, {**CALIFORNIA, "region": "\ud800"}, {"region"}),
        (RATES, {**CALIFORNIA, "shipping_taxable": "false"}, {"shipping_taxable"}),
    ],
)
def test_every_bad_value_is_a_422_naming_its_field_and_saves_nothing(
    admin: Shopper, path: str, body: dict[str, Any], fields: set[str]
) -> None:
    admin.post(ZONES, DOMESTIC)
    before = {p: page(admin, p) for p in (ZONES, METHODS, RATES)}

    problem = assert_problem(admin.post(path, body), 422, "validation_error")

    assert {error["field"] for error in problem["errors"]} == fields
    assert {p: page(admin, p) for p in (ZONES, METHODS, RATES)} == before


def test_a_country_belongs_to_one_zone_and_one_zone_is_the_rest_of_the_world(
    admin: Shopper,
) -> None:
    admin.post(ZONES, DOMESTIC)
    admin.post(ZONES, WORLD)

    overlapping = admin.post(
        ZONES, {"id": "americas", "name": "Americas", "countries": ["CA", "US"]}
    )
    second_world = admin.post(ZONES, {"id": "elsewhere", "name": "Elsewhere", "countries": ["*"]})

    problem = assert_problem(overlapping, 422, "validation_error")
    assert problem["errors"] == [{"field": "countries", "message": "US already in zone 'domestic'"}]
    problem = assert_problem(second_world, 422, "validation_error")
    assert problem["errors"][0]["field"] == "countries"
    # Its own zone may keep (or change) its own countries.
    assert admin.post(ZONES, {**DOMESTIC, "countries": ["US", "CA"]}).status_code == 200


def test_support_staff_and_customers_may_not_touch_shipping(
    admin: Shopper, shopper: Shopper, new_shopper: Any, container: Container
) -> None:
    admin.post(ZONES, DOMESTIC)
    admin.post(RATES, CALIFORNIA)
    support = staff_member(new_shopper, container, Role.SUPPORT)
    shopper.register()
    anonymous = new_shopper()

    for browser, status, code in (
        (support, 403, "forbidden"),
        (shopper, 403, "forbidden"),
        (anonymous, 401, "unauthenticated"),
    ):
        for path in (ZONES, METHODS, RATES):
            assert_problem(browser.get(path), status, code)
        assert_problem(browser.post(ZONES, WORLD), status, code)
        assert_problem(browser.post(METHODS, STANDARD), status, code)
        assert_problem(browser.post(RATES, {**CALIFORNIA, "basis_points": 0}), status, code)
        assert_problem(delete(browser, f"{ZONES}/domestic"), status, code)
        assert_problem(delete(browser, f"{METHODS}/standard"), status, code)
        assert_problem(delete(browser, f"{RATES}/US?region=CA"), status, code)

    assert [z["id"] for z in page(admin, ZONES)] == ["domestic"]
    assert page(admin, RATES)[0]["basis_points"] == 725
    assert [action for action, _, _ in audit_actions(admin)] == [
        "shipping.zone_saved",
        "shipping.tax_rate_saved",
    ]


def test_what_staff_set_up_is_what_shoppers_are_quoted(admin: Shopper, shopper: Shopper) -> None:
    admin.post(ZONES, DOMESTIC)
    admin.post(METHODS, STANDARD)
    admin.post(
        METHODS,
        {
            **STANDARD,
            "id": "express",
            "name": "Express",
            "free_above": None,
            "price": {"amount": 1500, "currency": "USD"},
        },
    )
    admin.post(METHODS, {**STANDARD, "id": "pigeon", "name": "Pigeon", "active": False})

    quoted = shopper.get("/api/shipping/methods?country=US").get_json()["items"]

    assert [(q["id"], q["price"]["amount"]) for q in quoted] == [
        ("standard", 500),
        ("express", 1500),
    ]
    assert shopper.get("/api/shipping/methods?country=FR").get_json()["items"] == []
