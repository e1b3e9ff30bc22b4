"""``PayPalGateway`` on the real ``paypal-server-sdk``, making real HTTP requests to a local fake of
PayPal's REST API (``tests.support.paypal_api``): the gateway and webhook contracts (in euros and
in yen), what the SDK puts on the wire, amounts at the edge, the mapping of PayPal's errors and
events, cancellation that holds at PayPal's side, and the core's checkout through PayPal."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from adapters.payments.paypal import PayPalGateway
from commerce_core import (
    CartItem,
    ConfirmOrder,
    ConfirmOutcome,
    CreateCheckoutIntent,
    EventKind,
    EventOutcome,
    GatewayError,
    GatewayEventParser,
    GatewayRefundStatus,
    GatewayUnavailable,
    IntentStatus,
    InvalidWebhook,
    Money,
    OrderStatus,
    PaymentGateway,
    RefundOrder,
    confirm_order,
    create_checkout_intent,
    get_order,
    handle_gateway_event,
    refund_order,
)
from commerce_core.testing import InMemoryShop
from commerce_core.testing.contracts import (
    BuyerStep,
    EventSpec,
    GatewayEventParserContract,
    PaymentGatewayContract,
    PaymentScenario,
)
from tests.support.paypal_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    SANDBOX,
    WEBHOOK_ID,
    PayPalApi,
    amount_json,
    capture_json,
    encode,
    event_json,
    link,
    paypal_id,
    paypal_value,
    refund_json,
)

USD = Money(4200, "USD")


@pytest.fixture(scope="module")
def api() -> Iterator[PayPalApi]:
    fake = PayPalApi()
    with fake.serving():
        yield fake


@pytest.fixture
def paypal(api: PayPalApi) -> Iterator[PayPalApi]:
    api.requests.clear()
    api.deliveries.clear()
    api.unexpected.clear()
    yield api
    api.recover()
    assert api.unexpected == [], "the SDK sent something PayPal would refuse as malformed"


def _gateway(base: str, **overrides: Any) -> PayPalGateway:
    # Short timeouts and one retry of GETs: an outage shows at once, a GET retry can be seen.
    settings: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "webhook_id": WEBHOOK_ID,
        "base_url": base,
        "timeout": (1.0, 1.0),
        "max_retries": 1,
        **overrides,
    }
    return PayPalGateway(**settings)


@pytest.fixture
def gateway(paypal: PayPalApi) -> PayPalGateway:
    return _gateway(paypal.base)


def _created(gateway: PayPalGateway, amount: Money = USD) -> str:
    # A fresh key each time: the fake (as PayPal) remembers request ids across tests.
    return gateway.create_intent(amount=amount, order_id="ord_1", idempotency_key=paypal_id()).id


def _paid(gateway: PayPalGateway, paypal: PayPalApi, amount: Money = USD) -> str:
    intent_id = _created(gateway, amount)
    paypal.approve(intent_id)
    paid = gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="pay")
    assert paid.status is IntentStatus.SUCCEEDED
    return intent_id


def _sent(paypal: PayPalApi, method: str, path_end: str) -> list[Any]:
    return [r for r in paypal.requests if r.method == method and r.path.endswith(path_end)]


def _creates(paypal: PayPalApi) -> list[Any]:
    return [r for r in paypal.requests if (r.method, r.path) == ("POST", "/v2/checkout/orders")]


# -- the contracts ---------------------------------------------------------------------------


class TestPayPalGatewayContract(PaymentGatewayContract):
    """The buyer's step is PayPal's approval page, played on the fake as a sandbox buyer."""

    amount = Money(4200, "EUR")

    @pytest.fixture(autouse=True)
    def _remember_api(self, paypal: PayPalApi) -> None:
        self._api = paypal

    def buyer_step(
        self, gateway: PaymentGateway, intent_id: str, scenario: PaymentScenario
    ) -> BuyerStep:
        match scenario:
            case PaymentScenario.SUCCEEDS:
                self._api.approve(intent_id)
                return BuyerStep("paypal")
            case PaymentScenario.DECLINES:
                self._api.approve(intent_id, declines=True)
                return BuyerStep("paypal")
            case PaymentScenario.NEEDS_ACTION:
                return BuyerStep(None)  # the shop confirms before the buyer went to PayPal
            case PaymentScenario.UNKNOWN_METHOD:
                return BuyerStep("pm_card_visa")  # another provider's payment method

    @contextmanager
    def outage(self, gateway: PaymentGateway) -> Iterator[None]:
        self._api.fail_next(1_000, status=503)
        try:
            yield
        finally:
            self._api.recover()


class TestPayPalGatewayContractInYen(TestPayPalGatewayContract):
    """PayPal writes yen without decimals: the same promises in a zero-decimal currency."""

    amount = Money(4200, "JPY")


def paypal_event_body(spec: EventSpec) -> bytes:
    """The event PayPal would post for ``spec``: a capture, refund or order inside an event."""
    currency, value = spec.amount.currency, paypal_value(spec.amount)
    capture_id = paypal_id()
    match spec.kind:
        case EventKind.PAYMENT_SUCCEEDED:
            resource = capture_json(capture_id, spec.intent_id, currency, value)
            document = event_json(
                "PAYMENT.CAPTURE.COMPLETED", "capture", resource, event_id=spec.event_id
            )
        case EventKind.PAYMENT_FAILED:
            resource = capture_json(capture_id, spec.intent_id, currency, value, status="DECLINED")
            document = event_json(
                "PAYMENT.CAPTURE.DENIED", "capture", resource, event_id=spec.event_id
            )
        case EventKind.PAYMENT_CANCELED:
            order = {
                "id": spec.intent_id,
                "intent": "CAPTURE",
                "status": "VOIDED",
                "purchase_units": [
                    {"reference_id": "default", "amount": amount_json(currency, value)}
                ],
                "links": [link(f"{SANDBOX}/v2/checkout/orders/{spec.intent_id}", "self")],
            }
            document = event_json(
                "CHECKOUT.ORDER.VOIDED", "checkout-order", order, event_id=spec.event_id
            )
        case EventKind.REFUND_SUCCEEDED | EventKind.REFUND_FAILED:
            resource = refund_json(
                spec.refund_id or paypal_id(),
                capture_id,
                currency,
                value,
                status="COMPLETED" if spec.kind is EventKind.REFUND_SUCCEEDED else "FAILED",
                custom_id=f"{spec.intent_id},{spec.refund_key}",
            )
            document = event_json(
                "PAYMENT.CAPTURE.REFUNDED", "refund", resource, event_id=spec.event_id
            )
        case _:
            raise ValueError(f"no PayPal event for {spec.kind}")
    return encode(document)


class TestPayPalWebhooks(GatewayEventParserContract):
    """Every delivery is verified by asking the fake, as the adapter asks PayPal."""

    gateway_name = "paypal"
    # PayPal takes no three-decimal currency; HUF it writes without decimals.
    amounts = (Money(4200, "EUR"), Money(4200, "JPY"), Money(150000, "HUF"))

    @pytest.fixture
    def parser(self, gateway: PayPalGateway, paypal: PayPalApi) -> PayPalGateway:
        self._api = paypal
        return gateway

    def event_body(self, spec: EventSpec) -> bytes:
        return paypal_event_body(spec)

    def ignored_event_body(self) -> bytes:
        product = {"id": "PROD-5FK4", "name": "T-shirt", "type": "PHYSICAL"}
        return encode(event_json("CATALOG.PRODUCT.CREATED", "product", product))

    def signed(self, body: bytes) -> dict[str, str]:
        return self._api.sign(body)


def test_it_implements_both_ports(gateway: PayPalGateway) -> None:
    as_gateway: PaymentGateway = gateway
    as_parser: GatewayEventParser = gateway
    assert as_gateway.name == "paypal"
    assert as_parser is gateway


def test_it_refuses_to_start_without_credentials_or_with_an_unknown_environment() -> None:
    with pytest.raises(ValueError, match="webhook id"):
        PayPalGateway(client_id="id", client_secret="secret", webhook_id="")
    with pytest.raises(ValueError, match="environment"):
        PayPalGateway(client_id="id", client_secret="secret", webhook_id="w", environment="prod")
    # PayPal's own names for its environments (the dashboard's "live", the SDK's "production").
    for environment in ("sandbox", "live", "production"):
        PayPalGateway(client_id="id", client_secret="s", webhook_id="w", environment=environment)


# -- on the wire -------------------------------------------------------------------------------


def test_every_call_is_authorised_and_every_money_moving_call_carries_a_request_id(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = gateway.create_intent(
        amount=Money(1999, "USD"), order_id="ord_42", idempotency_key="intent-ord_42"
    ).id
    paypal.approve(intent_id)
    gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="confirm-k")
    gateway.refund(intent_id, amount=Money(500, "USD"), idempotency_key="refund-re_1")

    [token] = _sent(paypal, "POST", "/v1/oauth2/token")  # one token serves every call
    assert token.headers["authorization"].startswith("Basic ")
    assert token.body == {"grant_type": "client_credentials"}
    bearers = {r.headers.get("authorization") for r in paypal.requests if r is not token}
    assert len(bearers) == 1
    assert str(bearers.pop()).startswith("Bearer A21AA")

    [create] = _creates(paypal)
    assert create.headers["paypal-request-id"] == "intent-ord_42"
    assert create.body == {
        "intent": "CAPTURE",
        "purchase_units": [
            {"amount": {"currency_code": "USD", "value": "19.99"}, "custom_id": "ord_42"}
        ],
    }
    [capture] = _sent(paypal, "POST", "/capture")
    assert capture.headers["paypal-request-id"] == f"capture:{intent_id}:confirm-k"
    [refund] = _sent(paypal, "POST", "/refund")
    assert refund.headers["paypal-request-id"] == f"refund:{intent_id}:refund-re_1"
    assert refund.body == {
        "amount": {"currency_code": "USD", "value": "5.00"},
        "custom_id": f"{intent_id},refund-re_1",
    }


def test_a_request_id_longer_than_paypal_takes_is_hashed_alike_on_every_retry(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    key = "k" * 200
    first = gateway.create_intent(amount=USD, order_id="ord_1", idempotency_key=key)
    again = gateway.create_intent(amount=USD, order_id="ord_1", idempotency_key=key)
    assert first.id == again.id
    ids = {r.headers["paypal-request-id"] for r in _creates(paypal)}
    assert len(ids) == 1
    assert len(ids.pop()) <= 108


def test_a_key_reused_for_another_order_is_refused(gateway: PayPalGateway) -> None:
    gateway.create_intent(amount=USD, order_id="ord_1", idempotency_key="same")
    with pytest.raises(GatewayError, match="another order"):
        gateway.create_intent(amount=Money(1, "USD"), order_id="ord_1", idempotency_key="same")


# -- amounts at the edge -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (Money(1999, "USD"), "19.99"),
        (Money(4200, "JPY"), "4200"),
        (Money(150000, "HUF"), "1500"),  # two decimals in ISO 4217, none at PayPal
        (Money(120000, "TWD"), "1200"),
        (Money(5, "EUR"), "0.05"),
    ],
)
def test_amounts_go_out_as_paypal_writes_them_and_read_back_exactly(
    gateway: PayPalGateway, paypal: PayPalApi, amount: Money, written: str
) -> None:
    intent = gateway.create_intent(amount=amount, order_id="ord_1", idempotency_key=paypal_id())
    assert intent.amount == amount
    [create] = _creates(paypal)
    assert create.body["purchase_units"][0]["amount"] == {
        "currency_code": amount.currency,
        "value": written,
    }
    paypal.approve(intent.id)
    paid = gateway.confirm_intent(intent.id, payment_method=None, idempotency_key="c")
    assert paid.amount == amount
    refund = gateway.refund(intent.id, amount=amount, idempotency_key="r")
    assert refund.amount == amount


@pytest.mark.parametrize(
    "amount",
    [Money(150050, "HUF"), Money(123456, "TWD"), Money(4255, "KWD"), Money(0, "USD")],
    ids=["fillér", "TWD cents", "a third decimal", "zero"],
)
def test_an_amount_paypal_cannot_carry_exactly_is_refused_before_any_call(
    gateway: PayPalGateway, paypal: PayPalApi, amount: Money
) -> None:
    with pytest.raises(GatewayError) as refused:
        gateway.create_intent(amount=amount, order_id="ord_1", idempotency_key=paypal_id())
    assert not isinstance(refused.value, GatewayUnavailable)
    assert _creates(paypal) == []


def test_a_refund_paypal_cannot_carry_exactly_is_refused_before_any_call(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _paid(gateway, paypal, Money(150000, "HUF"))
    with pytest.raises(GatewayError):
        gateway.refund(intent_id, amount=Money(1050, "HUF"), idempotency_key="r")
    assert _sent(paypal, "POST", "/refund") == []


def test_a_currency_paypal_does_not_take_is_its_refusal_not_an_outage(
    gateway: PayPalGateway,
) -> None:
    # 4.250 KWD is 4.25 exactly, so it is sent; PayPal refuses the currency (422).
    with pytest.raises(GatewayError, match="CURRENCY_NOT_SUPPORTED") as refused:
        gateway.create_intent(
            amount=Money(4250, "KWD"), order_id="ord_1", idempotency_key=paypal_id()
        )
    assert not isinstance(refused.value, GatewayUnavailable)


# -- PayPal's errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503, 409])
def test_rate_limits_server_errors_and_requests_in_flight_are_unavailability(
    gateway: PayPalGateway, paypal: PayPalApi, status: int
) -> None:
    key = paypal_id()
    paypal.fail_next(1, status=status, path="/v2/checkout/orders")
    with pytest.raises(GatewayUnavailable):
        gateway.create_intent(amount=USD, order_id="ord_2", idempotency_key=key)
    assert gateway.create_intent(amount=USD, order_id="ord_2", idempotency_key=key).id


def test_a_read_is_retried_once_and_a_longer_outage_is_unavailability(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    paypal.fail_next(1, status=503)
    assert gateway.get_intent(intent_id).id == intent_id  # the SDK retried the GET
    paypal.fail_next(2, status=429)
    with pytest.raises(GatewayUnavailable):
        gateway.get_intent(intent_id)


def test_a_capture_whose_answer_times_out_is_unavailability_and_its_retry_captures_once(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    paypal.approve(intent_id)
    paypal.stall_next(1, seconds=1.5, path="/capture")  # captured, but the answer comes late
    with pytest.raises(GatewayUnavailable):
        gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="once")
    paid = gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="once")
    assert paid.status is IntentStatus.SUCCEEDED
    assert len([c for c in paypal.captures.values() if c.order_id == intent_id]) == 1
    assert len(paypal.deliveries) == 1  # one PAYMENT.CAPTURE.COMPLETED
    # The retry repeated the first capture's request id, which PayPal answered from memory.
    first, retry = _sent(paypal, "POST", "/capture")
    assert first.headers["paypal-request-id"] == retry.headers["paypal-request-id"]


def test_an_unreachable_paypal_is_unavailability() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    gateway = _gateway(f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(GatewayUnavailable):
        gateway.create_intent(amount=USD, order_id="ord_1", idempotency_key="k")
    body = encode(event_json("PAYMENT.CAPTURE.PENDING", "capture", {}))
    with pytest.raises(GatewayUnavailable):
        gateway.parse_event(body, PayPalApi().sign(body))


@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.get_intent("NOSUCHORDER000001"),
        lambda g: g.confirm_intent(
            "NOSUCHORDER000001", payment_method="paypal", idempotency_key="c"
        ),
        lambda g: g.cancel_intent("NOSUCHORDER000001", idempotency_key="x"),
        lambda g: g.refund("NOSUCHORDER000001", amount=USD, idempotency_key="r"),
        lambda g: g.get_refund("NOSUCHORDER000001", "NOSUCHREFUND00001"),
    ],
    ids=["get", "confirm", "cancel", "refund", "get_refund"],
)
def test_an_unknown_order_is_a_refusal_not_an_outage(
    gateway: PayPalGateway, call: Callable[[PayPalGateway], object]
) -> None:
    with pytest.raises(GatewayError) as refused:
        call(gateway)
    assert not isinstance(refused.value, GatewayUnavailable)


def test_a_failed_token_request_is_unavailability(paypal: PayPalApi) -> None:
    paypal.fail_next(1, status=503, path="/v1/oauth2/token")
    with pytest.raises(GatewayUnavailable, match="token"):
        _gateway(paypal.base).create_intent(amount=USD, order_id="o", idempotency_key="k")
    wrong = _gateway(paypal.base, client_secret="not-the-secret")
    with pytest.raises(GatewayUnavailable, match="token"):
        wrong.create_intent(amount=USD, order_id="o", idempotency_key="k")
    assert _creates(paypal) == []


def test_a_token_paypal_no_longer_accepts_is_unavailability(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    paypal.revoke_tokens()
    with pytest.raises(GatewayUnavailable, match="401"):
        gateway.get_intent(intent_id)


def test_a_refund_over_what_remains_is_refused(gateway: PayPalGateway, paypal: PayPalApi) -> None:
    intent_id = _paid(gateway, paypal)
    with pytest.raises(GatewayError, match="REFUND_AMOUNT_EXCEEDED") as refused:
        gateway.refund(intent_id, amount=Money(4201, "USD"), idempotency_key="r1")
    assert not isinstance(refused.value, GatewayUnavailable)
    gateway.refund(intent_id, amount=USD, idempotency_key="r2")
    with pytest.raises(GatewayError, match="CAPTURE_FULLY_REFUNDED"):
        gateway.refund(intent_id, amount=Money(1, "USD"), idempotency_key="r3")


# -- confirming and cancelling -----------------------------------------------------------------


def test_before_approval_the_buyer_is_sent_to_paypals_approval_page(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    pending = gateway.confirm_intent(intent_id, payment_method=None, idempotency_key="c")
    assert pending.status is IntentStatus.REQUIRES_ACTION
    assert pending.action is not None
    assert pending.action.redirect_url == f"{paypal.base}/checkoutnow?token={intent_id}"
    assert pending.client_secret is None
    assert gateway.get_intent(intent_id).status is IntentStatus.REQUIRES_PAYMENT_METHOD


def test_a_declined_funding_source_is_a_declined_intent_with_paypals_issue(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    paypal.approve(intent_id, declines=True)
    declined = gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="c")
    assert (declined.status, declined.decline_code) == (
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        "instrument_declined",
    )
    assert "declined" in (declined.decline_message or "")


@pytest.mark.parametrize(
    ("capture_status", "status", "decline_code", "event_kind"),
    [
        ("PENDING", IntentStatus.PROCESSING, None, EventKind.IGNORED),
        (
            "DECLINED",
            IntentStatus.REQUIRES_PAYMENT_METHOD,
            "capture_declined",
            EventKind.PAYMENT_FAILED,
        ),
    ],
)
def test_a_capture_paypal_took_but_did_not_complete_is_read_from_its_status(
    gateway: PayPalGateway,
    paypal: PayPalApi,
    capture_status: str,
    status: IntentStatus,
    decline_code: str | None,
    event_kind: EventKind,
) -> None:
    intent_id = _created(gateway)
    paypal.approve(intent_id, capture_status=capture_status)
    answer = gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="c")
    assert (answer.status, answer.decline_code) == (status, decline_code)
    assert gateway.get_intent(intent_id) == answer
    [(body, headers)] = paypal.deliveries
    event = gateway.parse_event(body, headers)
    assert (event.kind, event.raw_type) == (event_kind, f"PAYMENT.CAPTURE.{capture_status}")
    # Nothing taken yet (pending) or ever (declined): nothing to refund either.
    with pytest.raises(GatewayError, match="no capture"):
        gateway.refund(intent_id, amount=USD, idempotency_key="r")


def test_a_cancelled_order_is_never_captured_by_any_gateway_instance(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    assert gateway.cancel_intent(intent_id, idempotency_key="x").status is IntentStatus.CANCELED
    assert paypal.orders[intent_id].intent == "AUTHORIZE"  # the mark lives at PayPal's side
    paypal.approve(intent_id)  # the buyer approves anyway, in a tab left open
    restarted = _gateway(paypal.base)  # another process, or after a restart
    assert restarted.get_intent(intent_id).status is IntentStatus.CANCELED
    for instance in (gateway, restarted):
        with pytest.raises(GatewayError, match="canceled") as refused:
            instance.confirm_intent(intent_id, payment_method="paypal", idempotency_key="c")
        assert not isinstance(refused.value, GatewayUnavailable)
    assert _sent(paypal, "POST", "/capture") == []
    assert paypal.orders[intent_id].status == "APPROVED"  # approved, and never captured


def test_a_cancel_that_wins_the_race_with_a_capture_in_flight_is_upheld_by_paypal(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    paypal.approve(intent_id)
    other_process = _gateway(paypal.base)
    # The confirm has read the order (not cancelled); the expiry job cancels it before the
    # capture reaches PayPal. PayPal refuses the capture: the order's intent is AUTHORIZE.
    paypal.before_next(
        r"^POST .*/capture$", lambda: other_process.cancel_intent(intent_id, idempotency_key="x")
    )
    with pytest.raises(GatewayError, match="canceled") as refused:
        gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="c")
    assert not isinstance(refused.value, GatewayUnavailable)
    assert len(_sent(paypal, "POST", "/capture")) == 1  # it reached PayPal, which refused it
    assert paypal.orders[intent_id].status == "APPROVED"
    assert all(capture.order_id != intent_id for capture in paypal.captures.values())


def test_a_capture_that_wins_the_race_with_a_cancel_is_answered_as_captured(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    paypal.approve(intent_id)
    other_process = _gateway(paypal.base)
    # The cancel has read the order (approved); the buyer's confirm captures it before the
    # cancel's PATCH reaches PayPal, which then refuses to patch a completed order.
    paypal.before_next(
        f"^PATCH .*{intent_id}",
        lambda: other_process.confirm_intent(
            intent_id, payment_method="paypal", idempotency_key="c"
        ),
    )
    answer = gateway.cancel_intent(intent_id, idempotency_key="x")
    assert answer.status is IntentStatus.SUCCEEDED
    assert len(_sent(paypal, "PATCH", intent_id)) == 1  # it reached PayPal, which refused it
    assert paypal.orders[intent_id].intent == "CAPTURE"


def test_cancelling_sends_one_patch_and_a_captured_order_none(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    gateway.cancel_intent(intent_id, idempotency_key="x1")
    gateway.cancel_intent(intent_id, idempotency_key="x2")
    [patch] = _sent(paypal, "PATCH", intent_id)
    assert patch.body == [{"op": "replace", "path": "/intent", "value": "AUTHORIZE"}]
    paid = _paid(gateway, paypal)
    assert gateway.cancel_intent(paid, idempotency_key="x3").status is IntentStatus.SUCCEEDED
    assert _sent(paypal, "PATCH", paid) == []


def test_an_order_paypal_voided_cannot_be_confirmed(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _created(gateway)
    paypal.void(intent_id)
    assert gateway.get_intent(intent_id).status is IntentStatus.CANCELED
    with pytest.raises(GatewayError, match="canceled"):
        gateway.confirm_intent(intent_id, payment_method="paypal", idempotency_key="c")
    assert gateway.cancel_intent(intent_id, idempotency_key="x").status is IntentStatus.CANCELED


def test_a_refund_reads_back_only_under_its_own_order(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    first, second = _paid(gateway, paypal), _paid(gateway, paypal)
    refund = gateway.refund(first, amount=Money(100, "USD"), idempotency_key="r")
    assert gateway.get_refund(first, refund.id).status is GatewayRefundStatus.SUCCEEDED
    with pytest.raises(GatewayError, match="not one of"):
        gateway.get_refund(second, refund.id)


# -- webhooks ----------------------------------------------------------------------------------


def test_paypals_own_deliveries_read_back_as_the_capture_and_the_refund_they_report(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _paid(gateway, paypal)
    refund = gateway.refund(intent_id, amount=Money(1000, "USD"), idempotency_key="refund-re_9")
    captured, refunded = (gateway.parse_event(body, headers) for body, headers in paypal.deliveries)
    assert (captured.kind, captured.intent_id, captured.amount) == (
        EventKind.PAYMENT_SUCCEEDED,
        intent_id,
        USD,
    )
    assert (refunded.kind, refunded.intent_id, refunded.refund_id, refunded.refund_key) == (
        EventKind.REFUND_SUCCEEDED,
        intent_id,
        refund.id,
        "refund-re_9",
    )
    assert refunded.amount == Money(1000, "USD")


def test_a_refund_made_in_paypals_dashboard_is_traced_to_its_order(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _paid(gateway, paypal)
    refund_id = paypal.refund_in_dashboard(intent_id, "12.00")
    body, headers = paypal.deliveries[-1]
    event = gateway.parse_event(body, headers)
    assert (event.kind, event.intent_id, event.refund_id, event.refund_key, event.amount) == (
        EventKind.REFUND_SUCCEEDED,
        intent_id,
        refund_id,
        None,
        Money(1200, "USD"),
    )


def test_a_delivery_is_refused_without_any_one_of_its_transmission_headers(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    body = paypal_event_body(EventSpec(EventKind.PAYMENT_SUCCEEDED, "ORDER1", USD))
    headers = paypal.sign(body)
    for name in headers:
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(InvalidWebhook, match=name.lower()):
            gateway.parse_event(body, partial)
    assert _sent(paypal, "POST", "verify-webhook-signature") == []


def test_the_event_is_sent_for_verification_byte_for_byte(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    body = paypal_event_body(EventSpec(EventKind.PAYMENT_SUCCEEDED, "ORDER1", USD))
    headers = paypal.sign(body)
    assert gateway.parse_event(body, headers).intent_id == "ORDER1"
    [check] = _sent(paypal, "POST", "verify-webhook-signature")
    assert check.raw.endswith(b'"webhook_event":' + body + b"}")
    assert check.body["webhook_id"] == WEBHOOK_ID
    assert check.headers["authorization"].startswith("Bearer ")
    # The same event re-serialised (other spacing) is not what PayPal signed.
    respaced = json.dumps(json.loads(body)).encode()
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(respaced, headers)


def test_a_delivery_for_another_webhook_is_refused(paypal: PayPalApi) -> None:
    body = paypal_event_body(EventSpec(EventKind.PAYMENT_SUCCEEDED, "ORDER1", USD))
    other = _gateway(paypal.base, webhook_id="9XX99999XX9999999")
    with pytest.raises(InvalidWebhook):
        other.parse_event(body, paypal.sign(body))


@pytest.mark.parametrize("status", [503, 429])
def test_paypal_unavailable_for_verification_is_unavailability_so_it_delivers_again(
    gateway: PayPalGateway, paypal: PayPalApi, status: int
) -> None:
    body = paypal_event_body(EventSpec(EventKind.PAYMENT_SUCCEEDED, "ORDER1", USD))
    headers = paypal.sign(body)
    paypal.fail_next(1, status=status, path="verify-webhook-signature")
    with pytest.raises(GatewayUnavailable):
        gateway.parse_event(body, headers)
    assert gateway.parse_event(body, headers).kind is EventKind.PAYMENT_SUCCEEDED


def _event(event_type: str, resource_type: str, resource: dict[str, Any]) -> bytes:
    return encode(event_json(event_type, resource_type, resource))


def _dispute(outcome: str | None, capture_id: str) -> dict[str, Any]:
    dispute: dict[str, Any] = {
        "dispute_id": "PP-D-27803",
        "status": "RESOLVED" if outcome else "WAITING_FOR_SELLER_RESPONSE",
        "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        "dispute_amount": amount_json("USD", "42.00"),
        "disputed_transactions": [{"seller_transaction_id": capture_id, "seller": {}}],
    }
    if outcome:
        dispute["dispute_outcome"] = {"outcome_code": outcome}
    return dispute


def test_each_paypal_event_type_maps_to_what_the_shop_does(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    intent_id = _paid(gateway, paypal)
    capture_id = paypal.orders[intent_id].capture_id or ""
    denied = capture_json(
        "CAP1", "ORDER7", "USD", "42.00", status="DECLINED", reason="DECLINED_BY_RISK_FRAUD_FILTERS"
    )
    cases: list[tuple[bytes, tuple[object, ...]]] = [
        (
            _event(
                "PAYMENT.CAPTURE.COMPLETED",
                "capture",
                capture_json("CAP1", "ORDER7", "USD", "42.00"),
            ),
            (EventKind.PAYMENT_SUCCEEDED, "ORDER7", USD, None),
        ),
        (
            _event("PAYMENT.CAPTURE.DENIED", "capture", denied),
            (EventKind.PAYMENT_FAILED, "ORDER7", USD, "declined_by_risk_fraud_filters"),
        ),
        (
            _event(
                "PAYMENT.CAPTURE.DECLINED",
                "capture",
                capture_json("CAP1", "ORDER7", "USD", "42.00", status="DECLINED"),
            ),
            (EventKind.PAYMENT_FAILED, "ORDER7", USD, None),
        ),
        (
            _event(
                "PAYMENT.CAPTURE.REFUNDED",
                "refund",
                refund_json(
                    "REF1", "CAP1", "USD", "42.00", status="CANCELLED", custom_id="ORDER7,k"
                ),
            ),
            (EventKind.REFUND_FAILED, "ORDER7", USD, None),
        ),
        (
            _event(
                "PAYMENT.CAPTURE.REFUNDED",
                "refund",
                refund_json("REF1", "CAP1", "USD", "42.00", status="PENDING", custom_id="ORDER7,k"),
            ),
            (EventKind.IGNORED, None, None, None),
        ),
        (
            # Money taken back by PayPal (a chargeback): staff must look; no refund of ours.
            _event(
                "PAYMENT.CAPTURE.REVERSED",
                "refund",
                refund_json("REV1", capture_id, "USD", "-42.00"),
            ),
            (EventKind.DISPUTE_OPENED, intent_id, USD, "reversed"),
        ),
        (
            _event("CUSTOMER.DISPUTE.CREATED", "dispute", _dispute(None, capture_id)),
            (EventKind.DISPUTE_OPENED, intent_id, USD, "waiting_for_seller_response"),
        ),
        (
            _event(
                "CUSTOMER.DISPUTE.RESOLVED",
                "dispute",
                _dispute("RESOLVED_BUYER_FAVOUR", capture_id),
            ),
            (EventKind.DISPUTE_CLOSED, intent_id, USD, "lost"),
        ),
        (
            _event(
                "CUSTOMER.DISPUTE.RESOLVED",
                "dispute",
                _dispute("RESOLVED_SELLER_FAVOUR", capture_id),
            ),
            (EventKind.DISPUTE_CLOSED, intent_id, USD, "won"),
        ),
        (
            _event(
                "CUSTOMER.DISPUTE.RESOLVED",
                "dispute",
                _dispute("RESOLVED_SELLER_FAVOUR", "UNKNOWNCAPTURE01"),
            ),
            (EventKind.DISPUTE_CLOSED, None, USD, "won"),
        ),
        (
            _event(
                "CHECKOUT.ORDER.APPROVED", "checkout-order", {"id": "ORDER7", "status": "APPROVED"}
            ),
            (EventKind.IGNORED, None, None, None),
        ),
        (
            _event(
                "PAYMENT.CAPTURE.PENDING",
                "capture",
                capture_json("CAP1", "ORDER7", "USD", "42.00", status="PENDING"),
            ),
            (EventKind.IGNORED, None, None, None),
        ),
    ]
    for body, expected in cases:
        event = gateway.parse_event(body, paypal.sign(body))
        assert (event.kind, event.intent_id, event.amount, event.decline_code) == expected, body
        assert event.raw_type == json.loads(body)["event_type"]


@pytest.mark.parametrize(
    "document",
    [
        {
            "id": "WH-1",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "2026-01-01T00:00:00Z",
        },
        {
            "id": "WH-1",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "2026-01-01T00:00:00Z",
            "resource": capture_json("CAP1", "ORDER7", "USD", "forty-two"),
        },
        {
            "id": "WH-1",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "2026-01-01T00:00:00",
            "resource": capture_json("CAP1", "ORDER7", "USD", "42.00"),
        },
        {
            "id": "WH-1",
            "event_type": "CUSTOMER.DISPUTE.CREATED",
            "create_time": "2026-01-01T00:00:00Z",
            "resource": [],
        },
    ],
    ids=["no resource", "an amount that is no number", "no time zone", "resource no object"],
)
def test_a_signed_event_that_is_malformed_is_refused_not_a_crash(
    gateway: PayPalGateway, paypal: PayPalApi, document: dict[str, Any]
) -> None:
    body = encode(document)
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body, paypal.sign(body))


def test_a_body_nested_too_deep_for_json_is_refused_not_a_crash(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    body = b'{"id":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body, paypal.sign(body))


# -- the core's checkout through PayPal --------------------------------------------------------


def test_the_shop_takes_declines_and_refunds_payments_through_paypal(
    gateway: PayPalGateway, paypal: PayPalApi
) -> None:
    shop = InMemoryShop(gateway=gateway)
    shop.product_id = shop.add_product(stock=3, price=Money(1250, "EUR")).id

    def checkout() -> str:
        intent = create_checkout_intent(
            CreateCheckoutIntent("usr_1", (CartItem(shop.product_id, 1),)), **shop.ports
        )
        return str(intent.body["intent_id"])

    # Before approval the shopper is sent to PayPal; after it, the same order is captured.
    intent_id = checkout()
    confirmed = confirm_order(ConfirmOrder("usr_1", intent_id, None, "key-1"), **shop.ports)
    assert confirmed.outcome is ConfirmOutcome.REQUIRES_ACTION
    assert confirmed.body["next_action"]["redirect_url"].endswith(f"token={intent_id}")
    paypal.approve(intent_id)
    paid = confirm_order(ConfirmOrder("usr_1", intent_id, "paypal", "key-2"), **shop.ports)
    assert paid.outcome is ConfirmOutcome.PAID
    # PayPal's webhook arrives after the confirm: nothing more to do.
    outcomes = [
        handle_gateway_event(gateway.parse_event(b, h), **shop.ports) for b, h in paypal.deliveries
    ]
    assert outcomes == [EventOutcome.IGNORED]
    order = get_order(shop.uow, "usr_1", paid.body["order"]["id"])
    assert order.status is OrderStatus.PAID

    # Staff refund part of it; PayPal's refund webhook then matches our refund by its key.
    refund_order(RefundOrder("usr_staff", order.id, Money(500, "EUR"), "r-1"), **shop.ports)
    body, headers = paypal.deliveries[-1]
    assert handle_gateway_event(gateway.parse_event(body, headers), **shop.ports) in (
        EventOutcome.IGNORED,
        EventOutcome.PROCESSED,
    )
    assert get_order(shop.uow, "usr_1", order.id).status is OrderStatus.PARTIALLY_REFUNDED

    # A declined funding source fails the order, and the core cancels the PayPal order, so
    # that a buyer who approves again in an old tab cannot be charged for it.
    declining = checkout()
    paypal.approve(declining, declines=True)
    declined = confirm_order(ConfirmOrder("usr_1", declining, "paypal", "key-3"), **shop.ports)
    assert declined.outcome is ConfirmOutcome.DECLINED
    assert paypal.orders[declining].intent == "AUTHORIZE"
    paypal.approve(declining)
    assert gateway.get_intent(declining).status is IntentStatus.CANCELED
