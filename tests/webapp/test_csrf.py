"""CSRF: every state-changing request carries a token equal to the cookie and bound by HMAC to
this browser's session; the signed webhook is the one exception."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.shipping import shipped
from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.csrf import mint_token
from webapp.sessions import COOKIE_POLICY_KEY, CookiePolicy

CART = "/api/checkout/intent"


def _cart(catalog: Catalog) -> dict[str, Any]:
    return shipped({"items": [{"product_id": catalog.mug, "quantity": 1}]})


def test_a_request_without_the_csrf_header_is_403(shopper: Shopper, catalog: Catalog) -> None:
    shopper.register()

    response = shopper.client.post(CART, json=_cart(catalog))

    assert_problem(response, 403, "csrf_failed")


def test_a_header_that_differs_from_the_cookie_is_403(shopper: Shopper, catalog: Catalog) -> None:
    shopper.register()

    response = shopper.client.post(CART, json=_cart(catalog), headers={"X-CSRF-Token": "a.b"})

    assert_problem(response, 403, "csrf_failed")


def test_an_unsigned_token_planted_in_both_cookie_and_header_is_403(
    shopper: Shopper, catalog: Catalog
) -> None:
    # What a sibling subdomain able to write cookies could do: the HMAC stops it.
    shopper.register()
    shopper.client.set_cookie("csrf_token", "nonce.forged")

    response = shopper.client.post(
        CART, json=_cart(catalog), headers={"X-CSRF-Token": "nonce.forged"}
    )

    assert_problem(response, 403, "csrf_failed")


def test_a_token_signed_for_another_session_is_403(
    shopper: Shopper, new_shopper: Any, catalog: Catalog
) -> None:
    shopper.register()
    other = new_shopper()
    other.register()
    foreign = other.csrf()
    shopper.client.set_cookie("csrf_token", foreign)

    response = shopper.client.post(CART, json=_cart(catalog), headers={"X-CSRF-Token": foreign})

    assert_problem(response, 403, "csrf_failed")


def test_a_token_signed_with_another_secret_is_403(shopper: Shopper, catalog: Catalog) -> None:
    shopper.register()
    session = shopper.client.get_cookie("session")
    assert session is not None
    token = mint_token("some-other-secret", session.value)
    shopper.client.set_cookie("csrf_token", token)

    response = shopper.client.post(CART, json=_cart(catalog), headers={"X-CSRF-Token": token})

    assert_problem(response, 403, "csrf_failed")


def test_the_pre_login_token_stops_working_once_signed_in(
    shopper: Shopper, catalog: Catalog
) -> None:
    before = shopper.csrf()
    shopper.register()
    shopper.client.set_cookie("csrf_token", before)

    response = shopper.client.post(CART, json=_cart(catalog), headers={"X-CSRF-Token": before})

    assert_problem(response, 403, "csrf_failed")


def test_login_without_a_csrf_token_is_403(app_client: FlaskClient) -> None:
    response = app_client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": "x" * 12}
    )

    assert_problem(response, 403, "csrf_failed")


def test_the_webhook_needs_no_csrf_token_only_a_valid_signature(
    app_client: FlaskClient,
) -> None:
    response = app_client.post(
        "/api/payments/webhook", data=b"{}", headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400, "invalid_webhook")


def test_an_unknown_route_is_404_not_a_csrf_failure(app_client: FlaskClient) -> None:
    assert_problem(app_client.post("/api/nowhere", json={}), 404, "not_found")


def test_production_cookies_get_the_host_prefix_and_secure(app: Flask) -> None:
    # Production settings refuse SQLite, so switch this app's cookie policy to production's.
    app.extensions[COOKIE_POLICY_KEY] = CookiePolicy(secure=True)
    client = app.test_client()

    response = client.get("/api/auth/csrf", base_url="https://shop.example")

    cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-session", "__Host-csrf_token"}
    for header in cookies.values():
        assert "; Secure" in header
        assert "; Path=/" in header
        assert "SameSite=Strict" in header
        assert "Domain=" not in header
    assert "HttpOnly" in cookies["__Host-session"]
    assert "HttpOnly" not in cookies["__Host-csrf_token"]
