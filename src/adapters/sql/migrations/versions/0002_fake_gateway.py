"""the fake payment gateway's tables (adapters.payments.fake_tables)

Revision ID: 0002_fake_gateway
Revises: 0001_initial

Written out rather than imported from ``fake_tables``: a migration is a snapshot of the schema at
its revision and must not change when the table module changes later. Constraint names are
spelled out (``op.f``) as the shared naming convention would derive them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_fake_gateway"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# adapters.sql.column_types.UtcDateTime is a TypeDecorator over exactly this type.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fake_gateway_intents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("client_secret", sa.String(length=128), nullable=False),
        sa.Column("payment_method", sa.String(length=255), nullable=True),
        sa.Column("decline_code", sa.String(length=64), nullable=True),
        sa.Column("decline_message", sa.Text(), nullable=True),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_fake_gateway_intents_amount_positive")),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount",
            name=op.f("ck_fake_gateway_intents_refund_in_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fake_gateway_intents")),
    )
    op.create_table(
        "fake_gateway_refunds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("intent_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(length=3), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_fake_gateway_refunds_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fake_gateway_refunds")),
    )
    op.create_index(
        "ix_fake_gateway_refunds_intent_id", "fake_gateway_refunds", ["intent_id"], unique=False
    )
    op.create_table(
        "fake_gateway_idempotency",
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("response_ref", sa.String(length=64), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("operation", "key", name=op.f("pk_fake_gateway_idempotency")),
    )
    op.create_table(
        "fake_gateway_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fake_gateway_events")),
    )
    op.create_index(
        "ix_fake_gateway_events_delivered_at_sequence",
        "fake_gateway_events",
        ["delivered_at", "sequence"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_fake_gateway_events_delivered_at_sequence", table_name="fake_gateway_events")
    op.drop_table("fake_gateway_events")
    op.drop_table("fake_gateway_idempotency")
    op.drop_index("ix_fake_gateway_refunds_intent_id", table_name="fake_gateway_refunds")
    op.drop_table("fake_gateway_refunds")
    op.drop_table("fake_gateway_intents")
