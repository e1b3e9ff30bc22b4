"""A local stand-in for api.stripe.com: the endpoints ``StripeGateway`` calls, answered with Stripe's
documented shapes, so the real ``stripe`` SDK can be pointed at it (``api_base``).

Covered: ``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}``,
``POST /v1/payment_intents/{id}/confirm``, ``POST /v1/payment_intents/{id}/cancel``,
``POST /v1/refunds``, ``GET /v1/refunds/{id}``; Bearer authentication with the secret key;
``Idempotency-Key`` as Stripe keeps it (the same key and parameters answer the first answer,
other parameters a 400 ``idempotency_error``); form-encoded nested parameters; errors as Stripe
sends them (402 ``card_error`` carrying the intent, 400 ``resource_missing`` on a parameter,
``payment_intent_unexpected_state``, 404); Stripe's test payment methods and 3-D Secure, through
``commerce_core.simulated_gateway``. Not covered: customers, charges, disputes, the many other
parameters Stripe accepts.

Test controls: ``fail_next(n, status)`` (5xx, 429 ...), ``stall_next(n, seconds)`` (a timeout),
``authenticate(intent_id)`` (the buyer passes 3-D Secure), ``requests`` (everything the SDK sent).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import attrs
from werkzeug.wrappers import Request, Response

from adapters.payments import stripe_wire
from commerce_core import CommerceError, GatewayError, IntentStatus, Money
from commerce_core.simulated_gateway import SimulatedIntent, SimulatedRefund
from tests.support.local_api import Faults, serve

SECRET_KEY = "sk_test_local_stripe_api_0123456789"
CREATED = 1_770_000_000


@attrs.define
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]


class StripeError(Exception):
    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.status, self.error = status, error


def nested(form: Mapping[str, str]) -> dict[str, Any]:
    """Stripe's form encoding back into nested values: ``metadata[order_id]=x`` and
    ``payment_method_types[0]=card``."""
    out: dict[str, Any] = {}
    for raw, value in form.items():
        parts = re.findall(r"[^\[\]]+", raw)
        node = out
        for part, following in itertools.pairwise(parts):
            node = node.setdefault(part, [] if following.isdigit() else {})
            if isinstance(node, list):
                break
        if isinstance(node, list):
            node.append(value)
        else:
            node[parts[-1]] = value
    return out


class StripeApi(Faults):
    def __init__(self, secret_key: str = SECRET_KEY) -> None:
        super().__init__()
        self.secret_key = secret_key
        self.intents: dict[str, SimulatedIntent] = {}
        self.refunds: dict[str, SimulatedRefund] = {}
        self.requests: list[Sent] = []
        self._answers: dict[str, tuple[str, int, bytes]] = {}
        self._lock = threading.RLock()

    # -- test controls -------------------------------------------------------------------------

    def authenticate(self, intent_id: str, success: bool = True) -> None:
        with self._lock:
            self.intents[intent_id].authenticate(success, _now())

    def serving(self) -> AbstractContextManager[str]:
        """Serve on a free local port; the base URL to give the SDK."""
        return serve(self.wsgi)

    # -- the API -------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        params = nested(request.form.to_dict()) if request.method == "POST" else {}
        with self._lock:
            self.requests.append(Sent(request.method, request.path, dict(request.headers), params))
        fault = self.take(request.method, request.path)
        if fault is not None and fault.fails:
            return _error(fault.status, {"type": "api_error", "message": "simulated fault"})
        if fault is not None:
            time.sleep(fault.seconds)  # longer than the client's read timeout
        if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return _error(401, {"type": "invalid_request_error", "message": "Invalid API Key"})
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key:
            fingerprint = json.dumps([request.path, params], sort_keys=True)
            with self._lock:
                first = self._answers.get(key)
                if first is not None:
                    if first[0] != fingerprint:
                        return _error(
                            400,
                            {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used "
                                "with the same parameters they were first used with.",
                            },
                        )
                    return Response(first[2], first[1], content_type="application/json")
                answer = self._route(request, params)
                if answer.status_code < 500:
                    self._answers[key] = (fingerprint, answer.status_code, answer.get_data())
                return answer
        with self._lock:
            return self._route(request, params)

    def _route(self, request: Request, params: dict[str, Any]) -> Response:
        path, method = request.path, request.method
        try:
            if method == "POST" and path == "/v1/payment_intents":
                return _ok(self._create(params))
            if method == "POST" and path == "/v1/refunds":
                return _ok(self._refund(params))
            found = re.fullmatch(r"/v1/payment_intents/([^/]+)(?:/(confirm|cancel))?", path)
            if found:
                intent = self._intent(found[1])
                action = found[2]
                if method == "GET" and action is None:
                    return _ok(_intent_json(intent))
                if method == "POST" and action == "confirm":
                    return self._confirm(intent, params)
                if method == "POST" and action == "cancel":
                    return self._cancel(intent)
            found = re.fullmatch(r"/v1/refunds/([^/]+)", path)
            if found and method == "GET":
                refund = self.refunds.get(found[1])
                if refund is None:
                    raise _missing("refund", found[1])
                return _ok(_refund_json(refund))
        except StripeError as error:
            return _error(error.status, error.error)
        return _error(404, {"type": "invalid_request_error", "message": f"No route {path}"})

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        money = _money(params)
        intent = SimulatedIntent.create(money, params.get("metadata", {}).get("order_id", ""))
        self.intents[intent.id] = intent
        return _intent_json(intent)

    def _confirm(self, intent: SimulatedIntent, params: dict[str, Any]) -> Response:
        if intent.status in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
            return _error(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "payment_intent_unexpected_state",
                    "message": f"This PaymentIntent's status is {intent.status.value}.",
                    "payment_intent": _intent_json(intent),
                },
            )
        try:
            intent.confirm(params.get("payment_method"), _now())
        except CommerceError as refused:  # an unknown or missing payment method
            return _error(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "payment_method",
                    "message": f"No such PaymentMethod: {refused.detail}",
                },
            )
        if intent.decline_code is not None:
            body = _intent_json(intent)
            return _error(402, {**body["last_payment_error"], "payment_intent": body})
        return _ok(_intent_json(intent))

    def _cancel(self, intent: SimulatedIntent) -> Response:
        if intent.status in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
            return _error(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "payment_intent_unexpected_state",
                    "message": f"You cannot cancel this PaymentIntent: {intent.status.value}.",
                },
            )
        intent.cancel(_now())
        return _ok(_intent_json(intent))

    def _refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self._intent(params.get("payment_intent", ""))
        amount = stripe_wire.money_from_stripe(int(params["amount"]), intent.amount.currency)
        key = params.get("metadata", {}).get("idempotency_key", "")
        try:
            refund, _ = intent.refund(amount, key, _now())
        except GatewayError as refused:
            raise StripeError(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "charge_already_refunded"
                    if intent.status is IntentStatus.SUCCEEDED
                    else "payment_intent_unexpected_state",
                    "message": refused.detail,
                },
            ) from None
        self.refunds[refund.id] = refund
        return _refund_json(refund)

    def _intent(self, intent_id: str) -> SimulatedIntent:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise _missing("payment_intent", intent_id)
        return intent


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _money(params: Mapping[str, Any]) -> Money:
    return stripe_wire.money_from_stripe(int(params["amount"]), str(params["currency"]))


def _missing(kind: str, ident: str) -> StripeError:
    return StripeError(
        404,
        {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "id",
            "message": f"No such {kind}: '{ident}'",
        },
    )


def _intent_json(intent: SimulatedIntent) -> dict[str, Any]:
    return stripe_wire.payment_intent_object(
        intent_id=intent.id,
        amount=intent.amount,
        status=intent.status.value,
        client_secret=intent.client_secret,
        order_id=intent.order_id,
        created=CREATED,
        payment_method=intent.payment_method,
        decline_code=intent.decline_code,
        decline_message=intent.decline_message,
    )


def _refund_json(refund: SimulatedRefund) -> dict[str, Any]:
    return stripe_wire.refund_object(
        refund_id=refund.id,
        intent_id=refund.intent_id,
        amount=refund.amount,
        status=refund.status.value,
        created=CREATED,
        idempotency_key=refund.idempotency_key,
    )


def _ok(body: Mapping[str, Any]) -> Response:
    return Response(json.dumps(body), 200, content_type="application/json")


def _error(status: int, error: Mapping[str, Any]) -> Response:
    return Response(json.dumps({"error": dict(error)}), status, content_type="application/json")
