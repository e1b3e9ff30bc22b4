"""``SqlProductRepository``: the catalog, and the row locks that keep stock from going negative."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import RowMapping, bindparam, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql.conflicts import violates
from adapters.sql.tables import products
from commerce_core import Conflict, Money, NotFound, Product

__all__ = ["SqlProductRepository"]


# The hot statements, built once (SQLAlchemy then only looks up their compiled form).
_BY_ID = select(products).where(products.c.id == bindparam("key"))
_BY_SLUG = select(products).where(products.c.slug == bindparam("key"))
_LOCK = (
    select(products)
    .where(products.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(products.c.id)
    .with_for_update()
)
# The SET clause comes from the parameters: only the columns that changed.
_UPDATE = products.update().where(products.c.id == bindparam("product_id"))


def _values(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price_amount": product.price.amount,
        "currency": product.price.currency,
        "image_url": product.image_url,
        "stock": product.stock,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "weight_grams": product.weight_grams,
    }


def _product(row: RowMapping) -> Product:
    return Product(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        description=row["description"],
        price=Money(row["price_amount"], row["currency"]),
        image_url=row["image_url"],
        stock=row["stock"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        weight_grams=row["weight_grams"],
    )


class SqlProductRepository:
    """One per transaction (the unit of work makes a new one per block): it remembers the
    products this transaction read, so ``save`` writes only the columns that changed - a sale
    writes ``stock`` and ``updated_at``, not the description."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._known: dict[str, dict[str, Any]] = {}

    def add(self, product: Product) -> None:
        try:
            self._connection.execute(products.insert().values(_values(product)))
        except IntegrityError as exc:
            if violates(exc, products.c.slug):
                raise Conflict(f"a product with slug {product.slug!r} already exists") from exc
            if violates(exc, products.c.id):
                raise Conflict(f"product {product.id} already exists") from exc
            raise

    def get(self, product_id: str) -> Product | None:
        row = self._connection.execute(_BY_ID, {"key": product_id}).mappings().first()
        return None if row is None else _product(row)

    def get_by_slug(self, slug: str) -> Product | None:
        row = self._connection.execute(_BY_SLUG, {"key": slug}).mappings().first()
        return None if row is None else _product(row)

    def lock(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """``SELECT ... ORDER BY id FOR UPDATE``: PostgreSQL locks the rows in ascending id order,
        the one order every transaction uses, so two carts never deadlock. (SQLite ignores
        ``FOR UPDATE``; its ``BEGIN IMMEDIATE`` already serialises writers.)"""
        ids = sorted(set(product_ids))
        if not ids:
            return {}
        locked = {}
        for row in self._connection.execute(_LOCK, {"ids": ids}).mappings():
            product = _product(row)
            locked[product.id] = product
            self._known[product.id] = _values(product)
        return locked

    def save(self, product: Product) -> None:
        values = _values(product)
        known = self._known.get(product.id)
        changed = {k: v for k, v in values.items() if known is None or known[k] != v}
        for fixed in ("id", "created_at"):
            changed.pop(fixed, None)
        if not changed:
            return  # locked by this transaction and unchanged since: nothing to write
        try:
            result = self._connection.execute(_UPDATE, {"product_id": product.id, **changed})
        except IntegrityError as exc:
            if violates(exc, products.c.slug):
                raise Conflict(f"a product with slug {product.slug!r} already exists") from exc
            raise
        if result.rowcount == 0:
            raise NotFound(f"no product {product.id} to save")
        self._known[product.id] = values

    def search(self, query: str | None, offset: int, limit: int) -> tuple[list[Product], int]:
        """Case-insensitive substring match on name or description (``%`` and ``_`` in the
        query are literal), ordered by name then id; and the total number of matches."""
        condition = (
            or_(
                products.c.name.icontains(query, autoescape=True),
                products.c.description.icontains(query, autoescape=True),
            )
            if query
            else None
        )
        page = select(products).order_by(products.c.name, products.c.id)
        count = select(func.count()).select_from(products)
        if condition is not None:
            page = page.where(condition)
            count = count.where(condition)
        rows = self._connection.execute(page.offset(offset).limit(limit)).mappings()
        items = [_product(row) for row in rows]
        total = self._connection.execute(count).scalar_one()
        return items, total
