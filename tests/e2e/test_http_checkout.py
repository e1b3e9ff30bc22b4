"""End to end over HTTP against a real gunicorn server: the happy path and the main failure paths."""

from __future__ import annotations

import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from adapters.payments.stripe_wire import sign_payload
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, WEBHOOK_SECRET, Shop
from tests.support.shipping import shipped

pytestmark = pytest.mark.e2e


class Client:
    """A shopper's browser-like session: cookies plus the CSRF header on every unsafe request."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.http = requests.Session()

    def csrf(self) -> str:
        return (
            self.http.cookies.get("csrf_token") or self.get("/api/auth/csrf").json()["csrf_token"]
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.shop.url(path), timeout=10, **kw)

    def post(
        self, path: str, body: Any = None, *, key: str | None = None, **kw: Any
    ) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf(), **kw.pop("headers", {})}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.http.post(self.shop.url(path), json=body, headers=headers, timeout=10, **kw)

    def register(self) -> dict[str, Any]:
        email = f"shopper-{secrets.token_hex(4)}@example.com"
        response = self.post(
            "/api/auth/register", {"email": email, "password": "a long passphrase", "name": "Sam"}
        )
        assert response.status_code == 201, response.text
        return response.json()["user"]


def _product(client: Client, *, min_stock: int = 5) -> dict[str, Any]:
    items = client.get("/api/products?per_page=100").json()["items"]
    return max((p for p in items if p["stock"] >= min_stock), key=lambda p: p["stock"])


def _stock(client: Client, slug: str) -> int:
    # Each worker keeps catalog answers for a second, keyed by path and query string; a query
    # string of its own makes this read go to the database, so it sees the stock as it is now.
    fresh = secrets.token_hex(4)
    return int(client.get(f"/api/products/{slug}?fresh={fresh}").json()["stock"])


def _intent(client: Client, product: dict[str, Any], quantity: int = 1) -> dict[str, Any]:
    response = client.post(
        "/api/checkout/intent",
        shipped({"items": [{"product_id": product["id"], "quantity": quantity}]}),
    )
    assert response.status_code == 201, response.text
    return response.json()


def _problem(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


def test_a_shopper_registers_pays_and_sees_the_paid_order(shop: Shop) -> None:
    client = Client(shop)
    client.register()
    product = _product(client)
    before = _stock(client, product["slug"])

    intent = _intent(client, product, quantity=2)
    assert intent["subtotal"] == {
        "amount": product["price"]["amount"] * 2,
        "currency": product["price"]["currency"],
    }
    charges = intent["subtotal"]["amount"] + intent["shipping"]["amount"]
    assert intent["amount"]["amount"] == charges + intent["tax"]["amount"]
    assert _stock(client, product["slug"]) == before - 2  # held

    confirmed = client.post(
        "/api/checkout/confirm",
        {"intent_id": intent["intent_id"], "payment_method": "pm_card_visa"},
        key="k-" + secrets.token_hex(6),
    )
    assert confirmed.status_code == 201, confirmed.text
    order = confirmed.json()["order"]
    assert order["status"] == "paid"
    assert order["id"] == intent["order_id"]
    assert confirmed.headers["X-Request-ID"]

    orders = client.get("/api/orders").json()
    assert [o["id"] for o in orders["items"]] == [order["id"]]
    assert orders["total"] == 1
    assert client.get(f"/api/orders/{order['id']}").json()["order"]["status"] == "paid"
    assert _stock(client, product["slug"]) == before - 2  # taken, once


def test_a_declined_card_answers_402_and_gives_the_stock_back(shop: Shop) -> None:
    client = Client(shop)
    client.register()
    product = _product(client)
    before = _stock(client, product["slug"])
    intent = _intent(client, product)
    response = client.post(
        "/api/checkout/confirm",
        {"intent_id": intent["intent_id"], "payment_method": "pm_card_chargeDeclined"},
        key="k-" + secrets.token_hex(6),
    )
    problem = _problem(response, 402, "payment_declined")
    assert problem["decline_code"] == "card_declined"
    assert _stock(client, product["slug"]) == before
    assert (
        client.get(f"/api/orders/{intent['order_id']}").json()["order"]["status"]
        == "payment_failed"
    )


def test_a_replayed_key_returns_the_first_response_and_a_reused_key_is_refused(shop: Shop) -> None:
    client = Client(shop)
    client.register()
    intent = _intent(client, _product(client))
    key = "k-" + secrets.token_hex(6)
    body = {"intent_id": intent["intent_id"], "payment_method": "pm_card_visa"}
    first = client.post("/api/checkout/confirm", body, key=key)
    again = client.post("/api/checkout/confirm", body, key=key)
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    other = client.post(
        "/api/checkout/confirm", {**body, "payment_method": "pm_card_mastercard"}, key=key
    )
    _problem(other, 422, "idempotency_key_reused")


def test_state_changes_without_a_valid_csrf_token_are_refused(shop: Shop) -> None:
    client = Client(shop)
    client.register()
    product = _product(client)
    body = shipped({"items": [{"product_id": product["id"], "quantity": 1}]})
    missing = client.http.post(shop.url("/api/checkout/intent"), json=body, timeout=10)
    _problem(missing, 403, "csrf_failed")
    forged = client.http.post(
        shop.url("/api/checkout/intent"), json=body, headers={"X-CSRF-Token": "x.y"}, timeout=10
    )
    _problem(forged, 403, "csrf_failed")
    # A token minted for another session does not pass either.
    other = Client(shop)
    foreign = client.http.post(
        shop.url("/api/checkout/intent"),
        json=body,
        headers={"X-CSRF-Token": other.csrf()},
        timeout=10,
    )
    _problem(foreign, 403, "csrf_failed")


def test_bad_input_gets_a_problem_and_changes_nothing(shop: Shop) -> None:
    client = Client(shop)
    client.register()
    product = _product(client)
    before = _stock(client, product["slug"])
    bad = client.post(
        "/api/checkout/intent", shipped({"items": [{"product_id": product["id"], "quantity": 0}]})
    )
    problem = _problem(bad, 422, "validation_error")
    assert problem["errors"]
    assert all({"field", "message"} <= set(e) for e in problem["errors"])
    text = client.http.post(
        shop.url("/api/checkout/intent"),
        data="items=1",
        headers={"Content-Type": "text/plain", "X-CSRF-Token": client.csrf()},
        timeout=10,
    )
    _problem(text, 415, "unsupported_media_type")
    too_many = client.post(
        "/api/checkout/intent",
        shipped({"items": [{"product_id": product["id"], "quantity": before + 1000}]}),
    )
    assert too_many.status_code in (409, 422)
    assert _stock(client, product["slug"]) == before
    assert client.get("/api/orders").json()["total"] == 0


def test_a_webhook_with_a_bad_signature_is_refused(shop: Shop) -> None:
    payload = json.dumps(
        {"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {}}}
    ).encode()
    header = sign_payload(payload, "whsec_not_the_secret", int(time.time()))
    response = requests.post(
        shop.url("/api/payments/webhook"),
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        timeout=10,
    )
    _problem(response, 400, "invalid_webhook")


def test_a_duplicate_webhook_is_acknowledged_and_ignored(shop: Shop) -> None:
    client = Client(shop)
    client.register()
    intent = _intent(client, _product(client))
    order = client.get(f"/api/orders/{intent['order_id']}").json()["order"]
    event = {
        "id": "evt_" + secrets.token_hex(8),
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": intent["intent_id"],
                "object": "payment_intent",
                "amount": order["total"]["amount"],
                "currency": order["total"]["currency"].lower(),
                "status": "succeeded",
                "metadata": {"order_id": order["id"]},
            }
        },
    }
    payload = json.dumps(event).encode()

    def deliver() -> requests.Response:
        header = sign_payload(payload, WEBHOOK_SECRET, int(time.time()))
        return requests.post(
            shop.url("/api/payments/webhook"),
            data=payload,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=10,
        )

    first, second = deliver(), deliver()
    assert first.status_code == 200, first.text
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert client.get(f"/api/orders/{order['id']}").json()["order"]["status"] == "paid"


def test_an_admin_refunds_part_of_an_order_but_never_more_than_captured(shop: Shop) -> None:
    shopper = Client(shop)
    shopper.register()
    intent = _intent(shopper, _product(shopper))
    paid = shopper.post(
        "/api/checkout/confirm",
        {"intent_id": intent["intent_id"], "payment_method": "pm_card_visa"},
        key="k-" + secrets.token_hex(6),
    ).json()["order"]
    total = paid["total"]["amount"]

    assert (
        shopper.post(
            "/api/payments/refund",
            {"order_id": paid["id"], "amount": 1},
            key="r-" + secrets.token_hex(6),
        ).status_code
        == 403
    )

    admin = Client(shop)
    login = admin.post("/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert login.status_code == 200, login.text
    part = admin.post(
        "/api/payments/refund",
        {"order_id": paid["id"], "amount": total - 100, "reason": "dented"},
        key="r-" + secrets.token_hex(6),
    )
    assert part.status_code == 201, part.text
    assert part.json()["order"]["status"] == "partially_refunded"
    too_much = admin.post(
        "/api/payments/refund",
        {"order_id": paid["id"], "amount": 101},
        key="r-" + secrets.token_hex(6),
    )
    _problem(too_much, 422, "refund_exceeds_captured")
    rest = admin.post(
        "/api/payments/refund", {"order_id": paid["id"]}, key="r-" + secrets.token_hex(6)
    )
    assert rest.status_code == 201, rest.text
    assert rest.json()["order"]["status"] == "refunded"
    assert rest.json()["refund"]["amount"]["amount"] == 100
    verify = shop.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_logout_ends_the_session_on_the_server(shop: Shop) -> None:
    client = Client(shop)
    client.register()
    stolen = dict(client.http.cookies)
    assert client.get("/api/auth/me").status_code == 200
    assert client.post("/api/auth/logout").status_code == 204
    replay = requests.get(shop.url("/api/auth/me"), cookies=stolen, timeout=10)
    _problem(replay, 401, "unauthenticated")


def test_health_and_readiness(shop: Shop) -> None:
    assert requests.get(shop.url("/healthz"), timeout=5).status_code == 200
    assert requests.get(shop.url("/readyz"), timeout=5).status_code == 200
    missing = requests.get(shop.url("/api/nope"), timeout=5)
    _problem(missing, 404, "not_found")


def test_a_burst_of_confirms_with_one_key_charges_once_and_answers_alike(shop: Shop) -> None:
    """Double clicks, from tabs of one session, racing through both server workers."""
    client = Client(shop)
    client.register()
    product = _product(client)
    before = _stock(client, product["slug"])
    intent = _intent(client, product, quantity=2)
    body = {"intent_id": intent["intent_id"], "payment_method": "pm_card_visa"}
    headers = {"X-CSRF-Token": client.csrf(), "Idempotency-Key": "k-" + secrets.token_hex(6)}
    barrier = threading.Barrier(8)

    def click(_: int) -> requests.Response:
        tab = requests.Session()
        tab.cookies.update(client.http.cookies)
        barrier.wait(timeout=10)
        return tab.post(shop.url("/api/checkout/confirm"), json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(click, range(8)))

    paid = [a for a in answers if a.status_code == 201]
    assert paid, [a.text for a in answers]
    assert all(a.json() == paid[0].json() for a in paid)
    for busy in (a for a in answers if a.status_code != 201):
        _problem(busy, 409, "idempotency_in_progress")
    assert paid[0].json()["order"]["status"] == "paid"
    assert _stock(client, product["slug"]) == before - 2
    assert client.get("/api/orders").json()["total"] == 1
