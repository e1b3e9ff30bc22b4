"""Refunds by staff and the gateway's signed webhook."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from adapters.payments.fake_gateway import FakeStripeGateway
from adapters.payments.stripe_wire import sign_payload
from commerce_core import verify_chain
from tests.webapp.browser import Shopper, assert_problem, deliver_gateway_event
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container
from webapp.config import Settings

REFUND = "/api/payments/refund"
# The webhook tests sign events themselves, so they give the fake gateway a known secret.
WEBHOOK_SECRET = "whsec_payments_api_tests_" + "0123456789abcdef" * 2


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


def test_an_admin_refunds_part_then_the_rest_of_an_order(
    shopper: Shopper, admin: Shopper, catalog: Catalog, container: Container
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug, quantity=2)  # 3600

    part = admin.post(
        REFUND, {"order_id": order["id"], "amount": 1000, "reason": "dented"}, key="r1"
    )
    rest = admin.post(REFUND, {"order_id": order["id"]}, key="r2")

    assert part.status_code == 201
    assert part.get_json()["refund"]["amount"] == {"amount": 1000, "currency": "USD"}
    assert part.get_json()["refund"]["status"] == "succeeded"
    assert part.get_json()["order"]["status"] == "partially_refunded"
    assert rest.status_code == 201
    assert rest.get_json()["refund"]["amount"]["amount"] == 2600
    assert rest.get_json()["order"]["status"] == "refunded"
    uow = container.new_uow()
    with uow:
        entries = list(uow.audit.all())
    assert verify_chain(entries) == (True, None)
    assert any(e.action == "refund.succeeded" for e in entries)


def test_a_refund_accepts_money_in_the_orders_currency_only(
    shopper: Shopper, admin: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug)

    euros = admin.post(
        REFUND, {"order_id": order["id"], "amount": {"amount": 100, "currency": "EUR"}}, key="e"
    )
    dollars = admin.post(
        REFUND, {"order_id": order["id"], "amount": {"amount": 100, "currency": "USD"}}, key="d"
    )

    assert assert_problem(euros, 422, "validation_error")["errors"][0]["field"] == "amount"
    assert dollars.status_code == 201


def test_refunding_more_than_was_captured_is_422(
    shopper: Shopper, admin: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug)  # 1800

    response = admin.post(REFUND, {"order_id": order["id"], "amount": 1801}, key="too-much")

    assert_problem(response, 422, "refund_exceeds_captured")
    assert shopper.order(order["id"])["refunds"] == []


def test_a_replayed_refund_key_refunds_once(
    shopper: Shopper, admin: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug)

    first = admin.post(REFUND, {"order_id": order["id"], "amount": 500}, key="same")
    again = admin.post(REFUND, {"order_id": order["id"], "amount": 500}, key="same")

    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    refunds = shopper.order(order["id"])["refunds"]
    assert len(refunds) == 1


def test_a_customer_cannot_refund_even_their_own_order(shopper: Shopper, catalog: Catalog) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug)

    response = shopper.post(REFUND, {"order_id": order["id"]}, key="mine")

    assert_problem(response, 403, "forbidden")
    assert shopper.order(order["id"])["status"] == "paid"


def test_refunds_need_a_session_and_an_idempotency_key(
    admin: Shopper, new_shopper: Any, catalog: Catalog
) -> None:
    stranger = new_shopper()

    anonymous = stranger.post(REFUND, {"order_id": "ord_x"}, key="k")
    keyless = admin.post(REFUND, {"order_id": "ord_x"})

    assert_problem(anonymous, 401, "unauthenticated")
    assert_problem(keyless, 400, "idempotency_key_required")


def test_refund_amounts_must_be_integers_of_minor_units(
    shopper: Shopper, admin: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug)

    for amount in (10.5, "10.50", True, {"amount": 1.5, "currency": "USD"}):
        response = admin.post(REFUND, {"order_id": order["id"], "amount": amount}, key=repr(amount))
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["field"].startswith("amount")


def _event(intent_id: str, amount: int) -> bytes:
    return json.dumps(
        {
            "id": "evt_test_1",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "livemode": False,
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": amount,
                    "currency": "usd",
                    "status": "succeeded",
                }
            },
        }
    ).encode()


def _deliver(client: FlaskClient, payload: bytes, secret: str) -> Any:
    header = sign_payload(payload, secret, int(time.time()))
    return client.post(
        "/api/payments/webhook",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing(
    shopper: Shopper, catalog: Catalog, app_client: FlaskClient
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)

    forged = _deliver(app_client, _event(intent["intent_id"], 1800), "whsec_not_ours")
    unsigned = app_client.post(
        "/api/payments/webhook",
        data=_event(intent["intent_id"], 1800),
        headers={"Content-Type": "application/json"},
    )

    assert_problem(forged, 400, "invalid_webhook")
    assert_problem(unsigned, 400, "invalid_webhook")
    order = shopper.order(intent["order_id"])
    assert order["status"] == "awaiting_payment"


def test_the_webhook_accepts_events_larger_than_the_api_body_limit(
    app_client: FlaskClient,
) -> None:
    payload = _event("pi_unknown", 1800).replace(
        b'"livemode"', b'"padding": "' + b"x" * 100_000 + b'", "livemode"'
    )

    response = _deliver(app_client, payload, WEBHOOK_SECRET)

    assert response.status_code == 200  # not 413: gateway events may exceed 64 KiB
    assert response.get_json() == {"status": "ignored"}  # an intent we do not know


def test_a_signed_webhook_pays_the_order_once_and_a_redelivery_is_a_duplicate(
    shopper: Shopper, catalog: Catalog, app_client: FlaskClient
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    payload = _event(intent["intent_id"], 1800)

    first = _deliver(app_client, payload, WEBHOOK_SECRET)
    second = _deliver(app_client, payload, WEBHOOK_SECRET)

    assert first.get_json() == {"status": "processed"}
    assert second.get_json() == {"status": "duplicate"}
    order = shopper.order(intent["order_id"])
    assert order["status"] == "paid"


def test_a_signed_webhook_with_the_wrong_amount_is_rejected_and_pays_nothing(
    shopper: Shopper, catalog: Catalog, app_client: FlaskClient
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)

    response = _deliver(app_client, _event(intent["intent_id"], 1), WEBHOOK_SECRET)

    assert response.get_json() == {"status": "rejected"}
    order = shopper.order(intent["order_id"])
    assert order["status"] == "awaiting_payment"


def test_the_webhook_reads_events_the_fake_gateway_signed(
    shopper: Shopper, catalog: Catalog, gateway: FakeStripeGateway, app_client: FlaskClient
) -> None:
    shopper.register()
    shopper.buy(catalog.mug)

    response = deliver_gateway_event(app_client, gateway, "payment_intent.succeeded")

    # The confirm call already settled the order: the event changes nothing.
    assert response.get_json() == {"status": "ignored"}
