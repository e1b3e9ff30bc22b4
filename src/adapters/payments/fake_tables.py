"""The fake gateway's own tables: its intents, refunds, idempotency keys and webhook outbox.

They model a separate system (the payment provider), so nothing in the shop's schema refers to
them and they are only ever touched by ``FakeStripeGateway``, each call in its own transaction.
They sit on the shared ``metadata`` so that one ``alembic upgrade`` (revision
``0002_fake_gateway``) or ``metadata.create_all`` sets up a development database completely.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from adapters.sql.column_types import UtcDateTime
from adapters.sql.metadata import metadata

__all__ = [
    "fake_gateway_events",
    "fake_gateway_idempotency",
    "fake_gateway_intents",
    "fake_gateway_refunds",
]

ID = 64  # "pi_"/"re_"/"evt_" + 24 hex digits, with room to spare
KEY = 255  # idempotency keys are chosen by the caller (Stripe allows up to 255 characters)

fake_gateway_intents = Table(
    "fake_gateway_intents",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(KEY), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("client_secret", String(128), nullable=False),
    Column("payment_method", String(KEY), nullable=True),
    Column("decline_code", String(64), nullable=True),
    Column("decline_message", Text, nullable=True),
    Column("amount_refunded", BigInteger, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount", name="refund_in_range"),
)

fake_gateway_refunds = Table(
    "fake_gateway_refunds",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("intent_id", String(ID), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("idempotency_key", String(KEY), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index("ix_fake_gateway_refunds_intent_id", "intent_id"),
)

# A request's first answer, per (operation, key), as Stripe keeps them. ``request`` is the
# request's fingerprint: the same key with different parameters is refused, like Stripe does.
# ``response_ref`` names the intent or refund the first call made; ``response`` holds the
# JSON of the first answer where the answer is a state that may since have changed (confirm,
# cancel), so that a replay returns exactly that answer.
fake_gateway_idempotency = Table(
    "fake_gateway_idempotency",
    metadata,
    Column("operation", String(32), nullable=False),
    Column("key", String(KEY), nullable=False),
    Column("request", Text, nullable=False),
    Column("response_ref", String(ID), nullable=True),
    Column("response", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("operation", "key"),
)

# The webhook outbox, written in the same transaction as the state change it reports.
# ``payload`` is the exact JSON body that is signed and sent. ``sequence`` orders delivery:
# ``created_at`` follows the gateway's injected clock, which tests freeze, so it cannot order
# events by itself. ``next_attempt_at`` spaces out retries to a failing endpoint.
fake_gateway_events = Table(
    "fake_gateway_events",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Index("ix_fake_gateway_events_delivered_at_sequence", "delivered_at", "sequence"),
)
