"""``SqlProductRepository``: products with their variants, and the row locks that keep stock
from going negative (a product's row lock guards its variants' rows)."""

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
    product_variants,
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
    Variant,
    attribute_facets,
    count_price_ranges,
    facet_counts,
)

__all__ = ["SqlProductRepository"]


# The hot statements, built once (SQLAlchemy then only looks up their compiled form).
_BY_ID = select(products).where(products.c.id == bindparam("key"))
_BY_SLUG = select(products).where(products.c.slug == bindparam("key"))
_BY_SKU = select(products).where(
    products.c.id
    == select(product_variants.c.product_id)
    .where(product_variants.c.sku == bindparam("key"))
    .scalar_subquery()
)
_LOCK = (
    select(products)
    .where(products.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(products.c.id)
    .with_for_update()
)
_VARIANTS_OF = (
    select(product_variants)
    .where(product_variants.c.product_id.in_(bindparam("ids", expanding=True)))
    .order_by(product_variants.c.product_id, product_variants.c.position)
)
_OWNERS = select(product_variants.c.id, product_variants.c.product_id).where(
    product_variants.c.id.in_(bindparam("ids", expanding=True))
)
_ORDER: dict[CatalogSort, tuple[Any, ...]] = {
    CatalogSort.NAME: (products.c.name, products.c.id),
    CatalogSort.PRICE: (products.c.price_amount, products.c.name, products.c.id),
    CatalogSort.PRICE_DESC: (products.c.price_amount.desc(), products.c.name, products.c.id),
    CatalogSort.NEWEST: (products.c.created_at.desc(), products.c.id),
}
# A product is in stock when one of its variants on sale is.
_IN_STOCK = (
    select(product_variants.c.id)
    .where(
        product_variants.c.product_id == products.c.id,
        product_variants.c.stock > 0,
        product_variants.c.archived.is_(False),
    )
    .exists()
)


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
        conditions.append(_IN_STOCK)
    elif where.in_stock is False:
        conditions.append(~_IN_STOCK)
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
_UPDATE_VARIANT = product_variants.update().where(product_variants.c.id == bindparam("variant_id"))


def _values(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price_amount": product.price.amount,
        "currency": product.currency,
        "image_url": product.image_url,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "archived": product.archived,
        "option_names": list(product.option_names),
    }


def _variant_values(product_id: str, position: int, variant: Variant) -> dict[str, Any]:
    return {
        "id": variant.id,
        "product_id": product_id,
        "position": position,
        "sku": variant.sku,
        "options": dict(variant.options),
        "price_amount": variant.price.amount,
        "currency": variant.price.currency,
        "stock": variant.stock,
        "weight_grams": variant.weight_grams,
        "image_url": variant.image_url,
        "archived": variant.archived,
        "created_at": variant.created_at,
        "updated_at": variant.updated_at,
    }


def _variant(row: RowMapping, option_names: tuple[str, ...]) -> Variant:
    values = row["options"] or {}
    return Variant(
        id=row["id"],
        sku=row["sku"],
        price=Money(row["price_amount"], row["currency"]),
        stock=row["stock"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        options=tuple((name, values[name]) for name in option_names if name in values),
        weight_grams=row["weight_grams"],
        image_url=row["image_url"],
        archived=row["archived"],
    )


def _product(row: RowMapping, variant_rows: list[RowMapping]) -> Product:
    option_names = tuple(row["option_names"] or ())
    return Product(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        description=row["description"],
        image_url=row["image_url"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        variants=[_variant(v, option_names) for v in variant_rows],
        archived=row["archived"],
        option_names=option_names,
    )


class SqlProductRepository:
    """One per transaction (the unit of work makes a new one per block): it remembers the
    products and variants this transaction locked, so ``save`` writes only the columns that
    changed - a sale writes a variant's ``stock`` and ``updated_at``, not the description."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._known: dict[str, dict[str, Any]] = {}
        self._known_variants: dict[str, dict[str, Any]] = {}

    def _conflict(self, exc: IntegrityError, product: Product) -> Conflict | None:
        if violates(exc, products.c.slug):
            return Conflict(f"a product with slug {product.slug!r} already exists")
        if violates(exc, product_variants.c.sku):
            return Conflict("a variant with one of these SKUs already exists")
        if violates(exc, products.c.id):
            return Conflict(f"product {product.id} already exists")
        return None

    def add(self, product: Product) -> None:
        try:
            self._connection.execute(products.insert().values(_values(product)))
            self._connection.execute(
                product_variants.insert(),
                [_variant_values(product.id, i, v) for i, v in enumerate(product.variants)],
            )
        except IntegrityError as exc:
            conflict = self._conflict(exc, product)
            if conflict is not None:
                raise conflict from exc
            raise

    def _whole(self, rows: list[RowMapping], *, remember: bool = False) -> list[Product]:
        """The products of ``rows`` with their variants (one more statement)."""
        if not rows:
            return []
        by_product: dict[str, list[RowMapping]] = {row["id"]: [] for row in rows}
        for variant in self._connection.execute(_VARIANTS_OF, {"ids": list(by_product)}).mappings():
            by_product[variant["product_id"]].append(variant)
        found = [_product(row, by_product[row["id"]]) for row in rows]
        if remember:
            for product in found:
                self._known[product.id] = _values(product)
                for i, v in enumerate(product.variants):
                    self._known_variants[v.id] = _variant_values(product.id, i, v)
        return found

    def _one(self, statement: Any, key: str) -> Product | None:
        rows = list(self._connection.execute(statement, {"key": key}).mappings())
        found = self._whole(rows)
        return found[0] if found else None

    def get(self, product_id: str) -> Product | None:
        return self._one(_BY_ID, product_id)

    def get_by_slug(self, slug: str) -> Product | None:
        return self._one(_BY_SLUG, slug)

    def get_by_sku(self, sku: str) -> Product | None:
        return self._one(_BY_SKU, sku)

    def owners(self, variant_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(variant_ids))
        if not ids:
            return {}
        rows = self._connection.execute(_OWNERS, {"ids": ids}).all()
        return {str(row[0]): str(row[1]) for row in rows}

    def lock(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """``SELECT ... ORDER BY id FOR UPDATE``: PostgreSQL locks the rows in ascending id order,
        the one order every transaction uses, so two carts never deadlock. (SQLite ignores
        ``FOR UPDATE``; its ``BEGIN IMMEDIATE`` already serialises writers.) The variants are
        read after the lock: no other writer changes them until this transaction ends."""
        ids = sorted(set(product_ids))
        if not ids:
            return {}
        rows = list(self._connection.execute(_LOCK, {"ids": ids}).mappings())
        return {product.id: product for product in self._whole(rows, remember=True)}

    def save(self, product: Product) -> None:
        values = _values(product)
        known = self._known.get(product.id)
        if known is None:
            # Not locked by this transaction: compare with what is stored.
            stored = self.lock([product.id]).get(product.id)
            if stored is None:
                raise NotFound(f"no product {product.id} to save")
            known = self._known[product.id]
        changed = {k: v for k, v in values.items() if known[k] != v}
        for fixed in ("id", "created_at"):
            changed.pop(fixed, None)
        try:
            if changed:
                self._connection.execute(_UPDATE, {"product_id": product.id, **changed})
            self._save_variants(product)
        except IntegrityError as exc:
            conflict = self._conflict(exc, product)
            if conflict is not None:
                raise conflict from exc
            raise
        self._known[product.id] = values

    def _save_variants(self, product: Product) -> None:
        ids = {v.id for v in product.variants}
        gone = [
            vid
            for vid, known in self._known_variants.items()
            if known["product_id"] == product.id and vid not in ids
        ]
        if gone:
            raise Conflict("a variant is never deleted (orders refer to it): archive it")
        new = []
        for position, variant in enumerate(product.variants):
            values = _variant_values(product.id, position, variant)
            known = self._known_variants.get(variant.id)
            if known is None:
                new.append(values)
            else:
                changed = {k: v for k, v in values.items() if known[k] != v}
                for fixed in ("id", "product_id", "created_at", "position"):
                    changed.pop(fixed, None)
                if changed:
                    self._connection.execute(_UPDATE_VARIANT, {"variant_id": variant.id, **changed})
            self._known_variants[variant.id] = values
        if new:
            self._connection.execute(product_variants.insert(), new)

    def list_for_staff(self, offset: int, limit: int) -> tuple[list[Product], int]:
        """Every product, archived ones too, by name then id; and how many there are."""
        page = select(products).order_by(products.c.name, products.c.id).offset(offset).limit(limit)
        items = self._whole(list(self._connection.execute(page).mappings()))
        total = self._connection.execute(select(func.count()).select_from(products)).scalar_one()
        return items, total

    def search(self, where: CatalogQuery, offset: int, limit: int) -> tuple[list[Product], int]:
        """The page of products matching ``where``, in its order, and how many match. Text is
        a case-insensitive substring (``%`` and ``_`` literal): ``ILIKE``, which PostgreSQL
        serves from the name and description trigram indexes."""
        condition = _matching(where)
        page = select(products).where(condition).order_by(*_ORDER[where.sort])
        rows = self._connection.execute(page.offset(offset).limit(limit)).mappings()
        items = self._whole(list(rows))
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
