"""``RazorpayGateway`` on the real ``razorpay`` SDK, making real HTTP requests to a local fake of
Razorpay's API (``tests.support.razorpay_api``): the gateway and webhook contracts, what the SDK
puts on the wire, Checkout's signature, cancellation, refund idempotency, the mapping of HTTP
failures, and the webhooks the fake sends as Razorpay would."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from adapters.payments.razorpay import RazorpayGateway
from commerce_core import (
    EventKind,
    GatewayError,
    GatewayEvent,
    GatewayRefundStatus,
    GatewayUnavailable,
    IntentStatus,
    InvalidInput,
    InvalidWebhook,
    Money,
    PaymentGateway,
    PaymentIntent,
)
from commerce_core.testing.contracts import (
    BuyerStep,
    EventSpec,
    GatewayEventParserContract,
    PaymentGatewayContract,
    PaymentScenario,
)
from tests.support.razorpay_api import (
    KEY_ID,
    KEY_SECRET,
    WEBHOOK_SECRET,
    Checkout,
    Delivery,
    RazorpayApi,
    basic_auth,
    event_body,
    payment_entity,
    razorpay_id,
    refund_entity,
)

INR = Money(4200, "INR")
# Long enough for a loaded CI machine; the tests of timeouts make their own, impatient gateway.
TIMEOUT = 5.0
IMPATIENT = 0.3
LATE = 0.8  # seconds the fake takes to answer a stalled request: beyond IMPATIENT


@pytest.fixture
def served() -> Iterator[tuple[RazorpayApi, str]]:
    api = RazorpayApi()
    with api.serving() as base_url:
        yield api, base_url


@pytest.fixture
def api(served: tuple[RazorpayApi, str]) -> RazorpayApi:
    return served[0]


def _gateway(base_url: str | None, *, timeout: float = TIMEOUT, **keys: str) -> RazorpayGateway:
    settings = {"key_id": KEY_ID, "key_secret": KEY_SECRET, "webhook_secret": WEBHOOK_SECRET}
    return RazorpayGateway(**(settings | keys), base_url=base_url, timeout=timeout)


@pytest.fixture
def gateway(served: tuple[RazorpayApi, str]) -> RazorpayGateway:
    return _gateway(served[1])


@pytest.fixture
def impatient(served: tuple[RazorpayApi, str]) -> RazorpayGateway:
    return _gateway(served[1], timeout=IMPATIENT)


def _refused(call: Callable[[], object]) -> GatewayError:
    with pytest.raises(GatewayError) as raised:
        call()
    assert not isinstance(raised.value, GatewayUnavailable), raised.value
    return raised.value


def _invalid_method(call: Callable[[], object]) -> None:
    with pytest.raises(InvalidInput) as raised:
        call()
    assert [error.field for error in raised.value.errors] == ["payment_method"]


def _new(gateway: RazorpayGateway, amount: Money = INR, order_id: str = "ord_1") -> str:
    return gateway.create_intent(amount=amount, order_id=order_id, idempotency_key="create-1").id


def _confirm(gateway: RazorpayGateway, checkout: Checkout, key: str = "confirm-1") -> PaymentIntent:
    return gateway.confirm_intent(
        checkout.order_id,
        payment_method=checkout.payment_id,
        proof=checkout.signature,
        idempotency_key=key,
    )


def _sent(api: RazorpayApi, method: str, path_part: str) -> list[Any]:
    return [s for s in api.requests if s.method == method and path_part in s.path]


# -- the contracts ---------------------------------------------------------------------------


class TestRazorpayGatewayContract(PaymentGatewayContract):
    """The buyer's step is Razorpay Checkout on the fake: it pays the order and hands back the
    payment id with Checkout's signature (or, for a decline, the payment id alone, as
    Checkout's failure handler gets it)."""

    amount = INR

    @pytest.fixture(autouse=True)
    def _remember_api(self, api: RazorpayApi) -> None:
        self._api = api

    def buyer_step(
        self, gateway: PaymentGateway, intent_id: str, scenario: PaymentScenario
    ) -> BuyerStep:
        api = self._api
        if scenario is PaymentScenario.NEEDS_ACTION:
            return BuyerStep(None)  # Checkout has not run yet: the shop must send the buyer there
        if scenario is PaymentScenario.UNKNOWN_METHOD or intent_id not in api.orders:
            # A payment Razorpay never made (or for an order it does not know), signed with the
            # key secret all the same: the refusal must come from Razorpay, not the signature.
            made_up = razorpay_id("pay")
            return BuyerStep(made_up, api.signature(intent_id, made_up))
        if api.orders[intent_id]["status"] == "paid":
            # Checkout takes no more payments: the browser sends its success again.
            return BuyerStep(
                api.successes[intent_id].payment_id, api.successes[intent_id].signature
            )
        if scenario is PaymentScenario.DECLINES:
            return BuyerStep(api.pay(intent_id, decline="card_declined").payment_id)
        checkout = api.pay(intent_id)
        return BuyerStep(checkout.payment_id, checkout.signature)

    @contextmanager
    def outage(self, gateway: RazorpayGateway) -> Iterator[None]:  # type: ignore[override]
        with self._api.outage(503):
            yield


class TestRazorpayWebhooks(GatewayEventParserContract):
    """Bodies as Razorpay sends them: ``payload.payment.entity`` for payments, with
    ``payload.refund.entity`` for refunds; the event id in ``X-Razorpay-Event-Id``."""

    gateway_name = "razorpay"
    # Razorpay takes INR and other two-decimal currencies in their minor unit, JPY in whole yen
    # and KWD (BHD, OMR) in thousandths ending in 0.
    amounts = (Money(4200, "INR"), Money(4200, "JPY"), Money(4250, "KWD"))

    @pytest.fixture
    def parser(self) -> RazorpayGateway:
        self._event_ids: dict[bytes, str] = {}
        return _gateway(None)  # parsing never calls Razorpay

    def event_body(self, spec: EventSpec) -> bytes:
        money = (spec.amount.amount, spec.amount.currency)
        payment_id = f"pay_{spec.event_id[-14:]}"
        refund: dict[str, Any] | None = None
        match spec.kind:
            case EventKind.PAYMENT_SUCCEEDED:
                event, payment = (
                    "payment.captured",
                    payment_entity(payment_id, spec.intent_id, *money, "captured"),
                )
            case EventKind.PAYMENT_FAILED:
                event, payment = (
                    "payment.failed",
                    payment_entity(
                        payment_id,
                        spec.intent_id,
                        *money,
                        "failed",
                        error_code="BAD_REQUEST_ERROR",
                        error_reason=spec.decline_code,
                        error_description="The payment was declined by the issuing bank.",
                    ),
                )
            case EventKind.PAYMENT_CANCELED:
                # Razorpay gives back an authorization nobody captured in time.
                event = "refund.processed"
                payment = payment_entity(payment_id, spec.intent_id, *money, "refunded")
                refund = refund_entity(
                    f"rfnd_{spec.event_id[-14:]}", payment_id, *money, "processed"
                )
            case _:
                event = (
                    "refund.processed"
                    if spec.kind is EventKind.REFUND_SUCCEEDED
                    else "refund.failed"
                )
                payment = payment_entity(payment_id, spec.intent_id, *money, "captured")
                refund = refund_entity(
                    str(spec.refund_id),
                    payment_id,
                    *money,
                    "processed" if event == "refund.processed" else "failed",
                    {"idempotency_key": str(spec.refund_key)},
                )
        entities = (
            {"payment": payment} if refund is None else {"refund": refund, "payment": payment}
        )
        body = event_body(event, **entities)
        self._event_ids[body] = spec.event_id
        return body

    def ignored_event_body(self) -> bytes:
        settlement = {"id": "setl_DGlQ1Rj8os78Ec", "entity": "settlement", "amount": 9973635}
        return event_body("settlement.processed", settlement=settlement | {"status": "processed"})

    def signed(self, body: bytes) -> dict[str, str]:
        return RazorpayApi().webhook_headers(body, self._event_ids.get(body))


# -- what goes on the wire -------------------------------------------------------------------


def test_the_gateway_names_itself_and_its_public_key(gateway: RazorpayGateway) -> None:
    assert (gateway.name, gateway.key_id) == ("razorpay", KEY_ID)


def test_every_request_is_the_sdks_with_the_key_id_and_secret(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    _confirm(gateway, api.pay(intent_id))
    gateway.refund(intent_id, amount=INR, idempotency_key="refund-rf_1")
    assert len(api.requests) >= 6
    for sent in api.requests:
        assert sent.headers["Authorization"] == basic_auth(KEY_ID, KEY_SECRET)
        assert sent.headers["User-Agent"].startswith("Razorpay-Python/")


def test_a_wrong_key_secret_is_a_refusal_not_an_outage(served: tuple[RazorpayApi, str]) -> None:
    wrong = _gateway(served[1], key_secret="not_the_secret")
    _refused(lambda: _new(wrong))


@pytest.mark.parametrize(
    "amount",
    [Money(4200, "INR"), Money(1999, "USD"), Money(500, "JPY"), Money(4250, "KWD")],
    ids=str,
)
def test_an_order_is_made_in_razorpay_subunits_with_manual_capture(
    gateway: RazorpayGateway, api: RazorpayApi, amount: Money
) -> None:
    intent = gateway.create_intent(amount=amount, order_id="ord_9", idempotency_key="create-9")
    [sent] = _sent(api, "POST", "/v1/orders")
    assert sent.body == {
        "amount": amount.amount,  # ¥500 is 500, 4.250 KD is 4250, ₹42.00 is 4200
        "currency": amount.currency,
        "receipt": "ord_9",
        "notes": {"order_id": "ord_9", "idempotency_key": "create-9"},
        "payment": {"capture": "manual"},
    }
    assert intent == PaymentIntent(intent.id, IntentStatus.REQUIRES_PAYMENT_METHOD, amount)
    assert intent.id.startswith("order_")


@pytest.mark.parametrize(
    "amount",
    [Money(4255, "KWD"), Money(5000, "TND"), Money(500, "ISK")],
    ids=["kwd-not-ending-in-0", "undocumented-3-decimal", "undocumented-0-decimal"],
)
def test_an_amount_razorpay_cannot_take_exactly_is_refused_before_any_call(
    gateway: RazorpayGateway, api: RazorpayApi, amount: Money
) -> None:
    _refused(lambda: _new(gateway, amount))
    assert api.requests == []


def test_a_create_whose_answer_was_lost_is_found_by_its_receipt(
    impatient: RazorpayGateway, gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    api.before_next(r"^POST /v1/orders$", lambda: api.stall_next(1, LATE))
    with pytest.raises(GatewayUnavailable):
        _new(impatient)
    assert len(api.orders) == 1  # Razorpay made it; only the answer was lost
    assert _new(gateway) in api.orders
    assert len(api.orders) == 1


def test_a_create_key_reused_for_another_amount_is_refused(gateway: RazorpayGateway) -> None:
    _new(gateway)
    _refused(lambda: _new(gateway, Money(4300, "INR")))


# -- confirming: Checkout's signature and the payment it names ----------------------------------


def test_without_a_payment_the_buyer_is_sent_to_checkout_with_the_order_id(
    gateway: RazorpayGateway,
) -> None:
    intent_id = _new(gateway)
    answer = gateway.confirm_intent(intent_id, payment_method=None, idempotency_key="c")
    assert answer.status is IntentStatus.REQUIRES_ACTION
    assert answer.action is not None
    assert answer.action.client_secret == intent_id


def test_an_authorized_payment_is_captured_for_the_orders_amount(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    checkout = api.pay(_new(gateway))
    assert api.payments[checkout.payment_id]["status"] == "authorized"  # manual capture
    assert _confirm(gateway, checkout).status is IntentStatus.SUCCEEDED
    [capture] = _sent(api, "POST", "/capture")
    assert capture.path == f"/v1/payments/{checkout.payment_id}/capture"
    assert capture.body == {"amount": 4200, "currency": "INR"}
    assert api.payments[checkout.payment_id]["status"] == "captured"
    assert api.orders[checkout.order_id]["status"] == "paid"


def test_a_forged_signature_is_invalid_input_and_captures_nothing(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    checkout = api.pay(_new(gateway))
    for forged in ("0" * 64, api.signature(checkout.order_id, "pay_someoneelse1"), "not-hex"):
        _invalid_method(
            lambda forged=forged: gateway.confirm_intent(
                checkout.order_id,
                payment_method=checkout.payment_id,
                proof=forged,
                idempotency_key="c",
            )
        )
    assert _sent(api, "POST", "/capture") == []
    assert api.payments[checkout.payment_id]["status"] == "authorized"


def test_a_payment_of_another_order_is_invalid_input_even_well_signed(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    mine = _new(gateway, order_id="ord_mine")
    theirs = api.pay(_new(gateway, order_id="ord_theirs"))
    _invalid_method(
        lambda: gateway.confirm_intent(
            mine,
            payment_method=theirs.payment_id,
            proof=api.signature(mine, theirs.payment_id),
            idempotency_key="c",
        )
    )
    assert api.payments[theirs.payment_id]["status"] == "authorized"


def test_a_malformed_payment_id_is_invalid_input_before_any_call(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    before = len(api.requests)
    for bad in ("pay_x/../../orders", "order_abc", ""):
        _invalid_method(
            lambda bad=bad: gateway.confirm_intent(
                intent_id, payment_method=bad, proof="0" * 64, idempotency_key="c"
            )
        )
    assert len(api.requests) == before


def test_without_its_proof_a_payment_is_read_but_never_captured(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    declined = api.pay(intent_id, decline="insufficient_funds")
    authorized = api.pay(intent_id)

    def unsigned(payment_id: str) -> PaymentIntent:
        return gateway.confirm_intent(intent_id, payment_method=payment_id, idempotency_key="c")

    # Checkout's failure handler has no signature; a decline acts on nothing.
    answer = unsigned(declined.payment_id)
    assert (answer.status, answer.decline_code) == (
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        "insufficient_funds",
    )
    assert answer.decline_message
    _invalid_method(lambda: unsigned(authorized.payment_id))
    assert api.payments[authorized.payment_id]["status"] == "authorized"


def test_a_capture_whose_answer_was_lost_is_success_on_retry_and_captures_once(
    impatient: RazorpayGateway, gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    checkout = api.pay(_new(gateway))
    api.before_next(r"^POST .*/capture$", lambda: api.stall_next(1, LATE))
    with pytest.raises(GatewayUnavailable):
        _confirm(impatient, checkout)
    assert _confirm(gateway, checkout).status is IntentStatus.SUCCEEDED
    assert len(_sent(api, "POST", "/capture")) == 1
    assert len(api.deliveries_of("payment.captured")) == 1


def test_a_capture_another_worker_made_first_is_success(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    checkout = api.pay(_new(gateway))
    api.before_next(r"^POST .*/capture$", lambda: api.capture(checkout.payment_id))
    assert _confirm(gateway, checkout).status is IntentStatus.SUCCEEDED
    assert len(api.deliveries_of("payment.captured")) == 1


def test_a_second_payment_of_a_paid_order_is_not_captured(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    first, second = api.pay(intent_id), api.pay(intent_id)  # two tabs, both paid in Checkout
    assert _confirm(gateway, first).status is IntentStatus.SUCCEEDED
    assert _confirm(gateway, second, key="confirm-2").status is IntentStatus.SUCCEEDED
    assert api.payments[second.payment_id]["status"] == "authorized"


def test_a_lapsed_authorization_answers_declined(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    checkout = api.pay(_new(gateway))
    api.lapse(checkout.payment_id)
    answer = _confirm(gateway, checkout)
    assert answer.declined
    assert answer.decline_code == "authorization_expired"


# -- cancelling -----------------------------------------------------------------------------


def test_a_cancel_is_a_note_on_the_order_and_every_later_capture_is_refused(
    served: tuple[RazorpayApi, str], gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    assert gateway.cancel_intent(intent_id, idempotency_key="x").status is IntentStatus.CANCELED
    [edit] = _sent(api, "PATCH", intent_id)
    assert edit.body == {
        "notes": {"order_id": "ord_1", "idempotency_key": "create-1", "shop_canceled": "true"}
    }
    # The buyer can still pay in Checkout (Razorpay cannot close an order) ...
    checkout = api.pay(intent_id)
    # ... but no process of the shop, even one started afterwards, captures it.
    restarted = _gateway(served[1])
    _refused(lambda: _confirm(restarted, checkout))
    _refused(lambda: restarted.confirm_intent(intent_id, payment_method=None, idempotency_key="c"))
    assert api.payments[checkout.payment_id]["status"] == "authorized"
    assert restarted.get_intent(intent_id).status is IntentStatus.CANCELED


def test_cancelling_a_captured_order_writes_nothing(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    _confirm(gateway, api.pay(intent_id))
    assert gateway.cancel_intent(intent_id, idempotency_key="x").status is IntentStatus.SUCCEEDED
    assert _sent(api, "PATCH", intent_id) == []


@pytest.mark.parametrize("paid_in_checkout_before", [True, False])
def test_a_cancel_that_loses_the_race_to_a_capture_says_so(
    gateway: RazorpayGateway, api: RazorpayApi, paid_in_checkout_before: bool
) -> None:
    intent_id = _new(gateway)
    # Paid in Checkout before the cancel reads the order, or while the order is untouched.
    early = api.pay(intent_id) if paid_in_checkout_before else None

    def another_workers_confirm() -> None:  # it read the notes before ours were written
        api.capture((early or api.pay(intent_id)).payment_id)

    api.before_next(r"^PATCH /v1/orders/", another_workers_confirm)
    assert gateway.cancel_intent(intent_id, idempotency_key="x").status is IntentStatus.SUCCEEDED


# -- reading back ------------------------------------------------------------------------------


def test_an_intent_reads_back_from_its_latest_payment(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    api.pay(intent_id, decline="card_declined")
    declined = gateway.get_intent(intent_id)
    assert (declined.status, declined.decline_code) == (
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        "card_declined",
    )
    api.pay(intent_id)  # paid in Checkout, not yet captured by the shop
    assert gateway.get_intent(intent_id).status is IntentStatus.REQUIRES_CONFIRMATION


# -- refunds -----------------------------------------------------------------------------------


def _captured(gateway: RazorpayGateway, api: RazorpayApi) -> tuple[str, str]:
    checkout = api.pay(_new(gateway))
    _confirm(gateway, checkout)
    return checkout.order_id, checkout.payment_id


def test_a_refund_goes_to_the_captured_payment_with_razorpays_idempotency_key(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id, payment_id = _captured(gateway, api)
    refund = gateway.refund(intent_id, amount=Money(1400, "INR"), idempotency_key="refund-rf_1")
    [sent] = _sent(api, "POST", "/refund")
    assert sent.path == f"/v1/payments/{payment_id}/refund"
    assert sent.body == {
        "amount": 1400,
        "speed": "normal",
        "notes": {"idempotency_key": "refund-rf_1"},
    }
    assert sent.headers["X-Refund-Idempotency"] == "refund-rf_1"
    assert (refund.intent_id, refund.amount, refund.status) == (
        intent_id,
        Money(1400, "INR"),
        GatewayRefundStatus.SUCCEEDED,
    )


def test_a_refund_whose_answer_was_lost_refunds_once(
    impatient: RazorpayGateway, gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id, payment_id = _captured(gateway, api)
    api.before_next(r"^POST .*/refund$", lambda: api.stall_next(1, LATE))
    with pytest.raises(GatewayUnavailable):
        impatient.refund(intent_id, amount=Money(1400, "INR"), idempotency_key="refund-rf_1")
    again = gateway.refund(intent_id, amount=Money(1400, "INR"), idempotency_key="refund-rf_1")
    assert list(api.refunds) == [again.id]
    assert api.payments[payment_id]["amount_refunded"] == 1400


def test_a_refund_key_reused_for_another_amount_is_refused(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id, _ = _captured(gateway, api)
    gateway.refund(intent_id, amount=Money(1400, "INR"), idempotency_key="refund-rf_1")
    _refused(
        lambda: gateway.refund(intent_id, amount=Money(100, "INR"), idempotency_key="refund-rf_1")
    )
    assert len(api.refunds) == 1


def test_a_key_razorpay_would_not_take_is_sent_hashed_and_still_refunds_once(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id, _ = _captured(gateway, api)
    first = gateway.refund(intent_id, amount=Money(100, "INR"), idempotency_key="k 1")
    again = gateway.refund(intent_id, amount=Money(100, "INR"), idempotency_key="k 1")
    assert again.id == first.id
    sent = _sent(api, "POST", "/refund")[0]
    assert sent.headers["X-Refund-Idempotency"] == hashlib.sha256(b"k 1").hexdigest()


def test_a_refund_in_another_currency_is_refused_before_the_refund_call(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id, _ = _captured(gateway, api)
    _refused(lambda: gateway.refund(intent_id, amount=Money(100, "USD"), idempotency_key="r1"))
    assert _sent(api, "POST", "/refund") == []


def test_a_pending_refund_reads_back_pending_and_only_for_its_own_order(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    api.refund_status = "pending"
    intent_id, _ = _captured(gateway, api)
    refund = gateway.refund(intent_id, amount=Money(100, "INR"), idempotency_key="refund-1a")
    assert refund.status is GatewayRefundStatus.PENDING
    assert gateway.get_refund(intent_id, refund.id).status is GatewayRefundStatus.PENDING
    other = _new(gateway, order_id="ord_other")
    _refused(lambda: gateway.get_refund(other, refund.id))
    _refused(lambda: gateway.get_refund(intent_id, "../orders"))


# -- failures of the exchange --------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_answers_asking_to_try_again_are_unavailability(
    gateway: RazorpayGateway, api: RazorpayApi, status: int
) -> None:
    # Razorpay's 429 says BAD_REQUEST_ERROR in its body: the SDK alone would call it a refusal.
    intent_id = _new(gateway)
    api.fail_next(1, status)
    with pytest.raises(GatewayUnavailable):
        gateway.get_intent(intent_id)
    api.fail_next(1, status)
    with pytest.raises(GatewayUnavailable):
        gateway.refund(intent_id, amount=INR, idempotency_key="refund-1a")
    assert gateway.get_intent(intent_id).id == intent_id


def test_a_timeout_is_unavailability(impatient: RazorpayGateway, api: RazorpayApi) -> None:
    intent_id = _new(impatient)
    api.stall_next(1, LATE)
    with pytest.raises(GatewayUnavailable):
        impatient.get_intent(intent_id)


def test_a_refused_connection_is_unavailability_and_prints_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as closed:  # a port nobody listens on once this block ends
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(GatewayUnavailable):
        _new(_gateway(f"http://127.0.0.1:{port}"))
    assert capsys.readouterr().out == ""  # the SDK prints on network errors it sees itself


def test_unknown_ids_are_refusals(gateway: RazorpayGateway) -> None:
    unknown = razorpay_id("order")
    _refused(lambda: gateway.get_intent(unknown))
    _refused(lambda: gateway.cancel_intent(unknown, idempotency_key="x"))
    _refused(lambda: gateway.refund(unknown, amount=INR, idempotency_key="refund-1a"))
    _refused(lambda: gateway.get_refund(unknown, razorpay_id("rfnd")))
    _refused(lambda: gateway.get_intent("order_1/../../payments"))


def test_the_gateway_needs_its_secrets() -> None:
    with pytest.raises(ValueError, match="secret"):
        RazorpayGateway(key_id=KEY_ID, key_secret="", webhook_secret=WEBHOOK_SECRET)


# -- webhooks ------------------------------------------------------------------------------------


def _parsed(gateway: RazorpayGateway, delivery: Delivery) -> GatewayEvent:
    return gateway.parse_event(delivery.body, delivery.headers)


def test_what_the_fake_sends_reads_back_in_the_shops_terms(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    intent_id = _new(gateway)
    declined = api.pay(intent_id, decline="card_declined")
    checkout = api.pay(intent_id)
    _confirm(gateway, checkout)
    refund = gateway.refund(intent_id, amount=Money(1400, "INR"), idempotency_key="refund-rf_1")
    events = {d.event: _parsed(gateway, d) for d in api.deliveries}
    assert {name: e.kind for name, e in events.items()} == {
        "payment.failed": EventKind.PAYMENT_FAILED,
        "payment.authorized": EventKind.IGNORED,  # the confirm captures, not the webhook
        "payment.captured": EventKind.PAYMENT_SUCCEEDED,
        "order.paid": EventKind.IGNORED,  # payment.captured says it already
        "refund.created": EventKind.IGNORED,  # its outcome comes with refund.processed
        "refund.processed": EventKind.REFUND_SUCCEEDED,
    }
    assert all(e.intent_id == intent_id and e.gateway == "razorpay" for e in events.values())
    assert events["payment.failed"].decline_code == "card_declined"
    assert events["payment.captured"].amount == INR
    processed = events["refund.processed"]
    assert (processed.refund_id, processed.refund_key, processed.amount) == (
        refund.id,
        "refund-rf_1",
        Money(1400, "INR"),
    )
    assert [e.id for e in events.values()] == [
        d.headers["X-Razorpay-Event-Id"] for d in api.deliveries
    ]
    assert declined.payment_id in api.deliveries_of("payment.failed")[0].body.decode()


def test_an_authorization_razorpay_gives_back_cancels_the_payment(
    gateway: RazorpayGateway, api: RazorpayApi
) -> None:
    checkout = api.pay(_new(gateway))
    api.lapse(checkout.payment_id)
    [processed] = api.deliveries_of("refund.processed")
    event = _parsed(gateway, processed)
    assert (event.kind, event.intent_id, event.amount, event.refund_id) == (
        EventKind.PAYMENT_CANCELED,
        checkout.order_id,
        INR,
        None,
    )


def test_a_failed_refund_reads_back_failed_unless_its_payment_was_never_captured(
    gateway: RazorpayGateway,
) -> None:
    def failed_refund(payment_status: str) -> GatewayEvent:
        payment = payment_entity("pay_1", "order_1", 4200, "INR", payment_status)
        refund = refund_entity("rfnd_1", "pay_1", 4200, "INR", "failed", {"idempotency_key": "k"})
        body = event_body("refund.failed", refund=refund, payment=payment)
        return gateway.parse_event(body, RazorpayApi().webhook_headers(body, "evt_1"))

    failed = failed_refund("captured")
    assert (failed.kind, failed.refund_id, failed.refund_key) == (
        EventKind.REFUND_FAILED,
        "rfnd_1",
        "k",
    )
    assert failed_refund("refunded").kind is EventKind.IGNORED


def test_without_razorpays_event_id_an_event_is_known_by_its_body(gateway: RazorpayGateway) -> None:
    body = event_body(
        "payment.captured", payment=payment_entity("pay_1", "order_1", 4200, "INR", "captured")
    )
    by_body = f"sha256:{hashlib.sha256(body).hexdigest()}"
    for event_id in (None, "", "no/such id", "x" * 65):
        headers = RazorpayApi().webhook_headers(body, event_id)
        assert gateway.parse_event(body, headers).id == by_body


def test_a_payment_outside_any_order_is_not_the_shops(gateway: RazorpayGateway) -> None:
    body = event_body(
        "payment.captured", payment=payment_entity("pay_1", None, 4200, "INR", "captured")
    )
    event = gateway.parse_event(body, RazorpayApi().webhook_headers(body, "evt_1"))
    assert (event.kind, event.intent_id) == (EventKind.IGNORED, None)


def test_a_signature_made_with_another_secret_is_refused(gateway: RazorpayGateway) -> None:
    body = event_body(
        "payment.captured", payment=payment_entity("pay_1", "order_1", 4200, "INR", "captured")
    )
    other = RazorpayApi(webhook_secret="someone_elses_webhook_secret").webhook_headers(body)
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body, other)


@pytest.mark.parametrize(
    "payment",
    [
        payment_entity("pay_1", "order_1", "4200", "INR", "captured"),
        payment_entity("pay_1", "order_1", 4200, "XYZ", "captured"),
        payment_entity("pay_1", "order_1", 4200, "TND", "captured"),
        {"id": "pay_1"},
    ],
    ids=[
        "amount-as-text",
        "unknown-currency",
        "currency-razorpay-documents-no-subunit-for",
        "bare",
    ],
)
def test_a_signed_event_the_adapter_cannot_read_faithfully_is_refused(
    gateway: RazorpayGateway, payment: dict[str, Any]
) -> None:
    body = event_body("payment.captured", payment=payment)
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(body, RazorpayApi().webhook_headers(body, "evt_1"))


def test_event_bodies_are_razorpays_shape(api: RazorpayApi, gateway: RazorpayGateway) -> None:
    api.pay(_new(gateway))
    [delivery] = api.deliveries
    body = json.loads(delivery.body)
    assert (body["entity"], body["event"], body["contains"]) == (
        "event",
        "payment.authorized",
        ["payment"],
    )
    assert body["payload"]["payment"]["entity"]["status"] == "authorized"
