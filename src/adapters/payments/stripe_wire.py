"""Stripe's wire format: webhook signatures, Stripe-shaped JSON objects, and event translation.

Pure functions over bytes and dicts (no SDK, no I/O), shared by the database-backed fake gateway
and by the real Stripe adapter, so both speak exactly what Stripe speaks:

- ``sign_payload`` / ``verify_signature``: the ``Stripe-Signature`` scheme,
  ``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. The tests prove that headers
  made here pass ``stripe.Webhook.construct_event`` and that the SDK's headers pass here.
- ``payment_intent_object`` / ``refund_object`` / ``event_object`` / ``encode_event``: the JSON
  Stripe sends (the subset of fields a shop reads).
- ``parse_event``: a verified body -> ``commerce_core.domain.payments.GatewayEvent``;
  ``payment_intent_from_object`` / ``refund_from_object``: Stripe objects -> core values.

Amounts are converted at this edge by ``to_stripe_amount``/``money_from_stripe``; Stripe's
special-cased currencies (ISK two-decimal in its API, three-decimal currencies whose last digit
must be 0, zero-decimal ones) are described in ``_stripe_objects``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from adapters.payments._stripe_objects import (
    API_VERSION,
    encode_event,
    event_object,
    money_from_stripe,
    payment_intent_object,
    refund_object,
    to_stripe_amount,
)
from commerce_core import (
    EventKind,
    GatewayEvent,
    GatewayRefund,
    GatewayRefundStatus,
    IntentStatus,
    InvalidWebhook,
    PaymentIntent,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "encode_event",
    "event_object",
    "money_from_stripe",
    "parse_event",
    "payment_intent_from_object",
    "payment_intent_object",
    "refund_from_object",
    "refund_object",
    "sign_payload",
    "to_stripe_amount",
    "verify_signature",
]

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE = 300  # seconds; Stripe's SDKs default to the same five minutes
# Unix seconds have 10 digits until the year 2286; thousands of digits are an attack on int().
_MAX_TIMESTAMP_DIGITS = 12


# -- signatures --------------------------------------------------------------------------------


def _hmac_hex(payload: bytes, secret: str, timestamp: int) -> str:
    # Stripe signs "<t>.<body>" with the whole secret string (``whsec_`` prefix included) as the
    # key. Working on bytes equals the SDK's str round trip for any UTF-8 body.
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value Stripe would send for ``payload`` at ``timestamp``.

    >>> sign_payload(b'{}', "whsec_test", 1700000000)[:13]
    't=1700000000,'
    """
    if not secret:
        raise ValueError("a webhook secret is required to sign")
    return f"t={timestamp},v1={_hmac_hex(payload, secret, timestamp)}"


def verify_signature(
    payload: bytes,
    header: str | None,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Raise ``InvalidWebhook`` unless ``header`` holds a valid ``v1`` signature of ``payload``
    made with ``secret`` whose timestamp is within ``tolerance`` seconds of ``now``.

    Several ``v1`` entries are allowed (Stripe sends one per active secret while a secret is
    being rolled); one match suffices. Unlike the SDK, a timestamp too far in the future is
    refused as well: a signed body is only ever replayable inside the tolerance window.
    """
    if not secret:
        # Failing closed: an empty key would accept signatures anybody can compute.
        raise InvalidWebhook("no webhook secret is configured")
    if tolerance <= 0:
        raise ValueError("tolerance must be a positive number of seconds")
    if not header:
        raise InvalidWebhook(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(header)
    if not signatures:
        raise InvalidWebhook(f"{SIGNATURE_HEADER} header has no v1 signature")
    expected = _hmac_hex(payload, secret, timestamp)
    matched = False
    for candidate in signatures:
        # compare_digest on every candidate: the time taken does not reveal how much matched.
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise InvalidWebhook("no signature matches the payload")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidWebhook(f"signature timestamp {timestamp} is outside the tolerance zone")


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise InvalidWebhook(f"malformed {SIGNATURE_HEADER} header")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
        # Other schemes (v0 in test mode, future ones) are ignored, as Stripe's SDKs do.
    if (
        len(timestamps) != 1
        or not timestamps[0].isascii()
        or not timestamps[0].isdigit()
        or len(timestamps[0]) > _MAX_TIMESTAMP_DIGITS
    ):
        raise InvalidWebhook(f"{SIGNATURE_HEADER} header needs exactly one numeric timestamp")
    return int(timestamps[0]), signatures


# -- reading Stripe objects --------------------------------------------------------------------


def _field(
    obj: Mapping[str, Any], key: str, kind: type, where: str, *, optional: bool = False
) -> Any:
    value = obj.get(key)
    if value is None and optional:
        return None
    # ``type(...) is`` rather than isinstance: JSON true must not pass for an integer amount.
    if type(value) is not kind:
        raise InvalidWebhook(f"{where}.{key} must be a {kind.__name__}, got {value!r}")
    return value


def _object(obj: object, expected: str, where: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise InvalidWebhook(f"{where} must be an object")
    if obj.get("object") != expected:
        raise InvalidWebhook(f"{where} must be a {expected}, got {obj.get('object')!r}")
    return obj


def _decline_code(intent: Mapping[str, Any]) -> str | None:
    error = intent.get("last_payment_error")
    if error is None:
        return None
    if not isinstance(error, Mapping):
        raise InvalidWebhook("payment_intent.last_payment_error must be an object")
    # decline_code is the issuer's precise reason; code alone for e.g. authentication failures.
    code = error.get("decline_code") or error.get("code")
    if code is not None and not isinstance(code, str):
        raise InvalidWebhook("payment_intent.last_payment_error.code must be a string")
    return code


def payment_intent_from_object(obj: Mapping[str, Any]) -> PaymentIntent:
    """A Stripe ``payment_intent`` (dict or ``stripe.PaymentIntent``) -> ``PaymentIntent``."""
    intent = _object(obj, "payment_intent", "payment_intent")
    raw_status = _field(intent, "status", str, "payment_intent")
    try:
        status = IntentStatus(raw_status)
    except ValueError:
        raise InvalidWebhook(f"unsupported payment_intent status {raw_status!r}") from None
    error = intent.get("last_payment_error")
    return PaymentIntent(
        id=_field(intent, "id", str, "payment_intent"),
        status=status,
        amount=money_from_stripe(intent.get("amount"), intent.get("currency")),
        client_secret=_field(intent, "client_secret", str, "payment_intent"),
        decline_code=_decline_code(intent),
        decline_message=error.get("message") if isinstance(error, Mapping) else None,
    )


def refund_from_object(obj: Mapping[str, Any]) -> GatewayRefund:
    """A Stripe ``refund`` -> ``GatewayRefund`` (Stripe's ``canceled`` counts as failed)."""
    refund = _object(obj, "refund", "refund")
    raw_status = _field(refund, "status", str, "refund")
    status = _REFUND_STATUSES.get(raw_status)
    if status is None:
        raise InvalidWebhook(f"unsupported refund status {raw_status!r}")
    return GatewayRefund(
        id=_field(refund, "id", str, "refund"),
        intent_id=_field(refund, "payment_intent", str, "refund"),
        amount=money_from_stripe(refund.get("amount"), refund.get("currency")),
        status=status,
    )


_REFUND_STATUSES = {
    "pending": GatewayRefundStatus.PENDING,
    "requires_action": GatewayRefundStatus.PENDING,
    "succeeded": GatewayRefundStatus.SUCCEEDED,
    "failed": GatewayRefundStatus.FAILED,
    "canceled": GatewayRefundStatus.FAILED,
}

_INTENT_EVENTS = {
    "payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
    "payment_intent.canceled": EventKind.PAYMENT_CANCELED,
    "payment_intent.requires_action": EventKind.PAYMENT_REQUIRES_ACTION,
}
_REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
_DISPUTE_EVENTS = {
    "charge.dispute.created": EventKind.DISPUTE_OPENED,
    "charge.dispute.closed": EventKind.DISPUTE_CLOSED,
}


def parse_event(payload: bytes, gateway_name: str) -> GatewayEvent:
    """Translate a (verified) Stripe event body into the core's ``GatewayEvent``.

    Types the shop does not act on become ``EventKind.IGNORED`` (still a valid event, so the
    endpoint answers 2xx and Stripe stops retrying); a body that is not a well-formed event of a
    known type raises ``InvalidWebhook``.
    """
    try:
        document = json.loads(payload)
    except RecursionError:
        raise InvalidWebhook("webhook body is nested too deeply") from None
    except ValueError as exc:  # not UTF-8, not JSON, or a number of too many digits
        raise InvalidWebhook(f"webhook body is not JSON: {exc}") from None
    event = _object(document, "event", "body")
    event_id = _field(event, "id", str, "event")
    event_type = _field(event, "type", str, "event")
    created = _field(event, "created", int, "event")
    data = event.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("object"), Mapping):
        raise InvalidWebhook("event.data.object must be an object")
    try:
        created_at = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidWebhook(f"event.created {created} is not a time") from None
    base = GatewayEvent(
        id=event_id,
        kind=EventKind.IGNORED,
        gateway=gateway_name,
        intent_id=None,
        created_at=created_at,
        raw_type=event_type,
    )
    obj: Mapping[str, Any] = data["object"]
    if event_type in _INTENT_EVENTS:
        return _intent_event(base, _INTENT_EVENTS[event_type], obj)
    if event_type in _REFUND_EVENTS:
        return _refund_event(base, obj, failed=event_type == "refund.failed")
    if event_type == "charge.refunded":
        return _charge_refunded(base, obj)
    if event_type in _DISPUTE_EVENTS:
        return _dispute_event(base, _DISPUTE_EVENTS[event_type], obj)
    return base


def _dispute_event(base: GatewayEvent, kind: EventKind, obj: Mapping[str, Any]) -> GatewayEvent:
    dispute = _object(obj, "dispute", "event.data.object")
    status = _field(dispute, "status", str, "dispute")
    return attrs.evolve(
        base,
        kind=kind,
        intent_id=_field(dispute, "payment_intent", str, "dispute", optional=True),
        amount=money_from_stripe(dispute.get("amount"), dispute.get("currency")),
        # won, lost, needs_response ...: what the handler tells staff.
        decline_code=status,
    )


def _intent_event(base: GatewayEvent, kind: EventKind, obj: Mapping[str, Any]) -> GatewayEvent:
    intent = _object(obj, "payment_intent", "event.data.object")
    amount = money_from_stripe(intent.get("amount"), intent.get("currency"))
    if kind is EventKind.PAYMENT_SUCCEEDED and intent.get("amount_received") is not None:
        # What was captured is what the order is paid with (the handler compares it).
        amount = money_from_stripe(intent.get("amount_received"), intent.get("currency"))
    return attrs.evolve(
        base,
        kind=kind,
        intent_id=_field(intent, "id", str, "payment_intent"),
        amount=amount,
        decline_code=_decline_code(intent) if kind is EventKind.PAYMENT_FAILED else None,
    )


def _refund_event(base: GatewayEvent, obj: Mapping[str, Any], *, failed: bool) -> GatewayEvent:
    if (
        isinstance(obj, Mapping)
        and obj.get("object") == "refund"
        and obj.get("payment_intent") is None
    ):
        # A refund of a charge made without a PaymentIntent: not one of ours (we only create
        # intents), but a valid event that must be acknowledged, not refused.
        return attrs.evolve(base, refund_id=_field(obj, "id", str, "refund"))
    refund = refund_from_object(obj)
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise InvalidWebhook("refund.metadata must be an object")
    key = metadata.get("idempotency_key")
    if failed or refund.status is GatewayRefundStatus.FAILED:
        kind = EventKind.REFUND_FAILED
    elif refund.status is GatewayRefundStatus.SUCCEEDED:
        kind = EventKind.REFUND_SUCCEEDED
    else:
        kind = EventKind.IGNORED  # pending: a later refund.updated brings the outcome
    return attrs.evolve(
        base,
        kind=kind,
        intent_id=refund.intent_id,
        amount=refund.amount,
        refund_id=refund.id,
        refund_key=key if isinstance(key, str) else None,
    )


def _charge_refunded(base: GatewayEvent, obj: Mapping[str, Any]) -> GatewayEvent:
    charge = _object(obj, "charge", "event.data.object")
    intent_id = _field(charge, "payment_intent", str, "charge", optional=True)
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, Mapping) else None
    if not listed or not isinstance(listed, list):
        # Since API version 2022-11-15 a charge no longer embeds its refunds; the refund.*
        # events carry them, so a bare charge.refunded has nothing to identify a refund by.
        return attrs.evolve(base, intent_id=intent_id)
    # Stripe lists newest first: the refund that caused this event.
    return _refund_event(base, listed[0], failed=False)
