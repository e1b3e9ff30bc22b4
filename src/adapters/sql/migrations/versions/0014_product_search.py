"""catalogue search: trigram indexes for the text search, an index for price order and range

Revision ID: 0014_product_search
Revises: 0013_catalog_admin

``GET /api/products?q=`` matches a case-insensitive substring of a product's name or
description (``ILIKE '%...%'``). On PostgreSQL, GIN trigram indexes (the ``pg_trgm`` extension,
which a database owner may create since PostgreSQL 13) serve that from the index, so a search
never scans the table; on SQLite the same indexes are plain ones (SQLite ignores the operator
class) and the search scans, which a shop on SQLite is small enough for.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014_product_search"
down_revision: str | Sequence[str] | None = "0013_catalog_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in ("name", "description"):
        op.create_index(
            f"ix_products_{column}_trgm",
            "products",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
    op.create_index("ix_products_price_amount", "products", ["price_amount"])


def downgrade() -> None:
    op.drop_index("ix_products_price_amount", table_name="products")
    for column in ("name", "description"):
        op.drop_index(f"ix_products_{column}_trgm", table_name="products")
