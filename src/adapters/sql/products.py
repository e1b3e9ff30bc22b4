"""``SqlProductRepository``: the catalog, and the row locks that keep stock from going negative."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import RowMapping, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql._rows import violates
from adapters.sql.tables import products
from commerce_core.catalog import Product
from commerce_core.errors import Conflict, NotFound
from commerce_core.money import Money

__all__ = ["SqlProductRepository"]


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
    )


class SqlProductRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

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
        row = (
            self._connection.execute(select(products).where(products.c.id == product_id))
            .mappings()
            .first()
        )
        return None if row is None else _product(row)

    def get_by_slug(self, slug: str) -> Product | None:
        row = (
            self._connection.execute(select(products).where(products.c.slug == slug))
            .mappings()
            .first()
        )
        return None if row is None else _product(row)

    def lock(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """``SELECT ... ORDER BY id FOR UPDATE``: PostgreSQL locks the rows in ascending id order,
        the one order every transaction uses, so two carts never deadlock. (SQLite ignores
        ``FOR UPDATE``; its ``BEGIN IMMEDIATE`` already serialises writers.)"""
        ids = sorted(set(product_ids))
        if not ids:
            return {}
        rows = self._connection.execute(
            select(products).where(products.c.id.in_(ids)).order_by(products.c.id).with_for_update()
        ).mappings()
        return {row["id"]: _product(row) for row in rows}

    def save(self, product: Product) -> None:
        values = _values(product)
        del values["id"], values["created_at"]
        try:
            result = self._connection.execute(
                products.update().where(products.c.id == product.id).values(values)
            )
        except IntegrityError as exc:
            if violates(exc, products.c.slug):
                raise Conflict(f"a product with slug {product.slug!r} already exists") from exc
            raise
        if result.rowcount == 0:
            raise NotFound(f"no product {product.id} to save")

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
