"""``FakeStripeGateway``: a Stripe-like payment gateway whose state lives in the database.

The development and test stand-in for Stripe (``PAYMENT_GATEWAY=fake``). It applies the same
rules as the in-memory ``commerce_core.testing.FakeGateway`` (``SimulatedIntent``: Stripe's test
payment methods, 3-D Secure, partial refunds), but keeps intents, refunds, idempotency keys and
outgoing webhooks in its own tables (``fake_tables``), so it behaves as one gateway across
gunicorn workers and restarts.

Each call is one short transaction of its own - never the shop's unit of work, because a real
gateway is a separate system. Within it: claim the idempotency key (insert-if-absent, so
concurrent duplicates produce one effect and the loser replays the winner's answer), lock the
intent row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions from
``adapters.sql.make_engine`` are ``BEGIN IMMEDIATE``), load it into a ``SimulatedIntent``, apply
the rule, write it back, and put the Stripe-shaped events into the outbox. Webhooks are then
delivered by ``deliver_pending`` / ``start_delivery_thread`` (see ``webhook_outbox``) and
verified by ``parse_event`` exactly as Stripe's are.

    >>> gateway = FakeStripeGateway(engine, webhook_secret="whsec_dev",
    ...                             webhook_url="http://127.0.0.1:8000/api/payments/webhook")
    >>> gateway.start_delivery_thread()   # events now arrive like with `stripe listen`
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row

from adapters.payments import stripe_wire
from adapters.payments.fake_tables import (
    fake_gateway_idempotency as idempotency_table,
)
from adapters.payments.fake_tables import (
    fake_gateway_intents as intents_table,
)
from adapters.payments.fake_tables import (
    fake_gateway_refunds as refunds_table,
)
from adapters.payments.webhook_outbox import WebhookOutbox, add_event, gateway_transaction
from adapters.sql.conflicts import insert_on_conflict
from commerce_core import (
    Clock,
    GatewayError,
    GatewayEvent,
    GatewayRefund,
    GatewayRefundStatus,
    IntentStatus,
    Money,
    PaymentIntent,
    SystemClock,
)
from commerce_core.simulated_gateway import (
    SimulatedEvent,
    SimulatedIntent,
    SimulatedRefund,
)

__all__ = ["FakeStripeGateway"]


class FakeStripeGateway:
    """A ``PaymentGateway`` and ``GatewayEventParser`` simulating Stripe, stored in ``engine``.

    ``clock`` sets the simulated world's time (intent and event timestamps); signatures always
    use the real time, as receivers check them against their own clock.
    """

    name = "fake"

    def __init__(
        self,
        engine: Engine,
        *,
        webhook_secret: str,
        webhook_url: str | None = None,
        clock: Clock | None = None,
        retry_base_delay: float = 1.0,
    ) -> None:
        if not webhook_secret:
            raise ValueError("webhook_secret is required: events are signed with it")
        self._engine = engine
        self._secret = webhook_secret
        self._clock: Clock = clock or SystemClock()
        self._outbox = WebhookOutbox(
            engine, secret=webhook_secret, url=webhook_url, retry_base_delay=retry_base_delay
        )

    @property
    def engine(self) -> Engine:
        """Where the simulated provider keeps its state (its own tables)."""
        return self._engine

    @property
    def webhook_url(self) -> str | None:
        return self._outbox.url

    # -- PaymentGateway ------------------------------------------------------------------------

    def create_intent(self, *, amount: Money, order_id: str, idempotency_key: str) -> PaymentIntent:
        request = _fingerprint(amount.amount, amount.currency, order_id)
        with gateway_transaction(self._engine) as connection:
            first = self._claim(connection, "create", idempotency_key, request)
            if first is not None:
                # Like the in-memory fake: the intent the first call made, as it is now.
                intent, _ = self._load(connection, str(first.response_ref), lock=False)
                return intent.to_intent()
            intent = SimulatedIntent.create(amount, order_id)
            connection.execute(
                _INSERT_INTENT, {**_intent_values(intent), "created_at": self._clock.now()}
            )
            self._answer(connection, "create", idempotency_key, ref=intent.id)
            return intent.to_intent()

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        request = _fingerprint(intent_id, payment_method)
        with gateway_transaction(self._engine) as connection:
            first = self._claim(connection, "confirm", idempotency_key, request)
            if first is not None:
                return _replayed_intent(first)
            intent, created_at = self._load(connection, intent_id)
            events = intent.confirm(payment_method, self._clock.now())
            return self._commit_intent(
                connection, intent, created_at, events, answer=("confirm", idempotency_key)
            )

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        with gateway_transaction(self._engine) as connection:
            first = self._claim(connection, "cancel", idempotency_key, _fingerprint(intent_id))
            if first is not None:
                return _replayed_intent(first)
            intent, created_at = self._load(connection, intent_id)
            events = intent.cancel(self._clock.now())
            return self._commit_intent(
                connection, intent, created_at, events, answer=("cancel", idempotency_key)
            )

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        request = _fingerprint(intent_id, amount.amount, amount.currency)
        with gateway_transaction(self._engine) as connection:
            first = self._claim(connection, "refund", idempotency_key, request)
            if first is not None:
                stored = self._stored_refund(connection, str(first.response_ref))
                if stored is None:  # pragma: no cover - written in the claim's transaction
                    raise GatewayError("stored idempotent answer is missing")
                return stored
            intent, created_at = self._load(connection, intent_id)
            now = self._clock.now()
            refund, events = intent.refund(amount, idempotency_key, now)
            connection.execute(
                insert(refunds_table).values(
                    id=refund.id,
                    intent_id=refund.intent_id,
                    amount=refund.amount.amount,
                    currency=refund.amount.currency,
                    status=refund.status.value,
                    idempotency_key=refund.idempotency_key,
                    created_at=now,
                )
            )
            self._commit_intent(connection, intent, created_at, events, refund=refund)
            self._answer(connection, "refund", idempotency_key, ref=refund.id)
            return refund.to_refund()

    # -- the shopper's side and test helpers ---------------------------------------------------

    def authenticate(self, intent_id: str, success: bool = True) -> PaymentIntent:
        """The shopper passes (or fails) the 3-D Secure challenge on the gateway's page."""
        with gateway_transaction(self._engine) as connection:
            intent, created_at = self._load(connection, intent_id)
            events = intent.authenticate(success, self._clock.now())
            return self._commit_intent(connection, intent, created_at, events)

    def get_intent(self, intent_id: str) -> PaymentIntent:
        """The intent as it is now (``GatewayError`` if unknown), e.g. for a 3-D Secure page."""
        with gateway_transaction(self._engine) as connection:
            intent, _ = self._load(connection, intent_id, lock=False)
            return intent.to_intent()

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        with gateway_transaction(self._engine) as connection:
            refund = self._stored_refund(connection, refund_id)
        if refund is None or refund.intent_id != intent_id:
            raise GatewayError(f"no refund {refund_id} of payment intent {intent_id}")
        return refund

    def signed_event(
        self, event_id: str, *, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The exact body of a stored event and the headers Stripe would send with it, signed
        now (or at ``timestamp``, to test stale signatures). ``KeyError`` for unknown ids."""
        return self._outbox.signed(event_id, timestamp=timestamp)

    def event_ids(self, event_type: str | None = None) -> list[str]:
        """Ids of the events this gateway emitted (of one Stripe type, if given), oldest first."""
        return self._outbox.event_ids(event_type)

    # -- webhook delivery ----------------------------------------------------------------------

    def deliver_pending(self, limit: int = 100) -> int:
        """POST due undelivered events to ``webhook_url``, oldest first; the number delivered."""
        return self._outbox.deliver_pending(limit)

    def start_delivery_thread(self, interval: float = 0.5) -> threading.Thread:
        """Deliver from a daemon thread every ``interval`` seconds (for the dev server)."""
        return self._outbox.start(interval)

    def stop_delivery_thread(self, timeout: float = 5.0) -> None:
        self._outbox.stop(timeout)

    # -- GatewayEventParser --------------------------------------------------------------------

    def parse_event(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        wanted = stripe_wire.SIGNATURE_HEADER.lower()
        header = next((v for k, v in headers.items() if k.lower() == wanted), None)
        stripe_wire.verify_signature(payload, header, self._secret)
        return stripe_wire.parse_event(payload, self.name)

    # -- storage -------------------------------------------------------------------------------

    def _claim(
        self, connection: Connection, operation: str, key: str, request: str
    ) -> Row[Any] | None:
        """Claim (operation, key) for this call, or return the first call's record.

        ``INSERT ... ON CONFLICT DO NOTHING`` waits for a concurrent claimant of the same key to
        finish; if it committed, our insert does nothing and we read its answer.
        """
        claim = _claim_statement(connection.dialect.name)
        values = {
            "operation": operation,
            "key": key,
            "request": request,
            "created_at": self._clock.now(),
        }
        if connection.execute(claim, values).rowcount == 1:
            return None
        first = connection.execute(_FIRST_CALL, {"op": operation, "k": key}).one()
        if first.request != request:
            # Stripe answers 400 idempotency_error: a key reused for another request is a bug.
            raise GatewayError(
                f"idempotency key {key!r} was already used for a different {operation} request"
            )
        return first

    def _answer(
        self,
        connection: Connection,
        operation: str,
        key: str,
        *,
        ref: str,
        response: str | None = None,
    ) -> None:
        connection.execute(
            _ANSWER, {"op": operation, "k": key, "response_ref": ref, "response": response}
        )

    def _load(
        self, connection: Connection, intent_id: str, *, lock: bool = True
    ) -> tuple[SimulatedIntent, datetime]:
        query = _INTENT_FOR_UPDATE if lock else _INTENT
        row = connection.execute(query, {"intent_id": intent_id}).one_or_none()
        if row is None:
            raise GatewayError(f"no such payment intent: {intent_id}")
        intent = SimulatedIntent(
            id=row.id,
            amount=Money(row.amount, row.currency),
            order_id=row.order_id,
            client_secret=row.client_secret,
            status=IntentStatus(row.status),
            payment_method=row.payment_method,
            decline_code=row.decline_code,
            decline_message=row.decline_message,
            amount_refunded=row.amount_refunded,
        )
        return intent, row.created_at

    def _commit_intent(
        self,
        connection: Connection,
        intent: SimulatedIntent,
        created_at: datetime,
        events: list[SimulatedEvent],
        *,
        answer: tuple[str, str] | None = None,
        refund: SimulatedRefund | None = None,
    ) -> PaymentIntent:
        """Write the intent back, queue its events, and store the answer for its key."""
        connection.execute(_UPDATE_INTENT, {"intent_id": intent.id, **_intent_values(intent)})
        intent_json = _intent_object(intent, created_at)
        for event in events:
            created = int(event.created_at.timestamp())
            data = intent_json
            if event.refund_id is not None and refund is not None:
                data = stripe_wire.refund_object(
                    refund_id=refund.id,
                    intent_id=refund.intent_id,
                    amount=refund.amount,
                    status=refund.status.value,
                    created=created,
                    idempotency_key=refund.idempotency_key,
                )
            body = stripe_wire.encode_event(
                stripe_wire.event_object(
                    event_id=event.id, event_type=event.raw_type, data_object=data, created=created
                )
            )
            add_event(
                connection,
                event_id=event.id,
                event_type=event.raw_type,
                body=body,
                created_at=event.created_at,
            )
        if answer is not None:
            operation, key = answer
            self._answer(
                connection, operation, key, ref=intent.id, response=json.dumps(intent_json)
            )
        return intent.to_intent()

    def _stored_refund(self, connection: Connection, refund_id: str) -> GatewayRefund | None:
        row = connection.execute(
            select(refunds_table).where(refunds_table.c.id == refund_id)
        ).one_or_none()
        if row is None:
            return None
        return GatewayRefund(
            id=row.id,
            intent_id=row.intent_id,
            amount=Money(row.amount, row.currency),
            status=GatewayRefundStatus(row.status),
        )


def _fingerprint(*parts: object) -> str:
    return json.dumps(parts)


# The statements of every call, built once; values come as execution parameters.
_INSERT_INTENT = insert(intents_table)
_UPDATE_INTENT = update(intents_table).where(intents_table.c.id == bindparam("intent_id"))
_INTENT = select(intents_table).where(intents_table.c.id == bindparam("intent_id"))
_INTENT_FOR_UPDATE = _INTENT.with_for_update()
_KEY_MATCHES = (
    idempotency_table.c.operation == bindparam("op"),
    idempotency_table.c.key == bindparam("k"),
)
_FIRST_CALL = select(idempotency_table).where(*_KEY_MATCHES)
_ANSWER = update(idempotency_table).where(*_KEY_MATCHES)


@functools.cache
def _claim_statement(dialect: str) -> Any:
    return (
        insert_on_conflict(dialect, idempotency_table)
        .on_conflict_do_nothing(index_elements=["operation", "key"])
        # SQLAlchemy reports an INSERT's rowcount only when asked to.
        .execution_options(preserve_rowcount=True)
    )


def _intent_values(intent: SimulatedIntent) -> dict[str, object]:
    return {
        "id": intent.id,
        "order_id": intent.order_id,
        "amount": intent.amount.amount,
        "currency": intent.amount.currency,
        "status": intent.status.value,
        "client_secret": intent.client_secret,
        "payment_method": intent.payment_method,
        "decline_code": intent.decline_code,
        "decline_message": intent.decline_message,
        "amount_refunded": intent.amount_refunded,
    }


def _intent_object(intent: SimulatedIntent, created_at: datetime) -> dict[str, object]:
    return stripe_wire.payment_intent_object(
        intent_id=intent.id,
        amount=intent.amount,
        status=intent.status.value,
        client_secret=intent.client_secret,
        order_id=intent.order_id,
        created=int(created_at.timestamp()),
        payment_method=intent.payment_method,
        decline_code=intent.decline_code,
        decline_message=intent.decline_message,
    )


def _replayed_intent(first: Row[Any]) -> PaymentIntent:
    if first.response is None:  # pragma: no cover - written in the same transaction as the claim
        raise GatewayError("stored idempotent answer is missing")
    return stripe_wire.payment_intent_from_object(json.loads(first.response))
