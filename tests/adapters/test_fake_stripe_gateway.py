"""``FakeStripeGateway`` passes the gateway contract on SQLite and PostgreSQL, keeps its state in
the database, writes a Stripe-shaped event for every state change, and stays correct under
concurrent calls from many threads (as from many gunicorn workers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from adapters.payments import fake_tables
from adapters.payments.fake_gateway import FakeStripeGateway
from adapters.payments.fake_tables import fake_gateway_events, fake_gateway_intents
from commerce_core import (
    EventKind,
    GatewayError,
    GatewayEventParser,
    GatewayRefund,
    GatewayUnavailable,
    IntentStatus,
    InvalidInput,
    InvalidWebhook,
    Money,
    PaymentGateway,
    PaymentIntent,
)
from commerce_core.testing import FakeClock
from commerce_core.testing.contracts import (
    GatewayEventParserContract,
    PaymentGatewayContract,
)
from tests.support.simulated_scenarios import SimulatedGatewayScenarios
from tests.support.stripe_events import StripeShapedEvents

T = TypeVar("T")
WEBHOOK_SECRET = "whsec_adapter_tests_" + "k" * 24  # as in conftest.py
USD = Money(4200, "USD")


class TestFakeStripeGatewayContract(SimulatedGatewayScenarios, PaymentGatewayContract):
    """The shared contract, once per database (the ``gateway`` fixture is parametrised)."""

    @contextmanager
    def outage(self, gateway: FakeStripeGateway) -> Iterator[None]:  # type: ignore[override]
        # The gateway's storage stands in for the provider's servers: while its database
        # refuses every statement, as a server that went away does, the provider is down.
        def refuse(*_: object) -> None:
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

        event.listen(gateway.engine, "before_cursor_execute", refuse)
        try:
            yield
        finally:
            event.remove(gateway.engine, "before_cursor_execute", refuse)


class TestFakeStripeGatewayEvents(StripeShapedEvents, GatewayEventParserContract):
    """Its webhooks are Stripe's: the parser contract over Stripe's wire format and signature."""

    gateway_name = "fake"
    webhook_secret = WEBHOOK_SECRET

    @pytest.fixture
    def parser(self, gateway: FakeStripeGateway) -> FakeStripeGateway:
        return gateway


def _new_intent(gateway: FakeStripeGateway, amount: Money = USD, key: str = "create-1") -> str:
    return gateway.create_intent(amount=amount, order_id="ord_1", idempotency_key=key).id


def _events(gateway: FakeStripeGateway, event_type: str | None = None) -> list[dict[str, Any]]:
    bodies = [gateway.signed_event(event_id)[0] for event_id in gateway.event_ids(event_type)]
    return [json.loads(body) for body in bodies]


def _parsed(gateway: FakeStripeGateway, event_type: str | None) -> list[Any]:
    parsed = []
    for event_id in gateway.event_ids(event_type):
        payload, headers = gateway.signed_event(event_id)
        parsed.append(gateway.parse_event(payload, headers))
    return parsed


def test_it_implements_both_ports(gateway: FakeStripeGateway) -> None:
    as_gateway: PaymentGateway = gateway
    as_parser: GatewayEventParser = gateway
    assert as_gateway.name == "fake"
    assert as_parser is gateway


def test_state_survives_a_new_gateway_instance(engine: Engine, clock: FakeClock) -> None:
    first = FakeStripeGateway(engine, webhook_secret=WEBHOOK_SECRET, clock=clock)
    intent_id = _new_intent(first)
    restarted = FakeStripeGateway(engine, webhook_secret=WEBHOOK_SECRET, clock=clock)
    confirmed = restarted.confirm_intent(
        intent_id, payment_method="pm_card_visa", idempotency_key="confirm-1"
    )
    assert confirmed.status is IntentStatus.SUCCEEDED
    assert restarted.get_intent(intent_id) == confirmed


def test_a_successful_confirm_emits_a_signed_stripe_event(
    gateway: FakeStripeGateway, clock: FakeClock
) -> None:
    intent_id = _new_intent(gateway)
    gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key="c")
    [body] = _events(gateway, "payment_intent.succeeded")
    assert body["object"] == "event"
    assert body["livemode"] is False
    intent = body["data"]["object"]
    assert (intent["id"], intent["amount"], intent["currency"]) == (intent_id, 4200, "usd")
    assert (intent["status"], intent["metadata"]) == ("succeeded", {"order_id": "ord_1"})
    [event] = _parsed(gateway, "payment_intent.succeeded")
    assert (event.kind, event.intent_id, event.amount) == (
        EventKind.PAYMENT_SUCCEEDED,
        intent_id,
        USD,
    )
    assert event.created_at == clock.now()


def test_a_decline_emits_payment_failed_with_the_decline_code(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    result = gateway.confirm_intent(
        intent_id, payment_method="pm_card_chargeDeclinedInsufficientFunds", idempotency_key="c"
    )
    assert result.declined
    [event] = _parsed(gateway, "payment_intent.payment_failed")
    assert (event.kind, event.decline_code) == (EventKind.PAYMENT_FAILED, "insufficient_funds")


def test_three_d_secure_then_authentication_succeeds(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    pending = gateway.confirm_intent(
        intent_id, payment_method="pm_card_threeDSecure2Required", idempotency_key="c"
    )
    assert pending.status is IntentStatus.REQUIRES_ACTION
    assert gateway.authenticate(intent_id).status is IntentStatus.SUCCEEDED
    kinds = [event.kind for event in _parsed(gateway, None)]
    assert kinds == [EventKind.PAYMENT_REQUIRES_ACTION, EventKind.PAYMENT_SUCCEEDED]


def test_failed_authentication_declines(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    gateway.confirm_intent(
        intent_id, payment_method="pm_card_authenticationRequired", idempotency_key="c"
    )
    failed = gateway.authenticate(intent_id, success=False)
    assert (failed.declined, failed.decline_code) == (True, "authentication_failed")
    [event] = _parsed(gateway, "payment_intent.payment_failed")
    assert event.decline_code == "authentication_failed"


def test_a_refund_emits_refund_created_with_our_key_in_metadata(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key="c")
    refund = gateway.refund(intent_id, amount=Money(1000, "USD"), idempotency_key="refund-rf_1")
    [body] = _events(gateway, "refund.created")
    assert body["data"]["object"]["metadata"] == {"idempotency_key": "refund-rf_1"}
    [event] = _parsed(gateway, "refund.created")
    assert (event.kind, event.refund_id, event.refund_key, event.amount) == (
        EventKind.REFUND_SUCCEEDED,
        refund.id,
        "refund-rf_1",
        Money(1000, "USD"),
    )


def test_a_canceled_intent_emits_canceled_once(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    gateway.cancel_intent(intent_id, idempotency_key="x1")
    gateway.cancel_intent(intent_id, idempotency_key="x2")
    assert len(gateway.event_ids("payment_intent.canceled")) == 1


def test_a_replayed_confirm_answers_as_the_first_time(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    declined = gateway.confirm_intent(
        intent_id, payment_method="pm_card_chargeDeclined", idempotency_key="k1"
    )
    gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key="k2")
    replay = gateway.confirm_intent(
        intent_id, payment_method="pm_card_chargeDeclined", idempotency_key="k1"
    )
    assert replay == declined  # Stripe replays the stored response, not the current state
    assert gateway.get_intent(intent_id).status is IntentStatus.SUCCEEDED


def test_a_key_reused_for_a_different_request_is_refused(gateway: FakeStripeGateway) -> None:
    gateway.create_intent(amount=USD, order_id="ord_1", idempotency_key="same")
    with pytest.raises(GatewayError, match="different create"):
        gateway.create_intent(amount=Money(1, "USD"), order_id="ord_1", idempotency_key="same")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (
            lambda g, i: g.confirm_intent(i, payment_method="pm_card_bogus", idempotency_key="c"),
            InvalidInput,
        ),
        (lambda g, i: g.confirm_intent(i, payment_method=None, idempotency_key="c"), InvalidInput),
        (lambda g, i: g.refund(i, amount=Money(100, "EUR"), idempotency_key="r"), GatewayError),
        (lambda g, i: g.authenticate(i), GatewayError),
        (
            lambda g, i: g.refund("pi_unknown", amount=Money(100, "USD"), idempotency_key="r"),
            GatewayError,
        ),
        (lambda g, i: g.authenticate("pi_unknown"), GatewayError),
    ],
    ids=[
        "unknown-method",
        "no-method",
        "wrong-currency",
        "not-awaiting-action",
        "unknown-intent",
        "unknown-intent-3ds",
    ],
)
def test_refusals_are_errors_and_change_nothing(
    gateway: FakeStripeGateway,
    call: Callable[[FakeStripeGateway, str], object],
    error: type[Exception],
) -> None:
    # A payment method the caller got wrong is the caller's InvalidInput; the rest are the
    # gateway's refusals. Either way nothing changes and no event is sent.
    intent_id = _new_intent(gateway)
    with pytest.raises(error):
        call(gateway, intent_id)
    assert gateway.get_intent(intent_id).status is IntentStatus.REQUIRES_PAYMENT_METHOD
    assert gateway.event_ids() == []


def test_a_non_positive_amount_is_refused(gateway: FakeStripeGateway) -> None:
    with pytest.raises(GatewayError):
        gateway.create_intent(amount=Money(0, "USD"), order_id="o", idempotency_key="k")


def test_zero_and_three_decimal_currencies_round_trip(gateway: FakeStripeGateway) -> None:
    for amount in (Money(500, "JPY"), Money(5120, "KWD"), Money(7, "ISK")):
        intent_id = _new_intent(gateway, amount, key=f"create-{amount.currency}")
        done = gateway.confirm_intent(
            intent_id, payment_method="pm_card_visa", idempotency_key=f"c-{amount.currency}"
        )
        assert done.amount == amount
    assert [e.amount for e in _parsed(gateway, "payment_intent.succeeded")] == [
        Money(500, "JPY"),
        Money(5120, "KWD"),
        Money(7, "ISK"),
    ]


# -- webhook verification ----------------------------------------------------------------------


def test_parse_event_finds_the_signature_header_in_any_case(gateway: FakeStripeGateway) -> None:
    gateway.confirm_intent(_new_intent(gateway), payment_method="pm_card_visa", idempotency_key="c")
    [event_id] = gateway.event_ids("payment_intent.succeeded")
    payload, headers = gateway.signed_event(event_id)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert gateway.parse_event(payload, lowered).id == event_id


def test_parse_event_refuses_bad_signatures(gateway: FakeStripeGateway, engine: Engine) -> None:
    gateway.confirm_intent(_new_intent(gateway), payment_method="pm_card_visa", idempotency_key="c")
    [event_id] = gateway.event_ids()
    payload, headers = gateway.signed_event(event_id)
    with pytest.raises(InvalidWebhook):
        gateway.parse_event(payload.replace(b"4200", b"1"), headers)
    with pytest.raises(InvalidWebhook, match="missing"):
        gateway.parse_event(payload, {})
    other = FakeStripeGateway(engine, webhook_secret="whsec_other")
    with pytest.raises(InvalidWebhook, match="no signature matches"):
        other.parse_event(payload, headers)
    stale_payload, stale_headers = gateway.signed_event(event_id, timestamp=1_000_000_000)
    with pytest.raises(InvalidWebhook, match="tolerance"):
        gateway.parse_event(stale_payload, stale_headers)


def test_an_unknown_event_id_is_a_key_error(gateway: FakeStripeGateway) -> None:
    with pytest.raises(KeyError):
        gateway.signed_event("evt_nope")


# -- concurrency -------------------------------------------------------------------------------


def _in_threads(count: int, call: Callable[[int], T]) -> list[T | BaseException]:
    barrier = threading.Barrier(count)

    def run(i: int) -> T | BaseException:
        barrier.wait()
        try:
            return call(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_twenty_concurrent_confirms_make_one_succeeded_event(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    results = _in_threads(
        20,
        lambda i: gateway.confirm_intent(
            intent_id, payment_method="pm_card_visa", idempotency_key=f"confirm-{i}"
        ),
    )
    assert all(isinstance(r, PaymentIntent) and r.status is IntentStatus.SUCCEEDED for r in results)
    assert len(gateway.event_ids("payment_intent.succeeded")) == 1
    assert len(gateway.event_ids()) == 1


def test_concurrent_duplicates_of_one_key_create_one_intent(
    gateway: FakeStripeGateway, engine: Engine
) -> None:
    results = _in_threads(
        10, lambda _: gateway.create_intent(amount=USD, order_id="ord_1", idempotency_key="once")
    )
    assert {r.id for r in results if isinstance(r, PaymentIntent)} == {results[0].id}  # type: ignore[union-attr]
    with engine.connect() as connection:
        assert len(connection.execute(select(fake_gateway_intents.c.id)).all()) == 1


def test_concurrent_refunds_never_exceed_the_charge(gateway: FakeStripeGateway) -> None:
    intent_id = _new_intent(gateway)
    gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key="c")
    results = _in_threads(
        10,
        lambda i: gateway.refund(intent_id, amount=Money(1000, "USD"), idempotency_key=f"r{i}"),
    )
    refunds = [r for r in results if isinstance(r, GatewayRefund)]
    assert len(refunds) == 4
    assert all(isinstance(r, GatewayError) for r in results if not isinstance(r, GatewayRefund))
    assert len(gateway.event_ids("refund.created")) == 4


# -- storage -----------------------------------------------------------------------------------


def test_an_unreachable_database_is_gateway_unavailable(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    engine = create_engine(f"sqlite:///{tmp_path / 'not-a-dir' / 'gateway.db'}")
    gateway = FakeStripeGateway(engine, webhook_secret=WEBHOOK_SECRET)
    with pytest.raises(GatewayUnavailable) as raised:
        gateway.create_intent(amount=USD, order_id="o", idempotency_key="k")
    assert raised.value.detail == "fake gateway storage unavailable: unable to open database file"


def test_the_migration_creates_exactly_the_declared_tables(engine: Engine) -> None:
    ours = MetaData()
    for table in (
        fake_tables.fake_gateway_intents,
        fake_tables.fake_gateway_refunds,
        fake_tables.fake_gateway_idempotency,
        fake_gateway_events,
    ):
        table.to_metadata(ours)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: (
                    kind != "table" or name.startswith("fake_gateway_")
                ),
            },
        )
        assert compare_metadata(context, ours) == []
