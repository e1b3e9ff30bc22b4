"""captured money always ends in a paid order or a refund: needs_refund, intent_to_cancel

Revision ID: 0004_needs_refund
Revises: 0003_event_outbox

The ``needs_refund`` status (a capture the shop owes back), the ``intent_to_cancel`` flag (an
order that ended unpaid while its gateway intent could still be paid), and the partial indexes
the reconciliation job reads them through. On SQLite a CHECK constraint can only change by
copying the table, which Alembic's batch mode does (foreign keys are off meanwhile; see
``adapters.sql.migrate``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_needs_refund"
down_revision: str | Sequence[str] | None = "0003_event_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = (
    "'awaiting_payment', 'paid', 'partially_refunded', 'refunded', 'payment_failed', 'cancelled'"
)
NEW_STATUSES = OLD_STATUSES + ", 'needs_refund'"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("intent_to_cancel", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_orders_status_known"), f"status IN ({NEW_STATUSES})")
    op.create_index(
        "ix_orders_intent_to_cancel",
        "orders",
        ["intent_to_cancel"],
        postgresql_where=sa.text("intent_to_cancel"),
        sqlite_where=sa.text("intent_to_cancel"),
    )
    op.create_index(
        "ix_refunds_pending",
        "refunds",
        ["order_id"],
        postgresql_where=sa.text("status = 'pending' AND gateway_refund_id IS NULL"),
        sqlite_where=sa.text("status = 'pending' AND gateway_refund_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_pending", table_name="refunds")
    op.drop_index("ix_orders_intent_to_cancel", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_orders_status_known"), f"status IN ({OLD_STATUSES})")
        batch.drop_column("intent_to_cancel")
