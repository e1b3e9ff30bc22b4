"""``StripeGateway`` on the real ``stripe`` SDK, making real HTTP requests to a local fake of
Stripe's API (``tests.support.stripe_api``): the gateway and webhook contracts, the amounts at
the edge, the mapping of Stripe's errors, and what the SDK puts on the wire."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import stripe

from adapters.payments import stripe_wire
from adapters.payments.stripe_gateway import StripeGateway
from commerce_core import (
    EventKind,
    GatewayError,
    GatewayUnavailable,
    IntentStatus,
    InvalidInput,
    InvalidWebhook,
    Money,
)
from commerce_core.testing.contracts import (
    EventSpec,
    GatewayEventParserContract,
    PaymentGatewayContract,
)
from tests.support.simulated_scenarios import SimulatedGatewayScenarios
from tests.support.stripe_api import SECRET_KEY, StripeApi
from tests.support.stripe_events import StripeShapedEvents, stripe_event_body

WEBHOOK_SECRET = "whsec_stripe_adapter_tests_0123456789abcdef"


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[StripeApi, str]]:
    fake = StripeApi()
    with fake.serving() as base:
        yield fake, base


@pytest.fixture
def stripe_api(api: tuple[StripeApi, str]) -> Iterator[StripeApi]:
    fake, _ = api
    yield fake
    fake.recover()


@pytest.fixture
def gateway(api: tuple[StripeApi, str]) -> StripeGateway:
    _, base = api
    # Short timeouts and no SDK retries: an outage must show at once, not after backing off.
    return StripeGateway(
        secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=base,
        timeout=(1.0, 0.5),
        max_network_retries=0,
    )


class TestStripeGatewayContract(SimulatedGatewayScenarios, PaymentGatewayContract):
    """The fake API follows Stripe's test payment methods, as real test mode does."""

    amount = Money(4200, "EUR")

    @contextmanager
    def outage(self, gateway: StripeGateway) -> Iterator[None]:  # type: ignore[override]
        self._api.fail_next(1_000, status=503)
        try:
            yield
        finally:
            self._api.recover()

    @pytest.fixture(autouse=True)
    def _remember_api(self, stripe_api: StripeApi) -> None:
        self._api = stripe_api


class TestStripeWebhooks(StripeShapedEvents, GatewayEventParserContract):
    gateway_name = "stripe"
    webhook_secret = WEBHOOK_SECRET

    @pytest.fixture
    def parser(self, gateway: StripeGateway) -> StripeGateway:
        return gateway


# -- on the wire -----------------------------------------------------------------------------


def test_every_money_moving_call_carries_our_key_and_the_secret_key(
    gateway: StripeGateway, stripe_api: StripeApi
) -> None:
    stripe_api.requests.clear()
    intent = gateway.create_intent(
        amount=Money(1999, "USD"), order_id="ord_1", idempotency_key="k-1"
    )
    gateway.confirm_intent(intent.id, payment_method="pm_card_visa", idempotency_key="k-2")
    gateway.refund(intent.id, amount=Money(500, "USD"), idempotency_key="k-3")
    posts = [r for r in stripe_api.requests if r.method == "POST"]
    assert [r.headers.get("Idempotency-Key") for r in posts] == ["k-1", "k-2", "k-3"]
    assert {r.headers.get("Authorization") for r in stripe_api.requests} == {f"Bearer {SECRET_KEY}"}
    create, _, refund = (r.params for r in posts)
    assert create["amount"] == "1999"
    assert create["currency"] == "usd"
    assert create["metadata"] == {"order_id": "ord_1"}
    assert refund["metadata"] == {"idempotency_key": "k-3"}


@pytest.mark.parametrize(
    ("money", "on_the_wire"),
    [(Money(500, "JPY"), "500"), (Money(5120, "KWD"), "5120"), (Money(5, "ISK"), "500")],
)
def test_amounts_are_converted_at_the_edge(
    gateway: StripeGateway, stripe_api: StripeApi, money: Money, on_the_wire: str
) -> None:
    intent = gateway.create_intent(amount=money, order_id="ord_1", idempotency_key=f"k-{money}")
    assert stripe_api.requests[-1].params["amount"] == on_the_wire
    assert intent.amount == money


def test_a_three_decimal_amount_that_does_not_end_in_zero_is_refused_before_any_call(
    gateway: StripeGateway, stripe_api: StripeApi
) -> None:
    sent = len(stripe_api.requests)
    with pytest.raises(GatewayError, match="must end in 0"):
        gateway.create_intent(amount=Money(5125, "KWD"), order_id="o", idempotency_key="k-kwd")
    assert len(stripe_api.requests) == sent


# -- Stripe's answers, in the port's terms ----------------------------------------------------


def test_a_3ds_card_answers_requires_action_with_the_client_secret(gateway: StripeGateway) -> None:
    intent = gateway.create_intent(amount=Money(900, "EUR"), order_id="o", idempotency_key="c-3ds")
    result = gateway.confirm_intent(
        intent.id, payment_method="pm_card_threeDSecure2Required", idempotency_key="c-3ds-1"
    )
    assert result.status is IntentStatus.REQUIRES_ACTION
    assert result.action is not None
    assert result.action.client_secret == intent.client_secret


def test_the_buyer_passing_3ds_then_a_confirm_captures(
    gateway: StripeGateway, stripe_api: StripeApi
) -> None:
    intent = gateway.create_intent(amount=Money(900, "EUR"), order_id="o", idempotency_key="c-a")
    gateway.confirm_intent(
        intent.id, payment_method="pm_card_threeDSecure2Required", idempotency_key="c-a-1"
    )
    stripe_api.authenticate(intent.id)
    assert gateway.get_intent(intent.id).status is IntentStatus.SUCCEEDED


def test_a_card_decline_is_a_declined_intent_with_stripes_decline_code(
    gateway: StripeGateway,
) -> None:
    intent = gateway.create_intent(amount=Money(900, "EUR"), order_id="o", idempotency_key="d-1")
    result = gateway.confirm_intent(
        intent.id, payment_method="pm_card_chargeDeclinedExpiredCard", idempotency_key="d-2"
    )
    assert result.declined
    assert result.decline_code == "expired_card"
    assert result.decline_message


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, GatewayUnavailable), (503, GatewayUnavailable), (429, GatewayUnavailable),
     (409, GatewayUnavailable), (401, GatewayError), (403, GatewayError)],
)  # fmt: skip
def test_http_failures_map_to_unavailable_or_refused(
    gateway: StripeGateway, stripe_api: StripeApi, status: int, error: type[Exception]
) -> None:
    stripe_api.fail_next(1, status=status)
    with pytest.raises(error) as raised:
        gateway.create_intent(amount=Money(900, "EUR"), order_id="o", idempotency_key=f"f-{status}")
    assert (type(raised.value) is GatewayUnavailable) is (error is GatewayUnavailable)


def test_a_timeout_is_unavailability(gateway: StripeGateway, stripe_api: StripeApi) -> None:
    stripe_api.stall_next(1, seconds=1.5)
    with pytest.raises(GatewayUnavailable):
        gateway.create_intent(amount=Money(900, "EUR"), order_id="o", idempotency_key="t-1")


def test_a_key_reused_with_other_parameters_is_a_refusal(gateway: StripeGateway) -> None:
    gateway.create_intent(amount=Money(900, "EUR"), order_id="o", idempotency_key="reuse")
    with pytest.raises(GatewayError) as raised:
        gateway.create_intent(amount=Money(901, "EUR"), order_id="o", idempotency_key="reuse")
    assert not isinstance(raised.value, GatewayUnavailable)


def test_a_missing_payment_method_is_invalid_input(gateway: StripeGateway) -> None:
    intent = gateway.create_intent(amount=Money(900, "EUR"), order_id="o", idempotency_key="m-1")
    with pytest.raises(InvalidInput) as raised:
        gateway.confirm_intent(intent.id, payment_method=None, idempotency_key="m-2")
    assert [e.field for e in raised.value.errors] == ["payment_method"]


# -- webhooks ------------------------------------------------------------------------------------


def _signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {"Stripe-Signature": stripe_wire.sign_payload(body, secret, stamp)}


def test_webhooks_are_verified_by_the_sdk_with_a_five_minute_tolerance(
    gateway: StripeGateway,
) -> None:
    body = stripe_event_body(EventSpec(EventKind.PAYMENT_SUCCEEDED, "pi_1", Money(900, "EUR")))
    assert gateway.parse_event(body, _signed(body)).kind is EventKind.PAYMENT_SUCCEEDED
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body, _signed(body, at=int(time.time()) - 301))
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body, _signed(body, secret="whsec_someone_else"))
    # The header Stripe's own SDK signs with passes too (our signer and Stripe's agree).
    stamp = int(time.time())
    v1 = stripe.WebhookSignature._compute_signature(f"{stamp}.{body.decode()}", WEBHOOK_SECRET)
    sdk_header = {"stripe-signature": f"t={stamp},v1={v1}"}
    assert gateway.parse_event(body, sdk_header).intent_id == "pi_1"


def test_an_absurd_signature_timestamp_is_refused_not_a_crash(gateway: StripeGateway) -> None:
    body = stripe_event_body(EventSpec(EventKind.PAYMENT_SUCCEEDED, "pi_1", Money(900, "EUR")))
    header = {"Stripe-Signature": "t=" + "9" * 5000 + ",v1=" + "0" * 64}
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body, header)


@pytest.mark.parametrize(
    "event_type", ["charge.succeeded", "customer.created", "invoice.paid", "payout.paid"]
)
def test_event_types_the_shop_does_not_act_on_are_acknowledged(
    gateway: StripeGateway, event_type: str
) -> None:
    body = json.dumps(
        {
            "id": f"evt_{event_type}",
            "object": "event",
            "type": event_type,
            "created": 1_770_000_000,
            "data": {"object": {"id": "x", "object": event_type.split(".", maxsplit=1)[0]}},
        }
    ).encode()
    assert gateway.parse_event(body, _signed(body)).kind is EventKind.IGNORED
