"""the address each checkout came from, for the per-address cap on unpaid holds

Revision ID: 0007_orders_client_ip
Revises: 0006_refresh_lockout
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_orders_client_ip"
down_revision: str | Sequence[str] | None = "0006_refresh_lockout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("client_ip", sa.String(64), nullable=True))
        batch.create_index("ix_orders_client_ip_status", ["client_ip", "status"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_client_ip_status")
        batch.drop_column("client_ip")
