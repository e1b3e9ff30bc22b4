"""the notification outbox, password-reset tokens and the addresses accounts signed in from

Revision ID: 0009_notifications
Revises: 0008_job_leases
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_notifications"
down_revision: str | Sequence[str] | None = "0008_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outgoing_messages",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')",
            name=op.f("ck_outgoing_messages_status_known"),
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_outgoing_messages_attempts_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_messages")),
    )
    op.create_index(
        "ix_outgoing_messages_status_next_attempt_at",
        "outgoing_messages",
        ["status", "next_attempt_at"],
    )
    op.create_table(
        "password_reset_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_password_reset_tokens")),
    )
    op.create_index("ix_password_reset_tokens_user_id", "password_reset_tokens", ["user_id"])
    op.create_table(
        "sign_in_addresses",
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("address_digest", sa.String(64), nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "address_digest", name=op.f("pk_sign_in_addresses")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_addresses")
    op.drop_table("password_reset_tokens")
    op.drop_table("outgoing_messages")
