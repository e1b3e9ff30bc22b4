"""the event outbox: durable domain events stored with the change they report

Revision ID: 0003_event_outbox
Revises: 0002_fake_gateway
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_event_outbox"
down_revision: str | Sequence[str] | None = "0002_fake_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_alert", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("published_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    op.create_index(
        "ix_event_outbox_published_at_occurred_at",
        "event_outbox",
        ["published_at", "occurred_at"],
        unique=False,
    )
    op.create_index(
        "ix_event_outbox_is_alert_occurred_at",
        "event_outbox",
        ["is_alert", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_event_outbox_is_alert_occurred_at", table_name="event_outbox")
    op.drop_index("ix_event_outbox_published_at_occurred_at", table_name="event_outbox")
    op.drop_table("event_outbox")
