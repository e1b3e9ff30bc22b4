"""staff catalogue management: archived products

Revision ID: 0013_catalog_admin
Revises: 0012_categories_attributes

Products are archived, never deleted (orders refer to them): an archived product keeps its row
but is neither listed nor sold. Every existing product stays on sale (the default is false).
Images need no column: a product's ``image_url`` names its content-hashed file.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_catalog_admin"
down_revision: str | Sequence[str] | None = "0012_categories_attributes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "products",
        sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("archived")
