"""The shop with ``PAYMENT_GATEWAY=razorpay``: the real ``razorpay`` SDK talking to a local fake
of Razorpay's API, through the shop's HTTP API - Checkout's payment id and signature as
``payment_method`` and ``payment_proof``, a declined payment, a forged signature, an admin
refund, webhooks on ``/api/payments/webhook/razorpay`` - and the client settings."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.support.razorpay_api import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, RazorpayApi
from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.config import Settings


@pytest.fixture(scope="module")
def razorpay_base() -> Iterator[tuple[RazorpayApi, str]]:
    api = RazorpayApi()
    with api.serving() as base:
        yield api, base


@pytest.fixture
def api(razorpay_base: tuple[RazorpayApi, str]) -> RazorpayApi:
    razorpay_base[0].recover()
    return razorpay_base[0]


@pytest.fixture
def settings(tmp_path: Path, razorpay_base: tuple[RazorpayApi, str]) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        payment_gateway="razorpay",
        razorpay_key_id=KEY_ID,
        razorpay_key_secret=KEY_SECRET,
        razorpay_webhook_secret=WEBHOOK_SECRET,
        razorpay_api_base=razorpay_base[1],
    )


def confirm(shopper: Shopper, intent_id: str, payment_id: str, proof: str | None) -> TestResponse:
    body: dict[str, Any] = {"intent_id": intent_id, "payment_method": payment_id}
    if proof is not None:
        body["payment_proof"] = proof
    return shopper.post("/api/checkout/confirm", body, key=f"confirm-{secrets.token_hex(6)}")


def test_a_shopper_pays_in_checkout_and_the_shop_captures_it(
    shopper: Shopper, catalog: Catalog, api: RazorpayApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug, quantity=2)
    order_id = intent["intent_id"]
    assert order_id.startswith("order_")  # what Checkout opens with, beside the key id
    assert api.orders[order_id]["amount"] == 3600
    assert api.orders[order_id]["receipt"] == intent["order_id"]

    checkout = api.pay(order_id)  # the buyer pays in Razorpay Checkout
    paid = confirm(shopper, order_id, checkout.payment_id, checkout.signature)

    assert paid.status_code == 201, paid.get_data(as_text=True)
    assert paid.get_json()["order"]["status"] == "paid"
    assert api.payments[checkout.payment_id]["status"] == "captured"


def test_confirming_before_checkout_asks_the_buyer_to_pay_there(
    shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    response = shopper.post(
        "/api/checkout/confirm", {"intent_id": intent["intent_id"]}, key="confirm-early"
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["next_action"]["client_secret"] == intent["intent_id"]


def test_a_failed_payment_is_402_and_gives_the_stock_back(
    shopper: Shopper, catalog: Catalog, api: RazorpayApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.lamp)
    failed = api.pay(intent["intent_id"], decline="insufficient_funds")
    # Checkout's failure handler has the payment id and no signature.
    declined = confirm(shopper, intent["intent_id"], failed.payment_id, None)
    body = assert_problem(declined, 402, "payment_declined")
    assert "insufficient_funds" in json.dumps(body)
    assert shopper.order(intent["order_id"])["status"] == "payment_failed"


def test_a_forged_signature_is_refused_and_nothing_is_captured(
    shopper: Shopper, catalog: Catalog, api: RazorpayApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    checkout = api.pay(intent["intent_id"])
    forged = confirm(shopper, intent["intent_id"], checkout.payment_id, "0" * 64)
    assert_problem(forged, 422, "validation_error")
    unsigned = confirm(shopper, intent["intent_id"], checkout.payment_id, None)
    assert_problem(unsigned, 422, "validation_error")
    assert api.payments[checkout.payment_id]["status"] == "authorized"
    assert shopper.order(intent["order_id"])["status"] == "awaiting_payment"


def test_an_admin_refund_goes_to_razorpay(
    admin: Shopper, shopper: Shopper, catalog: Catalog, api: RazorpayApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    checkout = api.pay(intent["intent_id"])
    assert (
        confirm(shopper, intent["intent_id"], checkout.payment_id, checkout.signature).status_code
        == 201
    )
    refunded = admin.post(
        "/api/payments/refund", {"order_id": intent["order_id"], "amount": 800}, key="r1"
    )
    assert refunded.status_code == 201, refunded.get_data(as_text=True)
    refunds = [r for r in api.refunds.values() if r["payment_id"] == checkout.payment_id]
    assert [r["amount"] for r in refunds] == [800]


def test_a_signed_capture_webhook_pays_an_order_whose_confirm_never_came(
    shopper: Shopper, catalog: Catalog, api: RazorpayApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    checkout = api.pay(intent["intent_id"])
    api.capture(checkout.payment_id)  # automatic capture, or a confirm whose answer was lost
    (delivery,) = [
        d
        for d in api.deliveries_of("payment.captured")
        if json.loads(d.body)["payload"]["payment"]["entity"]["id"] == checkout.payment_id
    ]
    headers = {**delivery.headers, "Content-Type": "application/json"}
    path = "/api/payments/webhook/razorpay"

    tampered = shopper.client.post(path, data=delivery.body + b" ", headers=headers)
    assert_problem(tampered, 400, "invalid_webhook")
    assert shopper.order(intent["order_id"])["status"] == "awaiting_payment"

    first = shopper.client.post(path, data=delivery.body, headers=headers)
    again = shopper.client.post(path, data=delivery.body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json()["status"] == "duplicate"
    assert shopper.order(intent["order_id"])["status"] == "paid"


def test_the_client_settings_give_checkout_the_key_id_and_nothing_secret(
    shopper: Shopper,
) -> None:
    response = shopper.get("/api/payments/config")
    assert response.get_json() == {"gateway": "razorpay", "key_id": KEY_ID}
    text = response.get_data(as_text=True)
    assert KEY_SECRET not in text
    assert WEBHOOK_SECRET not in text


def test_an_outage_at_razorpay_is_503_and_the_order_waits(
    shopper: Shopper, catalog: Catalog, api: RazorpayApi
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    checkout = api.pay(intent["intent_id"])
    with api.outage():
        down = confirm(shopper, intent["intent_id"], checkout.payment_id, checkout.signature)
    assert_problem(down, 503, "payment_gateway_unavailable")
    assert shopper.order(intent["order_id"])["status"] == "awaiting_payment"
    again = confirm(shopper, intent["intent_id"], checkout.payment_id, checkout.signature)
    assert again.status_code == 201, again.get_data(as_text=True)
