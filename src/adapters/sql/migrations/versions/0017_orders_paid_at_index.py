"""an index on orders.paid_at for the console's sales per day

Revision ID: 0017_orders_paid_at_index
Revises: 0016_carts

The admin dashboard sums the orders paid in the last 30 days, by day. Without an index that
reads every order the shop ever took, on each view; ``paid_at`` is set only once an order is
paid, so the index holds the sold orders only (NULLs are indexed but never match a range).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017_orders_paid_at_index"
down_revision: str | Sequence[str] | None = "0016_carts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_paid_at", "orders", ["paid_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_paid_at", table_name="orders")
