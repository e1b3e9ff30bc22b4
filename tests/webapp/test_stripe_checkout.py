"""The shop with ``PAYMENT_GATEWAY=stripe``: the real ``stripe`` SDK talking to a local fake of
Stripe's API, through the shop's HTTP API - checkout, 3-D Secure, decline, refund, webhooks on
``/api/payments/webhook`` - and the per-gateway webhook routes and client settings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.payments import stripe_wire
from tests.support.stripe_api import SECRET_KEY, StripeApi
from tests.webapp.browser import Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.config import Settings

WEBHOOK_SECRET = "whsec_shop_with_stripe_0123456789abcdef"


@pytest.fixture(scope="module")
def stripe_base() -> Iterator[tuple[StripeApi, str]]:
    api = StripeApi()
    with api.serving() as base:
        yield api, base


@pytest.fixture
def settings(tmp_path: Path, stripe_base: tuple[StripeApi, str]) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        payment_gateway="stripe",
        stripe_secret_key=SECRET_KEY,
        stripe_publishable_key="pk_test_local",
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=stripe_base[1],
    )


def _webhook(shopper: Shopper, event_type: str, data: dict[str, object], path: str) -> int:
    body = stripe_wire.encode_event(
        stripe_wire.event_object(
            event_id=f"evt_{time.time_ns()}",
            event_type=event_type,
            data_object=data,
            created=int(time.time()),
        )
    )
    header = stripe_wire.sign_payload(body, WEBHOOK_SECRET, int(time.time()))
    response = shopper.client.post(
        path, data=body, headers={"Stripe-Signature": header, "Content-Type": "application/json"}
    )
    return response.status_code


def test_a_shopper_pays_through_stripe_and_the_order_remembers_its_gateway(
    shopper: Shopper, catalog: Catalog, stripe_base: tuple[StripeApi, str]
) -> None:
    api, _ = stripe_base
    shopper.register()
    order = shopper.buy(catalog.mug, quantity=2)
    assert order["status"] == "paid"
    assert order["intent_id"].startswith("pi_")
    assert api.intents[order["intent_id"]].amount.amount == 3600


def test_a_3ds_card_answers_202_with_the_client_secret_and_the_webhook_pays_it(
    shopper: Shopper, catalog: Catalog, stripe_base: tuple[StripeApi, str]
) -> None:
    api, _ = stripe_base
    shopper.register()
    intent = shopper.intent(catalog.mug)
    pending = shopper.confirm(intent["intent_id"], "pm_card_threeDSecure2Required")
    assert pending.status_code == 202
    body = pending.get_json()
    assert body["next_action"]["client_secret"] == intent["client_secret"]
    api.authenticate(intent["intent_id"])  # the buyer passes 3-D Secure in Stripe.js
    data = stripe_wire.payment_intent_object(
        intent_id=intent["intent_id"],
        amount=api.intents[intent["intent_id"]].amount,
        status="succeeded",
        client_secret=intent["client_secret"],
        order_id=intent["order_id"],
        created=int(time.time()),
    )
    assert _webhook(shopper, "payment_intent.succeeded", data, "/api/payments/webhook") == 200
    assert shopper.order(intent["order_id"])["status"] == "paid"


def test_a_declined_card_is_402_and_gives_the_stock_back(
    shopper: Shopper, catalog: Catalog, stock: object
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.lamp)
    declined = shopper.confirm(intent["intent_id"], "pm_card_chargeDeclined")
    assert_problem(declined, 402, "payment_declined")
    assert shopper.order(intent["order_id"])["status"] == "payment_failed"


def test_an_admin_refund_goes_to_stripe(
    admin: Shopper, shopper: Shopper, catalog: Catalog, stripe_base: tuple[StripeApi, str]
) -> None:
    api, _ = stripe_base
    shopper.register()
    order = shopper.buy(catalog.mug)
    refunded = admin.post(
        "/api/payments/refund", {"order_id": order["id"], "amount": 800}, key="r1"
    )
    assert refunded.status_code == 201, refunded.get_data(as_text=True)
    assert [r.amount.amount for r in api.refunds.values() if r.intent_id == order["intent_id"]] == [
        800
    ]


def test_webhook_routes_are_per_gateway(shopper: Shopper) -> None:
    data = {"id": "cus_1", "object": "customer"}
    assert _webhook(shopper, "customer.created", data, "/api/payments/webhook/stripe") == 200
    assert _webhook(shopper, "customer.created", data, "/api/payments/webhook") == 200
    # The fake gateway is there for orders taken while developing; it has its own route.
    assert _webhook(shopper, "customer.created", data, "/api/payments/webhook/fake") == 200
    missing = shopper.client.post("/api/payments/webhook/bitcoin", data=b"{}")
    assert_problem(missing, 404, "not_found")


def test_the_client_settings_name_the_gateway_and_nothing_secret(shopper: Shopper) -> None:
    response = shopper.get("/api/payments/config")
    assert response.status_code == 200
    assert response.get_json() == {"gateway": "stripe", "publishable_key": "pk_test_local"}
    assert SECRET_KEY not in response.get_data(as_text=True)
    assert WEBHOOK_SECRET not in response.get_data(as_text=True)
