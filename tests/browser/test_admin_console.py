"""The admin path in Chromium: the shop's admin signs in, creates a product with two variants,
uploads its image and finds it in the product list; opens an order a shopper paid for, ships it
with a tracking number, refunds part of it, and finds both in the audit log; then the alerts
page and the dashboard's sales chart. Every step is screenshotted, every console page passes
axe-core, and no page raises a Content-Security-Policy violation or a script error."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from commerce_core import (
    Address,
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    Register,
    confirm_order,
    create_checkout_intent,
    register,
)
from tests.browser.conftest import PASSWORD, LiveShop
from tests.browser.helpers import sign_in
from tests.browser.test_browse_and_choose import watch_for_trouble

Shot = Callable[[Any, str], Path]
Axe = Callable[[Any], list[dict[str, Any]]]


def checked(page: Any, axe: Axe, shot: Shot, step: str) -> None:
    """A console page, fully loaded: screenshotted and free of serious accessibility problems."""
    page.wait_for_load_state("load")
    shot(page, step)
    assert axe(page) == [], step


def notice(page: Any) -> str:
    return str(page.get_by_role("status").first.inner_text())


def paid_order(live_shop: LiveShop, sku: str, quantity: int) -> tuple[str, str]:
    """An order a new shopper paid for (the core's checkout, as the shop's pages run it): its
    id and the shopper's email."""
    container = live_shop.container
    email = live_shop.new_email()
    shopper = register(
        Register(email=email, password=PASSWORD, name="Sam Shopper"),
        **container.account_ports(),
    ).user
    variant_id = _variant_id(live_shop, sku)
    address = Address.parse(
        {"name": "Sam Shopper", "line1": "1 Broadway", "city": "New York",
         "postal_code": "10004", "region": "NY", "country": "US"}
    )  # fmt: skip
    intent = create_checkout_intent(
        CreateCheckoutIntent(
            shopper.id,
            (CartItem(None, quantity, variant_id=variant_id),),
            shipping_address=address,
            shipping_method="standard",
        ),
        **container.payment_ports(),
    )
    confirmed = confirm_order(
        ConfirmOrder(shopper.id, intent.body["intent_id"], "pm_card_visa", secrets.token_hex(8)),
        **container.payment_ports(),
    )
    assert confirmed.body["order"]["status"] == "paid", confirmed.body
    return str(confirmed.body["order"]["id"]), email


def _variant_id(live_shop: LiveShop, sku: str) -> str:
    with live_shop.container.new_uow() as uow:
        product = uow.products.get_by_sku(sku)
    assert product is not None
    return product.sku_variant(sku).id


def a_png(folder: Path) -> Path:
    path = folder / "teapot.png"
    image = Image.new("RGB", (320, 240), (190, 90, 40))
    for x in range(0, 320, 16):
        image.paste((250, 240, 220), (x, 0, x + 8, 240))
    image.save(path, format="PNG")
    return path


def test_the_admin_adds_a_product_ships_and_refunds_an_order_and_reads_the_log(
    page: Any, live_shop: LiveShop, shot: Shot, axe: Axe, tmp_path: Path
) -> None:
    trouble = watch_for_trouble(page)
    sign_in(page, live_shop.admin_email, live_shop.admin_password)
    page.goto("/admin")
    checked(page, axe, shot, "dashboard")

    # A product with two variants.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Products").click()
    page.get_by_role("link", name="New product").click()
    page.wait_for_url("**/admin/products/new")
    checked(page, axe, shot, "new-product-form")
    slug = f"glazed-teapot-{secrets.token_hex(3)}"
    page.get_by_label("Name", exact=True).fill("Glazed teapot")
    page.get_by_label("Slug").fill(slug)
    page.get_by_label(re.compile("^Description")).fill("Stoneware, glazed by hand.")
    page.get_by_label(re.compile("^Option 1 name")).fill("size")
    rows = page.locator("fieldset.variant-row")
    for row, (sku, size, price, stock) in enumerate(
        [(f"{slug}-S", "small", "32.00", "5"), (f"{slug}-L", "large", "45.50", "3")]
    ):
        variant = rows.nth(row)
        variant.get_by_label(re.compile("^SKU")).fill(sku)
        variant.get_by_label(re.compile("^Option 1 value")).fill(size)
        variant.get_by_label(re.compile("^Price")).fill(price)
        variant.get_by_label(re.compile("^Stock")).fill(stock)
    shot(page, "new-product-filled")
    page.get_by_role("button", name="Create the product").click()
    page.wait_for_url(f"**/admin/products/{slug}")
    assert notice(page) == "Created Glazed teapot with 2 variants."
    checked(page, axe, shot, "product-created")

    # Its image, uploaded as a file.
    page.get_by_label("Image file").set_input_files(str(a_png(tmp_path)))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(f"**/admin/products/{slug}")
    assert notice(page) == "The product's image is saved."
    image = page.get_by_role("img", name="Glazed teapot", exact=True)
    assert image.get_attribute("src").startswith("/media/")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 320
    checked(page, axe, shot, "product-with-image")

    page.get_by_role("link", name="All products").click()
    page.wait_for_url("**/admin/products")
    assert page.get_by_role("link", name="Glazed teapot").is_visible()
    checked(page, axe, shot, "product-list")

    # An order a shopper paid for: shipped, then refunded in part.
    order_id, shopper_email = paid_order(live_shop, f"{slug}-L", 2)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Orders").click()
    page.wait_for_url("**/admin/orders")
    checked(page, axe, shot, "orders")
    page.get_by_role("link", name=order_id).click()
    page.wait_for_url(f"**/admin/orders/{order_id}")
    checked(page, axe, shot, "order")

    page.get_by_label("Carrier").fill("UPS")
    page.get_by_label("Tracking number").fill("1Z999AA10123456784")
    page.get_by_role("button", name="Mark as shipped").click()
    page.wait_for_url(f"**/admin/orders/{order_id}")
    assert notice(page) == "Shipped with UPS, tracking number 1Z999AA10123456784."
    checked(page, axe, shot, "order-shipped")

    # The shopper, in their own browser, sees the parcel's carrier and tracking number.
    shopper_page = page.context.browser.new_context(base_url=live_shop.url).new_page()
    sign_in(shopper_page, shopper_email)
    shopper_page.goto(f"/orders/{order_id}")
    shown = " ".join(shopper_page.locator("main").inner_text().split())
    assert "UPS" in shown
    assert "1Z999AA10123456784" in shown
    shot(shopper_page, "shopper-sees-tracking")
    assert axe(shopper_page) == []
    shopper_page.context.close()

    page.get_by_label("Part of it (the amount below)").check()
    page.get_by_label(re.compile(r"^Amount")).fill("12.34")
    page.get_by_label(re.compile("^Reason")).fill("the lid arrived chipped")
    page.get_by_role("button", name="Refund", exact=True).click()
    page.wait_for_url(f"**/admin/orders/{order_id}")
    assert notice(page) == "Refunded $12.34."
    refunds = page.get_by_role("table", name="Refunds")
    assert "$12.34" in refunds.inner_text()
    checked(page, axe, shot, "order-refunded")

    # The audit log shows both, its chain intact.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/admin/audit-log")
    assert "The audit log is intact." in notice(page)
    log = page.get_by_role("table", name="Entries, newest first").inner_text()
    assert "order.fulfilled" in log
    assert "refund.requested" in log
    assert "1Z999AA10123456784" in log
    checked(page, axe, shot, "audit-log")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Alerts").click()
    page.wait_for_url("**/admin/alerts")
    checked(page, axe, shot, "alerts")

    # The dashboard's chart counts today's sale.
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Dashboard").click()
    page.wait_for_url("**/admin")
    chart = page.get_by_role("img", name=re.compile("^Sales per day"))
    assert chart.is_visible()
    assert page.locator("rect.chart-bar").count() >= 1
    checked(page, axe, shot, "dashboard-with-sales")
    assert trouble == []


def test_every_other_console_page_and_a_refused_form_pass_axe(
    page: Any, live_shop: LiveShop, shot: Shot, axe: Axe
) -> None:
    trouble = watch_for_trouble(page)
    sign_in(page, live_shop.admin_email, live_shop.admin_password)
    for path, step in [
        ("/admin/products/linen-shirt", "product-with-options"),
        ("/admin/products/linen-shirt/variants/SHIRT-M-WHITE", "variant"),
        ("/admin/categories", "categories"),
        ("/admin/categories?edit=kitchen", "category-edit"),
        ("/admin/attributes", "attributes"),
        ("/admin/catalog", "import-and-export"),
        ("/admin/shipping", "shipping"),
        ("/admin/tax-rates?country=US&region=CA", "tax-rate-edit"),
        ("/admin/users", "users"),
        ("/admin/logins/unlock", "unlock"),
    ]:
        response = page.goto(path)
        assert response.status == 200, path
        checked(page, axe, shot, step)

    page.goto("/admin/shipping")
    page.get_by_label("Id", exact=True).first.fill("north")
    page.get_by_label("Name", exact=True).first.fill("North")
    page.get_by_label(re.compile("^Countries")).fill("US, ZZ")
    page.get_by_role("button", name="Save the zone").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert").first.inner_text()
    assert "must be an ISO 3166-1 alpha-2 code" in alert
    checked(page, axe, shot, "zone-refused")
    # The refused form is answered 422, which Chromium logs; nothing else went wrong.
    assert [t for t in trouble if "status of 422" not in t] == []
