"""A local stand-in for PayPal's REST API (``api-m.sandbox.paypal.com``): the endpoints
``PayPalGateway`` calls, answered in PayPal's documented shapes, so the real ``paypal-server-sdk``
can be pointed at it (``base_url``).

Covered: ``POST /v1/oauth2/token`` (client credentials in Basic auth; every other endpoint wants
the Bearer token it issued); Orders v2 create (one purchase unit), get, patch (``replace
/intent``) and capture; Payments v2 ``GET /v2/payments/captures/{id}``, ``POST
/v2/payments/captures/{id}/refund`` and ``GET /v2/payments/refunds/{id}``; ``POST
/v1/notifications/verify-webhook-signature``. ``PayPal-Request-Id`` as PayPal keeps it: a
repeated id on the same path answers what its first request answered (a success as 200 instead
of 201, an error as the same error), whatever the body; 5xx, 429 and 409 are not kept. Amounts
as PayPal checks them (a supported currency, no decimals for HUF, JPY and TWD, two for the rest,
positive; refunds in the capture's currency, within what remains). Errors as PayPal writes them:
``{name, message, debug_id, details: [{issue, description}], links}``.

Stricter than PayPal, so a careless client fails loudly: a create, capture or refund without
``PayPal-Request-Id`` is refused, and ``unexpected`` notes it, and every request PayPal would
call malformed (400, 415), a call without a Bearer token, or one this fake does not cover.

Webhook deliveries are signed as PayPal signs them - over ``transmission_id|transmission_time|
webhook_id|crc32(body)`` - but with an HMAC instead of PayPal's RSA certificate: clients never
check the signature themselves, they ask the verify endpoint, which checks the event exactly as
the client sent it (the raw text of ``webhook_event``, byte for byte: a re-serialised or
altered body fails, as it would at PayPal).

Not covered: payment sources in requests (cards, vaulting), authorizations, several purchase
units, items and breakdowns, shipping, order expiry, disputes' own API.

Test controls: ``approve(order_id, declines=False, capture_status="COMPLETED")`` (the sandbox
buyer approves on PayPal's page, optionally with a funding source declined at capture, or whose
capture stays PENDING or comes out DECLINED), ``void(order_id)``, ``refund_in_dashboard(order_id,
value)``, ``fail_next(n, status, path)`` (5xx, 429, 409 ...), ``stall_next(n, seconds, path)``
(the request is processed, then answered too late: a timeout), ``before_next(pattern,
action)`` (something happens at PayPal between two requests: a race; ``local_api.Faults``), ``recover()``,
``revoke_tokens()``, ``sign(body)``, ``deliveries`` (the signed webhooks PayPal would have sent
for what happened here), ``requests`` (everything the SDK sent), ``unexpected``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from werkzeug.wrappers import Request, Response

from commerce_core import Money, exponent_of
from tests.support.local_api import Faults, serve

CLIENT_ID = "AfakeClientId0123456789"
CLIENT_SECRET = "EfakeClientSecret0123456789"
WEBHOOK_ID = "1JE4291016473214C"
SANDBOX = "https://api-m.sandbox.paypal.com"
AUTH_ALGO = "SHA256withRSA"
CERT_PATH = "/v1/notifications/certs/CERT-360caa42-fca2a594-fake"
_SIGNING_KEY = b"the fake's stand-in for PayPal's private key"

# PayPal's currencies for REST payments, and those it takes without decimals
# (https://developer.paypal.com/api/rest/reference/currency-codes/).
CURRENCIES = frozenset({
    "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS", "JPY",
    "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "SEK", "SGD", "THB", "TWD", "USD",
})  # fmt: skip
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})
_CUSTOM_ID = re.compile(r"[A-Za-z0-9_.,-]{1,127}")
_KEPT_BY_REQUEST_ID = re.compile(
    r"/v2/checkout/orders(/[^/]+/capture)?|/v2/payments/captures/[^/]+/refund"
)


def paypal_value(amount: Money) -> str:
    """How PayPal writes ``amount``: ``"42.00"`` EUR, ``"4200"`` JPY, ``"1500"`` HUF."""
    return _text(Decimal(amount.amount).scaleb(-exponent_of(amount.currency)), amount.currency)


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- PayPal's JSON, for the fake's answers and for tests writing events --------------------------


def link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def amount_json(currency: str, value: str) -> dict[str, str]:
    return {"currency_code": currency, "value": value}


def capture_json(
    capture_id: str,
    order_id: str | None,
    currency: str,
    value: str,
    *,
    status: str = "COMPLETED",
    custom_id: str | None = None,
    reason: str | None = None,
    base: str = SANDBOX,
) -> dict[str, Any]:
    """A Payments v2 capture, as in an order's ``payments`` and in PAYMENT.CAPTURE.* events."""
    body: dict[str, Any] = {
        "id": capture_id,
        "status": status,
        "amount": amount_json(currency, value),
        "final_capture": True,
        "seller_protection": {"status": "ELIGIBLE"},
        "create_time": now_text(),
        "update_time": now_text(),
        "links": [
            link(f"{base}/v2/payments/captures/{capture_id}", "self"),
            link(f"{base}/v2/payments/captures/{capture_id}/refund", "refund", "POST"),
        ],
    }
    if order_id is not None:
        body["supplementary_data"] = {"related_ids": {"order_id": order_id}}
        body["links"].append(link(f"{base}/v2/checkout/orders/{order_id}", "up"))
    if custom_id is not None:
        body["custom_id"] = custom_id
    if reason is not None:
        body["status_details"] = {"reason": reason}
    return body


def refund_json(
    refund_id: str,
    capture_id: str,
    currency: str,
    value: str,
    *,
    status: str = "COMPLETED",
    custom_id: str | None = None,
    base: str = SANDBOX,
) -> dict[str, Any]:
    """A Payments v2 refund (PAYMENT.CAPTURE.REFUNDED; a reversal has the same shape)."""
    body: dict[str, Any] = {
        "id": refund_id,
        "status": status,
        "amount": amount_json(currency, value),
        "create_time": now_text(),
        "update_time": now_text(),
        "links": [
            link(f"{base}/v2/payments/refunds/{refund_id}", "self"),
            link(f"{base}/v2/payments/captures/{capture_id}", "up"),
        ],
    }
    if custom_id is not None:
        body["custom_id"] = custom_id
    return body


def event_json(
    event_type: str, resource_type: str, resource: Mapping[str, Any], *, event_id: str = ""
) -> dict[str, Any]:
    """A webhook event around ``resource``, as PayPal posts it."""
    event_id = event_id or f"WH-{paypal_id()}-{paypal_id()}"
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": now_text(),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": f"{event_type} ({resource_type})",
        "resource": dict(resource),
        "links": [
            link(f"{SANDBOX}/v1/notifications/webhooks-events/{event_id}", "self"),
            link(f"{SANDBOX}/v1/notifications/webhooks-events/{event_id}/resend", "resend", "POST"),
        ],
    }


def encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def paypal_id() -> str:
    """An id as PayPal makes them: 17 upper-case letters and digits."""
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))


# -- the fake -----------------------------------------------------------------------------------


@attrs.define
class Sent:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the JSON (or form) sent, None without a body
    raw: bytes = b""


@attrs.define
class _Order:
    id: str
    intent: str
    currency: str
    value: Decimal
    custom_id: str | None
    status: str = "CREATED"
    funding: str | None = None  # once approved: "ok", or "declines" at capture
    capture_status: str = "COMPLETED"  # what a capture of it comes out as
    capture_id: str | None = None


@attrs.define
class _Capture:
    id: str
    order_id: str | None
    currency: str
    value: Decimal
    custom_id: str | None
    status: str = "COMPLETED"
    refunded: Decimal = Decimal(0)


@attrs.define
class _Refund:
    id: str
    capture_id: str
    currency: str
    value: Decimal
    custom_id: str | None
    status: str = "COMPLETED"


class Refusal(Exception):
    """An error answer, as PayPal writes it."""

    def __init__(
        self, status: int, name: str, message: str, issue: str = "", description: str = ""
    ) -> None:
        super().__init__(f"{status} {name} {issue}")
        self.status = status
        self.body: dict[str, Any] = {
            "name": name,
            "message": message,
            "debug_id": secrets.token_hex(6),
        }
        if issue:
            self.body["details"] = [{"issue": issue, "description": description or message}]
            self.body["links"] = [
                link(
                    f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{issue}",
                    "information_link",
                )
            ]

    def response(self) -> Response:
        return _json(self.body, self.status)


def _unprocessable(issue: str, description: str) -> Refusal:
    return Refusal(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
        issue,
        description,
    )


def _invalid(issue: str, description: str) -> Refusal:
    return Refusal(
        400,
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
        issue,
        description,
    )


def _missing(kind: str, ident: str) -> Refusal:
    return Refusal(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
        f"Specified resource ID does not exist. Please check the resource ID and try again. "
        f"({kind} {ident})",
    )


_FAULTS = {
    409: Refusal(
        409,
        "RESOURCE_CONFLICT",
        "The server has detected a conflict while processing this request.",
        "PREVIOUS_REQUEST_IN_PROGRESS",
        "A previous request on this resource is currently in progress.",
    ),
    429: Refusal(429, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: Refusal(500, "INTERNAL_SERVER_ERROR", "An internal server error has occurred."),
}


class PayPalApi(Faults):
    def __init__(
        self,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        webhook_id: str = WEBHOOK_ID,
    ) -> None:
        super().__init__()
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.base = "http://127.0.0.1"  # until serving
        self.orders: dict[str, _Order] = {}
        self.captures: dict[str, _Capture] = {}
        self.refunds: dict[str, _Refund] = {}
        self.requests: list[Sent] = []
        self.unexpected: list[str] = []
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self._tokens: set[str] = set()
        self._answers: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._lock = threading.RLock()

    # -- test controls -------------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def approve(
        self, order_id: str, *, declines: bool = False, capture_status: str = "COMPLETED"
    ) -> bool:
        """The sandbox buyer logs in on PayPal's page and approves ``order_id``, paying with a
        funding source that PayPal will decline at capture if ``declines`` (422
        INSTRUMENT_DECLINED), or whose capture comes out ``capture_status`` (PENDING for an
        eCheck, DECLINED as card captures can be). Approving again (after a decline, as PayPal's
        ``actions.restart()`` lets the buyer) changes the source. ``False`` if there was nothing
        to approve (no such order, or no longer awaiting approval)."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None or order.status not in ("CREATED", "APPROVED"):
                return False
            order.status, order.funding = "APPROVED", "declines" if declines else "ok"
            order.capture_status = capture_status
            return True

    def void(self, order_id: str) -> None:
        """PayPal voids the order (it expired unpaid)."""
        with self._lock:
            self.orders[order_id].status = "VOIDED"

    def refund_in_dashboard(self, order_id: str, value: str) -> str:
        """The merchant refunds part of the order's capture in PayPal's dashboard (no custom_id);
        the refund's id."""
        with self._lock:
            capture = self.captures[self.orders[order_id].capture_id or ""]
            return self._make_refund(capture, Decimal(value), None).id

    def sign(self, body: bytes) -> dict[str, str]:
        """The transmission headers PayPal sends with ``body`` to this fake's webhook."""
        transmission_id, transmission_time = str(uuid.uuid4()), now_text()
        signed = _signed_string(transmission_id, transmission_time, self.webhook_id, body)
        return {
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "PAYPAL-CERT-URL": f"{self.base}{CERT_PATH}",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": _signature(signed),
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
        }

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on a free local port; yields the base URL to give the SDK."""
        with serve(self.wsgi) as base:
            self.base = base
            yield base

    # -- the API -------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self._lock:
            sent = Sent(request.method, request.path, headers, None, request.get_data())
            self.requests.append(sent)
        fault = self.take(request.method, request.path)
        if fault is not None and fault.fails:
            status = fault.status
            refusal = _FAULTS.get(status) or Refusal(
                status, "SERVICE_UNAVAILABLE", "Service Unavailable."
            )
            return refusal.response()
        try:
            sent.body = self._body(request)
            with self._lock:
                answer = self._answer(sent)
        except Refusal as refusal:
            answer = refusal.response()
        if answer.status_code in (400, 415):
            # PayPal would call the request malformed: for our client, always a bug.
            self._unexpect(f"{sent.method} {sent.path}: {answer.get_data(as_text=True)}")
        if fault is not None:
            time.sleep(fault.seconds)  # processed, but the answer comes after the client gave up
        return answer

    def _body(self, request: Request) -> Any:
        if request.path == "/v1/oauth2/token":
            return request.form.to_dict()
        raw = request.get_data()
        if not raw:
            return None
        if request.mimetype != "application/json":
            raise Refusal(415, "UNSUPPORTED_MEDIA_TYPE", "The request payload is not supported.")
        try:
            return json.loads(raw)
        except ValueError:
            raise _invalid(
                "MALFORMED_REQUEST_JSON", "The request JSON is not well formed."
            ) from None

    def _answer(self, sent: Sent) -> Response:
        method, path, headers = sent.method, sent.path, sent.headers
        if path == "/v1/oauth2/token" and method == "POST":
            return self._token(headers, sent.body)
        self._authenticate(method, path, headers)
        if method != "POST" or not _KEPT_BY_REQUEST_ID.fullmatch(path):
            return self._route(sent)
        request_id = headers.get("paypal-request-id")
        if not request_id:
            raise _invalid("MISSING_REQUIRED_HEADER", "PayPal-Request-Id is required here.")
        first = self._answers.get((path, request_id))
        if first is not None:
            status, data = first
            return Response(data, 200 if status == 201 else status, content_type="application/json")
        try:
            answer = self._route(sent)
        except Refusal as refusal:  # a refusal is an answer PayPal keeps like any other
            answer = refusal.response()
        if answer.status_code < 500 and answer.status_code not in (409, 429):
            self._answers[(path, request_id)] = (answer.status_code, answer.get_data())
        return answer

    def _route(self, sent: Sent) -> Response:
        method, path, body = sent.method, sent.path, sent.body
        full = "return=representation" in sent.headers.get("prefer", "")
        if method == "POST" and path == "/v2/checkout/orders":
            return self._create(body, full)
        if method == "POST" and path == "/v1/notifications/verify-webhook-signature":
            return _json({"verification_status": self._verify(body, sent.raw)})
        found = re.fullmatch(r"/v2/checkout/orders/([^/]+)(/capture)?", path)
        if found:
            order = self._order(found[1])
            if method == "GET" and not found[2]:
                return _json(self._order_json(order))
            if method == "PATCH" and not found[2]:
                return self._patch(order, body)
            if method == "POST" and found[2]:
                return self._capture(order, full)
        found = re.fullmatch(r"/v2/payments/captures/([^/]+)(/refund)?", path)
        if found:
            capture = self.captures.get(found[1])
            if capture is None:
                raise _missing("capture", found[1])
            if method == "GET" and not found[2]:
                return _json(self._capture_json(capture))
            if method == "POST" and found[2]:
                return self._refund(capture, body, full)
        found = re.fullmatch(r"/v2/payments/refunds/([^/]+)", path)
        if found and method == "GET":
            refund = self.refunds.get(found[1])
            if refund is None:
                raise _missing("refund", found[1])
            return _json(self._refund_json(refund))
        self._unexpect(f"{method} {path}: not an endpoint this fake covers")
        raise Refusal(404, "NOT_FOUND", f"No route {method} {path}.")

    # -- OAuth ---------------------------------------------------------------------------------

    def _token(self, headers: Mapping[str, str], form: Mapping[str, str]) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            return _json(
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
                401,
            )
        if form.get("grant_type") != "client_credentials":
            self._unexpect(f"token request with grant_type {form.get('grant_type')!r}")
            return _json({"error": "unsupported_grant_type"}, 400)
        token = f"A21AA{secrets.token_urlsafe(24)}"
        self._tokens.add(token)
        return _json(
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": 32400,
                "nonce": f"{now_text()}{secrets.token_hex(8)}",
            }
        )

    def _authenticate(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        given = headers.get("authorization", "")
        if not given.startswith("Bearer "):
            self._unexpect(f"{method} {path} without a Bearer token")
        if given.removeprefix("Bearer ") not in self._tokens:
            raise Refusal(
                401,
                "AUTHENTICATION_FAILURE",
                "Authentication failed due to invalid authentication credentials or a missing "
                "Authorization header.",
            )

    # -- orders --------------------------------------------------------------------------------

    def _create(self, body: Any, full: bool) -> Response:
        request = _object(body, "body")
        intent = request.get("intent")
        if intent not in ("CAPTURE", "AUTHORIZE"):
            raise _invalid("INVALID_PARAMETER_VALUE", f"intent {intent!r} is not allowed.")
        units = request.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1:
            raise _invalid("INVALID_ARRAY_MAX_ITEMS", "This fake takes one purchase unit.")
        unit = _object(units[0], "purchase_units[0]")
        currency, value = _amount(unit.get("amount"), "purchase_units[0].amount")
        custom_id = unit.get("custom_id")
        if custom_id is not None and not (
            isinstance(custom_id, str) and 1 <= len(custom_id) <= 127
        ):
            raise _invalid("INVALID_STRING_LENGTH", "custom_id must be 1 to 127 characters.")
        order = _Order(paypal_id(), intent, currency, value, custom_id)
        self.orders[order.id] = order
        return _json(self._order_json(order, full), 201)

    def _patch(self, order: _Order, body: Any) -> Response:
        if order.status in ("COMPLETED", "VOIDED"):
            raise _unprocessable(
                "ORDER_ALREADY_COMPLETED"
                if order.status == "COMPLETED"
                else "ORDER_COMPLETED_OR_VOIDED",
                "The order cannot be patched after it is completed.",
            )
        if not isinstance(body, list) or not body:
            raise _invalid("INVALID_PARAMETER_SYNTAX", "A patch is a list of operations.")
        for operation in body:
            patch = _object(operation, "patch")
            if patch.get("op") != "replace" or patch.get("path") != "/intent":
                self._unexpect(f"PATCH {patch.get('op')} {patch.get('path')}: not covered")
                raise _unprocessable("FIELD_NOT_PATCHABLE", "Field cannot be patched.")
            if patch.get("value") not in ("CAPTURE", "AUTHORIZE"):
                raise _unprocessable(
                    "INVALID_PATCH_OPERATION", "intent must be CAPTURE or AUTHORIZE."
                )
            order.intent = str(patch["value"])
        return Response(status=204)

    def _capture(self, order: _Order, full: bool) -> Response:
        if order.intent != "CAPTURE":
            raise _unprocessable(
                "ACTION_DOES_NOT_MATCH_INTENT",
                "Order was created with an intent to 'AUTHORIZE'. Please use "
                "v2/checkout/orders/order_id/authorize to complete the transaction or "
                "alternately update the order intent to 'CAPTURE'.",
            )
        if order.status == "COMPLETED":
            raise _unprocessable(
                "ORDER_ALREADY_CAPTURED",
                "Order already captured. If 'intent=CAPTURE' only one capture per order is "
                "allowed.",
            )
        if order.status == "VOIDED":
            raise _unprocessable(
                "ORDER_COMPLETED_OR_VOIDED",
                "Order is voided or completed and hence cannot be processed.",
            )
        if order.status != "APPROVED":
            raise _unprocessable(
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment. Please redirect the payer to "
                "the 'rel':'approve' url returned as part of the HATEOAS links within the "
                "Create Order call or provide a valid payment_source in the request.",
            )
        if order.funding == "declines":
            raise _unprocessable(
                "INSTRUMENT_DECLINED",
                "The instrument presented was either declined by the processor or bank, or it "
                "can't be used for this payment.",
            )
        capture = _Capture(
            paypal_id(),
            order.id,
            order.currency,
            order.value,
            order.custom_id,
            order.capture_status,
        )
        self.captures[capture.id] = capture
        order.status, order.capture_id = "COMPLETED", capture.id
        self._deliver(f"PAYMENT.CAPTURE.{capture.status}", "capture", self._capture_json(capture))
        return _json(self._order_json(order, full), 201)

    def _order(self, order_id: str) -> _Order:
        order = self.orders.get(order_id)
        if order is None:
            raise _missing("order", order_id)
        return order

    def _order_json(self, order: _Order, full: bool = True) -> dict[str, Any]:
        here = f"{self.base}/v2/checkout/orders/{order.id}"
        links = [link(here, "self")]
        if order.status == "CREATED":
            links.append(link(f"{self.base}/checkoutnow?token={order.id}", "approve"))
        if order.status in ("CREATED", "APPROVED"):
            links += [link(here, "update", "PATCH"), link(f"{here}/capture", "capture", "POST")]
        minimal: dict[str, Any] = {"id": order.id, "status": order.status, "links": links}
        if not full:
            return minimal
        unit: dict[str, Any] = {
            "reference_id": "default",
            "amount": amount_json(order.currency, _text(order.value, order.currency)),
            "payee": {"email_address": "merchant@example.com", "merchant_id": "FAKEMERCHANT01"},
        }
        if order.custom_id is not None:
            unit["custom_id"] = order.custom_id
        if order.capture_id is not None:
            unit["payments"] = {"captures": [self._capture_json(self.captures[order.capture_id])]}
        body = {
            **minimal,
            "intent": order.intent,
            "create_time": now_text(),
            "purchase_units": [unit],
        }
        if order.funding is not None:
            body["payment_source"] = {"paypal": {"email_address": "buyer@example.com"}}
            body["payer"] = {"email_address": "buyer@example.com", "payer_id": "FAKEBUYER0001"}
        return body

    # -- payments ------------------------------------------------------------------------------

    def _refund(self, capture: _Capture, body: Any, full: bool) -> Response:
        request = _object(body, "body") if body is not None else {}
        custom_id = request.get("custom_id")
        if custom_id is not None and not (
            isinstance(custom_id, str) and _CUSTOM_ID.fullmatch(custom_id)
        ):
            raise _invalid("INVALID_PARAMETER_SYNTAX", "custom_id must match ^[A-Za-z0-9-_.,]*$.")
        if capture.status == "REFUNDED":
            raise _unprocessable(
                "CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded."
            )
        value = capture.value - capture.refunded
        if "amount" in request:
            currency, value = _amount(request["amount"], "amount")
            if currency != capture.currency:
                raise _unprocessable(
                    "REFUND_CAPTURE_CURRENCY_MISMATCH",
                    "Refund must be in the same currency as the capture.",
                )
        if value > capture.value - capture.refunded:
            raise _unprocessable(
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has "
                "not yet been refunded.",
            )
        refund = self._make_refund(capture, value, custom_id)
        answer = self._refund_json(refund)
        if not full:
            answer = {key: answer[key] for key in ("id", "status", "links")}
        return _json(answer, 201)

    def _make_refund(self, capture: _Capture, value: Decimal, custom_id: str | None) -> _Refund:
        refund = _Refund(paypal_id(), capture.id, capture.currency, value, custom_id)
        self.refunds[refund.id] = refund
        capture.refunded += value
        capture.status = "REFUNDED" if capture.refunded == capture.value else "PARTIALLY_REFUNDED"
        self._deliver("PAYMENT.CAPTURE.REFUNDED", "refund", self._refund_json(refund))
        return refund

    def _capture_json(self, capture: _Capture) -> dict[str, Any]:
        return capture_json(
            capture.id,
            capture.order_id,
            capture.currency,
            _text(capture.value, capture.currency),
            status=capture.status,
            custom_id=capture.custom_id,
            base=self.base,
        )

    def _refund_json(self, refund: _Refund) -> dict[str, Any]:
        return refund_json(
            refund.id,
            refund.capture_id,
            refund.currency,
            _text(refund.value, refund.currency),
            status=refund.status,
            custom_id=refund.custom_id,
            base=self.base,
        )

    # -- webhooks ------------------------------------------------------------------------------

    def _deliver(self, event_type: str, resource_type: str, resource: Mapping[str, Any]) -> None:
        body = encode(event_json(event_type, resource_type, resource))
        self.deliveries.append((body, self.sign(body)))

    def _verify(self, body: Any, raw: bytes) -> str:
        request = _object(body, "body")
        fields = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
        )
        missing = [f for f in fields if not isinstance(request.get(f), str) or not request[f]]
        if missing or not isinstance(request.get("webhook_event"), dict):
            raise Refusal(
                400,
                "VALIDATION_ERROR",
                "Invalid request - see details.",
                "MISSING_REQUIRED_PARAMETER",
                f"missing or invalid: {[*missing, 'webhook_event']}",
            )
        # The event exactly as the client sent it: the text between its name's colon and the
        # next delimiter. A re-serialised event (other spacing, key order) fails the CRC.
        event = _raw_member(raw, "webhook_event")
        tid, at, webhook_id = (
            request[f] for f in ("transmission_id", "transmission_time", "webhook_id")
        )
        good = (
            event is not None
            and request["auth_algo"] == AUTH_ALGO
            and request["cert_url"] == f"{self.base}{CERT_PATH}"
            and webhook_id == self.webhook_id
            and hmac.compare_digest(
                _signature(_signed_string(tid, at, webhook_id, event)), request["transmission_sig"]
            )
        )
        return "SUCCESS" if good else "FAILURE"

    def _unexpect(self, what: str) -> None:
        with self._lock:
            self.unexpected.append(what)


# -- at the fake's edge --------------------------------------------------------------------------


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid("INVALID_PARAMETER_SYNTAX", f"{where} must be a JSON object.")
    return value


def _amount(value: Any, where: str) -> tuple[str, Decimal]:
    """A PayPal amount object checked as PayPal checks it: (currency, value)."""
    amount = _object(value, where)
    currency, text = amount.get("currency_code"), amount.get("value")
    if not isinstance(currency, str) or not isinstance(text, str):
        raise _invalid("MISSING_REQUIRED_PARAMETER", f"{where} needs currency_code and value.")
    if currency not in CURRENCIES:
        raise _unprocessable(
            "CURRENCY_NOT_SUPPORTED", f"Currency code {currency} is not supported."
        )
    if not re.fullmatch(r"[0-9]{1,10}(\.[0-9]+)?", text):
        raise _invalid("INVALID_PARAMETER_SYNTAX", f"{where}.value {text!r} is not an amount.")
    if len(text.partition(".")[2]) > (0 if currency in NO_DECIMALS else 2):
        raise _unprocessable(
            "DECIMAL_PRECISION",
            f"{currency} does not support decimals."
            if currency in NO_DECIMALS
            else "If the currency supports decimals, only two decimal place precision is supported.",
        )
    if Decimal(text) <= 0:
        raise _unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero.")
    return currency, Decimal(text)


def _text(value: Decimal, currency: str) -> str:
    places = 0 if currency in NO_DECIMALS else 2
    written = f"{value:.{places}f}"
    if Decimal(written) != value:
        raise ValueError(f"PayPal cannot write {value} {currency}")
    return written


def _signed_string(transmission_id: str, at: str, webhook_id: str, body: bytes) -> bytes:
    # PayPal signs "<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body>".
    return f"{transmission_id}|{at}|{webhook_id}|{zlib.crc32(body)}".encode()


def _signature(signed: bytes) -> str:
    return base64.b64encode(hmac.new(_SIGNING_KEY, signed, hashlib.sha256).digest()).decode()


def _raw_member(raw: bytes, name: str) -> bytes | None:
    """The raw text of member ``name`` of the JSON object ``raw`` (already known to be valid
    JSON), from just after its colon to the next delimiter, whitespace included."""
    text, decoder = raw.decode(), json.JSONDecoder()
    at = _past_blanks(text, 0)
    if text[at : at + 1] != "{":
        return None
    at = _past_blanks(text, at + 1)
    while text[at : at + 1] == '"':
        key, at = decoder.raw_decode(text, at)
        start = _past_blanks(text, at) + 1  # past the colon
        _, end = decoder.raw_decode(text, _past_blanks(text, start))
        stop = _past_blanks(text, end)
        if key == name:
            return text[start:stop].encode()
        at = _past_blanks(text, stop + 1)  # past the comma
    return None


def _past_blanks(text: str, at: int) -> int:
    return len(text) - len(text[at:].lstrip(" \t\n\r"))
