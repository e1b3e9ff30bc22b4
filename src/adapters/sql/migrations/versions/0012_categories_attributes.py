"""a catalogue to browse: the category tree, products' categories, attribute definitions and
products' attribute values

Revision ID: 0012_categories_attributes
Revises: 0011_saved_addresses

Only new tables: existing products start in no category and with no attribute values.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_categories_attributes"
down_revision: str | Sequence[str] | None = "0011_saved_addresses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
_JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("parent_id", sa.String(ID), nullable=True),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_categories_not_own_parent")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"], name=op.f("fk_categories_parent_id_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_index(op.f("ix_categories_parent_id"), "categories", ["parent_id"], unique=False)
    op.create_table(
        "product_categories",
        sa.Column("product_id", sa.String(ID), nullable=False),
        sa.Column("category_id", sa.String(ID), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_categories_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_product_categories_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "category_id", name=op.f("pk_product_categories")),
    )
    op.create_index(
        "ix_product_categories_category_id_product_id",
        "product_categories",
        ["category_id", "product_id"],
        unique=False,
    )
    op.create_table(
        "attribute_definitions",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("choices", _JSON, nullable=False),
        sa.Column("unit", sa.String(20), nullable=True),
        sa.Column("filterable", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('text', 'number', 'choice')",
            name=op.f("ck_attribute_definitions_kind_known"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_attribute_definitions")),
    )
    op.create_table(
        "product_attribute_values",
        sa.Column("product_id", sa.String(ID), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("value_text", sa.String(200), nullable=False),
        sa.Column("value_scaled", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_attribute_values_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["code"],
            ["attribute_definitions.code"],
            name=op.f("fk_product_attribute_values_code_attribute_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "code", name=op.f("pk_product_attribute_values")),
    )
    op.create_index(
        "ix_product_attribute_values_code_value_text",
        "product_attribute_values",
        ["code", "value_text", "product_id"],
        unique=False,
    )
    op.create_index(
        "ix_product_attribute_values_code_value_scaled",
        "product_attribute_values",
        ["code", "value_scaled"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_product_attribute_values_code_value_scaled", table_name="product_attribute_values"
    )
    op.drop_index(
        "ix_product_attribute_values_code_value_text", table_name="product_attribute_values"
    )
    op.drop_table("product_attribute_values")
    op.drop_table("attribute_definitions")
    op.drop_index("ix_product_categories_category_id_product_id", table_name="product_categories")
    op.drop_table("product_categories")
    op.drop_index(op.f("ix_categories_parent_id"), table_name="categories")
    op.drop_table("categories")
