"""The fake gateway's webhook outbox: events stored with the state change, delivered later.

Delivery is at least once, like Stripe's: every undelivered event is POSTed, oldest first, with a
fresh ``Stripe-Signature``; a 2xx answer marks it delivered, anything else (including redirects,
which Stripe counts as failures too) leaves it pending, counts the attempt and backs off
exponentially. Every worker process may run a deliverer: each event is first leased by one of
them (a conditional UPDATE), so it is normally sent once; should a deliverer die mid-request,
another resends it when the lease runs out, and the shop's webhook handler dedupes by event id,
exactly as it must for Stripe. No database transaction is open while a request is in flight:
the receiving app writes to the same database (on SQLite an open write transaction here would
block it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import requests
import structlog
from sqlalchemy import ColumnElement, Engine, exc, insert, or_, select, update
from sqlalchemy.engine import Connection

from adapters.payments import stripe_wire
from adapters.payments.fake_tables import fake_gateway_events as events_table
from commerce_core import GatewayUnavailable

__all__ = ["WebhookOutbox", "add_event", "gateway_transaction"]

log = structlog.get_logger(__name__)

MAX_RETRY_DELAY = 300.0  # seconds; Stripe backs off for days, a development loop needs less
CONNECT_TIMEOUT, READ_TIMEOUT = 2.0, 5.0
LEASE = 30.0  # seconds an event is claimed by one deliverer; longer than any one attempt
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@contextmanager
def gateway_transaction(engine: Engine) -> Iterator[Connection]:
    """One short transaction of the gateway's own; database trouble is ``GatewayUnavailable``.

    (The database stands in for the provider's servers: when it cannot be reached, the provider
    is unreachable and the call may be retried with the same idempotency key.)
    """
    try:
        with engine.begin() as connection:
            yield connection
    except (exc.OperationalError, exc.TimeoutError) as error:
        # The driver's first line only: SQLAlchemy's own message also quotes the statement's
        # parameters (client secrets among them), and this message ends up in logs.
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        raise GatewayUnavailable(f"fake gateway storage unavailable: {reason}") from error


_INSERT_EVENT = insert(events_table)


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Undelivered, and at ``now`` neither backing off after a failure nor leased."""
    return (
        events_table.c.delivered_at.is_(None),
        or_(events_table.c.next_attempt_at.is_(None), events_table.c.next_attempt_at <= now),
    )


def add_event(
    connection: Connection, *, event_id: str, event_type: str, body: bytes, created_at: datetime
) -> None:
    """Put an event into the outbox, inside the caller's transaction."""
    connection.execute(
        _INSERT_EVENT,
        {
            "id": event_id,
            "type": event_type,
            "payload": body.decode(),
            # Wall-clock nanoseconds: orders delivery even when created_at is a frozen test clock.
            "sequence": time.time_ns(),
            "created_at": created_at,
            "attempts": 0,
        },
    )


class WebhookOutbox:
    """Delivers the events of ``fake_gateway_events`` to ``url``, signed with ``secret``."""

    def __init__(
        self,
        engine: Engine,
        *,
        secret: str,
        url: str | None,
        retry_base_delay: float = 1.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._secret = secret
        self.url = url
        self._retry_base_delay = retry_base_delay
        # Real time, not the gateway's simulated clock: receivers (the Stripe SDK included)
        # check the signature's timestamp against their own wall clock.
        self._now = now
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def signed(
        self, event_id: str, *, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The stored body of ``event_id`` and the headers Stripe would send with it."""
        with gateway_transaction(self._engine) as connection:
            payload = connection.execute(
                select(events_table.c.payload).where(events_table.c.id == event_id)
            ).scalar_one_or_none()
        if payload is None:
            raise KeyError(event_id)
        body = payload.encode()
        return body, self._headers(body, timestamp)

    def event_ids(self, event_type: str | None = None) -> list[str]:
        """Ids of stored events (of one type, if given), oldest first."""
        query = select(events_table.c.id).order_by(events_table.c.sequence, events_table.c.id)
        if event_type is not None:
            query = query.where(events_table.c.type == event_type)
        with gateway_transaction(self._engine) as connection:
            return list(connection.execute(query).scalars())

    def _headers(self, body: bytes, timestamp: int | None) -> dict[str, str]:
        stamp = int(self._now()) if timestamp is None else timestamp
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            stripe_wire.SIGNATURE_HEADER: stripe_wire.sign_payload(body, self._secret, stamp),
        }

    def deliver_pending(self, limit: int = 100) -> int:
        """POST up to ``limit`` due undelivered events, oldest first; the number delivered.

        Without a ``url`` there is nowhere to deliver to, and nothing happens.
        """
        if self.url is None:
            return 0
        now = datetime.fromtimestamp(self._now(), UTC)
        due = (
            select(events_table.c.id, events_table.c.payload, events_table.c.attempts)
            .where(*_due(now))
            .order_by(events_table.c.sequence, events_table.c.id)
            .limit(limit)
        )
        with gateway_transaction(self._engine) as connection:
            rows = connection.execute(due).all()
        delivered = 0
        for event_id, payload, attempts in rows:
            if not self._lease(event_id):
                continue  # another process is delivering it right now
            ok, reachable = self._post(self.url, event_id, payload.encode(), attempts + 1)
            self._record(event_id, ok, attempts)
            delivered += ok
            if not reachable:
                break  # the endpoint is down: the rest would fail the same way
        return delivered

    def _lease(self, event_id: str) -> bool:
        """Claim a due event for ``LEASE`` seconds (one conditional UPDATE), so that processes
        polling the same outbox do not all send it; a process that dies mid-delivery only
        delays the event until the lease runs out."""
        now = datetime.fromtimestamp(self._now(), UTC)
        with gateway_transaction(self._engine) as connection:
            claimed = connection.execute(
                update(events_table)
                .where(events_table.c.id == event_id, *_due(now))
                .values(next_attempt_at=now + timedelta(seconds=LEASE))
            ).rowcount
        return claimed == 1

    def _post(self, url: str, event_id: str, body: bytes, attempt: int) -> tuple[bool, bool]:
        """(delivered, endpoint reachable)."""
        try:
            response = requests.post(
                url,
                data=body,
                headers=self._headers(body, None),
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
            )
        except requests.ConnectionError as error:
            log.warning(
                "fake_gateway.webhook_unreachable",
                event_id=event_id,
                attempt=attempt,
                error=str(error),
            )
            return False, False
        except requests.RequestException as error:
            log.warning(
                "fake_gateway.webhook_failed", event_id=event_id, attempt=attempt, error=str(error)
            )
            return False, True
        if 200 <= response.status_code < 300:
            log.info("fake_gateway.webhook_delivered", event_id=event_id, attempt=attempt)
            return True, True
        log.warning(
            "fake_gateway.webhook_rejected",
            event_id=event_id,
            attempt=attempt,
            status=response.status_code,
        )
        return False, True

    def _record(self, event_id: str, delivered: bool, previous_attempts: int) -> None:
        now = datetime.fromtimestamp(self._now(), UTC)
        if delivered:
            changes = {"delivered_at": now, "next_attempt_at": None}
        else:
            delay = min(self._retry_base_delay * 2**previous_attempts, MAX_RETRY_DELAY)
            changes = {"next_attempt_at": now + timedelta(seconds=delay)}
        with gateway_transaction(self._engine) as connection:
            connection.execute(
                update(events_table)
                .where(events_table.c.id == event_id, events_table.c.delivered_at.is_(None))
                .values(attempts=events_table.c.attempts + 1, **changes)
            )

    # -- the background loop -----------------------------------------------------------------

    def start(self, interval: float = 0.5) -> threading.Thread:
        """Deliver in a daemon thread every ``interval`` seconds (like ``stripe listen``).
        Starting twice returns the running thread."""
        if self.url is None:
            raise ValueError("no webhook_url: there is nowhere to deliver events to")
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self._thread
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._loop,
                args=(interval, self._stop),
                name="fake-gateway-webhooks",
                daemon=True,
            )
            self._thread.start()
            return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout)

    def _loop(self, interval: float, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.deliver_pending()
            except GatewayUnavailable as error:
                # Expected while the database is down or busy: one line, no traceback.
                log.warning("fake_gateway.delivery_paused", error=str(error))
            except Exception:
                # Whatever went wrong (database down, a bug), the thread must live on to retry:
                # it is the only thing that will ever deliver these events.
                log.exception("fake_gateway.delivery_loop_error")
            stop.wait(interval)
