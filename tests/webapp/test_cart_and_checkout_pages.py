"""The cart, checkout, order and fake 3-D Secure pages through Flask's test client, on SQLite and
PostgreSQL: a visitor's cart in a cookie, folded into the account's at sign-in; checkout with an
address, a shipping method and a test card; a declined card tried again; 3-D Secure completed and
failed on the fake gateway's page; the order's page for its owner only, coping with a return
without cookies; and hostile input answered with pages, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from commerce_core import (
    CART_RETENTION,
    AddToCart,
    CartOwner,
    Money,
    NewProduct,
    add_to_cart,
    configure_shipping,
    get_product,
    stock_catalog,
)
from commerce_core.testing import FakeClock
from tests.support.paypal_api import CLIENT_ID as PAYPAL_CLIENT_ID
from tests.support.paypal_api import CLIENT_SECRET as PAYPAL_CLIENT_SECRET
from tests.support.paypal_api import WEBHOOK_ID as PAYPAL_WEBHOOK_ID
from tests.support.paypal_api import PayPalApi
from tests.support.razorpay_api import KEY_ID as RAZORPAY_KEY_ID
from tests.support.razorpay_api import KEY_SECRET as RAZORPAY_KEY_SECRET
from tests.support.razorpay_api import WEBHOOK_SECRET as RAZORPAY_WEBHOOK_SECRET
from tests.support.razorpay_api import RazorpayApi
from tests.support.shipping import FREE_DOMESTIC, US_ADDRESS
from tests.support.stripe_api import SECRET_KEY as STRIPE_SECRET_KEY
from tests.support.stripe_api import StripeApi
from tests.webapp.browser import PASSWORD, Shopper
from tests.webapp.conftest import Catalog
from tests.webapp.test_variants_api import PRODUCTS, SHIRT, by_sku, product_of
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.cli import cli
from webapp.config import Settings
from webapp.scheduler import reconcile_job

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_ATTEMPT = re.compile(r'name="attempt" value="([^"]+)"')
_ORDER = re.compile(r'name="order_id" value="([^"]+)"')
_INTENT = re.compile(r'name="intent_id" value="([^"]+)"')
PRIVATE = "private, no-store"


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


class PageBrowser:
    """A browser on the pages: one cookie jar; it posts forms with the page's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.api = Shopper(client)

    def token(self) -> str:
        match = _TOKEN.search(self.client.get("/login").get_data(as_text=True))
        assert match is not None
        return match.group(1)

    def get(self, path: str) -> TestResponse:
        return self.client.get(path)

    def post(self, path: str, form: dict[str, str], *, token: bool = True) -> TestResponse:
        data = {"csrf_token": self.token(), **form} if token else form
        return self.client.post(path, data=data)

    def add(self, quantity: int = 1, **ref: str) -> TestResponse:
        return self.post("/cart/add", {"quantity": str(quantity), **ref})

    def sign_up(self) -> str:
        email = f"page-{id(self)}@example.com"
        self.api.register(email)
        return email

    def address(self, **changes: str) -> TestResponse:
        fields = {f"address-{k}": v for k, v in {**US_ADDRESS, **changes}.items()}
        return self.post("/checkout", {"step": "address", **fields})

    def ship(self, method: str = "standard", **changes: str) -> TestResponse:
        fields = {f"address-{k}": v for k, v in {**US_ADDRESS, **changes}.items()}
        return self.post("/checkout", {"step": "shipping", "shipping_method": method, **fields})

    def pay(self, review: TestResponse, card: str) -> TestResponse:
        html = review.get_data(as_text=True)
        return self.post(
            "/checkout/pay",
            {
                "order_id": _found(_ORDER, html),
                "intent_id": _found(_INTENT, html),
                "attempt": _found(_ATTEMPT, html),
                "payment_method": card,
            },
        )


def _found(pattern: re.Pattern[str], html: str) -> str:
    match = pattern.search(html)
    assert match is not None, html
    return match.group(1)


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def browser(app: Flask) -> PageBrowser:
    return PageBrowser(app.test_client())


@pytest.fixture
def shirt(admin: Shopper, catalog: Catalog) -> dict[str, Any]:
    return product_of(admin.post(PRODUCTS, SHIRT), 201)


def order_id_of(response: TestResponse) -> str:
    assert response.status_code == 303, text(response)
    location = response.headers["Location"]
    assert location.startswith("/orders/"), location
    return location.removeprefix("/orders/")


def stock(container: Container, slug: str) -> dict[str, int]:
    return {v.sku: v.stock for v in get_product(container.new_uow(), slug).variants}


# -- the cart -----------------------------------------------------------------------------------


def test_a_visitor_fills_a_cart_kept_in_a_lax_http_only_cookie(
    browser: PageBrowser, catalog: Catalog, shirt: dict[str, Any]
) -> None:
    medium = by_sku(shirt)["SHIRT-M"]["id"]

    added = browser.add(1, variant_id=medium)
    assert added.status_code == 303
    assert added.headers["Location"] == "/cart"
    cookie = next(h for h in added.headers.getlist("Set-Cookie") if h.startswith("cart="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert browser.add(2, product_id=catalog.mug).status_code == 303

    page = browser.get("/cart")
    html = text(page)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == PRIVATE
    assert "Mug is in your cart." in html
    assert "Linen shirt" in html
    assert "Size: M, Colour: white" in html
    assert "$65.00" in html
    assert "$36.00" in html
    assert "$101.00" in html  # the subtotal
    assert 'aria-label="3 items">3</span>' in html  # the header's count
    assert 'href="/checkout"' in html


def test_quantities_are_updated_and_lines_removed_by_plain_forms(
    browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.add(1, product_id=catalog.lamp)
    html = text(browser.get("/cart"))
    mug_variant = re.findall(r'name="variant_id" value="([^"]+)"', html)[0]
    lamp_variant = re.findall(r'name="variant_id" value="([^"]+)"', html)[2]

    updated = browser.post("/cart/update", {"variant_id": mug_variant, "quantity": "4"})
    assert updated.status_code == 303
    assert "$72.00" in text(browser.get("/cart"))
    removed = browser.post("/cart/remove", {"variant_id": lamp_variant})
    assert removed.status_code == 303
    html = text(browser.get("/cart"))
    assert "Lamp was removed from your cart." in html
    assert "Lamp</a>" not in html
    browser.post("/cart/update", {"variant_id": mug_variant, "quantity": "0"})
    assert "Your cart is empty." in text(browser.get("/cart"))


def test_the_product_pages_form_may_send_the_shopper_back_to_the_product(
    browser: PageBrowser, catalog: Catalog
) -> None:
    added = browser.post(
        "/cart/add", {"product_id": catalog.mug, "quantity": "1", "next": "/products/mug"}
    )
    assert added.headers["Location"] == "/products/mug"
    elsewhere = browser.post(
        "/cart/add", {"product_id": catalog.mug, "quantity": "1", "next": "//evil.example"}
    )
    assert elsewhere.headers["Location"] == "/cart"


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"variant_id": "var_nothing", "quantity": "1"}, 422, "not an item of the catalogue"),
        ({"variant_id": "x" * 5000, "quantity": "1"}, 422, "must be a variant id"),
        ({"variant_id": "var\u0000", "quantity": "1"}, 422, "must be a variant id"),
        ({"quantity": "1"}, 422, "give exactly one"),
        ({"product_id": "MUG", "quantity": "abc"}, 422, "whole number"),
        ({"product_id": "MUG", "quantity": "-1"}, 422, "whole number"),
        ({"product_id": "MUG", "quantity": "0"}, 422, "whole number"),
        ({"product_id": "MUG", "quantity": "1000000"}, 422, "whole number"),
        ({"product_id": "MUG", "quantity": "101"}, 422, "whole number from 1 to 100"),
        ({"product_id": "MUG", "quantity": "6"}, 409, "Only 5 of Mug left"),
        ({"product_id": "SHIRT", "quantity": "1"}, 422, "choose one of the product"),
    ],
)
def test_hostile_or_impossible_additions_are_answered_with_the_cart_and_a_reason(
    browser: PageBrowser,
    catalog: Catalog,
    shirt: dict[str, Any],
    form: dict[str, str],
    status: int,
    message: str,
) -> None:
    ids = {"MUG": catalog.mug, "SHIRT": shirt["id"]}
    form = {k: ids.get(v, v) for k, v in form.items()}
    refused = browser.post("/cart/add", form)
    assert refused.status_code == status, text(refused)
    assert message.lower() in text(refused).lower()
    assert refused.mimetype == "text/html"
    assert "Your cart is empty." in text(refused)


def test_a_post_without_its_form_token_is_a_400_page_and_changes_nothing(
    browser: PageBrowser, catalog: Catalog
) -> None:
    for path in ("/cart/add", "/cart/update", "/cart/remove", "/checkout", "/checkout/pay"):
        refused = browser.post(path, {"product_id": catalog.mug, "quantity": "1"}, token=False)
        assert refused.status_code == 400, path
        assert refused.mimetype == "text/html"
    assert "Your cart is empty." in text(browser.get("/cart"))


def test_changing_a_line_the_cart_does_not_hold_is_a_404_page(
    browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    refused = browser.post("/cart/update", {"variant_id": "var_other", "quantity": "2"})
    assert refused.status_code == 404
    assert "That item is not in your cart." in text(refused)


def test_lines_the_catalogue_stopped_selling_stay_flagged_and_block_the_checkout(
    browser: PageBrowser, admin: Shopper, catalog: Catalog, shirt: dict[str, Any]
) -> None:
    browser.add(1, variant_id=by_sku(shirt)["SHIRT-S"]["id"])
    browser.add(1, product_id=catalog.mug)
    assert admin.post("/api/admin/products/shirt/archive").status_code == 200
    browser.sign_up()

    html = text(browser.get("/cart"))
    assert "No longer sold. Remove it to check out." in html
    assert "Fix the items marked above to check out." in html
    blocked = browser.get("/checkout")
    assert "Some items cannot be bought as they are" in text(blocked)
    assert "Linen shirt" in text(blocked)


def test_signing_in_folds_the_visitors_cart_into_the_accounts(
    app: Flask, browser: PageBrowser, catalog: Catalog
) -> None:
    Shopper(app.test_client()).register("member@example.com")
    # The member filled the account's cart on another device.
    elsewhere = PageBrowser(app.test_client())
    elsewhere.api.log_in("member@example.com")
    assert elsewhere.add(1, product_id=catalog.lamp).status_code == 303

    browser.add(2, product_id=catalog.mug)
    signed_in = browser.post("/login", {"email": "member@example.com", "password": PASSWORD})

    assert signed_in.status_code == 303
    [cleared] = [h for h in signed_in.headers.getlist("Set-Cookie") if h.startswith("cart=")]
    assert "Max-Age=0" in cleared
    html = text(browser.get("/cart"))
    assert "Mug</a>" in html
    assert "Lamp</a>" in html
    assert 'aria-label="3 items"' in html


def test_signing_in_through_the_api_folds_the_cart_too(
    app: Flask, browser: PageBrowser, catalog: Catalog
) -> None:
    Shopper(app.test_client()).register("api@example.com")
    browser.add(3, product_id=catalog.mug)
    assert browser.api.log_in("api@example.com").status_code == 200
    assert 'aria-label="3 items"' in text(browser.get("/cart"))


# -- the checkout -------------------------------------------------------------------------------


def test_the_checkout_sends_visitors_to_sign_in_first(browser: PageBrowser) -> None:
    response = browser.get("/checkout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/checkout"


def test_a_shopper_checks_out_and_pays_with_the_visa_test_card(
    browser: PageBrowser, catalog: Catalog, shirt: dict[str, Any], container: Container
) -> None:
    browser.add(1, variant_id=by_sku(shirt)["SHIRT-M"]["id"])
    browser.add(2, product_id=catalog.mug)
    browser.sign_up()

    address_step = browser.get("/checkout")
    assert address_step.status_code == 200
    assert address_step.headers["Cache-Control"] == PRIVATE
    assert 'aria-current="step"' in text(address_step)
    assert '<option value="US" selected>United States</option>' in text(address_step)

    shipping_step = browser.address()
    html = text(shipping_step)
    assert shipping_step.status_code == 200
    assert 'name="shipping_method" value="standard" checked' in html
    assert "Standard:" in html

    review = browser.ship()
    html = text(review)
    assert review.status_code == 200, html
    assert "Review and pay" in html
    assert "$101.00" in html  # subtotal = total: free shipping, no tax in the test shop
    assert "Size: M" in html
    assert 'value="pm_card_visa" checked' in html
    assert 'value="pm_card_chargeDeclined"' in html
    assert 'value="pm_card_threeDSecure2Required"' in html
    assert stock(container, "shirt")["SHIRT-M"] == 0  # held

    paid = browser.pay(review, "pm_card_visa")
    order_id = order_id_of(paid)
    order_page = browser.get(f"/orders/{order_id}")
    html = text(order_page)
    assert order_page.status_code == 200
    assert order_page.headers["Cache-Control"] == PRIVATE
    assert "Paid" in html
    assert "Linen shirt" in html
    assert "Size: M" in html
    assert "1 Main Street" in html
    assert "$101.00" in html
    assert "Your cart is empty." in text(browser.get("/cart"))
    assert order_id in text(browser.get("/account"))
    assert browser.api.order(order_id)["status"] == "paid"


def test_an_address_the_core_refuses_comes_back_with_its_fields_marked(
    browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    refused = browser.address(city="", postal_code="ABC", country="US")
    html = text(refused)
    assert refused.status_code == 422
    assert 'id="address-city"' in html
    assert 'aria-invalid="true" aria-describedby="address-city-error"' in html
    assert "The city is required." in html
    assert browser.address(country="ZZ").status_code == 422
    # Nothing ships to France in the test shop.
    france = browser.address(country="FR", postal_code="75001")
    assert france.status_code == 422
    assert "Sorry, we do not ship to France yet." in text(france)


def test_a_saved_address_is_offered_and_a_new_one_may_be_saved(
    browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    saved = browser.post(
        "/checkout",
        {"step": "address", "save_address": "yes"}
        | {f"address-{k}": v for k, v in US_ADDRESS.items()},
    )
    assert saved.status_code == 200
    page = text(browser.get("/checkout"))
    address_id = _found(re.compile(r'<option value="(adr_[0-9a-f]+)"'), page)
    assert "Sam Shopper, 1 Main Street, Springfield, United States" in page

    chosen = browser.post("/checkout", {"step": "address", "saved_address": address_id})
    assert chosen.status_code == 200
    assert "Springfield" in text(chosen)
    unknown = browser.post("/checkout", {"step": "address", "saved_address": "adr_theirs"})
    assert unknown.status_code == 422


def test_a_declined_card_is_shown_and_another_card_pays(
    browser: PageBrowser, catalog: Catalog, container: Container
) -> None:
    browser.add(2, product_id=catalog.mug)
    browser.sign_up()
    review = browser.ship()

    declined = browser.pay(review, "pm_card_chargeDeclined")

    html = text(declined)
    assert declined.status_code == 402
    assert "Your card was declined." in html
    assert "try another card" in html
    assert get_product(container.new_uow(), "mug").stock == 3  # held again, for the retry
    first = _found(_ORDER, text(review))
    assert browser.api.order(first)["status"] == "payment_failed"
    paid = browser.pay(declined, "pm_card_visa")
    assert browser.api.order(order_id_of(paid))["status"] == "paid"
    assert get_product(container.new_uow(), "mug").stock == 3


def test_paying_twice_with_one_form_pays_once(browser: PageBrowser, catalog: Catalog) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    review = browser.ship()
    first = browser.pay(review, "pm_card_visa")
    again = browser.pay(review, "pm_card_visa")
    assert order_id_of(first) == order_id_of(again)


def test_an_unknown_payment_method_is_the_review_again(
    browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    review = browser.ship()
    refused = browser.pay(review, "pm_card_stolen")
    assert refused.status_code == 422
    assert "no such payment method" in text(refused)


def test_paying_for_someone_elses_order_is_a_404(
    app: Flask, browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    review = browser.ship()
    thief = PageBrowser(app.test_client())
    thief.sign_up()
    assert thief.pay(review, "pm_card_visa").status_code == 404


def test_a_card_needing_3d_secure_goes_to_the_fake_gateway_and_completing_pays(
    browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    review = browser.ship()
    challenged = browser.pay(review, "pm_card_threeDSecure2Required")

    assert challenged.status_code == 303
    location = challenged.headers["Location"]
    assert location.startswith("/fake-gateway/3ds/pi_")
    page = browser.get(location)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == PRIVATE
    assert "Complete authentication" in text(page)
    assert "$18.00" in text(page)
    order_id = location.rpartition("%2F")[2] if "%2F" in location else location.rpartition("/")[2]

    completed = browser.post(
        location.partition("?")[0], {"outcome": "complete", "return_to": f"/orders/{order_id}"}
    )

    assert completed.status_code == 303
    assert completed.headers["Location"] == f"/orders/{order_id}"
    assert "Paid" in text(browser.get(f"/orders/{order_id}"))
    # The challenge is over: the page says so, and answering again changes nothing.
    assert "needs no authentication" in text(browser.get(location))
    again = browser.post(location.partition("?")[0], {"outcome": "fail"})
    assert again.status_code == 409


def test_failing_3d_secure_fails_the_order_and_keeps_the_cart(
    browser: PageBrowser, catalog: Catalog, container: Container
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    challenged = browser.pay(browser.ship(), "pm_card_threeDSecure2Required")
    location = challenged.headers["Location"]
    order_id = re.search(r"ord_[0-9a-f]+", location).group(0)  # type: ignore[union-attr]

    failed = browser.post(
        location.partition("?")[0], {"outcome": "fail", "return_to": f"/orders/{order_id}"}
    )

    assert failed.headers["Location"] == f"/orders/{order_id}"
    html = text(browser.get(f"/orders/{order_id}"))
    assert "Payment failed" in html
    assert "could not be authenticated" in html
    assert get_product(container.new_uow(), "mug").stock == 5
    assert "Mug</a>" in text(browser.get("/cart"))


def test_the_3d_secure_page_refuses_unknown_intents_bad_answers_and_foreign_returns(
    browser: PageBrowser, catalog: Catalog
) -> None:
    assert browser.get("/fake-gateway/3ds/pi_unknown").status_code == 404
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    location = browser.pay(browser.ship(), "pm_card_threeDSecure2Required").headers["Location"]
    path = location.partition("?")[0]
    assert browser.post(path, {"outcome": "maybe"}).status_code == 422
    answered = browser.post(path, {"outcome": "complete", "return_to": "//evil.example"})
    assert answered.headers["Location"] == "/"


def test_the_3d_secure_page_exists_only_with_the_fake_gateway(tmp_path: Path) -> None:
    settings = Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'stripe.db'}",
        payment_gateway="stripe",
        stripe_secret_key="sk_test_local",
        stripe_publishable_key="pk_test_local",
        stripe_webhook_secret="whsec_" + "s" * 32,
    )
    app = create_app(settings)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert not any(rule.startswith("/fake-gateway") for rule in rules)
    assert "/checkout" in rules
    app.extensions["commerce.container"].close()


# -- the order's page ---------------------------------------------------------------------------


def test_another_shoppers_order_is_a_404_like_a_missing_one(
    app: Flask, browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    order_id = order_id_of(browser.pay(browser.ship(), "pm_card_visa"))
    stranger = PageBrowser(app.test_client())
    stranger.sign_up()
    assert stranger.get(f"/orders/{order_id}").status_code == 404
    assert stranger.get("/orders/ord_missing").status_code == 404
    assert "Not found" in text(stranger.get(f"/orders/{order_id}"))


def test_a_return_without_cookies_asks_again_from_the_site_once(
    app: Flask, browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    order_id = order_id_of(browser.pay(browser.ship(), "pm_card_visa"))
    cookieless = app.test_client()  # what a cross-site return sends under SameSite=Strict

    first = cookieless.get(f"/orders/{order_id}?payment_intent=pi_1&redirect_status=succeeded")
    html = text(first)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == PRIVATE
    again = f"/orders/{order_id}?payment_intent=pi_1&amp;redirect_status=succeeded&amp;returned=1"
    assert f'<meta http-equiv="refresh" content="0; url={again}">' in html
    assert f'href="{again}"' in html
    assert "Content-Security-Policy" in first.headers

    second = cookieless.get(f"/orders/{order_id}?returned=1")
    assert second.status_code == 303
    assert second.headers["Location"] == f"/login?next=/orders/{order_id}"
    # With its cookies (the same-site request), the owner sees the order.
    assert "Paid" in text(browser.get(f"/orders/{order_id}?returned=1"))


def test_a_shipped_order_shows_its_carrier_and_tracking_number(
    browser: PageBrowser, admin: Shopper, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    order_id = order_id_of(browser.pay(browser.ship(), "pm_card_visa"))
    shipped = admin.post(
        f"/api/admin/orders/{order_id}/fulfil", {"carrier": "UPS", "tracking_number": "1Z999"}
    )
    assert shipped.status_code == 200, text(shipped)
    html = text(browser.get(f"/orders/{order_id}"))
    assert "Shipped" in html
    assert "UPS" in html
    assert "1Z999" in html


def test_an_order_awaiting_payment_polls_with_a_script_file(
    browser: PageBrowser, catalog: Catalog
) -> None:
    browser.add(1, product_id=catalog.mug)
    browser.sign_up()
    location = browser.pay(browser.ship(), "pm_card_threeDSecure2Required").headers["Location"]
    order_id = re.search(r"ord_[0-9a-f]+", location).group(0)  # type: ignore[union-attr]
    html = text(browser.get(f"/orders/{order_id}"))
    assert "Awaiting payment" in html
    assert f'data-order-poll="/api/orders/{order_id}"' in html
    assert re.search(r'<script src="/assets/js/order-status\.[0-9a-f]{12}\.js">', html)
    assert "<script>" not in html


# -- the carts' purge ---------------------------------------------------------------------------


def test_the_jobs_purge_carts_untouched_for_thirty_days(
    container: Container, catalog: Catalog, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    add_to_cart(
        AddToCart(CartOwner(), 1, product_id=catalog.mug), uow=container.new_uow(), clock=clock
    )
    later = attrs.evolve(container, clock=clock)
    clock.advance(CART_RETENTION - timedelta(minutes=1))
    assert reconcile_job(later)["carts_purged"] == 0
    clock.advance(timedelta(minutes=2))
    assert reconcile_job(later)["carts_purged"] == 1

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("APP_ENV", "test")
    result = CliRunner().invoke(cli, ["jobs", "purge-carts"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purged=0"


# -- other gateways' payment steps --------------------------------------------------------------


@contextmanager
def shop_with(settings: Settings) -> Iterator[tuple[PageBrowser, Container]]:
    """A shop on ``settings``' gateway selling the mug, and a signed-up shopper with a mug in
    the cart."""
    migrate_database(settings)
    container = build_container(settings)
    try:
        configure_shipping(container.new_uow(), FREE_DOMESTIC)
        stock_catalog(
            container.new_uow(),
            container.clock,
            [NewProduct("mug", "Mug", "A mug.", Money(1800, "USD"), "/static/products/m.svg", 5)],
        )
        browser = PageBrowser(create_app(settings, container=container).test_client())
        browser.add(1, product_id=get_product(container.new_uow(), "mug").id)
        browser.sign_up()
        yield browser, container
    finally:
        container.close()


def test_with_stripe_the_review_mounts_the_payment_element_from_stripes_script(
    tmp_path: Path,
) -> None:
    api = StripeApi()
    with api.serving() as base:
        settings = Settings(
            app_env="test",
            database_url=f"sqlite:///{tmp_path / 'stripe-shop.db'}",
            payment_gateway="stripe",
            stripe_secret_key=STRIPE_SECRET_KEY,
            stripe_publishable_key="pk_test_local",
            stripe_webhook_secret="whsec_" + "t" * 32,
            stripe_api_base=base,
        )
        with shop_with(settings) as (browser, _):
            review = browser.ship()
            html = text(review)
            assert review.status_code == 200, html
            assert '<script src="https://js.stripe.com/v3/"></script>' in html
            assert re.search(r'<script src="/assets/js/checkout-stripe\.[0-9a-f]{12}\.js">', html)
            assert 'data-publishable-key="pk_test_local"' in html
            assert re.search(r'data-client-secret="pi_\w+_secret_\w+"', html)
            order_id = _found(_ORDER, html)
            assert f'data-return-url="http://127.0.0.1:8000/orders/{order_id}"' in html
            assert "pm_card_visa" not in html
            policy = review.headers["Content-Security-Policy"]
            assert "script-src 'self' https://js.stripe.com" in policy
            assert "frame-src 'self' https://js.stripe.com https://hooks.stripe.com" in policy
            assert "connect-src 'self' https://api.stripe.com" in policy
            # Other pages keep the strict policy.
            assert "stripe" not in browser.get("/cart").headers["Content-Security-Policy"]


def test_with_paypal_the_buyers_approval_is_captured_through_the_page(tmp_path: Path) -> None:
    api = PayPalApi()
    with api.serving() as base:
        settings = Settings(
            app_env="test",
            database_url=f"sqlite:///{tmp_path / 'paypal-shop.db'}",
            payment_gateway="paypal",
            paypal_client_id=PAYPAL_CLIENT_ID,
            paypal_client_secret=PAYPAL_CLIENT_SECRET,
            paypal_webhook_id=PAYPAL_WEBHOOK_ID,
            paypal_environment="sandbox",
            paypal_api_base=base,
        )
        with shop_with(settings) as (browser, _):
            review = browser.ship()
            html = text(review)
            assert review.status_code == 200, html
            intent_id = _found(_INTENT, html)
            script = (
                f'<script src="https://www.paypal.com/sdk/js?client-id={PAYPAL_CLIENT_ID}'
                '&amp;currency=USD&amp;intent=capture"></script>'
            )
            assert script in html
            assert f'data-order-id="{intent_id}"' in html
            assert (
                "script-src 'self' https://www.paypal.com"
                in review.headers["Content-Security-Policy"]
            )

            assert api.approve(intent_id)  # the buyer approves in PayPal's window
            paid = browser.pay(review, "paypal")

            order_id = order_id_of(paid)
            assert browser.api.order(order_id)["status"] == "paid"
            assert "Paid" in text(browser.get(f"/orders/{order_id}"))


def test_with_razorpay_checkouts_payment_and_signature_pay_through_the_page(
    tmp_path: Path,
) -> None:
    api = RazorpayApi()
    with api.serving() as base:
        settings = Settings(
            app_env="test",
            database_url=f"sqlite:///{tmp_path / 'razorpay-shop.db'}",
            payment_gateway="razorpay",
            razorpay_key_id=RAZORPAY_KEY_ID,
            razorpay_key_secret=RAZORPAY_KEY_SECRET,
            razorpay_webhook_secret=RAZORPAY_WEBHOOK_SECRET,
            razorpay_api_base=base,
        )
        with shop_with(settings) as (browser, _):
            review = browser.ship()
            html = text(review)
            assert review.status_code == 200, html
            intent_id = _found(_INTENT, html)
            assert '<script src="https://checkout.razorpay.com/v1/checkout.js"></script>' in html
            assert f'data-key-id="{RAZORPAY_KEY_ID}"' in html
            assert f'data-order-id="{intent_id}"' in html
            assert 'data-amount="1800"' in html

            declined = api.pay(intent_id, decline="payment_failed")
            again = browser.post(
                "/checkout/pay",
                {
                    "order_id": _found(_ORDER, html),
                    "intent_id": intent_id,
                    "attempt": _found(_ATTEMPT, html),
                    "payment_method": declined.payment_id,
                },
            )
            assert again.status_code == 402, text(again)
            retry = text(again)
            checkout = api.pay(_found(_INTENT, retry))  # the buyer pays in Razorpay Checkout
            paid = browser.post(
                "/checkout/pay",
                {
                    "order_id": _found(_ORDER, retry),
                    "intent_id": _found(_INTENT, retry),
                    "attempt": _found(_ATTEMPT, retry),
                    "payment_method": checkout.payment_id,
                    "payment_proof": checkout.signature,
                },
            )
            assert browser.api.order(order_id_of(paid))["status"] == "paid"
