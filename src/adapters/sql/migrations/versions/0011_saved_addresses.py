"""addresses shoppers keep on their accounts

Revision ID: 0011_saved_addresses
Revises: 0010_shipping_tax_fulfilment
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_saved_addresses"
down_revision: str | Sequence[str] | None = "0010_shipping_tax_fulfilment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64


def upgrade() -> None:
    op.create_table(
        "saved_addresses",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("label", sa.String(50), nullable=False),
        sa.Column("address", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_addresses")),
    )
    op.create_index(
        op.f("ix_saved_addresses_user_id"), "saved_addresses", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_saved_addresses_user_id"), table_name="saved_addresses")
    op.drop_table("saved_addresses")
