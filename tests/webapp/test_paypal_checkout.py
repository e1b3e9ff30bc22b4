"""The shop with ``PAYMENT_GATEWAY=paypal``: the real ``paypal-server-sdk`` talking to a local fake
of PayPal's REST API, through the shop's HTTP API - approval on PayPal's page, capture on
confirm, a declined funding source, an admin refund, webhooks verified by asking PayPal on
``/api/payments/webhook/paypal`` - and the client settings."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.test import TestResponse

from tests.support.paypal_api import CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, PayPalApi
from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.config import Settings


@pytest.fixture(scope="module")
def paypal_base() -> Iterator[tuple[PayPalApi, str]]:
    api = PayPalApi()
    with api.serving() as base:
        yield api, base


@pytest.fixture
def api(paypal_base: tuple[PayPalApi, str]) -> Iterator[PayPalApi]:
    api = paypal_base[0]
    api.recover()
    yield api
    assert api.unexpected == []  # every request the shop sent was one PayPal takes


@pytest.fixture
def settings(tmp_path: Path, paypal_base: tuple[PayPalApi, str]) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        payment_gateway="paypal",
        paypal_client_id=CLIENT_ID,
        paypal_client_secret=CLIENT_SECRET,
        paypal_webhook_id=WEBHOOK_ID,
        paypal_environment="sandbox",
        paypal_api_base=paypal_base[1],
    )


def confirm(shopper: Shopper, intent_id: str, payment_method: str = "paypal") -> TestResponse:
    return shopper.post(
        "/api/checkout/confirm",
        {"intent_id": intent_id, "payment_method": payment_method},
        key=f"confirm-{secrets.token_hex(6)}",
    )


def test_the_buyer_approves_on_paypals_page_and_the_confirm_captures(
    shopper: Shopper, catalog: Catalog, api: PayPalApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug, quantity=2)
    assert intent["client_secret"] is None  # PayPal's JS SDK needs only the order id
    early = confirm(shopper, intent["intent_id"])
    assert early.status_code == 202, early.get_data(as_text=True)
    approve_page = early.get_json()["next_action"]["redirect_url"]
    assert intent["intent_id"] in approve_page

    assert api.approve(intent["intent_id"])  # the buyer logs in at PayPal and approves
    paid = confirm(shopper, intent["intent_id"])

    assert paid.status_code == 201, paid.get_data(as_text=True)
    assert paid.get_json()["order"]["status"] == "paid"
    order = api.orders[intent["intent_id"]]
    assert (order.status, order.value, order.custom_id) == (
        "COMPLETED",
        Decimal("36.00"),
        intent["order_id"],
    )


def test_a_declined_funding_source_is_402_and_gives_the_stock_back(
    shopper: Shopper, catalog: Catalog, api: PayPalApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.lamp)
    api.approve(intent["intent_id"], declines=True)
    declined = confirm(shopper, intent["intent_id"])
    assert_problem(declined, 402, "payment_declined")
    assert shopper.order(intent["order_id"])["status"] == "payment_failed"
    # The shop cancelled the PayPal order: no later capture of it can take money.
    assert api.orders[intent["intent_id"]].intent == "AUTHORIZE"


def test_a_card_payment_method_is_refused_before_paypal_is_asked(
    shopper: Shopper, catalog: Catalog, api: PayPalApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    sent = len(api.requests)
    refused = confirm(shopper, intent["intent_id"], "pm_card_visa")
    body = assert_problem(refused, 422, "validation_error")
    assert body["errors"][0]["field"] == "payment_method"
    assert len(api.requests) == sent


def test_an_admin_refund_goes_to_paypal(
    admin: Shopper, shopper: Shopper, catalog: Catalog, api: PayPalApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    api.approve(intent["intent_id"])
    assert confirm(shopper, intent["intent_id"]).status_code == 201
    refunded = admin.post(
        "/api/payments/refund", {"order_id": intent["order_id"], "amount": 800}, key="r1"
    )
    assert refunded.status_code == 201, refunded.get_data(as_text=True)
    capture_id = api.orders[intent["intent_id"]].capture_id
    assert [r.value for r in api.refunds.values() if r.capture_id == capture_id] == [
        Decimal("8.00")
    ]


def test_a_capture_webhook_is_verified_with_paypal_and_settles_once(
    shopper: Shopper, catalog: Catalog, api: PayPalApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    api.approve(intent["intent_id"])
    assert confirm(shopper, intent["intent_id"]).status_code == 201
    (body, headers) = next(
        (body, headers)
        for body, headers in reversed(api.deliveries)
        if json.loads(body)["resource"].get("custom_id") == intent["order_id"]
    )
    path = "/api/payments/webhook/paypal"
    sent = {**headers, "Content-Type": "application/json"}

    tampered = shopper.client.post(path, data=body.replace(b"COMPLETED", b"DECLINED"), headers=sent)
    assert_problem(tampered, 400, "invalid_webhook")
    delivered = shopper.client.post(path, data=body, headers=sent)
    again = shopper.client.post(path, data=body, headers=sent)

    assert (delivered.status_code, again.status_code) == (200, 200)
    assert again.get_json()["status"] == "duplicate"
    assert shopper.order(intent["order_id"])["status"] == "paid"


def test_the_client_settings_give_the_js_sdk_the_client_id_and_nothing_secret(
    shopper: Shopper,
) -> None:
    response = shopper.get("/api/payments/config")
    assert response.get_json() == {
        "gateway": "paypal",
        "client_id": CLIENT_ID,
        "environment": "sandbox",
    }
    assert CLIENT_SECRET not in response.get_data(as_text=True)
