"""PayPal's wire format for ``PayPalGateway``: amounts as PayPal's decimal strings, request ids
and refund references, PayPal's errors and JSON read into the shop's intents and refunds, and
webhook events translated.

Pure functions over PayPal's JSON (no SDK calls, no I/O). Amounts are exact: ``Money`` minor
units <-> decimal strings, with no decimals for HUF, JPY and TWD (PayPal's rule, although HUF
and TWD have two in ISO 4217); an amount PayPal cannot carry exactly is refused, never rounded.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
from paypalserversdk.exceptions.api_exception import ApiException

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

# PayPal takes no decimals for these (https://developer.paypal.com/api/rest/reference/currency-codes/).
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})
REQUEST_ID_LIMIT = 108  # characters PayPal accepts in PayPal-Request-Id
REFUND_CUSTOM_ID = re.compile(r"[A-Za-z0-9_.,-]{1,127}")  # PayPal's rule for a refund's custom_id
CAPTURED = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
REFUND_STATUSES = {
    "COMPLETED": GatewayRefundStatus.SUCCEEDED,
    "PENDING": GatewayRefundStatus.PENDING,
    "FAILED": GatewayRefundStatus.FAILED,
    "CANCELLED": GatewayRefundStatus.FAILED,
}
# How a dispute ended, for the shop: lost (the buyer keeps the money) or won.
DISPUTE_LOST = ("RESOLVED_BUYER_FAVOUR", "ACCEPTED")
DISPUTE_WON = ("RESOLVED_SELLER_FAVOUR", "CANCELED_BY_BUYER", "DENIED", "RESOLVED_WITH_PAYOUT")


class Refused(GatewayError):
    """PayPal refused the request (a 4xx other than 401, 408, 409, 429): nothing was done."""

    def __init__(self, status: int, issues: tuple[str, ...], description: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.issues, self.description = status, issues, description


class Unreadable(GatewayUnavailable):
    """Something PayPal sent is not what PayPal documents. An API answer: whether the call
    acted is unknown (unavailability). A webhook: the event is refused (``InvalidWebhook``)."""


# -- at the edge ---------------------------------------------------------------------------------


def paypal_value(amount: Money) -> str:
    """``amount`` as PayPal writes it, exactly: ``Money(1999, "USD")`` -> ``"19.99"``,
    ``Money(150000, "HUF")`` -> ``"1500"``.

    An amount PayPal cannot carry exactly - fillér, a third decimal that is not 0, a non-positive
    amount - is a ``GatewayError``, not ``InvalidInput`` and never rounded: the shop sets its
    prices, no buyer can fix them, and on a ``GatewayError`` the core cancels the checkout and
    gives its stock back (``InvalidInput`` would leave it holding stock until the hold expires).
    """
    if not amount.is_positive:
        raise GatewayError(f"PayPal cannot take {amount}: amounts must be positive")
    places = 0 if amount.currency in NO_DECIMALS else 2
    shift = exponent_of(amount.currency) - places
    units = amount.amount
    if shift > 0:
        units, dropped = divmod(units, 10**shift)
        if dropped:
            raise GatewayError(
                f"PayPal takes {amount.currency} with {places} decimals, not {amount}"
            )
    else:
        units *= 10**-shift
    digits = str(units).rjust(places + 1, "0")
    return digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"


def request_id(*parts: str) -> str:
    """The PayPal-Request-Id for one operation: its parts as they are if PayPal takes them, else
    their SHA-256 (the same for every retry, as the id must be)."""
    joined = ":".join(parts)
    if len(joined) <= REQUEST_ID_LIMIT and joined.isascii() and joined.isprintable():
        return joined
    return hashlib.sha256(joined.encode()).hexdigest()


def refund_reference(intent_id: str, key: str) -> str | None:
    """The refund's ``custom_id``: ``<order id>,<our key>``, or the order id alone where the key
    does not fit PayPal's rule for it."""
    return next(
        (ref for ref in (f"{intent_id},{key}", intent_id) if REFUND_CUSTOM_ID.fullmatch(ref)), None
    )


def our_reference(custom_id: object) -> tuple[str, str] | None:
    """(order id, our key) from a refund's ``custom_id`` as ``refund_reference`` wrote it;
    ``None`` for a refund made elsewhere (PayPal's dashboard), which carries none."""
    if not isinstance(custom_id, str) or "," not in custom_id:
        return None
    intent_id, key = custom_id.split(",", 1)
    return (intent_id, key) if intent_id and key else None


def error_for(what: str, error: ApiException) -> GatewayError:
    status = int(getattr(error, "response_code", 0) or 0)
    try:
        body = json.loads(error.response.text or "{}")
    except (ValueError, AttributeError):
        body = {}
    body = body if isinstance(body, dict) else {}
    details = [d for d in body.get("details") or () if isinstance(d, dict)]
    issues = tuple(str(d.get("issue")) for d in details if d.get("issue"))
    description = next((str(d["description"]) for d in details if d.get("description")), "")
    said = f"{status} {body.get('name') or ''} {', '.join(issues)}".strip()
    if status >= 500 or status in (401, 408, 409, 429):
        # 401: our token or credentials refused - nothing was done, and nothing can be until
        # the configuration (or PayPal) is fixed; 409: a request with this id is in flight.
        return GatewayUnavailable(f"PayPal could not {what} now: {said}")
    return Refused(status, issues, description, f"PayPal refused to {what}: {said}")


def document_of(text: str, what: str) -> Mapping[str, Any]:
    if not text or not text.strip():
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        raise Unreadable(f"PayPal's answer ({what}) is not JSON") from None
    if not isinstance(document, dict):
        raise Unreadable(f"PayPal's answer ({what}) is not a JSON object")
    return document


def as_object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Unreadable(f"{where} must be an object")
    return value


def text_field(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise Unreadable(f"{where}.{key} must be a non-empty string, not {value!r}")
    return value


def money_of(value: object, where: str) -> Money:
    amount = as_object(value, where)
    currency, text = text_field(amount, "currency_code", where), text_field(amount, "value", where)
    try:
        return Money.parse(text, currency)
    except InvalidInput as error:
        raise Unreadable(f"{where}: {error.detail}") from None


def link_of(obj: Mapping[str, Any], *rels: str) -> str | None:
    for item in obj.get("links") or ():
        if (
            isinstance(item, Mapping)
            and item.get("rel") in rels
            and isinstance(item.get("href"), str)
        ):
            return str(item["href"])
    return None


def purchase_unit(order: Mapping[str, Any]) -> Mapping[str, Any]:
    units = order.get("purchase_units")
    if not isinstance(units, list) or len(units) != 1:
        raise Unreadable("an order of ours has exactly one purchase unit")
    return as_object(units[0], "order.purchase_units[0]")


def capture_of(order: Mapping[str, Any]) -> Mapping[str, Any] | None:
    payments = purchase_unit(order).get("payments")
    captures = payments.get("captures") if isinstance(payments, Mapping) else None
    if not captures:
        return None
    return as_object(captures[0] if isinstance(captures, list) else None, "order capture")


def buyer_page(order: Mapping[str, Any]) -> str | None:
    return link_of(order, "approve", "payer-action")


def intent_of(order: Mapping[str, Any]) -> PaymentIntent:
    """A PayPal order as the core's intent."""
    order_id, status = text_field(order, "id", "order"), text_field(order, "status", "order")
    amount = money_of(purchase_unit(order).get("amount"), "order.amount")
    plain = PaymentIntent(order_id, IntentStatus.REQUIRES_PAYMENT_METHOD, amount)
    if order.get("intent") == "AUTHORIZE" or status == "VOIDED":
        return attrs.evolve(plain, status=IntentStatus.CANCELED)  # cancelled by us, or by PayPal
    if status == "CREATED":
        return plain
    if status in ("APPROVED", "SAVED"):
        return attrs.evolve(plain, status=IntentStatus.REQUIRES_CONFIRMATION)
    if status == "PAYER_ACTION_REQUIRED":
        page = buyer_page(order)
        if page is None:
            return plain
        return attrs.evolve(
            plain, status=IntentStatus.REQUIRES_ACTION, action=BuyerAction(redirect_url=page)
        )
    if status != "COMPLETED":
        raise Unreadable(f"unknown order status {status!r}")
    capture = capture_of(order)
    captured = capture.get("status") if capture is not None else None
    if captured in CAPTURED:
        return attrs.evolve(plain, status=IntentStatus.SUCCEEDED)
    if captured in ("DECLINED", "FAILED"):
        return attrs.evolve(plain, decline_code=decline_code(capture or {}))
    return attrs.evolve(plain, status=IntentStatus.PROCESSING)  # PENDING: PayPal decides later


def reason_of(capture: Mapping[str, Any]) -> str | None:
    """Why a capture is in its status, as PayPal says (``status_details.reason``), if it does."""
    details = capture.get("status_details")
    reason = details.get("reason") if isinstance(details, Mapping) else None
    return str(reason).lower() if reason else None


def decline_code(capture: Mapping[str, Any]) -> str:
    return reason_of(capture) or f"capture_{str(capture.get('status')).lower()}"


def refund_of(refund: Mapping[str, Any], intent_id: str) -> GatewayRefund:
    status = REFUND_STATUSES.get(str(refund.get("status")))
    if status is None:
        raise Unreadable(f"unknown refund status {refund.get('status')!r}")
    return GatewayRefund(
        id=text_field(refund, "id", "refund"),
        intent_id=intent_id,
        amount=money_of(refund.get("amount"), "refund.amount"),
        status=status,
    )


def linked_capture(refund: Mapping[str, Any]) -> str | None:
    """The capture a refund (or a reversal) is of: its ``up`` link."""
    up = link_of(refund, "up")
    found = re.search(r"/v2/payments/captures/([^/?#]+)$", up or "")
    return found[1] if found else None


def related_order(capture: Mapping[str, Any]) -> str | None:
    """The order a capture is of: ``supplementary_data.related_ids.order_id``, or its ``up``
    link where that is an order."""
    data = capture.get("supplementary_data")
    related = data.get("related_ids") if isinstance(data, Mapping) else None
    order_id = related.get("order_id") if isinstance(related, Mapping) else None
    if isinstance(order_id, str) and order_id:
        return order_id
    found = re.search(r"/v2/checkout/orders/([^/?#]+)$", link_of(capture, "up") or "")
    return found[1] if found else None


def translate(document: Mapping[str, Any], gateway: str) -> tuple[GatewayEvent, str | None]:
    """A verified PayPal event in the core's terms, and the capture whose order is still to be
    looked up (an event naming only a capture), if any."""
    event_type = text_field(document, "event_type", "event")
    try:
        created = datetime.fromisoformat(text_field(document, "create_time", "event"))
    except ValueError:
        raise Unreadable("event.create_time is no ISO 8601 time") from None
    if created.tzinfo is None:
        raise Unreadable("event.create_time has no time zone")
    event = GatewayEvent(
        id=text_field(document, "id", "event"),
        kind=EventKind.IGNORED,
        gateway=gateway,
        intent_id=None,
        created_at=created,
        raw_type=event_type,
    )
    resource = document.get("resource")
    match event_type:
        case "PAYMENT.CAPTURE.COMPLETED" | "PAYMENT.CAPTURE.DENIED" | "PAYMENT.CAPTURE.DECLINED":
            capture = as_object(resource, "resource")
            failed = event_type != "PAYMENT.CAPTURE.COMPLETED"
            return attrs.evolve(
                event,
                kind=EventKind.PAYMENT_FAILED if failed else EventKind.PAYMENT_SUCCEEDED,
                intent_id=related_order(capture),
                amount=money_of(capture.get("amount"), "capture.amount"),
                decline_code=reason_of(capture) if failed else None,
            ), None
        case "PAYMENT.CAPTURE.REFUNDED":
            refund = as_object(resource, "resource")
            status = refund_of(refund, intent_id="").status
            if status is GatewayRefundStatus.PENDING:
                return event, None  # its outcome comes in a later event
            ours = our_reference(refund.get("custom_id"))
            event = attrs.evolve(
                event,
                kind=EventKind.REFUND_SUCCEEDED
                if status is GatewayRefundStatus.SUCCEEDED
                else EventKind.REFUND_FAILED,
                intent_id=ours[0] if ours else None,
                amount=money_of(refund.get("amount"), "refund.amount"),
                refund_id=text_field(refund, "id", "refund"),
                refund_key=ours[1] if ours else None,
            )
            # A refund made in PayPal's dashboard names only its capture.
            return event, None if ours else linked_capture(refund)
        case "PAYMENT.CAPTURE.REVERSED":
            reversal = as_object(resource, "resource")
            taken = money_of(reversal.get("amount"), "reversal.amount")
            return attrs.evolve(
                event,
                kind=EventKind.DISPUTE_OPENED,
                amount=Money(abs(taken.amount), taken.currency),  # PayPal writes it negative
                decline_code="reversed",
            ), linked_capture(reversal)
        case "CUSTOMER.DISPUTE.CREATED" | "CUSTOMER.DISPUTE.RESOLVED":
            return dispute_event(event, as_object(resource, "resource"))
        case "CHECKOUT.ORDER.VOIDED":
            order = as_object(resource, "resource")
            return attrs.evolve(
                event,
                kind=EventKind.PAYMENT_CANCELED,
                intent_id=text_field(order, "id", "order"),
                amount=money_of(purchase_unit(order).get("amount"), "order.amount"),
            ), None
        case _:
            return event, None


def dispute_event(
    event: GatewayEvent, dispute: Mapping[str, Any]
) -> tuple[GatewayEvent, str | None]:
    transactions = dispute.get("disputed_transactions") or ()
    capture_id = next(
        (
            str(t["seller_transaction_id"])
            for t in transactions
            if isinstance(t, Mapping) and t.get("seller_transaction_id")
        ),
        None,
    )
    if event.raw_type == "CUSTOMER.DISPUTE.CREATED":
        kind, status = EventKind.DISPUTE_OPENED, str(dispute.get("status") or "open").lower()
    else:
        outcome = dispute.get("dispute_outcome")
        code = outcome.get("outcome_code") if isinstance(outcome, Mapping) else None
        if code in DISPUTE_LOST:
            status = "lost"
        elif code in DISPUTE_WON:
            status = "won"
        else:
            status = str(code).lower()  # "none", or an outcome PayPal added since
        kind = EventKind.DISPUTE_CLOSED
    amount = money_of(dispute.get("dispute_amount"), "dispute.dispute_amount")
    return attrs.evolve(event, kind=kind, amount=amount, decline_code=status), capture_id
