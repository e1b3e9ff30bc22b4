"""Building Stripe-shaped JSON (the objects and event envelopes Stripe sends) and Stripe amounts.

Public through ``adapters.payments.stripe_wire``; split out only to keep that module readable.

Amounts: Stripe amounts are integers in the currency's minor unit, which matches ISO 4217 and
our ``Money`` for almost every currency. The special cases (Stripe docs, "Supported currencies"):

- ISK is zero-decimal in ISO 4217 (and in ``Money``) but stays two-decimal in Stripe's API for
  backwards compatibility: 5 ISK is ``500`` there. ``to_stripe_amount``/``money_from_stripe``
  convert it; a Stripe ISK amount that is not a multiple of 100 is refused.
- HUF and TWD are two-decimal for charges (as in ISO); only their payouts are whole units, so
  no conversion here.
- Three-decimal currencies (BHD, JOD, KWD, OMR, TND) are three-decimal in Stripe too, but card
  payments require the last digit to be 0 (5.124 KWD must be charged as 5120 or 5130): the real
  adapter must refuse such amounts before calling Stripe; the translation here stays exact.
- Zero-decimal currencies (JPY, KRW, CLP, VND, UGX ...) are zero-decimal in both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from commerce_core import IntentStatus, InvalidMoney, InvalidWebhook, Money

__all__ = [
    "API_VERSION",
    "encode_event",
    "event_object",
    "money_from_stripe",
    "payment_intent_object",
    "refund_object",
    "to_stripe_amount",
]

# Informational only (the envelope's ``api_version``): the fields built here have the same
# shape in every recent API version.
API_VERSION = "2024-06-20"

# Stripe amount per one of our minor units, where the two differ (see the module docstring).
_STRIPE_SCALE: dict[str, int] = {"ISK": 100}


# -- amounts -----------------------------------------------------------------------------------


def to_stripe_amount(money: Money) -> int:
    """``money`` as Stripe's integer ``amount`` (ISK x100, see the module docstring)."""
    return money.amount * _STRIPE_SCALE.get(money.currency, 1)


def money_from_stripe(amount: object, currency: object) -> Money:
    """Stripe's ``amount`` + lowercase ``currency`` -> ``Money``; ``InvalidWebhook`` if unusable."""
    if type(amount) is not int or not isinstance(currency, str):
        raise InvalidWebhook(f"amount {amount!r} {currency!r} is not an integer and a currency")
    code = currency.upper()
    scale = _STRIPE_SCALE.get(code, 1)
    if amount % scale:
        raise InvalidWebhook(f"{code} amount {amount} is not a whole number of units")
    try:
        return Money(amount // scale, code)
    except InvalidMoney as exc:
        raise InvalidWebhook(f"unusable amount: {exc.detail}") from None


# -- building Stripe-shaped objects ------------------------------------------------------------


def _error_code(decline_code: str) -> str:
    # Stripe puts the error family in ``code`` and the issuer's reason in ``decline_code``.
    if decline_code == "authentication_failed":
        return "payment_intent_authentication_failure"
    if decline_code == "expired_card":
        return "expired_card"
    return "card_declined"


def payment_intent_object(
    *,
    intent_id: str,
    amount: Money,
    status: str,
    client_secret: str,
    order_id: str,
    created: int,
    payment_method: str | None = None,
    decline_code: str | None = None,
    decline_message: str | None = None,
) -> dict[str, Any]:
    """A ``payment_intent`` object as Stripe serialises it (the fields a shop reads)."""
    error = None
    if decline_code is not None:
        error = {
            "type": "card_error",
            "code": _error_code(decline_code),
            "decline_code": decline_code,
            "message": decline_message or "",
        }
    next_action = None
    if status == IntentStatus.REQUIRES_ACTION:
        next_action = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect"},
        }
    stripe_amount = to_stripe_amount(amount)
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": stripe_amount,
        "amount_capturable": 0,
        "amount_received": stripe_amount if status == IntentStatus.SUCCEEDED else 0,
        "capture_method": "automatic",
        "client_secret": client_secret,
        "confirmation_method": "automatic",
        "created": created,
        "currency": amount.currency.lower(),
        "last_payment_error": error,
        "livemode": False,
        "metadata": {"order_id": order_id},
        "next_action": next_action,
        "payment_method": payment_method,
        "payment_method_types": ["card"],
        "status": str(status),
    }


def refund_object(
    *,
    refund_id: str,
    intent_id: str,
    amount: Money,
    status: str,
    created: int,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """A ``refund`` object; our refund requests put their idempotency key in ``metadata`` so that
    a refund event can be matched before the refund's id was stored."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": to_stripe_amount(amount),
        "charge": None,
        "created": created,
        "currency": amount.currency.lower(),
        "metadata": {} if idempotency_key is None else {"idempotency_key": idempotency_key},
        "payment_intent": intent_id,
        "reason": None,
        "status": str(status),
    }


def event_object(
    *,
    event_id: str,
    event_type: str,
    data_object: Mapping[str, Any],
    created: int,
    api_version: str = API_VERSION,
    request_idempotency_key: str | None = None,
) -> dict[str, Any]:
    """An ``event`` envelope around ``data_object``."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": {"object": dict(data_object)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": request_idempotency_key},
        "type": event_type,
    }


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The body bytes, pretty-printed like Stripe's. Sign and send exactly these bytes."""
    return json.dumps(event, indent=2, ensure_ascii=False).encode()
