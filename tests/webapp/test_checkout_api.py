"""Checkout over HTTP: intent, confirm, declines, 3-D Secure and idempotent replays."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from adapters.payments.fake_gateway import FakeStripeGateway
from tests.support.shipping import shipped
from tests.webapp.browser import Shopper, assert_problem, deliver_gateway_event
from tests.webapp.conftest import Catalog


def test_a_shopper_registers_pays_and_the_order_is_paid_with_its_stock_taken(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()
    csrf = shopper.client.get("/api/auth/csrf")
    assert csrf.status_code == 200

    intent = shopper.intent(catalog.mug, quantity=2)
    assert intent["amount"] == {"amount": 3600, "currency": "USD"}
    assert intent["status"] == "awaiting_payment"
    assert intent["client_secret"]
    assert stock("mug") == 3  # held

    confirmed = shopper.confirm(intent["intent_id"], "pm_card_visa")

    assert confirmed.status_code == 201
    order = confirmed.get_json()["order"]
    assert order["id"] == intent["order_id"]
    assert order["status"] == "paid"
    assert order["amount_captured"] == {"amount": 3600, "currency": "USD"}
    assert stock("mug") == 3  # taken once, not twice
    assert shopper.order(order["id"])["status"] == "paid"


def test_a_declined_card_answers_402_with_the_decline_code_and_gives_the_stock_back(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug, quantity=2)

    response = shopper.confirm(intent["intent_id"], "pm_card_chargeDeclined")

    problem = assert_problem(response, 402, "payment_declined")
    assert problem["decline_code"] == "card_declined"
    assert problem["order_id"] == intent["order_id"]
    assert stock("mug") == 5
    order = shopper.order(intent["order_id"])
    assert order["status"] == "payment_failed"


def test_a_card_needing_3d_secure_answers_202_and_the_webhook_then_marks_it_paid(
    shopper: Shopper, catalog: Catalog, gateway: FakeStripeGateway, app_client: FlaskClient
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)

    response = shopper.confirm(intent["intent_id"], "pm_card_threeDSecure2Required")

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "requires_action"
    assert body["client_secret"]
    assert body["order"]["status"] == "awaiting_payment"

    # The shopper passes the challenge on the gateway's page; the gateway tells us by webhook.
    gateway.authenticate(intent["intent_id"])
    delivered = deliver_gateway_event(app_client, gateway, "payment_intent.succeeded")

    assert delivered.status_code == 200
    assert delivered.get_json() == {"status": "processed"}
    order = shopper.order(intent["order_id"])
    assert order["status"] == "paid"


def test_a_second_confirm_with_the_same_key_replays_the_first_response(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)

    first = shopper.confirm(intent["intent_id"], "pm_card_visa", key="key-1")
    again = shopper.confirm(intent["intent_id"], "pm_card_visa", key="key-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert stock("mug") == 4


def test_a_replayed_decline_is_the_same_402_problem(shopper: Shopper, catalog: Catalog) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)

    first = shopper.confirm(intent["intent_id"], "pm_card_chargeDeclined", key="key-d")
    again = shopper.confirm(intent["intent_id"], "pm_card_chargeDeclined", key="key-d")

    assert (first.status_code, again.status_code) == (402, 402)
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_request_is_refused_422(
    shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    assert shopper.confirm(intent["intent_id"], "pm_card_visa", key="key-2").status_code == 201

    reused = shopper.confirm(intent["intent_id"], "pm_card_mastercard", key="key-2")

    assert_problem(reused, 422, "idempotency_key_reused")


def test_confirm_without_an_idempotency_key_is_refused_and_charges_nothing(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)

    response = shopper.post(
        "/api/checkout/confirm",
        {"intent_id": intent["intent_id"], "payment_method": "pm_card_visa"},
    )

    assert_problem(response, 400, "idempotency_key_required")
    order = shopper.order(intent["order_id"])
    assert order["status"] == "awaiting_payment"


def test_an_intent_with_an_idempotency_key_is_created_once(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()
    body = shipped({"items": [{"product_id": catalog.mug, "quantity": 1}]})

    first = shopper.post("/api/checkout/intent", body, key="cart-1")
    again = shopper.post("/api/checkout/intent", body, key="cart-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stock("mug") == 4


def test_client_sent_prices_and_totals_are_ignored(shopper: Shopper, catalog: Catalog) -> None:
    shopper.register()
    response = shopper.post(
        "/api/checkout/intent",
        shipped(
            {
                "items": [{"product_id": catalog.mug, "quantity": 1, "price": 1}],
                "total": {"amount": 1, "currency": "USD"},
            }
        ),
    )

    assert response.status_code == 201
    assert response.get_json()["amount"] == {"amount": 1800, "currency": "USD"}


def test_more_than_the_stock_is_409_out_of_stock_and_holds_nothing(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()

    response = shopper.post(
        "/api/checkout/intent",
        shipped(
            {
                "items": [
                    {"product_id": catalog.mug, "quantity": 1},
                    {"product_id": catalog.lamp, "quantity": 2},
                ]
            }
        ),
    )

    problem = assert_problem(response, 409, "out_of_stock")
    assert problem["product_ids"] == [catalog.lamp]
    assert (stock("mug"), stock("lamp")) == (5, 1)
    assert shopper.get("/api/orders").get_json()["total"] == 0


def test_invalid_carts_are_422_with_every_field_error_and_change_nothing(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()

    response = shopper.post(
        "/api/checkout/intent",
        shipped(
            {
                "items": [
                    {"product_id": catalog.mug, "quantity": 1.0},
                    {"product_id": catalog.mug, "quantity": "2"},
                    {"product_id": 7, "quantity": True},
                    "mug",
                ]
            }
        ),
    )

    problem = assert_problem(response, 422, "validation_error")
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {
        "items[0].quantity",
        "items[1].quantity",
        "items[2].product_id",
        "items[2].quantity",
        "items[3]",
    }
    assert stock("mug") == 5


def test_quantities_out_of_range_are_422_from_the_core(shopper: Shopper, catalog: Catalog) -> None:
    shopper.register()

    zero = shopper.post(
        "/api/checkout/intent", shipped({"items": [{"product_id": catalog.mug, "quantity": 0}]})
    )
    empty = shopper.post("/api/checkout/intent", shipped({"items": []}))
    unknown = shopper.post(
        "/api/checkout/intent", shipped({"items": [{"product_id": "prod_nope", "quantity": 1}]})
    )

    assert assert_problem(zero, 422, "validation_error")["errors"][0]["field"] == (
        "items[0].quantity"
    )
    assert assert_problem(empty, 422, "validation_error")["errors"][0]["field"] == "items"
    assert_problem(unknown, 422, "validation_error")


def test_confirming_someone_elses_intent_is_404(
    shopper: Shopper, new_shopper: Any, catalog: Catalog
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    thief = new_shopper()
    thief.register()

    response = thief.confirm(intent["intent_id"], "pm_card_visa")

    assert_problem(response, 404, "not_found")


def test_confirming_a_failed_order_again_is_409_order_not_payable(
    shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)
    assert shopper.confirm(intent["intent_id"], "pm_card_chargeDeclined").status_code == 402

    response = shopper.confirm(intent["intent_id"], "pm_card_visa")

    assert_problem(response, 409, "order_not_payable")


def test_checkout_needs_a_signed_in_shopper(shopper: Shopper, catalog: Catalog) -> None:
    shopper.csrf()

    response = shopper.post(
        "/api/checkout/intent", {"items": [{"product_id": catalog.mug, "quantity": 1}]}
    )

    assert_problem(response, 401, "unauthenticated")
