"""The staff's read API over HTTP, on SQLite and PostgreSQL: every order filtered and paged,
one order with its payment, refunds, customer and audit trail, the accounts, the audit log with
its chain verified, the alerts; and every bad filter value a 422 naming its parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import update

from adapters.sql.tables import audit_log
from commerce_core import DomainEvent
from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container
from webapp.config import Settings


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


def listed(browser: Shopper, path: str) -> tuple[list[str], int]:
    response = browser.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) >= {"items", "page", "per_page", "total"}
    return [item["id"] for item in body["items"]], body["total"]


def test_staff_list_every_customers_orders_filtered_and_newest_first(
    admin: Shopper, shopper: Shopper, new_shopper: Any, catalog: Catalog
) -> None:
    sam = shopper.register()
    paid = shopper.buy(catalog.mug)["id"]
    other = new_shopper()
    other.register()
    declined = other.intent(catalog.mug)
    assert other.confirm(declined["intent_id"], "pm_card_chargeDeclined").status_code == 402
    waiting = other.intent(catalog.mug)["order_id"]
    everything = [waiting, declined["order_id"], paid]

    assert listed(admin, "/api/admin/orders") == (everything, 3)
    assert listed(admin, "/api/admin/orders?per_page=1&page=2") == ([everything[1]], 3)
    assert listed(admin, "/api/admin/orders?status=paid") == ([paid], 1)
    assert listed(admin, "/api/admin/orders?status=paid,payment_failed") == (everything[1:], 2)
    assert listed(admin, "/api/admin/orders?status=paid&status=awaiting_payment") == (
        [waiting, paid],
        2,
    )
    email = quote(f"  {sam['email'].upper()} ")
    assert listed(admin, f"/api/admin/orders?customer_email={email}") == ([paid], 1)
    assert listed(admin, "/api/admin/orders?customer_email=nobody@example.com") == ([], 0)
    hour_ago = quote((datetime.now(UTC) - timedelta(hours=1)).isoformat())
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert listed(admin, f"/api/admin/orders?placed_from={hour_ago}") == (everything, 3)
    assert listed(admin, f"/api/admin/orders?placed_to={hour_ago}") == ([], 0)
    assert listed(admin, f"/api/admin/orders?placed_from={tomorrow}") == ([], 0)
    assert listed(admin, f"/api/admin/orders?placed_to={tomorrow}&disputed=false") == (
        everything,
        3,
    )
    assert listed(admin, "/api/admin/orders?disputed=true") == ([], 0)
    # A summary says whose order it is; the detail says the rest.
    first = admin.get("/api/admin/orders?status=paid").get_json()["items"][0]
    assert (first["user_id"], first["gateway"], first["disputed"]) == (sam["id"], "fake", False)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/api/admin/orders?status=shipped", {"status"}),
        ("/api/admin/orders?status=paid,%00", {"status"}),
        ("/api/admin/orders?placed_from=yesterday", {"placed_from"}),
        ("/api/admin/orders?placed_to=2026-13-01", {"placed_to"}),
        ("/api/admin/orders?placed_from=2026-02-01&placed_to=2026-01-01", {"placed_to"}),
        ("/api/admin/orders?placed_from=0001-01-01T00:00:00%2B05:00", {"placed_from"}),
        ("/api/admin/orders?placed_to=%D9%A2%D9%A0%D9%A2%D9%A6-01-01", {"placed_to"}),
        ("/api/admin/orders?customer_email=not-an-email", {"customer_email"}),
        ("/api/admin/orders?disputed=maybe", {"disputed"}),
        ("/api/admin/orders?page=0", {"page"}),
        ("/api/admin/orders?page=abc&per_page=101", {"page"}),
        ("/api/admin/orders?per_page=101", {"per_page"}),
        (
            "/api/admin/orders?status=lost&disputed=1&placed_from=x",
            {"status", "disputed", "placed_from"},
        ),
        ("/api/admin/users?role=owner", {"role"}),
        ("/api/admin/users?active=yes", {"active"}),
        ("/api/admin/users?email=" + "x" * 300, {"email"}),
        ("/api/admin/audit-log?per_page=0", {"per_page"}),
        ("/api/admin/alerts?page=-1", {"page"}),
    ],
)
def test_every_bad_filter_value_is_a_422_naming_its_parameter(
    admin: Shopper, path: str, fields: set[str]
) -> None:
    body = assert_problem(admin.get(path), 422, "validation_error")
    assert {error["field"] for error in body["errors"]} == fields


def test_staff_see_one_order_with_its_payment_refunds_customer_and_audit_trail(
    admin: Shopper, shopper: Shopper, catalog: Catalog
) -> None:
    sam = shopper.register()
    paid = shopper.buy(catalog.mug, 2)
    refunded = admin.post("/api/payments/refund", {"order_id": paid["id"], "amount": 500}, key="r1")
    assert refunded.status_code == 201, refunded.get_data(as_text=True)

    response = admin.get(f"/api/admin/orders/{paid['id']}")
    assert response.status_code == 200, response.get_data(as_text=True)
    order = response.get_json()["order"]
    assert order["customer"] == {"id": sam["id"], "email": sam["email"]}
    assert order["payment"]["captured"] == {"amount": 3600, "currency": "USD"}
    assert order["payment"]["status"] == "partially_refunded"
    assert order["payment"]["intent_id"] == paid["intent_id"]
    (refund,) = order["refunds"]
    assert (refund["amount"]["amount"], refund["external"]) == (500, False)
    assert [(e["action"], e["ip"]) for e in order["audit_trail"]] == [
        ("refund.requested", "127.0.0.1"),
        ("refund.succeeded", "127.0.0.1"),
    ]
    assert_problem(admin.get("/api/admin/orders/ord_missing"), 404, "not_found")


def test_staff_list_accounts_by_part_of_email_role_and_state(
    admin: Shopper, shopper: Shopper
) -> None:
    sam = shopper.register("sam.the.shopper@example.com")
    assert listed(admin, "/api/admin/users?email=THE.SHOPPER") == ([sam["id"]], 1)
    assert listed(admin, "/api/admin/users?role=customer&active=true") == ([sam["id"]], 1)
    assert listed(admin, "/api/admin/users?active=false") == ([], 0)
    (staff,) = admin.get("/api/admin/users?role=admin").get_json()["items"]
    assert set(staff) == {"id", "email", "name", "role", "active", "created_at"}


def test_the_audit_log_says_when_its_chain_was_tampered_with(
    admin: Shopper, shopper: Shopper, catalog: Catalog, container: Container
) -> None:
    shopper.register()
    paid = shopper.buy(catalog.mug)
    admin.post("/api/payments/refund", {"order_id": paid["id"], "amount": 100}, key="r1")
    page = admin.get("/api/admin/audit-log").get_json()
    assert page["chain"] == {"intact": True, "entries": 2, "first_bad_entry": None}
    oldest = page["items"][-1]
    assert oldest["action"] == "refund.requested"

    assert container.engine is not None
    with container.engine.begin() as connection:
        connection.execute(
            update(audit_log).where(audit_log.c.id == oldest["id"]).values(details={"amount": 1})
        )
    page = admin.get("/api/admin/audit-log?per_page=1").get_json()
    assert page["chain"] == {"intact": False, "entries": 2, "first_bad_entry": oldest["id"]}
    assert (len(page["items"]), page["total"]) == (1, 2)


def test_stored_alerts_are_listed_newest_first(admin: Shopper, container: Container) -> None:
    start = datetime.now(UTC)
    alerts = [
        DomainEvent.alert(f"alert.test_{n}", start + timedelta(seconds=n), n=n) for n in range(3)
    ]
    uow = container.new_uow()
    with uow:
        for alert in alerts:
            uow.announce(alert)
        uow.commit()
    assert listed(admin, "/api/admin/alerts?per_page=2") == ([alerts[2].id, alerts[1].id], 3)
    (oldest,) = admin.get("/api/admin/alerts?per_page=2&page=2").get_json()["items"]
    assert (oldest["name"], oldest["fields"]) == ("alert.test_0", {"n": 0})
