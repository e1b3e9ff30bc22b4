"""product variants: every product becomes its default variant; stock moves to variants

Revision ID: 0015_product_variants
Revises: 0014_product_search

A product now has one or more variants (sizes, colours), each with its own SKU, price, stock,
weight and image; orders hold, take and give back a variant's units. Each existing product
becomes a product with one variant, its default: SKU = the slug (cut to 64 characters, with the
product's id as a suffix when cut), the product's price, stock and weight. Each order line names
the variant it sold - the default variant of its product - so held stock is given back, and a
paid order restocked, to the right row. The products keep their price as the lowest variant
price (the listing's sort and filter column); their stock and weight columns go.

Downgrading puts each product's variants' stock (summed) and its first variant's weight back on
the product, and loses the variants' own prices, SKUs and options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015_product_variants"
down_revision: str | Sequence[str] | None = "0014_product_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
_SKU_MAX = 64
_BATCH = 1000

_products = sa.table(
    "products",
    sa.column("id", sa.String()),
    sa.column("slug", sa.String()),
    sa.column("price_amount", sa.BigInteger()),
    sa.column("currency", sa.String()),
    sa.column("stock", sa.Integer()),
    sa.column("weight_grams", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("option_names", sa.JSON()),
)
_variants = sa.table(
    "product_variants",
    sa.column("id", sa.String()),
    sa.column("product_id", sa.String()),
    sa.column("position", sa.Integer()),
    sa.column("sku", sa.String()),
    sa.column("options", sa.JSON()),
    sa.column("price_amount", sa.BigInteger()),
    sa.column("currency", sa.String()),
    sa.column("stock", sa.Integer()),
    sa.column("weight_grams", sa.Integer()),
    sa.column("image_url", sa.Text()),
    sa.column("archived", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_lines = sa.table(
    "order_lines",
    sa.column("order_id", sa.String()),
    sa.column("line_no", sa.Integer()),
    sa.column("product_id", sa.String()),
    sa.column("variant_id", sa.String()),
    sa.column("sku", sa.String()),
    sa.column("options", sa.JSON()),
)


def _default_variant_id(product_id: str) -> str:
    """``prod_<hex>`` -> ``var_<hex>``: the same random part, so each is easy to find."""
    head, _, tail = product_id.partition("_")
    return f"var_{tail or head}"[:ID]


def _sku(slug: str, product_id: str) -> str:
    if len(slug) <= _SKU_MAX:
        return slug
    suffix = product_id.rpartition("_")[2][:8]
    return f"{slug[: _SKU_MAX - len(suffix) - 1].rstrip('-')}-{suffix}"


def upgrade() -> None:
    op.create_table(
        "product_variants",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("product_id", sa.String(ID), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("options", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stock >= 0", name=op.f("ck_product_variants_variant_stock_not_negative")
        ),
        sa.CheckConstraint(
            "price_amount > 0", name=op.f("ck_product_variants_variant_price_positive")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_variants_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_variants_sku")),
        sa.UniqueConstraint("product_id", "position", name="uq_product_variants_position"),
    )
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("option_names", sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("variant_id", sa.String(ID), nullable=True))
        batch.add_column(sa.Column("sku", sa.String(64), nullable=True))
        batch.add_column(sa.Column("options", sa.JSON(none_as_null=True), nullable=True))

    bind = op.get_bind()
    defaults: dict[str, tuple[str, str]] = {}
    rows: list[dict[str, Any]] = []
    for product in bind.execute(sa.select(_products).order_by(_products.c.id)).mappings():
        variant_id, sku = _default_variant_id(product["id"]), _sku(product["slug"], product["id"])
        defaults[product["id"]] = (variant_id, sku)
        rows.append(
            {
                "id": variant_id,
                "product_id": product["id"],
                "position": 0,
                "sku": sku,
                "options": {},
                "price_amount": product["price_amount"],
                "currency": product["currency"],
                "stock": product["stock"],
                "weight_grams": product["weight_grams"],
                "image_url": "",
                "archived": False,
                "created_at": product["created_at"],
                "updated_at": product["updated_at"],
            }
        )
        if len(rows) >= _BATCH:
            bind.execute(_variants.insert(), rows)
            rows = []
    if rows:
        bind.execute(_variants.insert(), rows)
    bind.execute(_products.update().values(option_names=[]))

    # Each line names its product's default variant (a line whose product is gone keeps "").
    line_keys = sa.select(_lines.c.order_id, _lines.c.line_no, _lines.c.product_id)
    updates: list[dict[str, Any]] = []
    stmt = (
        _lines.update()
        .where(_lines.c.order_id == sa.bindparam("o_id"), _lines.c.line_no == sa.bindparam("l_no"))
        .values(variant_id=sa.bindparam("v_id"), sku=sa.bindparam("v_sku"), options={})
    )
    for order_id, line_no, product_id in bind.execute(line_keys).all():
        variant_id, sku = defaults.get(product_id, ("", ""))
        updates.append({"o_id": order_id, "l_no": line_no, "v_id": variant_id, "v_sku": sku})
        if len(updates) >= _BATCH:
            bind.execute(stmt, updates)
            updates = []
    if updates:
        bind.execute(stmt, updates)

    with op.batch_alter_table("order_lines") as batch:
        batch.alter_column("variant_id", existing_type=sa.String(ID), nullable=False)
        batch.alter_column("sku", existing_type=sa.String(64), nullable=False)
        batch.alter_column("options", existing_type=sa.JSON(none_as_null=True), nullable=False)
    with op.batch_alter_table("products") as batch:
        batch.alter_column("option_names", existing_type=sa.JSON(none_as_null=True), nullable=False)
        batch.drop_constraint(op.f("ck_products_stock_not_negative"), type_="check")
        batch.drop_column("stock")
        batch.drop_column("weight_grams")


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("stock", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("weight_grams", sa.Integer(), nullable=True))
    bind = op.get_bind()
    totals = sa.select(sa.func.coalesce(sa.func.sum(_variants.c.stock), 0)).where(
        _variants.c.product_id == _products.c.id
    )
    first_weight = (
        sa.select(_variants.c.weight_grams)
        .where(_variants.c.product_id == _products.c.id)
        .order_by(_variants.c.position)
        .limit(1)
    )
    bind.execute(
        _products.update().values(
            stock=totals.scalar_subquery(), weight_grams=first_weight.scalar_subquery()
        )
    )
    with op.batch_alter_table("products") as batch:
        batch.alter_column("stock", existing_type=sa.Integer(), nullable=False)
        batch.create_check_constraint(op.f("ck_products_stock_not_negative"), "stock >= 0")
        batch.drop_column("option_names")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("options")
        batch.drop_column("sku")
        batch.drop_column("variant_id")
    op.drop_table("product_variants")
