"""A test browser for the JSON API, and assertions on its answers."""

from __future__ import annotations

import secrets
from typing import Any, cast

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.payments.fake_gateway import FakeStripeGateway
from tests.support.shipping import shipped

PASSWORD = "a long enough passphrase"


class Shopper:
    """A browser: its own cookie jar, and the CSRF header on every unsafe request."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self) -> str:
        cookie = self.client.get_cookie("csrf_token")
        if cookie is not None:
            return cookie.value
        return cast(str, self.client.get("/api/auth/csrf").get_json()["csrf_token"])

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        sent = {"X-CSRF-Token": self.csrf(), **(headers or {})}
        if key is not None:
            sent["Idempotency-Key"] = key
        return self.client.post(path, json=body, headers=sent)

    def register(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        email = email or f"shopper-{secrets.token_hex(4)}@example.com"
        response = self.post(
            "/api/auth/register", {"email": email, "password": password, "name": "Sam"}
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return cast(dict[str, Any], response.get_json()["user"])

    def log_in(self, email: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/api/auth/login", {"email": email, "password": password})

    def intent(self, product_id: str, quantity: int = 1) -> dict[str, Any]:
        response = self.post(
            "/api/checkout/intent",
            shipped({"items": [{"product_id": product_id, "quantity": quantity}]}),
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return cast(dict[str, Any], response.get_json())

    def confirm(self, intent_id: str, payment_method: str, key: str | None = None) -> TestResponse:
        return self.post(
            "/api/checkout/confirm",
            {"intent_id": intent_id, "payment_method": payment_method},
            key=key or f"confirm-{secrets.token_hex(6)}",
        )

    def order(self, order_id: str) -> dict[str, Any]:
        """The order as its owner sees it now."""
        return cast(dict[str, Any], self.get(f"/api/orders/{order_id}").get_json()["order"])

    def buy(self, product_id: str, quantity: int = 1) -> dict[str, Any]:
        """A paid order."""
        intent = self.intent(product_id, quantity)
        response = self.confirm(intent["intent_id"], "pm_card_visa")
        assert response.status_code == 201, response.get_data(as_text=True)
        return cast(dict[str, Any], response.get_json()["order"])


def deliver_gateway_event(
    client: FlaskClient, gateway: FakeStripeGateway, event_type: str
) -> TestResponse:
    """Post to our webhook, signed as the gateway signs it, the one event of ``event_type``
    the fake gateway has emitted."""
    (event_id,) = gateway.event_ids(event_type)
    payload, headers = gateway.signed_event(event_id)
    return client.post("/api/payments/webhook", data=payload, headers=headers)


def assert_problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = cast(dict[str, Any], response.get_json())
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body
