"""refunds made outside the shop, and disputed payments

Revision ID: 0005_disputes_external
Revises: 0004_needs_refund
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_disputes_external"
down_revision: str | Sequence[str] | None = "0004_needs_refund"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("disputed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(
            sa.Column("external", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("external")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("disputed")
