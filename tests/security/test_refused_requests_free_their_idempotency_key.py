"""A request refused or crashed before any effect frees its Idempotency-Key.

A client that fixes its request and retries with the same key - as the IETF draft tells it to -
must get its payment or refund, not ``idempotency_in_progress`` for the lease's length nor
``idempotency_key_reused`` forever. Refusals at the edge (the body, its media type, its size)
never claim the key; refusals by the core give it back; and so does a crash before the effect
(here a real one: the database driver refusing a lone surrogate), on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import TestResponse

from commerce_core import (
    CartItem,
    ConfirmOrder,
    ConfirmOutcome,
    CreateCheckoutIntent,
    IntentOutcome,
    RefundOrder,
    RefundOutcome,
    confirm_order,
    create_checkout_intent,
    refund_order,
)
from tests.security.conftest import SecurityShop
from tests.webapp.browser import Shopper

CONFIRM = "/api/checkout/confirm"
REFUND = "/api/payments/refund"
# Cannot be encoded for any database driver: the claim of the key succeeds, the lookup crashes.
UNENCODABLE = "\ud800"

Send = Callable[[Shopper, str, dict[str, Any]], TestResponse]


def _json(
    browser: Shopper, path: str, key: str, body: bytes, content_type: str = "application/json"
) -> TestResponse:
    headers = {"X-CSRF-Token": browser.csrf(), "Idempotency-Key": key}
    return browser.client.post(path, data=body, headers=headers, content_type=content_type)


# What each refusal sends (with the key under test) and the answer it gets - its own answer,
# never an idempotency_* one, which would mean an earlier refusal kept the key.
CONFIRM_REFUSALS: list[tuple[str, Callable[[str], bytes], str, int, str]] = [
    ("NUL in intent_id", lambda i: b'{"intent_id": "pi\\u0000"}', "application/json", 422,
     "validation_error"),
    ("lone surrogate in intent_id", lambda i: b'{"intent_id": "\\ud800"}', "application/json",
     422, "validation_error"),
    ("malformed JSON", lambda i: b'{"intent_id": ', "application/json", 400, "malformed_json"),
    ("nested too deeply", lambda i: b"[" * 5000 + b"]" * 5000, "application/json", 400,
     "malformed_json"),
    ("not JSON", lambda i: b"intent_id=x", "text/plain", 415, "unsupported_media_type"),
    ("too large", lambda i: b'{"x": "' + b"x" * 70_000 + b'"}', "application/json", 413,
     "payload_too_large"),
    ("unknown intent", lambda i: b'{"intent_id": "pi_nobody", "payment_method": "pm_card_visa"}',
     "application/json", 404, "not_found"),
    ("a payment method the gateway does not know",
     lambda i: f'{{"intent_id": "{i}", "payment_method": "pm_no_such"}}'.encode(),
     "application/json", 422, "validation_error"),
]  # fmt: skip


def test_a_refused_confirm_frees_its_key(attack_shop: SecurityShop) -> None:
    browser = attack_shop.staff_browser()
    for name, body, content_type, status, code in CONFIRM_REFUSALS:
        intent_id = browser.intent(attack_shop.mug)["intent_id"]
        key = f"confirm-{secrets.token_hex(6)}"

        refused = _json(browser, CONFIRM, key, body(intent_id), content_type)
        assert refused.status_code == status, (name, refused.get_data(as_text=True))
        assert refused.get_json()["code"] == code, name

        paid = browser.confirm(intent_id, "pm_card_visa", key=key)
        assert paid.status_code == 201, (name, paid.get_data(as_text=True))
        assert paid.get_json()["order"]["status"] == "paid"
        assert "Idempotent-Replayed" not in paid.headers


REFUND_REFUSALS: list[tuple[str, Callable[[str], bytes], str, int, str]] = [
    ("NUL in reason", lambda o: f'{{"order_id": "{o}", "reason": "a\\u0000"}}'.encode(),
     "application/json", 422, "validation_error"),
    ("float amount", lambda o: f'{{"order_id": "{o}", "amount": 1.5}}'.encode(),
     "application/json", 422, "validation_error"),
    ("amount of 5000 digits", lambda o: f'{{"order_id": "{o}", "amount": {"9" * 5000}}}'.encode(),
     "application/json", 400, "malformed_json"),
    ("NaN amount", lambda o: f'{{"order_id": "{o}", "amount": NaN}}'.encode(),
     "application/json", 400, "malformed_json"),
    ("UTF-16 body", lambda o: f'{{"order_id": "{o}", "amount": 1}}'.encode("utf-16"),
     "application/json", 400, "malformed_json"),
    ("unknown order", lambda o: b'{"order_id": "ord_nobody", "amount": 1}', "application/json",
     404, "not_found"),
    ("more than was captured", lambda o: f'{{"order_id": "{o}", "amount": 10000000}}'.encode(),
     "application/json", 422, "refund_exceeds_captured"),
    ("another currency",
     lambda o: f'{{"order_id": "{o}", "amount": {{"amount": 1, "currency": "EUR"}}}}'.encode(),
     "application/json", 422, "validation_error"),
]  # fmt: skip


def test_a_refused_refund_frees_its_key(attack_shop: SecurityShop) -> None:
    browser = attack_shop.staff_browser()
    order_id = attack_shop.paid_order_id
    for name, body, content_type, status, code in REFUND_REFUSALS:
        key = f"refund-{secrets.token_hex(6)}"

        refused = _json(browser, REFUND, key, body(order_id), content_type)
        assert refused.status_code == status, (name, refused.get_data(as_text=True))
        assert refused.get_json()["code"] == code, name

        refunded = browser.post(REFUND, {"order_id": order_id, "amount": 100}, key=key)
        assert refunded.status_code == 201, (name, refunded.get_data(as_text=True))
        assert refunded.get_json()["refund"]["amount"] == {"amount": 100, "currency": "USD"}


def test_a_key_reused_for_another_request_is_still_refused(attack_shop: SecurityShop) -> None:
    """The other side: a key whose request took effect stays bound to that request."""
    browser = attack_shop.staff_browser()
    key = f"refund-{secrets.token_hex(6)}"
    first = browser.post(REFUND, {"order_id": attack_shop.paid_order_id, "amount": 100}, key=key)
    assert first.status_code == 201
    other = browser.post(REFUND, {"order_id": attack_shop.paid_order_id, "amount": 200}, key=key)
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"


# -- crashes before the effect, through the core's own API on the real database ---------------


def test_a_confirm_that_crashes_before_its_effect_frees_its_key(attack_shop: SecurityShop) -> None:
    ports = attack_shop.container.payment_ports
    intent_id = attack_shop.staff_browser().intent(attack_shop.mug)["intent_id"]
    key = f"confirm-{secrets.token_hex(6)}"
    with pytest.raises(UnicodeEncodeError):
        confirm_order(
            ConfirmOrder(attack_shop.staff_user_id, UNENCODABLE, "pm_card_visa", key), **ports()
        )
    paid = confirm_order(
        ConfirmOrder(attack_shop.staff_user_id, intent_id, "pm_card_visa", key), **ports()
    )
    assert paid.outcome is ConfirmOutcome.PAID
    assert not paid.replayed


def test_a_refund_that_crashes_before_its_effect_frees_its_key(attack_shop: SecurityShop) -> None:
    ports = attack_shop.container.payment_ports
    key = f"refund-{secrets.token_hex(6)}"
    with pytest.raises(UnicodeEncodeError):
        refund_order(RefundOrder(attack_shop.staff_user_id, UNENCODABLE, 100, key), **ports())
    refunded = refund_order(
        RefundOrder(attack_shop.staff_user_id, attack_shop.paid_order_id, 100, key), **ports()
    )
    assert refunded.outcome is RefundOutcome.SUCCEEDED
    assert not refunded.replayed


def test_an_intent_that_crashes_before_its_effect_frees_its_key(attack_shop: SecurityShop) -> None:
    ports = attack_shop.container.payment_ports
    key = f"intent-{secrets.token_hex(6)}"
    crashing = CreateCheckoutIntent(attack_shop.staff_user_id, (CartItem(UNENCODABLE, 1),), key)
    with pytest.raises(UnicodeEncodeError):
        create_checkout_intent(crashing, **ports())
    valid = CreateCheckoutIntent(attack_shop.staff_user_id, (CartItem(attack_shop.mug, 1),), key)
    created = create_checkout_intent(valid, **ports())
    assert created.outcome is IntentOutcome.CREATED
    assert not created.replayed
