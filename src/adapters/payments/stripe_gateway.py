"""``StripeGateway``: the ``PaymentGateway`` and ``GatewayEventParser`` ports on the ``stripe`` SDK.

One ``stripe.StripeClient`` per gateway (per process): it is thread-safe, carries explicit
timeouts and the SDK's own network retries (which resend the same Idempotency-Key, so a retry
never charges twice). Every call that moves money carries the key the core derived from its own
operation ids; Stripe answers a repeated key with the first answer.

Translations at this edge:

- amounts: ``Money`` minor units <-> Stripe's integer ``amount`` (``stripe_wire``), and card
  payments in three-decimal currencies must end in 0 (Stripe rounds nothing for us): such an
  amount is refused before any call, as a ``GatewayError`` (a price this gateway cannot charge);
- errors: a card error is a declined intent, not an exception; an unknown or unusable payment
  method is ``InvalidInput``; rate limits, connection errors, timeouts, 5xx and "a request with
  this key is in flight" (409) are ``GatewayUnavailable``; Stripe's "already succeeded" or
  "already canceled" when confirming or cancelling is the intent as it is, not an error;
- webhooks: verified with ``stripe.Webhook.construct_event`` on the raw body (5 minute
  tolerance), then translated by ``stripe_wire.parse_event``.

``api_base`` points the SDK at another host - a local fake of Stripe's API in the tests, or
``localstripe``. Production refuses to start with it set (``webapp.config``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import stripe

from adapters.payments import stripe_wire
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
    exponent_of,
)

__all__ = ["StripeGateway"]

DEFAULT_TIMEOUT = (3.05, 20.0)  # seconds to connect, to read an answer
DEFAULT_RETRIES = 2
# Stripe's error codes that mean the intent is no longer in a state for the call: the caller
# gets the intent as it now is (the port's "already succeeded / already canceled" rule).
_UNEXPECTED_STATE = "payment_intent_unexpected_state"


class StripeGateway:
    """Stripe PaymentIntents and Refunds, and Stripe-signed webhooks."""

    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_network_retries: int = DEFAULT_RETRIES,
    ) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required")
        self._webhook_secret = webhook_secret
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._intents = self._client.v1.payment_intents
        self._refunds = self._client.v1.refunds

    # -- PaymentGateway ------------------------------------------------------------------------

    def create_intent(self, *, amount: Money, order_id: str, idempotency_key: str) -> PaymentIntent:
        params: dict[str, Any] = {
            "amount": _chargeable(amount),
            "currency": amount.currency.lower(),
            "metadata": {"order_id": order_id},
            "payment_method_types": ["card"],
        }
        try:
            created = self._intents.create(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as error:
            _raise_for(error)
        return _intent(created)

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        params: dict[str, Any] = {}
        if payment_method is not None:
            params["payment_method"] = payment_method
        try:
            confirmed = self._intents.confirm(
                intent_id,
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.CardError as declined:
            # A decline is an answer: Stripe hands the intent back inside the error (and
            # where it does not, the intent as it now is tells the decline).
            found = _intent_in(declined)
            return found if found is not None else self.get_intent(intent_id)
        except stripe.InvalidRequestError as refused:
            if refused.code == _UNEXPECTED_STATE:
                current = self.get_intent(intent_id)
                if current.status is IntentStatus.SUCCEEDED:
                    return current  # confirming a captured intent again is success
                raise GatewayError(
                    f"payment intent {intent_id} is {current.status.value}"
                ) from None
            if refused.param == "payment_method" or _missing_method(refused):
                raise InvalidInput(
                    errors=[FieldError("payment_method", refused.user_message or "unusable")]
                ) from None
            _raise_for(refused)
        except stripe.StripeError as error:
            _raise_for(error)
        return _intent(confirmed)

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        try:
            canceled = self._intents.cancel(intent_id, {}, {"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as refused:
            if refused.code == _UNEXPECTED_STATE:
                return self.get_intent(intent_id)  # succeeded or canceled already: as it is
            _raise_for(refused)
        except stripe.StripeError as error:
            _raise_for(error)
        return _intent(canceled)

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        params: dict[str, Any] = {
            "payment_intent": intent_id,
            "amount": _chargeable(amount),
            # Echoed back in refund events, so one can be matched before we stored its id.
            "metadata": {"idempotency_key": idempotency_key},
        }
        try:
            created = self._refunds.create(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        except stripe.StripeError as error:
            _raise_for(error)
        return _refund(created)

    def get_intent(self, intent_id: str) -> PaymentIntent:
        try:
            return _intent(self._intents.retrieve(intent_id))
        except stripe.StripeError as error:
            _raise_for(error)

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        try:
            found = _refund(self._refunds.retrieve(refund_id))
        except stripe.StripeError as error:
            _raise_for(error)
        if found.intent_id != intent_id:
            raise GatewayError(f"refund {refund_id} is not one of payment intent {intent_id}")
        return found

    # -- GatewayEventParser --------------------------------------------------------------------

    def parse_event(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        wanted = stripe_wire.SIGNATURE_HEADER.lower()
        header = next((v for k, v in headers.items() if k.lower() == wanted), None)
        if not header:
            raise InvalidWebhook(f"missing {stripe_wire.SIGNATURE_HEADER} header")
        try:
            stripe.Webhook.construct_event(
                payload, header, self._webhook_secret, tolerance=stripe_wire.DEFAULT_TOLERANCE
            )
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(f"bad Stripe signature: {error.user_message}") from None
        except (
            ValueError,
            TypeError,
            AttributeError,
            KeyError,
            UnicodeDecodeError,
            RecursionError,
        ) as error:
            # After the signature check the SDK builds an Event from the body and trips over
            # one that is no JSON object (AttributeError on a list), or over an absurd
            # timestamp: a signed body that is no event is refused, never a 500.
            raise InvalidWebhook(f"unusable Stripe event: {error}") from None
        return stripe_wire.parse_event(payload, self.name)


# -- at the edge ---------------------------------------------------------------------------------


def _chargeable(amount: Money) -> int:
    if exponent_of(amount.currency) == 3 and amount.amount % 10:
        # Stripe: card payments in BHD, JOD, KWD, OMR, TND must end in 0. Refused rather than
        # rounded: the shop decides its prices, not this adapter.
        raise GatewayError(
            f"Stripe cannot charge {amount}: three-decimal amounts must end in 0 for cards"
        )
    return stripe_wire.to_stripe_amount(amount)


def _plain(obj: Any) -> Any:
    """An SDK object as the plain JSON dict Stripe sent (``StripeObject`` is no ``Mapping``)."""
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj


def _intent(obj: Any) -> PaymentIntent:
    obj = _plain(obj)
    intent = stripe_wire.payment_intent_from_object(obj)
    if intent.status is not IntentStatus.REQUIRES_ACTION:
        return intent
    redirect = None
    next_action = obj.get("next_action") if isinstance(obj, Mapping) else None
    if isinstance(next_action, Mapping) and next_action.get("type") == "redirect_to_url":
        target = next_action.get("redirect_to_url")
        redirect = target.get("url") if isinstance(target, Mapping) else None
    return PaymentIntent(
        id=intent.id,
        status=intent.status,
        amount=intent.amount,
        client_secret=intent.client_secret,
        action=BuyerAction(client_secret=intent.client_secret, redirect_url=redirect),
    )


def _intent_in(error: stripe.StripeError) -> PaymentIntent | None:
    body = error.json_body if isinstance(error.json_body, Mapping) else {}
    inner = body.get("error")
    found = inner.get("payment_intent") if isinstance(inner, Mapping) else None
    return _intent(found) if isinstance(found, Mapping) else None


def _refund(obj: Any) -> GatewayRefund:
    return stripe_wire.refund_from_object(_plain(obj))


def _missing_method(error: stripe.InvalidRequestError) -> bool:
    # "You cannot confirm this PaymentIntent because it's missing a payment method."
    return "payment method" in (error.user_message or "").lower()


def _raise_for(error: stripe.StripeError) -> NoReturn:
    """The port's reading of a Stripe error other than a decline (see the module docstring)."""
    message = error.user_message or type(error).__name__
    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError):
        raise GatewayUnavailable(f"Stripe: {message}") from None
    status = error.http_status or 0
    # 409: a request with this key is still in flight at Stripe; 5xx: outcome unknown.
    if status >= 500 or status in (409, 429) or isinstance(error, stripe.APIError):
        raise GatewayUnavailable(f"Stripe answered {status}: {message}") from None
    raise GatewayError(f"Stripe refused: {message}") from None
