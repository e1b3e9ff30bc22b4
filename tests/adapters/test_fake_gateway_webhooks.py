"""The fake gateway's outbox delivers Stripe-shaped events that the official Stripe SDK accepts,
oldest first, retries failures with backoff, and never lets a failing endpoint break it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from werkzeug import Request, Response

from adapters.payments.fake_gateway import FakeStripeGateway
from adapters.payments.fake_tables import fake_gateway_events
from commerce_core import GatewayUnavailable, Money
from commerce_core.testing import FakeClock

SECRET = "whsec_delivery_" + "d" * 24
PATH = "/api/payments/webhook"


class Receiver:
    """A webhook endpoint that verifies like a Stripe integration would, with the real SDK."""

    def __init__(self) -> None:
        self.events: list[stripe.Event] = []
        self.refused: list[str] = []
        self.status = 200
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            event = stripe.Webhook.construct_event(
                request.get_data(), request.headers.get("Stripe-Signature"), SECRET
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            with self._lock:
                self.refused.append(str(exc))
            return Response("bad signature", status=400)
        with self._lock:
            if self.status >= 300:
                return Response("try later", status=self.status)
            self.events.append(event)
        return Response(json.dumps({"received": True}), status=200)

    def types(self) -> list[str]:
        with self._lock:
            return [e.type for e in self.events]


@pytest.fixture
def receiver(httpserver: HTTPServer) -> Receiver:
    handler = Receiver()
    httpserver.expect_request(PATH, method="POST").respond_with_handler(handler)
    return handler


@pytest.fixture
def gateway(engine: Engine, clock: FakeClock, httpserver: HTTPServer) -> FakeStripeGateway:
    return FakeStripeGateway(
        engine,
        webhook_secret=SECRET,
        webhook_url=httpserver.url_for(PATH),
        clock=clock,
        retry_base_delay=0.0,  # retries are due at once, so a test needs no sleep
    )


def _pay(gateway: FakeStripeGateway, method: str = "pm_card_visa", key: str = "1") -> str:
    intent = gateway.create_intent(
        amount=Money(4200, "USD"), order_id=f"ord_{key}", idempotency_key=f"create-{key}"
    )
    gateway.confirm_intent(intent.id, payment_method=method, idempotency_key=f"confirm-{key}")
    return intent.id


def _rows(engine: Engine) -> list[tuple[str, object, int]]:
    table = fake_gateway_events
    with engine.connect() as connection:
        query = select(table.c.type, table.c.delivered_at, table.c.attempts).order_by(
            table.c.sequence
        )
        return [tuple(row) for row in connection.execute(query)]


def test_pending_events_arrive_signed_and_stripe_shaped(
    gateway: FakeStripeGateway, receiver: Receiver, engine: Engine
) -> None:
    intent_id = _pay(gateway)
    assert gateway.deliver_pending() == 1
    [event] = receiver.events
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent_id
    assert event.data.object.amount_received == 4200
    assert receiver.refused == []
    [(_, delivered_at, attempts)] = _rows(engine)
    assert delivered_at is not None
    assert attempts == 1
    assert gateway.deliver_pending() == 0  # nothing is sent twice


def test_events_are_delivered_oldest_first(gateway: FakeStripeGateway, receiver: Receiver) -> None:
    intent_id = _pay(gateway, "pm_card_threeDSecure2Required")
    gateway.authenticate(intent_id)
    gateway.refund(intent_id, amount=Money(100, "USD"), idempotency_key="refund-1")
    assert gateway.deliver_pending() == 3
    assert receiver.types() == [
        "payment_intent.requires_action",
        "payment_intent.succeeded",
        "refund.created",
    ]


def test_limit_bounds_one_round(gateway: FakeStripeGateway, receiver: Receiver) -> None:
    for key in "abc":
        _pay(gateway, key=key)
    assert gateway.deliver_pending(limit=2) == 2
    assert gateway.deliver_pending(limit=2) == 1
    assert len(receiver.events) == 3


def test_workers_delivering_at_once_send_each_event_once(
    engine: Engine, clock: FakeClock, httpserver: HTTPServer, receiver: Receiver
) -> None:
    workers = [
        FakeStripeGateway(
            engine, webhook_secret=SECRET, webhook_url=httpserver.url_for(PATH), clock=clock
        )
        for _ in range(4)
    ]
    for key in "abcdefgh":
        _pay(workers[0], key=key)
    barrier = threading.Barrier(len(workers))

    def deliver(worker: FakeStripeGateway) -> int:
        barrier.wait()
        return worker.deliver_pending()

    with ThreadPoolExecutor(len(workers)) as pool:
        sent = sum(pool.map(deliver, workers))
    ids = [event.id for event in receiver.events]
    assert sent == len(ids) == len(set(ids)) == 8


def test_a_server_error_leaves_the_event_pending_and_counts_the_attempt(
    gateway: FakeStripeGateway, receiver: Receiver, engine: Engine
) -> None:
    _pay(gateway)
    receiver.status = 500
    assert gateway.deliver_pending() == 0
    assert _rows(engine) == [("payment_intent.succeeded", None, 1)]
    assert gateway.deliver_pending() == 0
    assert _rows(engine) == [("payment_intent.succeeded", None, 2)]
    receiver.status = 200
    assert gateway.deliver_pending() == 1
    [(_, delivered_at, attempts)] = _rows(engine)
    assert (delivered_at is not None, attempts) == (True, 3)


def test_a_failed_event_waits_for_its_backoff(
    engine: Engine, clock: FakeClock, httpserver: HTTPServer, receiver: Receiver
) -> None:
    gateway = FakeStripeGateway(
        engine, webhook_secret=SECRET, webhook_url=httpserver.url_for(PATH), clock=clock
    )
    _pay(gateway)
    receiver.status = 503
    gateway.deliver_pending()
    receiver.status = 200
    assert gateway.deliver_pending() == 0  # retried after 1 s at the earliest
    assert _rows(engine)[0][2] == 1


def test_a_wrong_secret_is_refused_by_the_receiver(
    engine: Engine, clock: FakeClock, httpserver: HTTPServer, receiver: Receiver
) -> None:
    misconfigured = FakeStripeGateway(
        engine,
        webhook_secret="whsec_not_the_receivers",
        webhook_url=httpserver.url_for(PATH),
        clock=clock,
    )
    _pay(misconfigured)
    assert misconfigured.deliver_pending() == 0
    assert receiver.refused
    assert "No signatures found matching" in receiver.refused[0]


def test_an_unreachable_endpoint_is_survived(engine: Engine, clock: FakeClock) -> None:
    gateway = FakeStripeGateway(
        engine,
        webhook_secret=SECRET,
        webhook_url="http://127.0.0.1:9/webhook",  # the discard port: nothing listens
        clock=clock,
        retry_base_delay=0.0,
    )
    _pay(gateway, key="a")
    _pay(gateway, key="b")
    assert gateway.deliver_pending() == 0
    # The first failure stops the round: the others would only fail the same way.
    assert [attempts for _, _, attempts in _rows(engine)] == [1, 0]


def test_without_a_url_nothing_is_delivered(engine: Engine, clock: FakeClock) -> None:
    gateway = FakeStripeGateway(engine, webhook_secret=SECRET, clock=clock)
    _pay(gateway)
    assert gateway.deliver_pending() == 0
    with pytest.raises(ValueError, match="webhook_url"):
        gateway.start_delivery_thread()


def _eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_delivery_thread_delivers_like_stripe_listen(
    gateway: FakeStripeGateway, receiver: Receiver
) -> None:
    thread = gateway.start_delivery_thread(interval=0.05)
    try:
        assert thread.daemon
        assert gateway.start_delivery_thread(interval=0.05) is thread
        _pay(gateway, key="a")
        assert _eventually(lambda: receiver.types() == ["payment_intent.succeeded"])
        _pay(gateway, "pm_card_chargeDeclined", key="b")
        assert _eventually(lambda: len(receiver.events) == 2)
        assert receiver.types()[1] == "payment_intent.payment_failed"
    finally:
        gateway.stop_delivery_thread()
    assert not thread.is_alive()


def test_the_delivery_thread_survives_a_broken_database(httpserver: HTTPServer) -> None:
    # An empty database: every round fails (no such table) inside the thread.
    broken = FakeStripeGateway(
        create_engine("sqlite://"), webhook_secret=SECRET, webhook_url=httpserver.url_for(PATH)
    )
    with pytest.raises(GatewayUnavailable):
        broken.deliver_pending()
    thread = broken.start_delivery_thread(interval=0.05)
    try:
        time.sleep(0.2)
        assert thread.is_alive()
    finally:
        broken.stop_delivery_thread()
    assert not thread.is_alive()
