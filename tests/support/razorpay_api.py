"""A local stand-in for api.razorpay.com: the endpoints ``RazorpayGateway`` calls, answered with
Razorpay's documented shapes and rules, so the real ``razorpay`` SDK can be pointed at it
(``base_url``) and make real HTTP requests.

Covered: ``POST /v1/orders`` (amount in subunits, at least ₹1 for INR and a last digit 0 for
the three-decimal KWD, BHD and OMR; ``receipt`` of at most 40 characters; at most 15 notes of at
most 256 characters; ``payment.capture`` automatic or manual), ``GET /v1/orders`` (filtered by
``receipt``), ``GET /v1/orders/{id}``, ``PATCH /v1/orders/{id}`` (notes only),
``GET /v1/orders/{id}/payments``, ``GET /v1/payments/{id}``, ``POST /v1/payments/{id}/capture``
(only an authorized payment, for exactly its amount and currency), ``POST
/v1/payments/{id}/refund`` (only a captured payment, never past what was captured, with
``X-Refund-Idempotency`` as Razorpay documents it), ``GET /v1/refunds/{id}``; HTTP Basic
authentication with the key id and secret; errors as Razorpay sends them (``{"error": {"code",
"description", "source", "step", "reason", "metadata"}}``); order states created -> attempted ->
paid (on capture); payment states created, authorized, captured, refunded, failed.

Not covered: the other parameters and endpoints (customers, offers, partial payments,
transfers, instant refunds, pagination beyond ``count``), Razorpay's rate limits themselves,
and whatever Razorpay does that its documentation does not say (for instance whether it would
refuse to capture a second payment of a paid order: the fake does not refuse).

Test controls: ``pay(order_id)`` (the buyer in Checkout: an authorized payment and Checkout's
signature, or with ``decline=`` a failed one and the failure handler's error, unsigned),
``capture`` and ``lapse`` (another worker captures; Razorpay gives back an uncaptured
authorization), ``fail_next(n, status)`` (5xx, 429, 409 ...), ``stall_next(n, seconds)`` (the
request is carried out, its answer comes later than the client waits), ``outage(status)``,
``before_next(pattern, action)`` (something happens just before a request), ``refund_status``
(``processed`` or ``pending`` for new refunds), ``requests`` (everything the SDK sent) and
``deliveries`` (the webhooks Razorpay would POST, signed as Razorpay signs them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import attrs
from werkzeug.wrappers import Request, Response

from tests.support.local_api import Faults, serve

KEY_ID = "rzp_test_LocalFake00001"
KEY_SECRET = "local_fake_key_secret_0123456789"
WEBHOOK_SECRET = "local_fake_webhook_secret_0123456789"
ACCOUNT_ID = "acc_LocalFake000001"
# What the fake takes: currencies Razorpay documents, and the digits of their subunits.
CURRENCIES = {"INR": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "AED": 2, "JPY": 0}
CURRENCIES |= {"KWD": 3, "BHD": 3, "OMR": 3}
_ALPHABET = string.ascii_letters + string.digits
_REFUND_KEY = re.compile(r"[A-Za-z0-9_-]{10,}")
_ORDER_FIELDS = {"amount", "currency", "receipt", "notes", "partial_payment", "payment"}


def razorpay_id(prefix: str) -> str:
    """An id shaped like Razorpay's: a prefix and 14 letters or digits."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(14))}"


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@attrs.frozen
class Sent:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: Any


@attrs.frozen
class Checkout:
    """What Razorpay Checkout hands the browser: on success the payment id and the signature
    of ``order_id|payment_id``; on failure the failure handler's ``error`` (no signature)."""

    order_id: str
    payment_id: str
    signature: str | None = None
    error: dict[str, Any] | None = None


@attrs.frozen
class Delivery:
    """A webhook as Razorpay would POST it."""

    event: str
    body: bytes
    headers: dict[str, str]


class RazorpayError(Exception):
    def __init__(self, status: int, description: str, **more: Any) -> None:
        super().__init__(description)
        self.status = status
        self.error = {
            "code": "BAD_REQUEST_ERROR" if status < 500 else "SERVER_ERROR",
            "description": description,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
            **more,
        }


def _not_found(path: str) -> RazorpayError:
    return RazorpayError(404, f"The requested URL {path} was not found on the server.")


def _bad(description: str, **more: Any) -> RazorpayError:
    return RazorpayError(400, description, **more)


def _missing() -> RazorpayError:
    return _bad(
        "The id provided does not exist",
        source="business",
        step="payment_initiation",
        reason="input_validation_failed",
    )


class RazorpayApi(Faults):
    def __init__(
        self,
        key_id: str = KEY_ID,
        key_secret: str = KEY_SECRET,
        webhook_secret: str = WEBHOOK_SECRET,
    ) -> None:
        super().__init__()
        self.key_id, self.key_secret, self.webhook_secret = key_id, key_secret, webhook_secret
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.successes: dict[str, Checkout] = {}  # the last successful Checkout per order
        self.requests: list[Sent] = []
        self.deliveries: list[Delivery] = []
        self.refund_status = "processed"
        self._capture_mode: dict[str, str] = {}
        self._refund_answers: dict[str, tuple[str, int, bytes]] = {}
        self._clock = itertools.count(1_770_000_000)
        self._lock = threading.RLock()

    # -- test controls -------------------------------------------------------------------------

    def signature(self, order_id: str, payment_id: str) -> str:
        """Checkout's signature: HMAC-SHA256 of ``order_id|payment_id`` with the key secret."""
        return hmac_hex(self.key_secret, f"{order_id}|{payment_id}".encode())

    def pay(self, order_id: str, *, decline: str | None = None) -> Checkout:
        """The buyer pays ``order_id`` in Checkout: an authorized payment (captured at once if
        the order asked for automatic capture), or with ``decline`` (Razorpay's
        ``error_reason``) a failed one."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise KeyError(f"Checkout cannot open for unknown order {order_id}")
            if order["status"] == "paid":
                raise ValueError(f"order {order_id} is paid: Checkout takes no more payments")
            payment = self._new_payment(order, "failed" if decline else "authorized")
            order["status"], order["attempts"] = "attempted", order["attempts"] + 1
            if decline is None:
                self._deliver("payment.authorized", payment=payment)
                checkout = Checkout(
                    order_id, payment["id"], self.signature(order_id, payment["id"])
                )
                self.successes[order_id] = checkout
                if self._capture_mode[order_id] == "automatic":
                    self.capture(payment["id"])
                return checkout
            payment.update(
                error_code="BAD_REQUEST_ERROR",
                error_description="Your payment could not be completed as this transaction "
                "was declined by the issuing bank. Try another card or payment method.",
                error_source="bank",
                error_step="payment_authorization",
                error_reason=decline,
            )
            self._deliver("payment.failed", payment=payment)
            error = {
                "code": "BAD_REQUEST_ERROR",
                "description": payment["error_description"],
                "source": "bank",
                "step": "payment_authorization",
                "reason": decline,
                "metadata": {"order_id": order_id, "payment_id": payment["id"]},
            }
            return Checkout(order_id, payment["id"], error=error)

    def capture(self, payment_id: str) -> None:
        """Capture ``payment_id`` (as another worker, or automatic capture, would)."""
        with self._lock:
            payment = self.payments[payment_id]
            order = self.orders[payment["order_id"]]
            payment.update(status="captured", captured=True)
            order.update(status="paid", amount_paid=order["amount"], amount_due=0)
            self._deliver("payment.captured", payment=payment)
            self._deliver("order.paid", payment=payment, order=_public(order))

    def lapse(self, payment_id: str) -> None:
        """The authorization's capture window ends uncaptured: Razorpay gives the money back."""
        with self._lock:
            payment = self.payments[payment_id]
            assert payment["status"] == "authorized"
            refund = self._new_refund(payment, payment["amount"], {}, "processed")
            payment.update(
                status="refunded", amount_refunded=payment["amount"], refund_status="full"
            )
            self._deliver("refund.created", refund=refund, payment=payment)
            self._deliver("refund.processed", refund=refund, payment=payment)

    def webhook_headers(self, body: bytes, event_id: str | None = None) -> dict[str, str]:
        """The headers Razorpay sends with ``body``: its signature, and its event id."""
        headers = {"X-Razorpay-Signature": hmac_hex(self.webhook_secret, body)}
        if event_id is not None:
            headers["X-Razorpay-Event-Id"] = event_id
        return headers

    def deliveries_of(self, event: str) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if delivery.event == event]

    def serving(self) -> AbstractContextManager[str]:
        """Serve on a free local port; the base URL to give the SDK."""
        return serve(self.wsgi)

    # -- the API -------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            self.requests.append(
                Sent(
                    request.method,
                    request.path,
                    dict(request.headers),
                    request.args.to_dict(),
                    body,
                )
            )
        fault = self.take(request.method, request.path)
        if fault is not None and fault.fails:
            return _answer(fault.status, _fault_error(fault.status))
        response = self._authorized(request, body)
        if fault is not None:
            time.sleep(fault.seconds)  # done, but answered after the client stopped waiting
        return response

    def _authorized(self, request: Request, body: Any) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.key_id, self.key_secret):
            return _answer(401, RazorpayError(401, "Authentication failed").error)
        try:
            with self._lock:
                status, answer = self._route(request, body)
        except RazorpayError as refused:
            return _answer(refused.status, refused.error)
        return Response(answer, status, content_type="application/json")

    def _route(self, request: Request, body: Any) -> tuple[int, bytes]:
        method, path = request.method, request.path
        if method in ("POST", "PATCH") and (
            request.mimetype != "application/json" or not isinstance(body, dict)
        ):
            raise _bad("The request body must be a JSON object")
        if path.startswith("/v1/orders"):
            return self._orders(request, body)
        if found := re.fullmatch(r"/v1/payments/([^/]+)(/capture|/refund)?", path):
            payment = self._get(self.payments, found[1])
            if method == "GET" and not found[2]:
                return _ok(payment)
            if method == "POST" and found[2] == "/capture":
                return _ok(self._capture(payment, body))
            if method == "POST" and found[2] == "/refund":
                return self._refund_once(payment, body, request.headers.get("X-Refund-Idempotency"))
        if method == "GET" and (found := re.fullmatch(r"/v1/refunds/([^/]+)", path)):
            return _ok(self._get(self.refunds, found[1]))
        raise _not_found(path)

    def _orders(self, request: Request, body: Any) -> tuple[int, bytes]:
        method, path = request.method, request.path
        if (method, path) == ("POST", "/v1/orders"):
            return _ok(self._create_order(body))
        if (method, path) == ("GET", "/v1/orders"):
            receipt = request.args.get("receipt")
            found = [o for o in self.orders.values() if receipt in (None, o["receipt"])]
            newest = sorted(found, key=lambda o: -o["created_at"])
            return _ok(_collection(newest[: int(request.args.get("count", 10))]))
        if matched := re.fullmatch(r"/v1/orders/([^/]+)(/payments)?", path):
            order = self._get(self.orders, matched[1])
            if method == "GET" and matched[2]:
                mine = [p for p in self.payments.values() if p["order_id"] == order["id"]]
                return _ok(_collection(sorted(mine, key=lambda p: -p["created_at"])))
            if method == "GET":
                return _ok(_public(order))
            if method == "PATCH" and not matched[2]:
                return _ok(self._edit_order(order, body))
        raise _not_found(path)

    def _create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - _ORDER_FIELDS
        if unknown:
            raise _bad(f"{', '.join(sorted(unknown))} is/are not required and should not be sent")
        currency = body.get("currency")
        if currency not in CURRENCIES:
            raise _bad("Currency is not supported", field="currency")
        amount = body.get("amount")
        if type(amount) is not int or amount < (100 if currency == "INR" else 1):
            raise _bad("The amount must be at least INR 1.00", field="amount")
        if CURRENCIES[currency] == 3 and amount % 10:
            raise _bad("The last digit of a three-decimal amount must be 0", field="amount")
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise _bad("The receipt may not be greater than 40 characters.", field="receipt")
        notes = _checked_notes(body.get("notes", {}))
        capture = (body.get("payment") or {"capture": "automatic"}).get("capture")
        if capture not in ("automatic", "manual"):
            raise _bad("The payment.capture field is invalid.", field="payment.capture")
        order = {
            "id": razorpay_id("order"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes,
            "created_at": next(self._clock),
        }
        self.orders[order["id"]] = order
        self._capture_mode[order["id"]] = capture
        return _public(order)

    def _edit_order(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if set(body) != {"notes"}:
            raise _bad("Only the notes of an order can be updated")
        order["notes"] = _checked_notes(body["notes"])
        return _public(order)

    def _capture(self, payment: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if payment["status"] == "captured":
            raise _bad("This payment has already been captured")
        if payment["status"] != "authorized":
            raise _bad(
                "Only payments which have been authorized and not yet captured can be captured"
            )
        if body.get("amount") != payment["amount"] or type(body.get("amount")) is not int:
            raise _bad("Capture amount must be equal to the amount authorized", field="amount")
        if body.get("currency") != payment["currency"]:
            raise _bad("The currency should be the same as the payment currency", field="currency")
        self.capture(payment["id"])
        return payment

    def _refund_once(
        self, payment: dict[str, Any], body: dict[str, Any], key: str | None
    ) -> tuple[int, bytes]:
        """Razorpay's refund idempotency: the same key and body answer the first answer."""
        if key is None:
            return _ok(self._refund(payment, body))
        if not _REFUND_KEY.fullmatch(key):
            raise _bad("The idempotency key is invalid")
        fingerprint = json.dumps([payment["id"], body], sort_keys=True)
        first = self._refund_answers.get(key)
        if first is not None:
            if first[0] != fingerprint:
                raise _bad(
                    "Different request with the same idempotency key has already been processed."
                )
            return first[1], first[2]
        answer = _ok(self._refund(payment, body))  # a refusal is not kept: nothing was done
        self._refund_answers[key] = (fingerprint, *answer)
        return answer

    def _refund(self, payment: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if not payment["captured"]:
            raise _bad("The payment has not been captured yet; it cannot be refunded")
        amount = body.get("amount", payment["amount"] - payment["amount_refunded"])
        if type(amount) is not int or amount < 1:
            raise _bad("The amount must be a positive integer", field="amount")
        if amount > payment["amount"] - payment["amount_refunded"]:
            raise _bad("The refund amount provided is greater than amount captured", field="amount")
        if body.get("speed", "normal") not in ("normal", "optimum"):
            raise _bad("The speed field is invalid", field="speed")
        refund = self._new_refund(
            payment, amount, _checked_notes(body.get("notes", {})), self.refund_status
        )
        payment["amount_refunded"] += amount
        full = payment["amount_refunded"] == payment["amount"]
        payment.update(refund_status="full" if full else "partial")
        if full:
            payment["status"] = "refunded"
        self._deliver("refund.created", refund=refund, payment=payment)
        if refund["status"] == "processed":
            self._deliver("refund.processed", refund=refund, payment=payment)
        return refund

    # -- Razorpay's entities -------------------------------------------------------------------

    def _new_payment(self, order: dict[str, Any], status: str) -> dict[str, Any]:
        payment = payment_entity(
            razorpay_id("pay"), order["id"], order["amount"], order["currency"], status
        )
        payment["created_at"] = next(self._clock)
        self.payments[payment["id"]] = payment
        return payment

    def _new_refund(
        self, payment: dict[str, Any], amount: int, notes: dict[str, str], status: str
    ) -> dict[str, Any]:
        refund = refund_entity(
            razorpay_id("rfnd"), payment["id"], amount, payment["currency"], status, notes
        )
        refund["created_at"] = next(self._clock)
        self.refunds[refund["id"]] = refund
        return refund

    def _deliver(self, event: str, **entities: dict[str, Any]) -> None:
        body = event_body(event, created_at=next(self._clock), **entities)
        event_id = razorpay_id("evt")
        self.deliveries.append(Delivery(event, body, self.webhook_headers(body, event_id)))

    @staticmethod
    def _get(table: dict[str, dict[str, Any]], entity_id: str) -> dict[str, Any]:
        found = table.get(entity_id)
        if found is None:
            raise _missing()
        return found


# -- Razorpay's JSON -----------------------------------------------------------------------------


def payment_entity(
    payment_id: str, order_id: str | None, amount: int, currency: str, status: str, **more: Any
) -> dict[str, Any]:
    """A payment entity as Razorpay's API and webhooks show it."""
    return {
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": currency,
        "status": status,
        "order_id": order_id,
        "invoice_id": None,
        "international": False,
        "method": "card",
        "amount_refunded": 0,
        "refund_status": None,
        "captured": status == "captured",
        "description": "Order payment",
        "card_id": razorpay_id("card"),
        "bank": None,
        "wallet": None,
        "vpa": None,
        "email": "gaurav.kumar@example.com",
        "contact": "+919000090000",
        "notes": [],
        "fee": None,
        "tax": None,
        "error_code": None,
        "error_description": None,
        "error_source": None,
        "error_step": None,
        "error_reason": None,
        "acquirer_data": {"auth_code": None},
        "created_at": 1_770_000_000,
        **more,
    }


def refund_entity(
    refund_id: str,
    payment_id: str,
    amount: int,
    currency: str,
    status: str,
    notes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A refund entity as Razorpay's API and webhooks show it."""
    return {
        "id": refund_id,
        "entity": "refund",
        "amount": amount,
        "currency": currency,
        "payment_id": payment_id,
        "notes": dict(notes) if notes else [],
        "receipt": None,
        "acquirer_data": {"arn": None},
        "created_at": 1_770_000_000,
        "batch_id": None,
        "status": status,
        "speed_processed": "normal",
        "speed_requested": "normal",
    }


def event_body(event: str, *, created_at: int = 1_770_000_000, **entities: dict[str, Any]) -> bytes:
    """A webhook body as Razorpay POSTs it: ``payload.<entity>.entity`` for each entity."""
    return json.dumps(
        {
            "entity": "event",
            "account_id": ACCOUNT_ID,
            "event": event,
            "contains": list(entities),
            "payload": {name: {"entity": entity} for name, entity in entities.items()},
            "created_at": created_at,
        }
    ).encode()


def basic_auth(key_id: str, key_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key_id}:{key_secret}".encode()).decode()


def _checked_notes(notes: Any) -> dict[str, str]:
    if notes in ([], None):
        return {}
    if not isinstance(notes, dict) or len(notes) > 15:
        raise _bad("The notes should be a map of at most 15 keys", field="notes")
    if any(not isinstance(v, str) or len(v) > 256 for v in notes.values()):
        raise _bad("The notes values may not be greater than 256 characters", field="notes")
    return dict(notes)


def _public(order: dict[str, Any]) -> dict[str, Any]:
    # Razorpay writes empty notes as a JSON array.
    return {**order, "notes": order["notes"] or []}


def _collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    shown = [_public(item) if item["entity"] == "order" else item for item in items]
    return {"entity": "collection", "count": len(shown), "items": shown}


def _ok(body: Mapping[str, Any]) -> tuple[int, bytes]:
    return 200, json.dumps(body).encode()


def _fault_error(status: int) -> dict[str, Any]:
    if status == 429:
        return RazorpayError(429, "Too many requests").error
    if status == 409:
        return RazorpayError(409, "The request is already being processed").error
    return RazorpayError(
        status, "The server encountered an error. The incident has been reported to admins."
    ).error


def _answer(status: int, error: Mapping[str, Any]) -> Response:
    return Response(json.dumps({"error": dict(error)}), status, content_type="application/json")
