"""``stripe_wire`` speaks Stripe byte for byte: headers we sign pass the official SDK's
``stripe.Webhook.construct_event``, headers the SDK makes pass our verifier, and the event JSON
we build is read by the SDK and translated by ``parse_event`` into the core's vocabulary."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from adapters.payments import stripe_wire
from commerce_core import EventKind, GatewayRefundStatus, IntentStatus, InvalidWebhook, Money

SECRET = "whsec_test_" + "s" * 32
T = 1_780_000_000  # a fixed signing time, with ``now=T`` given to the verifier


def _intent(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "intent_id": "pi_123",
        "amount": Money(4200, "USD"),
        "status": "succeeded",
        "client_secret": "pi_123_secret_abc",
        "order_id": "ord_1",
        "created": T,
        "payment_method": "pm_card_visa",
    }
    return stripe_wire.payment_intent_object(**{**fields, **overrides})


def _refund(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "refund_id": "re_1",
        "intent_id": "pi_123",
        "amount": Money(1200, "USD"),
        "status": "succeeded",
        "created": T,
        "idempotency_key": "refund-rf_1",
    }
    return stripe_wire.refund_object(**{**fields, **overrides})


def _body(event_type: str, data_object: dict[str, Any], event_id: str = "evt_1") -> bytes:
    return stripe_wire.encode_event(
        stripe_wire.event_object(
            event_id=event_id, event_type=event_type, data_object=data_object, created=T
        )
    )


# -- signatures: compatibility with the official SDK -------------------------------------------


def test_a_header_we_sign_passes_the_stripe_sdk() -> None:
    body = _body("payment_intent.succeeded", _intent())
    header = stripe_wire.sign_payload(body, SECRET, int(time.time()))
    event = stripe.Webhook.construct_event(body, header, SECRET)
    assert event.id == "evt_1"
    assert event.type == "payment_intent.succeeded"


def test_the_sdk_reads_our_objects_as_stripe_objects() -> None:
    body = _body(
        "payment_intent.payment_failed",
        _intent(
            status="requires_payment_method",
            decline_code="insufficient_funds",
            decline_message="Your card has insufficient funds.",
        ),
    )
    header = stripe_wire.sign_payload(body, SECRET, int(time.time()))
    intent = stripe.Webhook.construct_event(body, header, SECRET).data.object
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.amount, intent.currency, intent.status) == (
        4200,
        "usd",
        "requires_payment_method",
    )
    assert intent.metadata["order_id"] == "ord_1"
    assert intent.last_payment_error is not None
    assert intent.last_payment_error.decline_code == "insufficient_funds"


def test_a_non_ascii_body_signs_the_same_as_the_sdk() -> None:
    body = _body("payment_intent.succeeded", {**_intent(), "description": "Zoë's mug ☕"})
    ours = stripe_wire.sign_payload(body, SECRET, T)
    theirs = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, timestamp=T)
    assert ours == theirs
    stripe.Webhook.construct_event(
        body, stripe_wire.sign_payload(body, SECRET, int(time.time())), SECRET
    )


def test_a_header_the_sdk_generates_passes_our_verifier() -> None:
    body = _body("refund.created", _refund())
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET, timestamp=T)
    stripe_wire.verify_signature(body, header, SECRET, now=T + 10)


def test_a_signature_computed_with_the_sdk_internals_passes_our_verifier() -> None:
    body = _body("refund.created", _refund())
    # The SDK's own primitive, over the documented "<t>.<body>" string.
    signature = stripe.WebhookSignature._compute_signature(f"{T}.{body.decode()}", SECRET)
    stripe_wire.verify_signature(body, f"t={T},v1={signature}", SECRET, now=T)


def test_one_matching_signature_among_several_is_enough() -> None:
    # While a secret is rolled, Stripe sends one v1 per secret (and a v0 in test mode).
    body = _body("payment_intent.succeeded", _intent())
    good = stripe_wire.sign_payload(body, SECRET, T).split(",")[1]
    header = f"t={T},v1={'0' * 64},{good},v0=deadbeef"
    stripe_wire.verify_signature(body, header, SECRET, now=T)


def _earlier(header: str) -> str:
    return re.sub(r"t=(\d+)", lambda m: f"t={int(m[1]) - 1}", header)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, header: (body.replace(b"4200", b"4201"), header),
        lambda body, header: (body + b" ", header),
        lambda body, header: (body, _earlier(header)),
    ],
    ids=["amount-changed", "body-extended", "timestamp-changed"],
)
def test_a_tampered_body_or_header_is_refused_by_us_and_by_the_sdk(
    tamper: Callable[[bytes, str], tuple[bytes, str]],
) -> None:
    now = int(time.time())
    body = _body("payment_intent.succeeded", _intent())
    bad_body, bad_header = tamper(body, stripe_wire.sign_payload(body, SECRET, now))
    with pytest.raises(InvalidWebhook, match="no signature matches"):
        stripe_wire.verify_signature(bad_body, bad_header, SECRET, now=now)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(bad_body, bad_header, SECRET)


def test_a_wrong_secret_is_refused() -> None:
    body = _body("payment_intent.succeeded", _intent())
    header = stripe_wire.sign_payload(body, "whsec_other", T)
    with pytest.raises(InvalidWebhook, match="no signature matches"):
        stripe_wire.verify_signature(body, header, SECRET, now=T)


@pytest.mark.parametrize("offset", [301, 3600, -301])
def test_a_timestamp_outside_the_tolerance_is_refused(offset: int) -> None:
    body = _body("payment_intent.succeeded", _intent())
    header = stripe_wire.sign_payload(body, SECRET, T)
    with pytest.raises(InvalidWebhook, match="tolerance"):
        stripe_wire.verify_signature(body, header, SECRET, now=T + offset)


def test_a_stale_header_is_refused_by_the_sdk_too() -> None:
    body = _body("payment_intent.succeeded", _intent())
    stale = stripe_wire.sign_payload(body, SECRET, int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(body, stale, SECRET)
    with pytest.raises(InvalidWebhook, match="tolerance"):
        stripe_wire.verify_signature(body, stale, SECRET)


def test_the_edges_of_the_tolerance_are_accepted() -> None:
    body = _body("payment_intent.succeeded", _intent())
    header = stripe_wire.sign_payload(body, SECRET, T)
    stripe_wire.verify_signature(body, header, SECRET, now=T + 300)
    stripe_wire.verify_signature(body, header, SECRET, now=T - 300)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "malformed"),
        ("v1=abc", "timestamp"),
        ("t=abc,v1=abc", "timestamp"),
        ("t=-5,v1=abc", "timestamp"),
        (f"t={T},t={T},v1=abc", "timestamp"),
        (f"t={T}", "no v1"),
        (f"t={T},v0=abc", "no v1"),
    ],
)
def test_a_missing_or_malformed_header_is_refused(header: str | None, reason: str) -> None:
    with pytest.raises(InvalidWebhook, match=reason):
        stripe_wire.verify_signature(b"{}", header, SECRET, now=T)


def test_an_empty_secret_never_verifies() -> None:
    header = f"t={T},v1=" + stripe.WebhookSignature._compute_signature(f"{T}.{{}}", "")
    with pytest.raises(InvalidWebhook, match="secret"):
        stripe_wire.verify_signature(b"{}", header, "", now=T)


# -- event translation -------------------------------------------------------------------------


def test_a_succeeded_intent_event_is_a_payment_for_the_captured_amount() -> None:
    event = stripe_wire.parse_event(_body("payment_intent.succeeded", _intent()), "fake")
    assert event.kind is EventKind.PAYMENT_SUCCEEDED
    assert (event.id, event.gateway, event.intent_id) == ("evt_1", "fake", "pi_123")
    assert event.amount == Money(4200, "USD")
    assert event.raw_type == "payment_intent.succeeded"
    assert event.created_at == datetime.fromtimestamp(T, UTC)
    assert event.decline_code is None


def test_a_failed_payment_carries_the_issuers_decline_code() -> None:
    intent = _intent(
        status="requires_payment_method",
        decline_code="insufficient_funds",
        decline_message="Your card has insufficient funds.",
    )
    event = stripe_wire.parse_event(_body("payment_intent.payment_failed", intent), "fake")
    assert event.kind is EventKind.PAYMENT_FAILED
    assert event.decline_code == "insufficient_funds"
    assert intent["last_payment_error"]["code"] == "card_declined"


def test_without_a_decline_code_the_error_code_is_used() -> None:
    intent = _intent(status="requires_payment_method")
    intent["last_payment_error"] = {
        "type": "card_error",
        "code": "payment_intent_authentication_failure",
    }
    event = stripe_wire.parse_event(_body("payment_intent.payment_failed", intent), "fake")
    assert event.decline_code == "payment_intent_authentication_failure"


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("payment_intent.canceled", "canceled", EventKind.PAYMENT_CANCELED),
        ("payment_intent.requires_action", "requires_action", EventKind.PAYMENT_REQUIRES_ACTION),
    ],
)
def test_other_intent_events(event_type: str, status: str, kind: EventKind) -> None:
    event = stripe_wire.parse_event(_body(event_type, _intent(status=status)), "fake")
    assert (event.kind, event.intent_id, event.amount) == (kind, "pi_123", Money(4200, "USD"))


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("refund.created", "succeeded", EventKind.REFUND_SUCCEEDED),
        ("refund.created", "pending", EventKind.IGNORED),
        ("refund.updated", "succeeded", EventKind.REFUND_SUCCEEDED),
        ("refund.updated", "failed", EventKind.REFUND_FAILED),
        ("refund.updated", "canceled", EventKind.REFUND_FAILED),
        ("refund.failed", "failed", EventKind.REFUND_FAILED),
    ],
)
def test_refund_events_follow_the_refund_status(
    event_type: str, status: str, kind: EventKind
) -> None:
    event = stripe_wire.parse_event(_body(event_type, _refund(status=status)), "fake")
    assert event.kind is kind
    assert (event.intent_id, event.refund_id, event.refund_key) == ("pi_123", "re_1", "refund-rf_1")
    assert event.amount == Money(1200, "USD")


def test_a_refund_without_a_payment_intent_is_ignored_not_refused() -> None:
    refund = {**_refund(), "payment_intent": None, "charge": "ch_legacy"}
    event = stripe_wire.parse_event(_body("refund.created", refund), "fake")
    assert (event.kind, event.intent_id, event.refund_id) == (EventKind.IGNORED, None, "re_1")


def test_charge_refunded_is_translated_from_its_newest_refund() -> None:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_123",
        "amount": 4200,
        "amount_refunded": 2000,
        "currency": "usd",
        "refunds": {
            "object": "list",
            "data": [_refund(refund_id="re_2", amount=Money(800, "USD")), _refund()],
        },
    }
    event = stripe_wire.parse_event(_body("charge.refunded", charge), "fake")
    assert (event.kind, event.refund_id, event.amount) == (
        EventKind.REFUND_SUCCEEDED,
        "re_2",
        Money(800, "USD"),
    )


def test_charge_refunded_without_embedded_refunds_is_ignored() -> None:
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_123", "currency": "usd"}
    event = stripe_wire.parse_event(_body("charge.refunded", charge), "fake")
    assert (event.kind, event.intent_id) == (EventKind.IGNORED, "pi_123")


def test_an_unknown_event_type_is_ignored_whatever_its_object() -> None:
    event = stripe_wire.parse_event(_body("customer.created", {"object": "customer"}), "fake")
    assert (event.kind, event.raw_type, event.intent_id) == (
        EventKind.IGNORED,
        "customer.created",
        None,
    )


@pytest.mark.parametrize(
    ("stripe_amount", "currency", "money"),
    [
        (500, "jpy", Money(500, "JPY")),  # zero-decimal
        (5120, "kwd", Money(5120, "KWD")),  # three-decimal
        (1999, "usd", Money(1999, "USD")),
        (500, "isk", Money(5, "ISK")),  # ISO zero-decimal, two-decimal in Stripe's API
    ],
)
def test_amounts_become_money_in_minor_units(
    stripe_amount: int, currency: str, money: Money
) -> None:
    assert stripe_wire.money_from_stripe(stripe_amount, currency) == money
    assert stripe_wire.to_stripe_amount(money) == stripe_amount


def test_a_fractional_isk_amount_is_refused() -> None:
    with pytest.raises(InvalidWebhook, match="whole number"):
        stripe_wire.money_from_stripe(550, "isk")


def _mutated(change: Callable[[dict[str, Any]], object]) -> bytes:
    document = json.loads(_body("payment_intent.succeeded", _intent()))
    change(document)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"object": "event"}',
        _mutated(lambda d: d.update(object="payment_intent")),
        _mutated(lambda d: d.update(created="yesterday")),
        _mutated(lambda d: d.update(created=True)),
        _mutated(lambda d: d.update(data={"object": None})),
        _mutated(lambda d: d["data"]["object"].update(amount="4200")),
        _mutated(lambda d: d["data"]["object"].update(amount_received=42.0)),
        _mutated(lambda d: d["data"]["object"].update(amount_received=True)),
        _mutated(lambda d: d["data"]["object"].update(currency="xyz")),
        _mutated(lambda d: d["data"]["object"].update(currency=None)),
        _mutated(lambda d: d["data"]["object"].update(id=7)),
        _mutated(lambda d: d["data"]["object"].update(object="refund")),
    ],
)
def test_a_malformed_event_is_invalid(payload: bytes) -> None:
    with pytest.raises(InvalidWebhook):
        stripe_wire.parse_event(payload, "fake")


def test_stripe_objects_translate_to_core_values() -> None:
    intent = stripe_wire.payment_intent_from_object(
        _intent(
            status="requires_payment_method", decline_code="card_declined", decline_message="no"
        )
    )
    assert intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD
    assert intent.declined
    assert (intent.decline_code, intent.decline_message) == ("card_declined", "no")
    refund = stripe_wire.refund_from_object(_refund(status="pending"))
    assert refund.status is GatewayRefundStatus.PENDING
    assert refund.amount == Money(1200, "USD")
