"""``RazorpayGateway``: the ``PaymentGateway`` and ``GatewayEventParser`` ports on Razorpay's
Orders, Payments and Refunds APIs, through the official ``razorpay`` SDK.

How the shop's intent model maps onto Razorpay:

- the intent is a Razorpay *order*, created with manual capture, ``receipt`` = our order id and
  our order id and idempotency key in its ``notes``; its id is what the browser's Checkout
  needs (with our public ``key_id``), so a confirm without a payment answers
  ``requires_action`` with ``client_secret`` = the order id;
- the buyer pays in Checkout, which hands back a payment id and a signature (HMAC-SHA256 of
  ``order_id|payment_id`` with our key secret); ``confirm_intent`` takes them as
  ``payment_method`` and ``proof``, checks the signature with the SDK, reads the payment and
  captures it if it is authorized. A failed payment is a declined intent, not an error;
- cancelling cannot be done at Razorpay (orders have no cancel), so it is a note on the order,
  ``shop_canceled`` (``PATCH /v1/orders/{id}``): durable, shared by every process, and read
  before any capture, after which this adapter refuses to capture for the order;
- refunds go to the order's captured payment with Razorpay's ``X-Refund-Idempotency`` header.

Idempotency, per operation. Razorpay takes no idempotency key for orders, so a create first
looks for the order an earlier try made (``GET /v1/orders?receipt=``, matched on the key in its
notes). The race accepted: two *concurrent* first tries with one key both find nothing and make
two orders, one of which stays unpaid and is never used - no money moves, and the core never
sends concurrent creates with one key (an order gets one create; an outage cancels the order).
A confirm needs no memory of keys: its answer is a function of the payment it names, which
Razorpay keeps - a failed payment stays failed, a captured one stays captured, and Razorpay
refuses to capture a payment twice - so a repeated confirm cannot charge twice and answers what
the first one did, across processes and restarts. Refunds use Razorpay's own idempotency.

A missing proof does not stop a *read*: Checkout signs only successful payments (its failure
handler gets the payment id without a signature), and answering "declined" or "captured" about
a payment of this very order acts on nothing. Capturing needs the proof; a wrong proof is
refused whatever the payment.

Money: Razorpay takes amounts in the currency's subunit, which for two-decimal currencies is
the ISO 4217 minor unit the shop counts in; it documents two exceptions, zero-decimal currencies
"such as JPY" (whole units) and the three-decimal KWD, BHD and OMR (thousandths whose last
digit must be 0). Other ISO zero- or three-decimal currencies are not documented and are
refused, as is a three-decimal amount that would need rounding - before any call.

Errors: every HTTP answer is judged by its status in ``_Transport`` (the SDK keeps only the
body's ``error.code``, which reads a 429 as a ``BAD_REQUEST_ERROR``): connection errors,
timeouts, 408, 409 ("a request with this key is in flight"), 429 and 5xx are
``GatewayUnavailable``; other 4xx are refusals (``GatewayError``), read as ``InvalidInput`` where
the id refused is the buyer's payment. The SDK's retries stay off: the core retries, with keys.

Known limits, accepted: a cancelled order stays payable in Checkout (Razorpay cannot close it);
a payment made on it is authorized, never captured by us, and released by Razorpay when its
capture window ends (12 minutes to 5 days, a dashboard setting). Merchants on Razorpay's Direct
Settlement have every payment auto-captured whatever the order says; the core then receives
``payment.captured`` for a cancelled order and refunds it. A cancel racing a confirm that read
the notes just before them can still lose to the capture: the cancel looks again after writing
its note and answers ``succeeded`` if it sees the capture, and otherwise the confirm's own
``succeeded`` reaches the core, which refunds money captured for an ended order. Two payments
authorized on one order (two tabs) and confirmed at the same instant could both be captured:
each confirm captures only while the order is not paid, but Razorpay offers nothing atomic to
check it against, and the core would see the second as "already paid" - rare enough to accept,
and visible in Razorpay's dashboard as two captured payments of one order. A confirm whose
answer was not final (``requires_action``, a payment still ``created``) may, repeated later
with the same key, find the payment authorized and capture it: finishing, not acting twice.

``base_url`` points the SDK at another host - the local fake of Razorpay's API in the tests.
Production must never set it (the configuration refuses it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import razorpay
import razorpay.errors
import requests

from adapters.payments import razorpay_wire as wire
from commerce_core import (
    FieldError,
    GatewayError,
    GatewayEvent,
    GatewayRefund,
    GatewayUnavailable,
    IntentStatus,
    InvalidInput,
    InvalidWebhook,
    Money,
    PaymentIntent,
)

__all__ = ["RazorpayGateway"]

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
REFUND_IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
DEFAULT_TIMEOUT = 20.0  # seconds to wait for an answer
CONNECT_TIMEOUT = 3.05  # seconds to wait for a connection (just above TCP's 3 s retransmit)

_ORDER_ID = re.compile(r"order_[A-Za-z0-9]{1,40}")
_PAYMENT_ID = re.compile(r"pay_[A-Za-z0-9]{1,40}")
_REFUND_ID = re.compile(r"rfnd_[A-Za-z0-9]{1,40}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Razorpay's rules: a receipt holds at most 40 characters, a note value 256; an idempotency key
# for refunds is at least 10 letters, digits, hyphens or underscores.
_RECEIPT_MAX = 40
# 408 and 409 ("a request with this idempotency key is still being processed") ask for a retry.
_TRY_AGAIN = frozenset({408, 409, 429})

T = TypeVar("T")


class RazorpayGateway:
    """Razorpay orders, payments and refunds, and Razorpay-signed webhooks. ``timeout`` is how
    long to wait for an answer, in seconds (connecting waits at most 3.05 of them)::

        gateway = RazorpayGateway(key_id="rzp_live_...", key_secret="...", webhook_secret="...")
        intent = gateway.create_intent(amount=Money(49900, "INR"), order_id="ord_1",
                                       idempotency_key="create-1")
        # The browser runs Checkout with gateway.key_id and intent.id, and hands back
        # razorpay_payment_id and razorpay_signature:
        gateway.confirm_intent(intent.id, payment_method="pay_...", proof="...",
                               idempotency_key="confirm-1")   # status "succeeded"
    """

    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not (key_id and key_secret and webhook_secret):
            raise ValueError("Razorpay needs a key id, a key secret and a webhook secret")
        if timeout <= 0:
            raise ValueError("the timeout must be positive")
        self._key_id = key_id
        self._webhook_secret = webhook_secret.encode()
        options = {} if base_url is None else {"base_url": base_url.rstrip("/")}
        # One client (and one HTTP session) per gateway; Any only here, at the untyped SDK.
        self._client: Any = razorpay.Client(
            session=_Transport(timeout), auth=(key_id, key_secret), **options
        )
        # Off, and said so: an SDK retry of a POST /v1/orders whose answer was lost would
        # create a second order. Retries are the core's, with their keys.
        self._client.enable_retry(False)

    @property
    def name(self) -> str:
        return "razorpay"

    @property
    def key_id(self) -> str:
        """The public key id, which the browser's Checkout runs with."""
        return self._key_id

    # -- PaymentGateway ----------------------------------------------------------------------

    def create_intent(self, *, amount: Money, order_id: str, idempotency_key: str) -> PaymentIntent:
        subunits = wire.to_subunits(amount)
        if not 1 <= len(order_id) <= _RECEIPT_MAX:
            raise GatewayError(f"a Razorpay receipt holds 1 to {_RECEIPT_MAX} characters")
        key_note = wire.note_value(idempotency_key)
        found = self._ask("list orders", lambda: self._client.order.all({"receipt": order_id}))
        for item in wire.items_of(found):
            earlier = wire.read(wire.Order.read, item)
            if earlier.notes.get(wire.KEY_NOTE) != key_note:
                continue
            if earlier.amount != amount:
                raise GatewayError(f"key {idempotency_key!r} was used to create another order")
            return wire.awaiting_payment(earlier)
        created = self._ask(
            "create an order",
            lambda: self._client.order.create(
                {
                    "amount": subunits,
                    "currency": amount.currency,
                    "receipt": order_id,
                    "notes": {wire.ORDER_NOTE: order_id, wire.KEY_NOTE: key_note},
                    # Money is only taken when the shop captures it (confirm_intent).
                    "payment": {"capture": "manual"},
                }
            ),
        )
        return wire.awaiting_payment(wire.read(wire.Order.read, created))

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        # idempotency_key is not sent: the answer depends on the payment named (module doc).
        if payment_method is None:
            order = self._order(intent_id)
            if order.status == "paid":
                return wire.succeeded(order)
            if order.canceled:
                raise GatewayError(f"order {order.id} was canceled by the shop")
            return wire.needs_checkout(order)
        if not isinstance(payment_method, str) or not _PAYMENT_ID.fullmatch(payment_method):
            raise _bad_method("is not a Razorpay payment id")
        if proof is not None:
            self._check_proof(intent_id, payment_method, proof)
        order = self._order(intent_id)
        return self._take(order, self._payment_of(order, payment_method), proven=proof is not None)

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        # Writing the same note twice is harmless: no key is needed.
        order = self._order(intent_id)
        now = self._intent(order)
        if now.status in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
            return now
        notes = {**order.notes, wire.CANCELED_NOTE: "true"}
        self._ask(
            "note the cancellation", lambda: self._client.order.edit(order.id, {"notes": notes})
        )
        # A confirm that read the notes just before ours may have captured meanwhile.
        if any(payment.captured for payment in self._payments(self._order(order.id))):
            return wire.succeeded(order)
        return PaymentIntent(order.id, IntentStatus.CANCELED, order.amount)

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        subunits = wire.to_subunits(amount)
        order = self._order(intent_id)
        payment = next((p for p in self._payments(order) if p.captured), None)
        if payment is None:
            raise GatewayError(f"order {order.id} has no captured payment to refund")
        if amount.currency != payment.amount.currency:
            raise GatewayError(f"payment {payment.id} is in {payment.amount.currency}")
        body = {
            "amount": subunits,
            "speed": "normal",
            "notes": {wire.KEY_NOTE: wire.note_value(idempotency_key)},
        }
        answer = self._ask(
            "refund",
            lambda: self._client.payment.refund(
                payment.id,
                body,
                headers={REFUND_IDEMPOTENCY_HEADER: wire.refund_idempotency_key(idempotency_key)},
            ),
        )
        return wire.gateway_refund(wire.read(wire.Refund.read, answer), order.id)

    def get_intent(self, intent_id: str) -> PaymentIntent:
        return self._intent(self._order(intent_id))

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        if not _REFUND_ID.fullmatch(refund_id):
            raise GatewayError(f"{refund_id!r} is not a Razorpay refund id")
        if not _ORDER_ID.fullmatch(intent_id):
            raise GatewayError(f"{intent_id!r} is not a Razorpay order id")
        refund = wire.read(
            wire.Refund.read,
            self._ask("read a refund", lambda: self._client.refund.fetch(refund_id)),
        )
        payment = self._payment(refund.payment_id)
        if payment.order_id != intent_id:
            raise GatewayError(f"refund {refund_id} is not of order {intent_id}")
        return wire.gateway_refund(refund, intent_id)

    # -- GatewayEventParser ------------------------------------------------------------------

    def parse_event(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Check ``X-Razorpay-Signature`` (HMAC-SHA256 of the raw body with the webhook secret)
        and translate. The event id is Razorpay's ``X-Razorpay-Event-Id`` (the same on every
        retry of a delivery); without it, a hash of the body."""
        named = {name.lower(): value for name, value in headers.items()}
        given = named.get(SIGNATURE_HEADER.lower(), "")
        # Over the raw bytes ourselves: the SDK's check takes text, and decoding a body to
        # encode it again could change what was signed.
        expected = hmac.new(self._webhook_secret, payload, hashlib.sha256).hexdigest()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidWebhook("the Razorpay signature does not match the body")
        # The header is not signed: a replay under another id still meets the core's
        # per-intent idempotency, and an id that is no id of Razorpay's is not taken.
        event_id = named.get(EVENT_ID_HEADER.lower(), "").strip()
        if not _EVENT_ID.fullmatch(event_id):
            event_id = f"sha256:{hashlib.sha256(payload).hexdigest()}"
        try:
            return wire.event_from_body(json.loads(payload), event_id)
        except (ValueError, RecursionError, OverflowError, OSError, InvalidInput) as exc:
            # ValueError covers undecodable JSON and wire.Unreadable; InvalidInput a bad Money;
            # the others a timestamp out of range.
            raise InvalidWebhook(f"not a Razorpay event: {exc}") from None

    # -- calls -------------------------------------------------------------------------------

    def _ask(self, doing: str, call: Callable[[], Any]) -> Mapping[str, object]:
        """One SDK call, as a JSON object. ``_Transport`` has already turned every failed HTTP
        exchange into the port's errors, so what is left is the SDK's own trouble."""
        try:
            answer = call()
        except (
            razorpay.errors.BadRequestError,
            razorpay.errors.GatewayError,
            razorpay.errors.ServerError,
        ) as exc:  # only if an error answer ever reached the SDK: nothing says what happened
            raise GatewayUnavailable(f"Razorpay could not {doing}: {exc}") from exc
        except requests.RequestException as exc:  # a 2xx answer that is not JSON
            raise GatewayUnavailable(f"Razorpay's answer to {doing} was unreadable") from exc
        if not isinstance(answer, dict):
            raise GatewayUnavailable(f"Razorpay's answer to {doing} was not an object")
        return answer

    def _order(self, order_id: str) -> wire.Order:
        if not _ORDER_ID.fullmatch(order_id):
            raise GatewayError(f"{order_id!r} is not a Razorpay order id")
        return wire.read(
            wire.Order.read, self._ask("read an order", lambda: self._client.order.fetch(order_id))
        )

    def _payments(self, order: wire.Order) -> list[wire.Payment]:
        if order.status == "created":
            return []  # nobody has tried to pay it yet
        found = self._ask("list payments", lambda: self._client.order.payments(order.id, {}))
        return [wire.read(wire.Payment.read, item) for item in wire.items_of(found)]

    def _payment(self, payment_id: str) -> wire.Payment:
        answer = self._ask("read a payment", lambda: self._client.payment.fetch(payment_id, {}))
        return wire.read(wire.Payment.read, answer)

    def _payment_of(self, order: wire.Order, payment_id: str) -> wire.Payment:
        """The buyer's payment, which must be one of ``order``'s: else ``InvalidInput``."""
        try:
            payment = self._payment(payment_id)
        except _Refusal as refused:
            raise _bad_method("is unknown to Razorpay") from refused
        if payment.order_id != order.id:
            raise _bad_method(f"is not a payment of order {order.id}")
        return payment

    def _check_proof(self, order_id: str, payment_id: str, proof: str) -> None:
        if not isinstance(proof, str) or not _SIGNATURE.fullmatch(proof):
            raise _bad_method("comes with a proof that is not a Razorpay signature")
        try:
            self._client.utility.verify_payment_signature(
                {
                    "razorpay_order_id": order_id,
                    "razorpay_payment_id": payment_id,
                    "razorpay_signature": proof,
                }
            )
        except razorpay.errors.SignatureVerificationError:
            raise _bad_method("comes with a signature that does not match") from None

    def _take(self, order: wire.Order, payment: wire.Payment, *, proven: bool) -> PaymentIntent:
        """What confirming ``payment`` of ``order`` answers: what Razorpay says of it, where
        that needs no action from us; else it is captured (only with its proof)."""
        if payment.captured:
            return wire.succeeded(order)
        if payment.status in ("failed", "refunded"):
            return wire.declined(order, payment)
        if order.canceled:
            raise GatewayError(f"order {order.id} was canceled by the shop")
        if not proven:
            raise _bad_method("needs Checkout's signature (proof) to be captured")
        if payment.status == "created":
            return wire.needs_checkout(order)  # the buyer has not finished in Checkout yet
        if payment.status != "authorized":
            raise GatewayUnavailable(f"payment {payment.id} is {payment.status!r}; ask again")
        if order.status == "paid":
            # Another payment of this order was captured: this one is not taken too (Razorpay
            # releases it at the end of its capture window).
            return wire.succeeded(order)
        if payment.amount != order.amount:
            raise GatewayError(f"payment {payment.id} is not for the order's amount")
        return self._capture(order, payment)

    def _capture(self, order: wire.Order, payment: wire.Payment) -> PaymentIntent:
        try:
            answer = self._ask(
                "capture a payment",
                lambda: self._client.payment.capture(
                    payment.id, wire.to_subunits(order.amount), {"currency": order.amount.currency}
                ),
            )
        except _Refusal:
            # Razorpay refuses to capture twice: a concurrent confirm, or a retry whose first
            # answer was lost, may have captured it already. That is success, not a refusal.
            if self._payment(payment.id).captured:
                return wire.succeeded(order)
            raise
        if not wire.read(wire.Payment.read, answer).captured:
            raise GatewayUnavailable(f"Razorpay did not say payment {payment.id} is captured")
        return wire.succeeded(order)

    def _intent(self, order: wire.Order) -> PaymentIntent:
        """The order as an intent, now."""
        payments = self._payments(order)
        if order.status == "paid" or any(payment.captured for payment in payments):
            return wire.succeeded(order)
        if order.canceled:
            return PaymentIntent(order.id, IntentStatus.CANCELED, order.amount)
        if not payments:
            return wire.awaiting_payment(order)
        latest = max(payments, key=lambda payment: payment.created_at)
        if latest.status == "authorized":
            # Paid in Checkout, not yet confirmed (captured) by the shop.
            return PaymentIntent(order.id, IntentStatus.REQUIRES_CONFIRMATION, order.amount)
        if latest.status == "created":
            return wire.needs_checkout(order)
        if latest.status in ("failed", "refunded"):
            return wire.declined(order, latest)
        return wire.awaiting_payment(order)


class _Transport(requests.Session):
    """The SDK's HTTP session: explicit timeouts, and each answer judged by its HTTP status.

    The SDK reads only the ``error.code`` of a failed answer (a 429 says
    ``BAD_REQUEST_ERROR``, so it would raise ``BadRequestError``, a refusal), and prints to
    stdout on network errors. So every failure is decided here and raised as the port's error,
    which the SDK passes through untouched (it catches only ``requests`` exceptions)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        # The SDK sets no timeout at all, and passes everything after the URL by keyword.
        kwargs["timeout"] = (min(self._timeout, CONNECT_TIMEOUT), self._timeout)
        where = f"{method!s} {urlsplit(str(url)).path}"
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"Razorpay is out of reach ({where}): {exc}") from exc
        status = response.status_code
        if status < 400:
            return response
        description = _error_description(response)
        if status in _TRY_AGAIN or status >= 500:
            raise GatewayUnavailable(f"Razorpay answered {status} to {where}: {description}")
        raise _Refusal(f"Razorpay refused {where} ({status}): {description}")


class _Refusal(GatewayError):
    """Razorpay answered 4xx (not a "try again"): it refused and did nothing."""


def _error_description(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        return str(error.get("description") or error.get("code"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return response.reason or "no description"


def _bad_method(message: str) -> InvalidInput:
    return InvalidInput(errors=[FieldError("payment_method", f"the payment {message}")])
