"""``SqlProductRepository``: the catalog, and the row locks that keep stock from going negative."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql.conflicts import violates
from adapters.sql.tables import (
    attribute_definitions,
    product_attribute_values,
    product_categories,
    products,
)
from commerce_core import (
    CatalogFacets,
    CatalogQuery,
    CatalogSort,
    Conflict,
    Money,
    NotFound,
    Product,
    attribute_facets,
    count_price_ranges,
    facet_counts,
)

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
_ORDER: dict[CatalogSort, tuple[Any, ...]] = {
    CatalogSort.NAME: (products.c.name, products.c.id),
    CatalogSort.PRICE: (products.c.price_amount, products.c.name, products.c.id),
    CatalogSort.PRICE_DESC: (products.c.price_amount.desc(), products.c.name, products.c.id),
    CatalogSort.NEWEST: (products.c.created_at.desc(), products.c.id),
}


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(where: CatalogQuery) -> ColumnElement[bool]:
    """``CatalogQuery.matches`` as a WHERE clause."""
    conditions: list[ColumnElement[bool]] = [products.c.archived.is_(False)]
    if where.text is not None:
        pattern = _like(where.text)
        conditions.append(
            or_(
                products.c.name.ilike(pattern, escape="\\"),
                products.c.description.ilike(pattern, escape="\\"),
            )
        )
    if where.min_price is not None:
        conditions.append(products.c.price_amount >= where.min_price)
    if where.max_price is not None:
        conditions.append(products.c.price_amount <= where.max_price)
    if where.in_stock is True:
        conditions.append(products.c.stock > 0)
    elif where.in_stock is False:
        conditions.append(products.c.stock == 0)
    if where.category_ids is not None:
        conditions.append(
            products.c.id.in_(
                select(product_categories.c.product_id).where(
                    product_categories.c.category_id.in_(sorted(where.category_ids))
                )
            )
        )
    for code, accepted in sorted(where.attributes.items()):
        values = product_attribute_values
        conditions.append(
            products.c.id.in_(
                select(values.c.product_id).where(
                    values.c.code == code, values.c.value_text.in_(sorted(accepted))
                )
            )
        )
    return and_(*conditions)


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
        "archived": product.archived,
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
        archived=row["archived"],
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

    def list_for_staff(self, offset: int, limit: int) -> tuple[list[Product], int]:
        """Every product, archived ones too, by name then id; and how many there are."""
        page = select(products).order_by(products.c.name, products.c.id).offset(offset).limit(limit)
        items = [_product(row) for row in self._connection.execute(page).mappings()]
        total = self._connection.execute(select(func.count()).select_from(products)).scalar_one()
        return items, total

    def search(self, where: CatalogQuery, offset: int, limit: int) -> tuple[list[Product], int]:
        """The page of products matching ``where``, in its order, and how many match. Text is
        a case-insensitive substring (``%`` and ``_`` literal): ``ILIKE``, which PostgreSQL
        serves from the name and description trigram indexes."""
        condition = _matching(where)
        page = select(products).where(condition).order_by(*_ORDER[where.sort])
        rows = self._connection.execute(page.offset(offset).limit(limit)).mappings()
        items = [_product(row) for row in rows]
        total = self._connection.execute(
            select(func.count()).select_from(products).where(condition)
        ).scalar_one()
        return items, total

    def facets(self, where: CatalogQuery) -> CatalogFacets:
        """Counts of the products matching ``where``: per price range (per category and per
        attribute value where the catalogue has them)."""
        condition = _matching(where)
        prices = self._connection.execute(
            select(products.c.currency, products.c.price_amount, func.count())
            .where(condition)
            .group_by(products.c.currency, products.c.price_amount)
        ).all()
        matches = select(products.c.id).where(condition)
        in_categories = self._connection.execute(
            select(product_categories.c.category_id, func.count())
            .where(product_categories.c.product_id.in_(matches))
            .group_by(product_categories.c.category_id)
        ).all()
        values = product_attribute_values
        by_value = self._connection.execute(
            select(values.c.code, values.c.value_text, func.count())
            .join(attribute_definitions, attribute_definitions.c.code == values.c.code)
            .where(attribute_definitions.c.filterable.is_(True), values.c.product_id.in_(matches))
            .group_by(values.c.code, values.c.value_text)
        ).all()
        return CatalogFacets(
            categories=facet_counts((category, count) for category, count in in_categories),
            attributes=attribute_facets((code, value, count) for code, value, count in by_value),
            price_ranges=count_price_ranges((c, a, n) for c, a, n in prices),
        )
