"""Razorpay's wire format for ``RazorpayGateway``: money in subunits, Razorpay's JSON read into
typed values, those values as the shop's intents and refunds, and webhook bodies translated.

Pure functions over dicts (no SDK, no I/O). Amounts: Razorpay takes the currency's subunit, which
for two-decimal currencies is the ISO 4217 minor unit the shop counts in; it documents
zero-decimal currencies "such as JPY" and the three-decimal KWD, BHD and OMR (thousandths whose
last digit must be 0). Other zero- or three-decimal currencies are refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

import attrs

from commerce_core import (
    BuyerAction,
    EventKind,
    GatewayError,
    GatewayEvent,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayUnavailable,
    IntentStatus,
    InvalidInput,
    Money,
    PaymentIntent,
    exponent_of,
)

CANCELED_NOTE = "shop_canceled"
KEY_NOTE = "idempotency_key"
ORDER_NOTE = "order_id"
NOTE_MAX = 256
REFUND_KEY = re.compile(r"[A-Za-z0-9_-]{10,64}")
DOCUMENTED_EXPONENTS = {"JPY": 0, "KWD": 3, "BHD": 3, "OMR": 3}
REFUND_STATUS = {
    "pending": GatewayRefundStatus.PENDING,
    "processed": GatewayRefundStatus.SUCCEEDED,
    "failed": GatewayRefundStatus.FAILED,
}

T = TypeVar("T")


# -- money at Razorpay's edge --------------------------------------------------------------


def subunit_exponent(currency: str) -> int:
    """Razorpay's subunit exponent for ``currency``; ``ValueError`` if it documents none."""
    exponent = exponent_of(currency)
    if exponent != 2 and DOCUMENTED_EXPONENTS.get(currency) != exponent:
        raise ValueError(f"Razorpay documents no subunit for {currency}")
    return exponent


def to_subunits(money: Money) -> int:
    """The amount Razorpay takes for ``money``; refused (``GatewayError``) if it cannot be
    charged exactly."""
    try:
        exponent = subunit_exponent(money.currency)
    except ValueError as exc:
        raise GatewayError(str(exc)) from None
    if exponent == 3 and money.amount % 10:
        raise GatewayError(f"Razorpay takes {money.currency} amounts ending in 0, not {money}")
    return money.amount  # the shop's minor unit is Razorpay's subunit for every currency taken


def money_from_subunits(amount: int, currency: str) -> Money:
    subunit_exponent(currency)
    return Money(amount, currency)


def note_value(text: str) -> str:
    """``text`` as a note value (at most 256 characters): a longer one by its hash."""
    return text if len(text) <= NOTE_MAX else hashlib.sha256(text.encode()).hexdigest()


def refund_idempotency_key(key: str) -> str:
    """Our key in the form Razorpay's refund idempotency takes; any other one by its hash."""
    return key if REFUND_KEY.fullmatch(key) else hashlib.sha256(key.encode()).hexdigest()


# -- Razorpay's JSON, read --------------------------------------------------------------------


class Unreadable(ValueError):
    """Razorpay's JSON is not shaped as its documentation shows."""


def read(reader: Callable[[Mapping[str, object]], T], wire: object) -> T:
    """An API answer read by ``reader``; an unreadable one leaves the outcome unknown."""
    try:
        return reader(as_object(wire))
    except (ValueError, InvalidInput) as exc:
        raise GatewayUnavailable(f"Razorpay answered something unexpected: {exc}") from None


def as_object(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise Unreadable(f"expected an object, got {type(value).__name__}")
    return value


def field(obj: Mapping[str, object], key: str, kind: type[T]) -> T:
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Unreadable(f"{key!r} is not {kind.__name__}: {value!r}")
    return value


def text_or_none(obj: Mapping[str, object], key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value or None
    raise Unreadable(f"{key!r} is not text: {value!r}")


def notes_of(obj: Mapping[str, object]) -> dict[str, str]:
    notes = obj.get("notes")
    if notes in (None, []):  # Razorpay writes empty notes as a JSON array
        return {}
    if isinstance(notes, dict):
        return {str(key): str(value) for key, value in notes.items()}
    raise Unreadable(f"'notes' is not an object: {notes!r}")


def items_of(collection: Mapping[str, object]) -> list[object]:
    """The entities of a collection, each for ``read``."""
    items = collection.get("items")
    if not isinstance(items, list):
        raise GatewayUnavailable("Razorpay answered a collection without items")
    return items


def amount_of(obj: Mapping[str, object]) -> Money:
    return money_from_subunits(field(obj, "amount", int), field(obj, "currency", str))


@attrs.frozen
class Order:
    id: str
    amount: Money
    status: str  # created, attempted (a payment was tried), paid (a payment was captured)
    notes: dict[str, str]

    @property
    def canceled(self) -> bool:
        return self.notes.get(CANCELED_NOTE) == "true"

    @classmethod
    def read(cls, obj: Mapping[str, object]) -> Order:
        return cls(field(obj, "id", str), amount_of(obj), field(obj, "status", str), notes_of(obj))


@attrs.frozen
class Payment:
    id: str
    order_id: str | None
    amount: Money
    status: str  # created, authorized, captured, refunded, failed
    captured: bool
    created_at: int
    error_code: str | None
    error_reason: str | None
    error_description: str | None

    @classmethod
    def read(cls, obj: Mapping[str, object]) -> Payment:
        return cls(
            id=field(obj, "id", str),
            order_id=text_or_none(obj, "order_id"),
            amount=amount_of(obj),
            status=field(obj, "status", str),
            captured=obj.get("captured") is True,
            created_at=field(obj, "created_at", int),
            error_code=text_or_none(obj, "error_code"),
            error_reason=text_or_none(obj, "error_reason"),
            error_description=text_or_none(obj, "error_description"),
        )

    @property
    def decline_code(self) -> str:
        # error_reason is the specific one (``insufficient_funds``); error_code is a class.
        if self.status == "refunded":  # never captured, and given back: it lapsed
            return self.error_reason or "authorization_expired"
        return self.error_reason or self.error_code or "payment_failed"


@attrs.frozen
class Refund:
    id: str
    payment_id: str
    amount: Money
    status: str  # pending, processed, failed
    notes: dict[str, str]

    @classmethod
    def read(cls, obj: Mapping[str, object]) -> Refund:
        return cls(
            field(obj, "id", str),
            field(obj, "payment_id", str),
            amount_of(obj),
            field(obj, "status", str),
            notes_of(obj),
        )


# -- the shop's answers --------------------------------------------------------------------


def awaiting_payment(order: Order) -> PaymentIntent:
    return PaymentIntent(order.id, IntentStatus.REQUIRES_PAYMENT_METHOD, order.amount)


def needs_checkout(order: Order) -> PaymentIntent:
    return PaymentIntent(
        order.id,
        IntentStatus.REQUIRES_ACTION,
        order.amount,
        action=BuyerAction(client_secret=order.id),
    )


def succeeded(order: Order) -> PaymentIntent:
    return PaymentIntent(order.id, IntentStatus.SUCCEEDED, order.amount)


def declined(order: Order, payment: Payment) -> PaymentIntent:
    return PaymentIntent(
        order.id,
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        order.amount,
        decline_code=payment.decline_code,
        decline_message=payment.error_description,
    )


def gateway_refund(refund: Refund, intent_id: str) -> GatewayRefund:
    # A status Razorpay may add later is "not decided yet", never a success.
    status = REFUND_STATUS.get(refund.status, GatewayRefundStatus.PENDING)
    return GatewayRefund(refund.id, intent_id, refund.amount, status)


# -- webhooks ------------------------------------------------------------------------------


def event_from_body(body: object, event_id: str) -> GatewayEvent:
    """A verified event body in the shop's terms. ``payment.captured`` and ``payment.failed``
    are the payment's; ``refund.processed`` and ``refund.failed`` the refund's - except that a
    refund of a payment never captured is Razorpay giving back an authorization nobody
    captured (its capture window ended): the payment is cancelled. ``refund.created`` (its
    outcome comes later), ``payment.authorized`` (the confirm captures) and ``order.paid``
    (``payment.captured`` says it) are acknowledged and ignored, as is everything else."""
    event = as_object(body)
    raw_type = field(event, "event", str)
    created_at = datetime.fromtimestamp(field(event, "created_at", int), UTC)
    payload = as_object(event.get("payload"))
    payment = entity(payload, "payment", Payment.read)
    refund = entity(payload, "refund", Refund.read)

    def translated(kind: EventKind, amount: Money | None, **more: str | None) -> GatewayEvent:
        return GatewayEvent(
            id=event_id,
            kind=kind,
            gateway="razorpay",
            intent_id=payment.order_id if payment else None,
            created_at=created_at,
            raw_type=raw_type,
            amount=amount,
            **more,
        )

    if payment is None or payment.order_id is None:
        # Not a payment of an order: none of the shop's (it pays through orders only).
        return translated(EventKind.IGNORED, None)
    if raw_type == "payment.captured":
        return translated(EventKind.PAYMENT_SUCCEEDED, payment.amount)
    if raw_type == "payment.failed":
        return translated(
            EventKind.PAYMENT_FAILED, payment.amount, decline_code=payment.decline_code
        )
    if raw_type in ("refund.processed", "refund.failed") and refund is not None:
        if not payment.captured:
            if raw_type == "refund.processed":
                return translated(EventKind.PAYMENT_CANCELED, payment.amount)
            return translated(EventKind.IGNORED, None)
        kind = (
            EventKind.REFUND_SUCCEEDED
            if raw_type == "refund.processed"
            else EventKind.REFUND_FAILED
        )
        return translated(
            kind, refund.amount, refund_id=refund.id, refund_key=refund.notes.get(KEY_NOTE)
        )
    return translated(EventKind.IGNORED, None)


def entity(
    payload: Mapping[str, object], name: str, reader: Callable[[Mapping[str, object]], T]
) -> T | None:
    wrapper = payload.get(name)
    if wrapper is None:
        return None
    return reader(as_object(as_object(wrapper).get("entity")))
