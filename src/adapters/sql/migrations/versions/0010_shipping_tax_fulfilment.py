"""orders that ship: shipping zones and methods, tax rates, the order's address, shipping, tax
and fulfilment, product weights

Revision ID: 0010_shipping_tax_fulfilment
Revises: 0009_notifications

Orders placed before this have no address, no shipping and no tax: their new columns are NULL
or zero, so their totals are unchanged. The ``fulfilled`` status joins the CHECK constraint
(batch mode, as in 0004, because SQLite copies the table to change one).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_shipping_tax_fulfilment"
down_revision: str | Sequence[str] | None = "0009_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = (
    "'awaiting_payment', 'paid', 'partially_refunded', 'refunded', 'payment_failed', "
    "'cancelled', 'needs_refund'"
)
NEW_STATUSES = OLD_STATUSES + ", 'fulfilled'"
_JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "shipping_zones",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("countries", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_zones")),
    )
    op.create_table(
        "shipping_methods",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("zone_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("free_above_amount", sa.BigInteger(), nullable=True),
        sa.Column("per_kg_amount", sa.BigInteger(), nullable=True),
        sa.Column("max_weight_grams", sa.Integer(), nullable=True),
        sa.Column("taxable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "price_amount >= 0 AND (free_above_amount IS NULL OR free_above_amount >= 0) "
            "AND (per_kg_amount IS NULL OR per_kg_amount >= 0)",
            name=op.f("ck_shipping_methods_prices_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["shipping_zones.id"],
            name=op.f("fk_shipping_methods_zone_id_shipping_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_methods")),
    )
    op.create_index(
        op.f("ix_shipping_methods_zone_id"), "shipping_methods", ["zone_id"], unique=False
    )
    op.create_table(
        "tax_rates",
        sa.Column("country", sa.CHAR(2), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("basis_points", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("shipping_taxable", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "basis_points BETWEEN 0 AND 10000", name=op.f("ck_tax_rates_rate_in_range")
        ),
        sa.PrimaryKeyConstraint("country", "region", name=op.f("pk_tax_rates")),
    )
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("weight_grams", sa.Integer(), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("shipping_address", _JSON, nullable=True))
        batch.add_column(sa.Column("shipping_method_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("shipping_method_name", sa.String(100), nullable=True))
        batch.add_column(
            sa.Column("shipping_amount", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("shipping_taxable", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("tax_amount", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("tax_lines", _JSON, nullable=True))
        batch.add_column(
            sa.Column("prices_include_tax", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("fulfilment_carrier", sa.String(100), nullable=True))
        batch.add_column(sa.Column("fulfilment_tracking", sa.String(100), nullable=True))
        batch.add_column(sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_orders_status_known"), f"status IN ({NEW_STATUSES})")
        batch.create_check_constraint(
            op.f("ck_orders_charges_not_negative"), "shipping_amount >= 0 AND tax_amount >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_charges_not_negative"), type_="check")
        batch.drop_constraint(op.f("ck_orders_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_orders_status_known"), f"status IN ({OLD_STATUSES})")
        for column in (
            "fulfilled_at",
            "fulfilment_tracking",
            "fulfilment_carrier",
            "prices_include_tax",
            "tax_lines",
            "tax_amount",
            "shipping_taxable",
            "shipping_amount",
            "shipping_method_name",
            "shipping_method_id",
            "shipping_address",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("products") as batch:
        batch.drop_column("weight_grams")
    op.drop_table("tax_rates")
    op.drop_index(op.f("ix_shipping_methods_zone_id"), table_name="shipping_methods")
    op.drop_table("shipping_methods")
    op.drop_table("shipping_zones")
