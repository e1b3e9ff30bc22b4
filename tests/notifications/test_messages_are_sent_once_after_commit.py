"""The notification outbox: a message exists exactly when the change that causes it commits,
and is sent after commit once - through a crash before sending, a mail server that fails for a
while, and two senders racing (threads on PostgreSQL) - or given up with an alert.

Run on the in-memory unit of work, SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from adapters.sql import SqlUnitOfWork
from commerce_core import (
    DEFAULT_RETRY_POLICY,
    MessageStatus,
    Money,
    NotificationRejected,
    Order,
    OrderLine,
    OutgoingMessage,
    Role,
    UnitOfWork,
    User,
    new_id,
    queue_message,
    queue_shipped_message,
    send_due_messages,
)
from commerce_core.testing import (
    FakeClock,
    InMemoryStore,
    InMemoryUnitOfWork,
    RecordingEventSink,
    RecordingNotifier,
)
from commerce_core.use_cases.settlement import settle_order

NewUow = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_uow(request: pytest.FixtureRequest) -> Iterator[NewUow]:
    if request.param == "memory":
        store = InMemoryStore()
        yield lambda: InMemoryUnitOfWork(store)
        return
    engine: Engine = request.getfixturevalue(
        "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    )
    yield lambda: SqlUnitOfWork(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _message(n: int = 1) -> OutgoingMessage:
    return OutgoingMessage(
        id=f"order-paid:ord_{n}",
        kind="order_confirmation",
        to=f"customer{n}@example.com",
        subject=f"Order confirmation ord_{n}",
        text="Thank you.\n",
        html="<p>Thank you.</p>",
    )


def _queue(new_uow: NewUow, clock: FakeClock, *messages: OutgoingMessage) -> None:
    with new_uow() as uow:
        for message in messages:
            queue_message(uow, message, clock.now())
        uow.commit()


def _send(
    new_uow: NewUow, clock: FakeClock, notifier: RecordingNotifier, events: RecordingEventSink
) -> tuple[int, int, int]:
    report = send_due_messages(uow=new_uow(), notifier=notifier, clock=clock, events=events)
    return report.sent, report.retried, report.gave_up


def test_a_message_whose_transaction_rolled_back_is_never_sent(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    with new_uow() as uow:
        queue_message(uow, _message(), clock.now())  # and then the use case failed

    assert _send(new_uow, clock, notifier, events) == (0, 0, 0)
    assert notifier.sent == []


def test_a_message_left_by_a_crash_before_sending_is_sent_once_by_the_next_run(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    _queue(new_uow, clock, _message(1), _message(2))
    # The process died after commit: nothing sent. The next run finds both ...
    assert _send(new_uow, clock, notifier, events) == (2, 0, 0)
    # ... and no later run sends them again.
    clock.advance(timedelta(days=1))
    assert _send(new_uow, clock, notifier, events) == (0, 0, 0)

    assert [m.id for m in notifier.sent] == ["order-paid:ord_1", "order-paid:ord_2"]
    assert events.names().count("notification.sent") == 2


def test_a_sender_that_died_holding_a_message_loses_it_to_the_next_after_its_lease(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    _queue(new_uow, clock, _message())
    with new_uow() as uow:  # claimed, then the process died before sending
        now = clock.now()
        assert uow.messages.claim("order-paid:ord_1", "dead", now, now + timedelta(minutes=5))
        uow.commit()

    assert _send(new_uow, clock, notifier, events) == (0, 0, 0)  # still leased
    clock.advance(DEFAULT_RETRY_POLICY.lease)
    assert _send(new_uow, clock, notifier, events) == (1, 0, 0)
    assert len(notifier.sent) == 1


def test_a_message_is_queued_once_however_often_its_cause_is_replayed(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    _queue(new_uow, clock, _message())
    _queue(new_uow, clock, _message())
    _send(new_uow, clock, notifier, events)
    _queue(new_uow, clock, _message())  # after it was sent, too
    _send(new_uow, clock, notifier, events)

    assert len(notifier.sent) == 1


def test_a_temporary_failure_is_retried_with_growing_delays_until_it_is_sent(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    _queue(new_uow, clock, _message())
    notifier.fail_next(times=3)

    assert _send(new_uow, clock, notifier, events) == (0, 1, 0)
    waits = []
    for _ in range(3):
        with new_uow() as uow:
            stored = uow.messages.get("order-paid:ord_1")
        assert stored is not None
        wait = stored.next_attempt_at - clock.now()
        waits.append(wait)
        clock.advance(wait - timedelta(seconds=1))
        assert _send(new_uow, clock, notifier, events) == (0, 0, 0)  # not due yet
        clock.advance(timedelta(seconds=1))
        _send(new_uow, clock, notifier, events)

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert len(notifier.sent) == 1
    assert notifier.attempts == 4
    with new_uow() as uow:
        sent = uow.messages.get("order-paid:ord_1")
    assert sent is not None
    assert sent.status is MessageStatus.SENT
    assert sent.attempts == 4
    assert events.names().count("notification.retry_scheduled") == 3


def test_a_message_failing_every_attempt_is_given_up_with_an_alert(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    _queue(new_uow, clock, _message())
    notifier.fail_next(times=DEFAULT_RETRY_POLICY.max_attempts + 5)

    for _ in range(DEFAULT_RETRY_POLICY.max_attempts + 3):
        _send(new_uow, clock, notifier, events)
        clock.advance(DEFAULT_RETRY_POLICY.max_delay)

    assert notifier.attempts == DEFAULT_RETRY_POLICY.max_attempts
    assert events.names().count("alert.notification_gave_up") == 1
    with new_uow() as uow:
        failed = uow.messages.get("order-paid:ord_1")
        alerts, _ = uow.outbox.alerts(0, 10)
    assert failed is not None
    assert failed.status is MessageStatus.FAILED
    assert [a.name for a in alerts] == ["alert.notification_gave_up"]
    assert "example.com" not in str(alerts[0].fields)  # no recipient in alerts or logs


def test_a_permanent_refusal_is_given_up_at_once(new_uow: NewUow, clock: FakeClock) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    _queue(new_uow, clock, _message())
    notifier.fail_next(error=NotificationRejected("550 no such mailbox"))

    assert _send(new_uow, clock, notifier, events) == (0, 0, 1)
    clock.advance(timedelta(days=1))
    assert _send(new_uow, clock, notifier, events) == (0, 0, 0)
    assert notifier.attempts == 1


def test_a_reset_link_is_not_kept_once_it_was_sent(new_uow: NewUow, clock: FakeClock) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    secret = OutgoingMessage(
        id="password-reset:prt_1",
        kind="password_reset",
        to="ada@example.com",
        subject="Reset your password",
        text="https://shop.example/reset-password?token=s3cret\n",
        html="<a>https://shop.example/reset-password?token=s3cret</a>",
        sensitive=True,
    )
    _queue(new_uow, clock, secret)
    _send(new_uow, clock, notifier, events)

    with new_uow() as uow:
        stored = uow.messages.get(secret.id)
    assert stored is not None
    assert "s3cret" not in stored.message.text + stored.message.html
    assert "s3cret" in notifier.sent[0].text


def _paid_order(new_uow: NewUow, clock: FakeClock) -> Order:
    user = User(new_id("usr"), "ada@example.com", "Ada", "x", Role.CUSTOMER, True, clock.now())
    order = Order.place(
        order_id=new_id("ord"),
        user_id=user.id,
        lines=[OrderLine("prod_1", "mug", "Mug <b>", Money(1500, "USD"), 2)],
        gateway="fake",
        now=clock.now(),
        hold_expires_at=clock.now() + timedelta(minutes=15),
    )
    with new_uow() as uow:
        uow.users.add(user)
        uow.orders.add(order)
        uow.commit()
    return order


def test_settling_an_order_queues_its_confirmation_once_whichever_path_comes_first(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    order = _paid_order(new_uow, clock)

    for _ in range(3):  # the confirm call, the webhook, the reconciliation job
        with new_uow() as uow:
            locked = uow.orders.get(order.id, for_update=True)
            assert locked is not None
            settle_order(uow, locked, locked.total, clock.now())
            uow.orders.save(locked)
            uow.commit()
    _send(new_uow, clock, notifier, events)

    (confirmation,) = notifier.sent
    assert confirmation.to == "ada@example.com"
    assert confirmation.id == f"order-paid:{order.id}"
    assert "Mug <b> x 2" in confirmation.text
    assert "Mug &lt;b&gt;" in confirmation.html
    assert "Total: 30.00 USD" in confirmation.text


@pytest.mark.postgres
def test_two_senders_racing_on_postgresql_send_each_message_once(pg_engine: Engine) -> None:
    clock = FakeClock()
    messages = [_message(n) for n in range(40)]
    _queue(lambda: SqlUnitOfWork(pg_engine), clock, *messages)
    notifier = RecordingNotifier()
    start = threading.Barrier(4)

    def sender() -> None:
        uow = SqlUnitOfWork(pg_engine)
        start.wait()
        for _ in range(3):
            send_due_messages(
                uow=uow, notifier=notifier, clock=clock, events=RecordingEventSink(), batch_size=15
            )
        uow.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    sent_ids = [m.id for m in notifier.sent]
    assert sorted(sent_ids) == sorted(m.id for m in messages)
    assert len(sent_ids) == len(set(sent_ids))


def test_a_fulfilled_order_queues_a_shipping_notice_with_its_tracking_once(
    new_uow: NewUow, clock: FakeClock
) -> None:
    notifier, events = RecordingNotifier(), RecordingEventSink()
    order = _paid_order(new_uow, clock)
    for _ in range(2):  # a retried fulfil request
        with new_uow() as uow:
            locked = uow.orders.get(order.id, for_update=True)
            assert locked is not None
            settle_order(uow, locked, locked.total, clock.now())
            locked.fulfil("Royal Mail", "RM123456789GB", clock.now())
            queue_shipped_message(uow, locked, clock.now())
            uow.orders.save(locked)
            uow.commit()
    _send(new_uow, clock, notifier, events)

    shipped = [m for m in notifier.sent if m.kind == "order_shipped"]
    assert len(shipped) == 1
    assert "Carrier: Royal Mail" in shipped[0].text
    assert "Tracking number: RM123456789GB" in shipped[0].text
