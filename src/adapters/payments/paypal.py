"""``PayPalGateway``: the ``PaymentGateway`` and ``GatewayEventParser`` ports on PayPal's Orders v2
and Payments v2 REST APIs, through the official ``paypal-server-sdk``.

PayPal's model in the core's terms: a PayPal *order* is the intent, and its id is all the
browser needs (PayPal's JS SDK takes the order id: there is no client secret). The buyer
approves the order on PayPal's page; nothing moves until the shop *captures* it. We create one
order per checkout - ``intent: CAPTURE``, one purchase unit, our order id in ``custom_id``.

- ``create_intent`` creates the order (``PayPal-Request-Id``: our key). A new order awaits the
  buyer: ``requires_payment_method``.
- ``confirm_intent`` takes ``payment_method`` ``None`` or ``"paypal"`` (the buyer's approval on
  PayPal's page); anything else is ``InvalidInput`` and nothing is sent. An order we cancelled or
  PayPal voided is refused (``GatewayError``) without a capture. Otherwise it captures - with a
  ``PayPal-Request-Id`` derived from our key and the order id - and reads the answer: captured is
  ``succeeded``; the buyer's funding source declined (``INSTRUMENT_DECLINED`` and kin, or a
  capture ``DECLINED``) is a declined intent; not approved yet is ``requires_action`` with the
  order's approve link; already captured is ``succeeded``. The capture is attempted even before
  approval because PayPal answers a repeated request id with the first request's answer: so the
  same key always answers its first answer (a decline replayed after a later success is still
  that decline) and never captures twice, in every branch alike.
- ``cancel_intent``: PayPal cannot void an order whose intent is CAPTURE - but nothing is taken
  until someone captures it. So we PATCH the order's ``intent`` to AUTHORIZE (a documented
  patch of a CREATED or APPROVED order). From then on PayPal itself refuses every capture of it
  (``ACTION_DOES_NOT_MATCH_INTENT``), from any process, even one already in flight, and the mark
  lives at PayPal's side, surviving restarts with no table of ours. This adapter only ever
  creates CAPTURE orders and never authorizes one, so an AUTHORIZE order reads back as
  ``canceled``. Should a capture win the race, the patch is refused (the order is completed) and
  the answer is the captured intent, as the port wants. The PATCH needs no key: replacing the
  intent twice is replacing it once.
- ``refund`` refunds the order's capture (``PayPal-Request-Id`` from our key and the order id);
  the refund's ``custom_id`` carries the order id and our key, which PayPal echoes in refund
  webhooks, so the core can match a refund before it stored PayPal's refund id.
- ``get_intent`` / ``get_refund`` read the order / the refund (a refund must belong to the
  order's capture).

Errors: 5xx, 408, 429, 409 (a request with this id in flight), 401 (our token refused),
timeouts, connection errors, a failed token request and an answer that is not what PayPal
documents are ``GatewayUnavailable``: whether PayPal acted is unknown, or it cannot act now. Other
4xx are ``GatewayError`` - 404 an unknown order or refund, 422 a refusal named by PayPal's
``details[].issue`` (those that mean something else - a decline, an order awaiting approval or
already captured - are read as described above).

Amounts are converted exactly at this edge: ``Money`` minor units <-> PayPal's decimal strings,
with no decimals for HUF, JPY and TWD (PayPal's rule, although HUF and TWD have two in ISO 4217).
An amount PayPal cannot carry exactly is refused before any call, never rounded.

Webhooks are verified as PayPal documents, by asking it: ``POST
/v1/notifications/verify-webhook-signature`` with the five transmission headers, our
``webhook_id`` and the event exactly as received (a re-serialised event no longer matches the
CRC32 PayPal signed). The SDK has no call for it, so it goes through ``requests`` on the SDK's
own session, with the SDK's OAuth token. See ``parse_event`` for the events and their kinds.

One SDK client per gateway, shared by threads: the token is fetched under a lock; requests carry
explicit timeouts; only GETs are retried on 429/5xx/read errors, and connection failures before
anything was sent, so a retry never turns one request into two effects (and those that move
money carry a ``PayPal-Request-Id`` besides).

``base_url`` points the SDK and the verification call at another host - the local fake of
PayPal's API in the tests. Production must not set it (the configuration layer refuses it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import requests
from paypalserversdk.configuration import Configuration, Environment, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money as PayPalMoney
from paypalserversdk.models.o_auth_token import OAuthToken
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.patch import Patch
from paypalserversdk.models.patch_op import PatchOp
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from adapters.payments import paypal_wire as wire
from commerce_core import (
    BuyerAction,
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

__all__ = ["PayPalGateway"]

DEFAULT_TIMEOUT = (3.05, 20.0)  # seconds to connect, to read an answer
DEFAULT_RETRIES = 2  # GETs only (see the module docstring)
# PayPal's dashboard says "live", its SDK "production": either names api-m.paypal.com.
_ENVIRONMENTS = {
    "sandbox": Environment.SANDBOX,
    "live": Environment.PRODUCTION,
    "production": Environment.PRODUCTION,
}
_TOKEN_MARGIN = 300  # seconds before its expiry that a token is renewed
_PAYMENT_METHODS = (None, "paypal")
_TRANSMISSION_HEADERS = {
    "paypal-auth-algo": "auth_algo",
    "paypal-cert-url": "cert_url",
    "paypal-transmission-id": "transmission_id",
    "paypal-transmission-sig": "transmission_sig",
    "paypal-transmission-time": "transmission_time",
}
# 422 issues that mean the buyer's funding source will not pay: a declined intent, the buyer
# may try another way (PayPal's JS SDK restarts the approval on INSTRUMENT_DECLINED).
_DECLINES = (
    "INSTRUMENT_DECLINED",
    "TRANSACTION_REFUSED",
    "PAYER_CANNOT_PAY",
    "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
    "CARD_EXPIRED",
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
)
_AWAITING_BUYER = ("ORDER_NOT_APPROVED", "PAYER_ACTION_REQUIRED")


class PayPalGateway:
    """PayPal orders (Orders v2), their captures and refunds (Payments v2), and PayPal's webhooks."""

    name = "paypal"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        environment: str = "sandbox",
        base_url: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
    ) -> None:
        if not (client_id and client_secret and webhook_id):
            raise ValueError("PayPal needs a client id, a client secret and a webhook id")
        if environment not in _ENVIRONMENTS:
            raise ValueError(f"PayPal environment must be one of {sorted(_ENVIRONMENTS)}")
        self._webhook_id, self._timeout = webhook_id, timeout
        self._session = requests.Session()
        adapter = HTTPAdapter(
            max_retries=Retry(
                total=max_retries,
                allowed_methods=frozenset({"GET"}),
                status_forcelist=(429, 500, 502, 503, 504),
                backoff_factor=0.2,
                # A Retry-After of minutes would hold a request thread: better answer "try
                # later" at once and let the core's own retries do the waiting.
                respect_retry_after_header=False,
                raise_on_status=False,
            )
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._tokens = _Tokens()
        config = Configuration(
            # Our session as it is (retries above): the SDK leaves a given session alone.
            http_client_instance=self._session,
            timeout=timeout,
            environment=_ENVIRONMENTS[environment],
            client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                o_auth_client_id=client_id,
                o_auth_client_secret=client_secret,
                o_auth_token_provider=self._tokens.provide,
                o_auth_clock_skew=_TOKEN_MARGIN,
            ),
        )
        if base_url is not None:
            # The SDK knows only PayPal's two hosts; an instance attribute shadows its table.
            config.environments = {config.environment: {Server.DEFAULT: base_url.rstrip("/")}}
        self._base_url: str = config.get_base_uri()
        if base_url is not None and self._base_url != base_url.rstrip("/"):
            raise RuntimeError("this paypal-server-sdk ignores the base URL override")
        client = PaypalServersdkClient(config=config)
        self._orders: Any = client.orders
        self._payments: Any = client.payments
        self._auth: Any = client.oauth_2

    # -- PaymentGateway ------------------------------------------------------------------------

    def create_intent(self, *, amount: Money, order_id: str, idempotency_key: str) -> PaymentIntent:
        unit = PurchaseUnitRequest(
            amount=AmountWithBreakdown(
                currency_code=amount.currency, value=wire.paypal_value(amount)
            ),
            custom_id=order_id,
        )
        options = {
            "body": OrderRequest(intent=CheckoutPaymentIntent.CAPTURE, purchase_units=[unit]),
            "paypal_request_id": wire.request_id(idempotency_key),
            "prefer": "return=representation",
        }
        order = self._ask("create an order", lambda: self._orders.create_order(options))
        order = self._complete(order)
        intent = wire.intent_of(order)
        if intent.amount != amount or wire.purchase_unit(order).get("custom_id") != order_id:
            # PayPal answered a repeated request id with the order it made the first time.
            raise GatewayError(f"key {idempotency_key!r} was first used to create another order")
        return intent

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        """See the module docstring; PayPal has no ``proof``, which is ignored."""
        if payment_method not in _PAYMENT_METHODS:
            message = "PayPal takes 'paypal': the buyer approves on PayPal's page"
            raise InvalidInput(errors=[FieldError("payment_method", message)])
        order = self._order(intent_id)
        before = wire.intent_of(order)
        if before.status is IntentStatus.CANCELED:
            raise GatewayError(f"PayPal order {intent_id} is canceled")
        options = {
            "id": intent_id,
            "paypal_request_id": wire.request_id("capture", intent_id, idempotency_key),
            "prefer": "return=representation",
        }
        try:
            captured = self._ask("capture", lambda: self._orders.capture_order(options))
        except wire.Refused as refused:
            return self._refused_capture(order, before, refused)
        return wire.intent_of(self._complete(captured))

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        order = self._order(intent_id)
        current = wire.intent_of(order)
        if order.get("status") == "COMPLETED":
            # Captured, or its capture pending: as it is. A completed order whose capture was
            # declined can never be captured again: canceled, in effect.
            if current.status in (IntentStatus.SUCCEEDED, IntentStatus.PROCESSING):
                return current
            return PaymentIntent(intent_id, IntentStatus.CANCELED, current.amount)
        if current.status is IntentStatus.CANCELED:
            return current
        patch = [Patch(op=PatchOp.REPLACE, path="/intent", value="AUTHORIZE")]
        try:
            self._ask("cancel", lambda: self._orders.patch_order({"id": intent_id, "body": patch}))
        except wire.Refused as refused:
            if refused.status != 422:
                raise
            now = self.get_intent(intent_id)  # captured or voided meanwhile: as it now is
            if now.status not in (IntentStatus.SUCCEEDED, IntentStatus.CANCELED):
                raise
            return now
        return PaymentIntent(intent_id, IntentStatus.CANCELED, current.amount)

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        value = wire.paypal_value(amount)
        capture = wire.capture_of(self._order(intent_id))
        if capture is None or capture.get("status") not in wire.CAPTURED:
            raise GatewayError(f"PayPal order {intent_id} has no capture to refund")
        request: dict[str, Any] = {
            "amount": PayPalMoney(currency_code=amount.currency, value=value)
        }
        reference = wire.refund_reference(intent_id, idempotency_key)
        if reference is not None:
            request["custom_id"] = reference
        options = {
            "capture_id": wire.text_field(capture, "id", "capture"),
            "paypal_request_id": wire.request_id("refund", intent_id, idempotency_key),
            "prefer": "return=representation",
            "body": RefundRequest(**request),
        }
        answer = self._ask("refund", lambda: self._payments.refund_captured_payment(options))
        if "amount" not in answer:  # the minimal representation, though we asked for the whole
            answer = self._refund(wire.text_field(answer, "id", "refund"))
        refund = wire.refund_of(answer, intent_id)
        if refund.amount != amount:
            raise GatewayError(
                f"key {idempotency_key!r} was first used for a refund of {refund.amount}"
            )
        return refund

    def get_intent(self, intent_id: str) -> PaymentIntent:
        return wire.intent_of(self._order(intent_id))

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        refund = self._refund(refund_id)
        capture = wire.capture_of(self._order(intent_id))
        if capture is None or wire.linked_capture(refund) != capture.get("id"):
            raise GatewayError(f"refund {refund_id} is not one of PayPal order {intent_id}")
        return wire.refund_of(refund, intent_id)

    # -- GatewayEventParser --------------------------------------------------------------------

    def parse_event(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify a delivery with PayPal, then translate it.

        ``PAYMENT.CAPTURE.COMPLETED`` is ``payment_succeeded`` and ``.DENIED`` / ``.DECLINED``
        ``payment_failed`` (the order from ``supplementary_data.related_ids``, the capture's
        amount); ``PAYMENT.CAPTURE.REFUNDED`` is ``refund_succeeded`` or, for a refund that
        failed or was cancelled, ``refund_failed`` (the order and our key from the refund's
        ``custom_id``; for a refund made in PayPal's dashboard, the order of its capture);
        ``CHECKOUT.ORDER.VOIDED`` is ``payment_canceled``. ``PAYMENT.CAPTURE.REVERSED`` - PayPal
        taking captured money back, for a chargeback or a dispute - is ``dispute_opened``, so
        staff are alerted and the order flagged (it is no refund the shop made or may count on),
        as ``CUSTOMER.DISPUTE.CREATED`` is; ``CUSTOMER.DISPUTE.RESOLVED`` is ``dispute_closed``,
        ``won`` or ``lost``. Everything else is acknowledged as ``ignored``.

        ``InvalidWebhook`` for missing transmission headers, a body PayPal did not sign, or one
        that is no event; ``GatewayUnavailable`` when PayPal cannot be asked (the shop answers
        5xx and PayPal delivers again).
        """
        given = {name.lower(): value for name, value in headers.items()}
        transmission = {
            field: given.get(header, "") for header, field in _TRANSMISSION_HEADERS.items()
        }
        missing = sorted(h for h, f in _TRANSMISSION_HEADERS.items() if not transmission[f])
        if missing:
            raise InvalidWebhook(f"missing PayPal transmission headers: {', '.join(missing)}")
        try:
            document = json.loads(payload.decode())
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise InvalidWebhook("a PayPal webhook body must be JSON") from None
        if not isinstance(document, dict):
            raise InvalidWebhook("a PayPal webhook body must be a JSON object")
        self._verify(payload, transmission)
        try:
            event, capture_id = wire.translate(document, self.name)
        except wire.Unreadable as error:
            raise InvalidWebhook(f"not a PayPal event: {error.detail}") from None
        if event.intent_id is None and capture_id is not None:
            event = attrs.evolve(event, intent_id=self._order_of_capture(capture_id))
        return event

    # -- talking to PayPal ---------------------------------------------------------------------

    def _ask(self, what: str, call: Callable[[], Any]) -> Mapping[str, Any]:
        """One SDK call; PayPal's JSON answer (empty for none), or the port's error for it."""
        try:
            response = call()
        except ApiException as error:
            raise wire.error_for(what, error) from None
        except requests.RequestException as error:
            raise GatewayUnavailable(
                f"PayPal out of reach ({what}): {type(error).__name__}"
            ) from None
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            # The generated SDK turns every answer into its models before handing it over, and
            # trips over one that is not what it expects (a proxy's HTML page, a cut-off body).
            raise wire.Unreadable(
                f"PayPal's answer ({what}) could not be read: {error!r}"
            ) from None
        return wire.document_of(getattr(response, "text", ""), what)

    def _order(self, intent_id: str) -> Mapping[str, Any]:
        return self._ask(
            f"read order {intent_id}", lambda: self._orders.get_order({"id": intent_id})
        )

    def _refund(self, refund_id: str) -> Mapping[str, Any]:
        return self._ask(
            f"read refund {refund_id}", lambda: self._payments.get_refund({"refund_id": refund_id})
        )

    def _complete(self, order: Mapping[str, Any]) -> Mapping[str, Any]:
        # We ask for the whole order (Prefer: return=representation); should PayPal answer the
        # minimal one, it is read again.
        return (
            order
            if "purchase_units" in order
            else self._order(wire.text_field(order, "id", "order"))
        )

    def _refused_capture(
        self, order: Mapping[str, Any], before: PaymentIntent, refused: wire.Refused
    ) -> PaymentIntent:
        declined = next((issue for issue in refused.issues if issue in _DECLINES), None)
        if declined is not None:
            return PaymentIntent(
                before.id,
                IntentStatus.REQUIRES_PAYMENT_METHOD,
                before.amount,
                decline_code=declined.lower(),
                decline_message=refused.description or None,
            )
        if any(issue in _AWAITING_BUYER for issue in refused.issues):
            page = wire.buyer_page(order)
            if page is None:  # approved since (this answer was replayed): as it now is
                return before
            return PaymentIntent(
                before.id,
                IntentStatus.REQUIRES_ACTION,
                before.amount,
                action=BuyerAction(redirect_url=page),
            )
        if "ORDER_ALREADY_CAPTURED" in refused.issues:
            return self.get_intent(before.id)
        if "ACTION_DOES_NOT_MATCH_INTENT" in refused.issues:
            raise GatewayError(f"PayPal order {before.id} is canceled") from None
        raise refused

    def _order_of_capture(self, capture_id: str) -> str | None:
        try:
            capture = self._ask(
                f"read capture {capture_id}",
                lambda: self._payments.get_captured_payment({"capture_id": capture_id}),
            )
        except wire.Refused:
            return None  # no capture of ours: the event is about no order of this shop
        try:
            return wire.related_order(capture)
        except wire.Unreadable:
            return None

    def _verify(self, payload: bytes, transmission: Mapping[str, str]) -> None:
        token = self._tokens.provide(None, self._auth).access_token
        fields = json.dumps({**transmission, "webhook_id": self._webhook_id})
        # The event goes in byte for byte as PayPal sent it: the signature covers a CRC32 of
        # those bytes, which a re-serialised event (other spacing, order, escapes) fails.
        body = fields[:-1].encode() + b',"webhook_event":' + payload + b"}"
        try:
            answer = self._session.post(
                f"{self._base_url}/v1/notifications/verify-webhook-signature",
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            raise GatewayUnavailable(f"PayPal out of reach (verify a webhook): {error!r}") from None
        if answer.status_code in (401, 408, 409, 429) or answer.status_code >= 500:
            raise GatewayUnavailable(f"PayPal answered {answer.status_code} to a webhook check")
        try:
            status = answer.json().get("verification_status") if answer.ok else None
        except (ValueError, AttributeError):
            status = None
        if status != "SUCCESS":
            raise InvalidWebhook(
                f"PayPal did not verify the webhook ({answer.status_code} {status})"
            )


class _Tokens:
    """The OAuth access token of one gateway, fetched once and renewed shortly before it expires,
    under a lock. The SDK asks for it through its token-provider hook (which it calls only when
    its own copy is missing or expiring); the webhook check asks directly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: Any = None

    def provide(self, _last: Any, auth: Any) -> Any:
        with self._lock:
            if self._token is None or auth.is_token_expired(self._token):
                try:
                    token = auth.fetch_token()
                except (ApiException, requests.RequestException) as error:
                    raise GatewayUnavailable(
                        f"PayPal's OAuth token request failed: {error}"
                    ) from None
                except (ValueError, TypeError, AttributeError, KeyError) as error:
                    raise wire.Unreadable(f"PayPal's OAuth token answer: {error!r}") from None
                if not isinstance(token, OAuthToken) or auth.is_token_expired(token):
                    raise wire.Unreadable("PayPal's OAuth token answer holds no usable token")
                self._token = token
            return self._token
