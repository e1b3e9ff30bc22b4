"""shoppers' carts, kept by the shop: an account's or an anonymous visitor's, and their lines

Revision ID: 0016_carts
Revises: 0015_product_variants

Only new tables: nobody had a server-side cart before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_carts"
down_revision: str | Sequence[str] | None = "0015_product_variants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64


def upgrade() -> None:
    op.create_table(
        "carts",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=True),
        sa.Column("order_id", sa.String(ID), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
        sa.UniqueConstraint("user_id", name=op.f("uq_carts_user_id")),
    )
    op.create_index(op.f("ix_carts_updated_at"), "carts", ["updated_at"], unique=False)
    op.create_table(
        "cart_lines",
        sa.Column("cart_id", sa.String(ID), nullable=False),
        sa.Column("variant_id", sa.String(ID), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["cart_id"],
            ["carts.id"],
            name=op.f("fk_cart_lines_cart_id_carts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cart_id", "variant_id", name=op.f("pk_cart_lines")),
    )


def downgrade() -> None:
    op.drop_table("cart_lines")
    op.drop_index(op.f("ix_carts_updated_at"), table_name="carts")
    op.drop_table("carts")
