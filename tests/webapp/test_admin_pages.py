"""The admin console's pages through the test client, on SQLite and PostgreSQL: every page
renders for an admin (private, never indexed), support sees only its areas and customers none
(403 page), anonymous visitors are sent to sign in; each form does its work with a notice after a
redirect, or shows the page again with what was refused; a refund is exact to the minor unit and
happens once however often its form is sent; the CSV import reports row by row."""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import attrs
import pytest
from flask import Flask
from PIL import Image
from werkzeug.test import TestResponse

from commerce_core import Money, Role, SalesDay, SalesOverTime, get_product
from tests.support.images import image_bytes
from tests.webapp.browser import Shopper
from tests.webapp.conftest import Catalog
from tests.webapp.test_admin_catalog_api import staff_member
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.pages.admin.chart import sales_chart
from webapp.sessions import declared_permission

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
# Every page a GET shows, with what each needs filled in.
PAGES = (
    "/admin",
    "/admin/orders",
    "/admin/orders/{order}",
    "/admin/products",
    "/admin/products/new",
    "/admin/products/mug",
    "/admin/products/mug/variants/mug",
    "/admin/categories",
    "/admin/attributes",
    "/admin/catalog",
    "/admin/shipping",
    "/admin/tax-rates",
    "/admin/users",
    "/admin/logins/unlock",
    "/admin/audit-log",
    "/admin/alerts",
)
SUPPORT_PAGES = {
    "/admin",
    "/admin/orders",
    "/admin/orders/{order}",
    "/admin/logins/unlock",
    "/admin/alerts",
}


@pytest.fixture
def settings(settings_on_both_databases: Settings, tmp_path: Path) -> Settings:
    return attrs.evolve(settings_on_both_databases, media_dir=str(tmp_path / "media"))


class Console:
    """A staff member's browser on the console: it posts forms with the page's CSRF token."""

    def __init__(self, browser: Shopper) -> None:
        self.browser = browser
        self.client = browser.client

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def html(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def token(self) -> str:
        match = _TOKEN.search(self.html("/admin/logins/unlock"))
        assert match is not None
        return match.group(1)

    def post(self, path: str, form: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        data = {"csrf_token": self.token(), **(form or {})}
        return self.client.post(path, data=data, **kwargs)

    def follow(self, response: TestResponse, status: int = 303) -> str:
        """The notice of a done form: the page the 303 leads to."""
        assert response.status_code == status, response.get_data(as_text=True)[-2000:]
        return unescape(self.html(response.headers["Location"]))


def text_of(response: TestResponse) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def console(admin: Shopper) -> Console:
    return Console(admin)


@pytest.fixture
def paid_order(catalog: Catalog, new_shopper: Any) -> dict[str, Any]:
    """A paid order of two mugs ($36.00), bought through the API."""
    buyer = new_shopper()
    buyer.register()
    return dict(buyer.buy(catalog.mug, 2))


def test_every_page_renders_for_an_admin_private_and_unindexed(
    console: Console, paid_order: dict[str, Any]
) -> None:
    for template in PAGES:
        path = template.format(order=paid_order["id"])
        response = console.get(path)
        assert response.status_code == 200, (path, text_of(response)[-1500:])
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
        html = response.get_data(as_text=True)
        assert '<meta name="robots" content="noindex, nofollow">' in html
        assert html.count("<h1") == 1, path
        assert 'aria-label="Admin"' in html
        assert 'aria-current="page"' in html, path


def test_every_console_route_declares_its_permission(app: Flask) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]
    assert len(rules) > 30
    for rule in rules:
        assert declared_permission(app.view_functions[rule.endpoint]) is not None, rule.rule


def test_support_sees_its_areas_and_the_403_page_elsewhere(
    app: Flask, container: Container, paid_order: dict[str, Any]
) -> None:
    support = Console(staff_member(app, container, Role.SUPPORT))
    for template in PAGES:
        path = template.format(order=paid_order["id"])
        response = support.get(path)
        if template in SUPPORT_PAGES:
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
            assert response.mimetype == "text/html"
            assert "<h1>Forbidden</h1>" in response.get_data(as_text=True)
    nav = support.html("/admin")
    assert 'href="/admin/orders"' in nav
    assert 'href="/admin/products"' not in nav
    assert 'href="/admin/audit-log"' not in nav
    # Support ships orders but does not refund them: the order shows no refund form.
    order = support.html(f"/admin/orders/{paid_order['id']}")
    assert "Mark as shipped" in order
    assert "idempotency_key" not in order


def test_customers_get_the_403_page_and_anonymous_visitors_sign_in_first(
    app: Flask, shopper: Shopper, paid_order: dict[str, Any]
) -> None:
    shopper.register()
    anonymous = app.test_client()
    for template in PAGES:
        path = template.format(order=paid_order["id"])
        assert shopper.get(path).status_code == 403, path
        response = anonymous.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/login?next=/admin")
    response = anonymous.get("/admin/orders?status=paid")
    assert response.headers["Location"] == "/login?next=/admin/orders%3Fstatus%3Dpaid"


def test_a_customer_cannot_post_a_console_form(
    app: Flask, shopper: Shopper, paid_order: dict[str, Any], stock: Any
) -> None:
    shopper.register()
    # A customer sees no console form; one posted anyway, with a valid token, is refused.
    response = shopper.client.get("/login")
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match is not None
    refused = shopper.client.post(
        "/admin/products/mug/stock",
        data={"csrf_token": match.group(1), "sku": "mug", "mode": "set", "quantity": "99",
              "reason": "mine now"},
    )  # fmt: skip
    assert refused.status_code == 403
    assert stock("mug") == 3


# -- orders ----------------------------------------------------------------------------------------


def test_orders_are_filtered_and_a_bad_filter_is_shown_on_the_form(
    console: Console, paid_order: dict[str, Any]
) -> None:
    listed = console.html("/admin/orders?status=paid")
    assert paid_order["id"] in listed
    assert "$36.00" in listed
    assert paid_order["id"] not in console.html("/admin/orders?status=refunded")
    assert paid_order["id"] not in console.html("/admin/orders?placed_to=2000-01-01")
    refused = console.get("/admin/orders?status=lost&placed_from=yesterday")
    assert refused.status_code == 422
    page = text_of(refused)
    assert "unknown status 'lost'" in page
    assert "must be an ISO 8601 date" in page


def test_a_partial_refund_of_12_34_refunds_1234_minor_units_once(
    console: Console, container: Container, paid_order: dict[str, Any]
) -> None:
    path = f"/admin/orders/{paid_order['id']}"
    key = _KEY.search(console.html(path))
    assert key is not None
    form = {
        "idempotency_key": key.group(1),
        "scope": "partial",
        "amount": "12.34",
        "reason": "a chipped mug",
    }
    first = console.post(f"{path}/refund", form)
    assert "Refunded $12.34." in console.follow(first)
    # The same form again (a double click, a reload of the post): the same answer, no refund.
    again = console.post(f"{path}/refund", form)
    assert "nothing more was refunded" in console.follow(again)

    order = _order(container, paid_order["id"])
    assert [r.amount for r in order.refunds] == [Money(1234, "USD")]
    assert order.refundable == Money(3600 - 1234, "USD")
    trail = console.html(path)
    assert "refund.requested" in trail
    assert "a chipped mug" in trail


def test_a_full_refund_and_refused_refunds(
    console: Console, container: Container, paid_order: dict[str, Any]
) -> None:
    path = f"/admin/orders/{paid_order['id']}"

    def refund(**form: str) -> TestResponse:
        key = _KEY.search(console.html(path))
        assert key is not None
        return console.post(f"{path}/refund", {"idempotency_key": key.group(1), **form})

    for amount, problem in [
        ("12.345", "more than 2 decimal places"),
        ("-5", "must be an amount like 12.34"),
        ("1e3", "must be an amount like 12.34"),
        ("", "is required"),
        ("36.01", "exceeds the 36.00 USD that remains"),
    ]:
        refused = refund(scope="partial", amount=amount)
        assert refused.status_code == 422, amount
        assert problem in text_of(refused), amount
    assert _order(container, paid_order["id"]).refunds == []

    assert "Refunded $36.00." in console.follow(refund(scope="full", amount=""))
    order = _order(container, paid_order["id"])
    assert (order.status.value, order.refundable) == ("refunded", Money(0, "USD"))
    assert "idempotency_key" not in console.html(path)  # nothing left to refund


def test_fulfil_with_tracking_then_cancel_is_refused(
    console: Console, container: Container, paid_order: dict[str, Any]
) -> None:
    path = f"/admin/orders/{paid_order['id']}"
    refused = console.post(f"{path}/fulfil", {"carrier": "UPS", "tracking_number": " "})
    assert refused.status_code == 422
    assert "Tracking number: is required" in text_of(refused)

    shipped = console.post(f"{path}/fulfil", {"carrier": "UPS", "tracking_number": "1Z999AA1"})
    page = console.follow(shipped)
    assert "Shipped with UPS, tracking number 1Z999AA1." in page
    assert "order.fulfilled" in page
    order = _order(container, paid_order["id"])
    assert order.fulfilment is not None
    assert order.fulfilment.tracking_number == "1Z999AA1"

    too_late = console.post(f"{path}/cancel", {"reason": "changed their mind"})
    assert too_late.status_code == 409
    assert "only a paid order not yet shipped can be cancelled" in text_of(too_late)


def test_cancel_before_shipping_refunds_and_restocks(
    console: Console, container: Container, paid_order: dict[str, Any], stock: Any
) -> None:
    assert stock("mug") == 3
    path = f"/admin/orders/{paid_order['id']}"
    page = console.follow(console.post(f"{path}/cancel", {"reason": "out of glaze"}))
    assert "Cancelled" in page
    assert stock("mug") == 5
    order = _order(container, paid_order["id"])
    assert order.status.value == "cancelled"
    assert order.refunded == Money(3600, "USD")


def _order(container: Container, order_id: str) -> Any:
    with container.new_uow() as uow:
        found = uow.orders.get(order_id)
    assert found is not None
    return found


# -- the dashboard's chart ---------------------------------------------------------------------


def test_the_dashboard_charts_paid_sales_as_svg_with_a_table(
    console: Console, paid_order: dict[str, Any], catalog: Catalog, new_shopper: Any
) -> None:
    unpaid = new_shopper()
    unpaid.register()
    unpaid.intent(catalog.lamp)  # awaiting payment: not a sale
    html = console.html("/admin")
    assert '<svg role="img" aria-labelledby="sales-chart-title sales-chart-desc"' in html
    assert "<script" not in html
    assert "$36.00 from 2 orders" not in html
    assert "$36.00 from 1 order in 30 days" in html
    assert html.count('class="chart-bar"') == 1
    table = html[html.index("<table") : html.index("</table>")]
    assert table.count("<tr>") == 31  # the header and one row per day
    assert "$36.00" in table


# -- catalogue ---------------------------------------------------------------------------------


def test_create_a_product_with_options_and_two_variants(
    console: Console, container: Container
) -> None:
    form = {
        "name": "Linen apron",
        "slug": "linen-apron",
        "description": "Stone-washed.",
        "currency": "USD",
        "option_name_1": "colour",
        "variants-0-sku": "APRON-RED",
        "variants-0-value_1": "red",
        "variants-0-price": "24.50",
        "variants-0-stock": "4",
        "variants-1-sku": "APRON-BLUE",
        "variants-1-value_1": "blue",
        "variants-1-price": "26",
        "variants-1-weight_grams": "300",
    }
    page = console.follow(console.post("/admin/products", form))
    assert "Created Linen apron with 2 variants." in page
    apron = get_product(container.new_uow(), "linen-apron")
    assert apron.option_names == ("colour",)
    assert [(v.sku, v.price.amount, v.stock, v.weight_grams) for v in apron.variants] == [
        ("APRON-RED", 2450, 4, None),
        ("APRON-BLUE", 2600, 0, 300),
    ]
    assert "Linen apron" in console.html("/admin/products")


def test_a_refused_new_product_is_shown_again_with_its_problems(
    console: Console, catalog: Catalog
) -> None:
    refused = console.post(
        "/admin/products",
        {"name": "Mug", "slug": "Bad Slug", "currency": "USD", "price": "abc", "stock": "-1"},
    )
    assert refused.status_code == 422
    page = text_of(refused)
    assert "must be an amount like 12.34" in page
    assert "must be a whole number from 0" in page
    assert 'value="Bad Slug"' in page  # what was typed stays
    taken = console.post(
        "/admin/products", {"name": "Mug", "slug": "mug", "currency": "USD", "price": "3"}
    )
    assert taken.status_code == 409
    assert "a product with slug 'mug' already exists" in text_of(taken)


def test_edit_stock_variants_archive_and_image(
    console: Console, container: Container, catalog: Catalog, stock: Any
) -> None:
    page = console.follow(
        console.post(
            "/admin/products/mug",
            {"name": "Big mug", "slug": "mug", "description": "Holds more.", "price": "19.99",
             "weight_grams": "450"},
        )
    )  # fmt: skip
    assert "Saved Big mug." in page
    mug = get_product(container.new_uow(), "mug")
    assert (mug.name, mug.price, mug.weight_grams) == ("Big mug", Money(1999, "USD"), 450)

    counted = {"sku": "mug", "mode": "add", "quantity": "-2", "reason": "two broke"}
    assert "mug now has 3 in stock." in console.follow(
        console.post("/admin/products/mug/stock", counted)
    )
    below = console.post("/admin/products/mug/stock", {**counted, "quantity": "-9"})
    assert below.status_code == 409
    no_reason = console.post("/admin/products/mug/stock", {**counted, "reason": ""})
    assert no_reason.status_code == 422
    assert "Reason: is required" in text_of(no_reason)
    assert stock("mug") == 3

    variant = console.follow(
        console.post("/admin/products/mug/variants/mug", {"sku": "MUG-1", "price": "21.00"})
    )
    assert "Saved the variant MUG-1." in variant
    assert get_product(container.new_uow(), "mug").variants[0].price == Money(2100, "USD")

    png = image_bytes("PNG")
    uploaded = console.post(
        "/admin/products/mug/image",
        {"image": (io.BytesIO(png), "mug.png", "image/png")},
        content_type="multipart/form-data",
    )
    assert "The product's image is saved." in console.follow(uploaded)
    image_url = get_product(container.new_uow(), "mug").image_url
    assert image_url.startswith("/media/")
    assert image_url in console.html("/admin/products")
    not_an_image = console.post(
        "/admin/products/mug/image",
        {"image": (io.BytesIO(b"not a png"), "mug.png", "image/png")},
        content_type="multipart/form-data",
    )
    assert not_an_image.status_code == 422

    assert "is archived" in console.follow(console.post("/admin/products/mug/archive"))
    assert console.browser.get("/api/products/mug").status_code == 404
    assert "on sale again" in console.follow(console.post("/admin/products/mug/unarchive"))


def test_an_image_bigger_than_the_apps_body_limit_is_accepted_by_the_form(
    console: Console, container: Container, catalog: Catalog
) -> None:
    out = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(out, format="PNG")
    big = out.getvalue()
    assert 200 * 1024 < len(big) < 5 * 1024 * 1024
    uploaded = console.post(
        "/admin/products/mug/image",
        {"image": (io.BytesIO(big), "photo.png", "image/png")},
        content_type="multipart/form-data",
    )
    assert "The product's image is saved." in console.follow(uploaded)


def test_categories_and_attributes_are_kept_and_given_to_products(
    console: Console, container: Container, catalog: Catalog
) -> None:
    assert "Created the category Kitchen." in console.follow(
        console.post("/admin/categories", {"slug": "kitchen", "name": "Kitchen", "position": "1"})
    )
    console.follow(
        console.post("/admin/categories", {"slug": "cups", "name": "Cups", "parent": "kitchen"})
    )
    refused = console.post("/admin/categories", {"slug": "cups", "name": "Cups", "parent": "cups"})
    assert refused.status_code == 422
    in_use = console.post("/admin/categories/kitchen/delete")
    assert in_use.status_code == 409

    console.follow(
        console.post(
            "/admin/attributes",
            {"code": "capacity", "name": "Capacity", "kind": "number", "unit": "ml",
             "filterable": "true"},
        )
    )  # fmt: skip
    bad_choice = console.post(
        "/admin/attributes", {"code": "colour", "name": "Colour", "kind": "choice"}
    )
    assert bad_choice.status_code == 422

    assert "Saved: in 1 category." in console.follow(
        console.post("/admin/products/mug/categories", {"category-cups": "true"})
    )
    wrong = console.post("/admin/products/mug/attributes", {"value-capacity": "lots"})
    assert wrong.status_code == 422
    assert "Saved 1 attribute values." in console.follow(
        console.post("/admin/products/mug/attributes", {"value-capacity": "350.5"})
    )
    shown = console.browser.get("/api/products/mug").get_json()
    assert shown["categories"] == [{"slug": "cups", "name": "Cups"}]
    assert shown["attributes"]["capacity"]["value"] == "350.5"


def test_the_csv_import_reports_every_bad_row_in_a_table_and_imports_nothing(
    console: Console, catalog: Catalog, stock: Any
) -> None:
    exported = console.get("/admin/catalog/export.csv")
    assert exported.mimetype == "text/csv"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="catalog.csv"'
    text = exported.get_data(as_text=True)
    header, *rows = text.splitlines()
    assert len(rows) == 2
    [mug] = [row for row in rows if row.startswith("mug,")]
    [lamp] = [row for row in rows if row.startswith("lamp,")]

    broken = "\n".join([header, mug.replace(",5,", ",abc,"), "NEW-1,new-thing,,,12,USD,1"])
    refused = console.post(
        "/admin/catalog/import",
        {"file": (io.BytesIO(broken.encode()), "catalog.csv", "text/csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    page = text_of(refused)
    table = page[page.index("Problems in the file") :]
    assert re.search(r"<th scope=\"row\">2</th><td>stock</td>", table)
    assert re.search(r"<th scope=\"row\">3</th><td>product_name</td>", table)
    assert stock("mug") == 5

    changed = "\n".join([header, mug.replace(",5,", ",7,"), lamp])
    dry = console.post(
        "/admin/catalog/import",
        {"file": (io.BytesIO(changed.encode()), "catalog.csv", "text/csv"), "dry_run": "true"},
        content_type="multipart/form-data",
    )
    assert "dry run: nothing changed" in text_of(dry)
    assert stock("mug") == 5
    done = console.post(
        "/admin/catalog/import",
        {"file": (io.BytesIO(changed.encode()), "catalog.csv", "text/csv")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 200
    assert "What the import did" in text_of(done)
    assert stock("mug") == 7


# -- shop set-up, people, security -----------------------------------------------------------


def test_zones_methods_and_tax_rates(console: Console, catalog: Catalog) -> None:
    assert "Created the zone Canada." in console.follow(
        console.post("/admin/shipping/zones", {"id": "canada", "name": "Canada", "countries": "ca"})
    )
    overlap = console.post(
        "/admin/shipping/zones", {"id": "north", "name": "North", "countries": "CA, US"}
    )
    assert overlap.status_code == 422
    assert "already in zone" in text_of(overlap)
    assert "Created the method Post." in console.follow(
        console.post(
            "/admin/shipping/methods",
            {"id": "post", "zone_id": "canada", "name": "Post", "currency": "USD",
             "price": "12.50", "free_above": "100", "active": "true"},
        )
    )  # fmt: skip
    listed = console.html("/admin/shipping")
    assert "$12.50" in listed
    assert "$100.00" in listed
    assert "Deleted the method post." in console.follow(
        console.post("/admin/shipping/methods/post/delete")
    )

    assert "Created Ontario HST: 13 %." in console.follow(
        console.post(
            "/admin/tax-rates",
            {"country": "CA", "region": "ON", "percent": "13", "name": "Ontario HST"},
        )
    )
    assert "7.25 %" in console.follow(
        console.post(
            "/admin/tax-rates",
            {"country": "CA", "region": "ON", "percent": "7.25", "name": "Ontario HST"},
        )
    )
    too_precise = console.post(
        "/admin/tax-rates", {"country": "CA", "percent": "7.125", "name": "Canada"}
    )
    assert too_precise.status_code == 422
    assert "Deleted the tax rate of CA-ON." in console.follow(
        console.post("/admin/tax-rates/delete", {"country": "CA", "region": "ON"})
    )


def test_users_roles_disabling_and_unlocking(
    app: Flask, console: Console, container: Container
) -> None:
    sam = Shopper(app.test_client())
    user = sam.register("sam@example.com")
    assert "sam@example.com" in console.html("/admin/users?email=sam")
    assert "sam@example.com" not in console.html("/admin/users?role=admin")
    assert "sam@example.com is now support" in console.follow(
        console.post(
            f"/admin/users/{user['id']}/role", {"role": "support", "back": "/admin/users?email=sam"}
        )
    )
    assert "is disabled" in console.follow(console.post(f"/admin/users/{user['id']}/disable"))
    assert sam.get("/api/auth/me").status_code == 401
    assert "may sign in again" in console.follow(console.post(f"/admin/users/{user['id']}/enable"))
    assert "unlocked" in console.follow(console.post(f"/admin/users/{user['id']}/unlock"))
    assert "unlocked" in console.follow(
        console.post("/admin/logins/unlock", {"email": "nobody@example.com"})
    )
    assert console.post("/admin/logins/unlock", {"email": ""}).status_code == 422
    admin_id = console.browser.get("/api/auth/me").get_json()["user"]["id"]
    own = console.post(f"/admin/users/{admin_id}/disable")
    assert own.status_code == 409


def test_the_audit_log_shows_the_chain_verdict_first_and_the_alerts_page_lists_alerts(
    console: Console, container: Container, paid_order: dict[str, Any]
) -> None:
    console.follow(
        console.post(
            f"/admin/orders/{paid_order['id']}/fulfil", {"carrier": "DHL", "tracking_number": "JD1"}
        )
    )
    page = console.html("/admin/audit-log")
    assert page.index("The audit log is intact.") < page.index("<table")
    assert "order.fulfilled" in page
    assert container.engine is not None
    with container.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_log SET action = 'order.forged'")
    broken = console.html("/admin/audit-log")
    assert "The audit log has been tampered with." in broken
    assert 'role="alert"' in broken
    assert "No alerts" in console.html("/admin/alerts")


def test_options_are_added_then_variants_added_refused_and_archived(
    console: Console, container: Container, catalog: Catalog
) -> None:
    edited = console.post(
        "/admin/products/mug",
        {"name": "Mug", "slug": "mug", "price": "18.00", "option_name_1": "colour",
         "fill_1": "white"},
    )  # fmt: skip
    assert "Saved Mug." in console.follow(edited)
    mug = get_product(container.new_uow(), "mug")
    assert (mug.option_names, mug.variants[0].option_values) == (("colour",), {"colour": "white"})

    black = {"sku": "MUG-BLACK", "value_1": "black", "price": "19.00", "stock": "2"}
    assert "Added the variant MUG-BLACK." in console.follow(
        console.post("/admin/products/mug/variants", black)
    )
    twin = console.post("/admin/products/mug/variants", {**black, "sku": "MUG-TWIN"})
    assert twin.status_code == 422
    assert "two variants have the options" in text_of(twin)
    unnamed = console.post("/admin/products/mug/variants", {**black, "value_1": ""})
    assert unnamed.status_code == 422

    archived = console.post("/admin/products/mug/variants/MUG-BLACK/archive")
    assert "The variant MUG-BLACK is archived" in console.follow(archived)
    assert [v.sku for v in get_product(container.new_uow(), "mug").on_sale] == ["mug"]
    console.follow(console.post("/admin/products/mug/variants/MUG-BLACK/unarchive"))
    assert len(get_product(container.new_uow(), "mug").on_sale) == 2
    assert "MUG-BLACK" in console.html("/admin/products/mug/variants/MUG-BLACK")


def test_categories_attributes_zones_and_methods_are_deleted(
    console: Console, catalog: Catalog
) -> None:
    console.follow(console.post("/admin/categories", {"slug": "garden", "name": "Garden"}))
    assert "Deleted the category garden." in console.follow(
        console.post("/admin/categories/garden/delete")
    )
    assert console.post("/admin/categories/garden/delete").status_code == 404
    console.follow(
        console.post("/admin/attributes", {"code": "material", "name": "Material", "kind": "text"})
    )
    assert "Deleted the attribute material" in console.follow(
        console.post("/admin/attributes/material/delete")
    )
    nowhere = console.post(
        "/admin/shipping/methods",
        {"id": "boat", "zone_id": "atlantis", "name": "Boat", "currency": "USD", "price": "3"},
    )
    assert nowhere.status_code == 422
    assert "Zone id: is not a shipping zone of the shop" in text_of(nowhere)
    assert "Deleted the zone domestic and its methods." in console.follow(
        console.post("/admin/shipping/zones/domestic/delete")
    )
    assert "No zones yet" in console.html("/admin/shipping")


def test_a_refund_form_sent_again_with_another_amount_gets_a_fresh_form(
    console: Console, container: Container, paid_order: dict[str, Any]
) -> None:
    path = f"/admin/orders/{paid_order['id']}"
    key = _KEY.search(console.html(path))
    assert key is not None
    form = {"idempotency_key": key.group(1), "scope": "partial", "amount": "1.00"}
    console.follow(console.post(f"{path}/refund", form))
    changed = console.post(f"{path}/refund", {**form, "amount": "2.00"})
    assert changed.status_code == 422
    assert "This form was already sent with other values." in text_of(changed)
    fresh = _KEY.search(changed.get_data(as_text=True))
    assert fresh is not None
    assert fresh.group(1) != key.group(1)
    assert [r.amount.amount for r in _order(container, paid_order["id"]).refunds] == [100]


NOTHING = "walked-by-a-stranger"


def test_every_console_route_refuses_customers_and_sends_strangers_to_sign_in(
    app: Flask, shopper: Shopper
) -> None:
    """Walked from the app's own routes: a route added later is refused the day it appears."""
    shopper.register()
    stranger = app.test_client()
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    for rule in rules:
        path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", NOTHING, rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            for who, client, expected in (
                ("customer", shopper.client, 403),
                ("stranger", stranger, 303),
            ):
                match = _TOKEN.search(client.get("/login").get_data(as_text=True))
                assert match is not None
                answer = client.open(path, method=method, data={"csrf_token": match.group(1)})
                assert answer.status_code == expected, (who, method, rule.rule)


def _report(currency: str, amounts: list[int]) -> SalesOverTime:
    first = date(2026, 3, 1)
    days = tuple(
        SalesDay(first + timedelta(days=n), 1 if amount else 0, Money(amount, currency))
        for n, amount in enumerate(amounts)
    )
    return SalesOverTime(first, days[-1].day, currency, days)


def test_the_charts_money_axis_has_round_steps_reaching_the_best_day() -> None:
    chart = sales_chart(_report("USD", [0, 3750, 1200, 0]))
    assert chart is not None
    assert [t.label for t in chart.money_ticks] == ["$0", "$10", "$20", "$30", "$40"]
    tallest, other = chart.bars
    assert tallest.height == pytest.approx((chart.bottom - chart.top) * 3750 / 4000, abs=0.1)
    assert other.height == pytest.approx((chart.bottom - chart.top) * 1200 / 4000, abs=0.1)
    assert tallest.tooltip == "2 Mar 2026: $37.50, 1 order"
    assert chart.day_ticks[-1].label == "4 Mar"  # the last day is always labelled
    assert "the best day was 2 Mar 2026 with $37.50" in chart.description

    yen = sales_chart(_report("JPY", [7, 0]))
    assert yen is not None
    assert [t.label for t in yen.money_ticks] == ["¥0", "¥2", "¥4", "¥6", "¥8"]

    quiet = sales_chart(_report("USD", [0] * 30))
    assert quiet is not None
    assert (quiet.bars, [t.label for t in quiet.money_ticks]) == ((), ["$0", "$1"])
    assert quiet.description == "No paid orders in these 30 days."
    assert sales_chart(SalesOverTime(date(2026, 3, 1), date(2026, 3, 30), None, ())) is None
