"""``SqlCategoryRepository``: the category tree (read whole: a shop has at most a few hundred
categories) and which products are in which categories (``product_categories``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql.tables import categories, product_categories, products
from commerce_core import Category, Conflict

__all__ = ["SqlCategoryRepository"]

_ALL = select(categories)
# Bound parameters per statement stay well under SQLite's limit.
_CHUNK = 500


def _category(row: RowMapping) -> Category:
    return Category(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        parent_id=row["parent_id"],
        description=row["description"],
        position=row["position"],
    )


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class SqlCategoryRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def all(self) -> list[Category]:
        # Sorted here, not by the database's collation.
        rows = self._connection.execute(_ALL).mappings()
        return sorted((_category(row) for row in rows), key=lambda c: c.sort_key)

    def get_by_slug(self, slug: str) -> Category | None:
        row = (
            self._connection.execute(select(categories).where(categories.c.slug == slug))
            .mappings()
            .first()
        )
        return None if row is None else _category(row)

    def save(self, category: Category) -> None:
        values = {
            "parent_id": category.parent_id,
            "slug": category.slug,
            "name": category.name,
            "description": category.description,
            "position": category.position,
        }
        taken = self._connection.execute(
            select(categories.c.id).where(
                categories.c.slug == category.slug, categories.c.id != category.id
            )
        ).first()
        if taken is not None:
            raise Conflict(f"category slug {category.slug!r} is taken")
        if category.parent_id is not None and not self._exists(category.parent_id):
            raise Conflict(f"no category {category.parent_id}")
        try:
            # A savepoint: a lost race on the slug must not abort the caller's transaction.
            with self._connection.begin_nested():
                if self._exists(category.id):
                    self._connection.execute(
                        update(categories).where(categories.c.id == category.id).values(values)
                    )
                else:
                    self._connection.execute(insert(categories).values(id=category.id, **values))
        except IntegrityError:
            raise Conflict(f"category slug {category.slug!r} is taken") from None

    def _exists(self, category_id: str) -> bool:
        found = self._connection.execute(
            select(categories.c.id).where(categories.c.id == category_id)
        ).first()
        return found is not None

    def delete(self, category_id: str) -> bool:
        if not self._exists(category_id):
            return False
        children = self._connection.execute(
            select(func.count())
            .select_from(categories)
            .where(categories.c.parent_id == category_id)
        ).scalar_one()
        if children:
            raise Conflict("the category has sub-categories: move or delete them first")
        # Its memberships first: SQLite applies the foreign key's cascade only when told to.
        self._connection.execute(
            delete(product_categories).where(product_categories.c.category_id == category_id)
        )
        self._connection.execute(delete(categories).where(categories.c.id == category_id))
        return True

    def set_product_categories(self, product_id: str, category_ids: Iterable[str]) -> None:
        wanted = sorted(set(category_ids))
        product = self._connection.execute(
            select(products.c.id).where(products.c.id == product_id)
        ).first()
        if product is None:
            raise Conflict(f"no product {product_id}")
        found: set[str] = set()
        for chunk in _chunks(wanted):
            found.update(
                self._connection.execute(
                    select(categories.c.id).where(categories.c.id.in_(chunk))
                ).scalars()
            )
        unknown = sorted(set(wanted) - found)
        if unknown:
            raise Conflict(f"no category {unknown[0]}")
        self._connection.execute(
            delete(product_categories).where(product_categories.c.product_id == product_id)
        )
        if wanted:
            self._connection.execute(
                insert(product_categories),
                [{"product_id": product_id, "category_id": cid} for cid in wanted],
            )

    def categories_of(self, product_ids: Iterable[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for chunk in _chunks(product_ids):
            rows = self._connection.execute(
                select(product_categories.c.product_id, product_categories.c.category_id).where(
                    product_categories.c.product_id.in_(chunk)
                )
            )
            for product_id, category_id in rows:
                found.setdefault(product_id, []).append(category_id)
        return {pid: sorted(ids) for pid, ids in found.items()}

    def product_ids_in(self, category_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(category_ids):
            found.update(
                self._connection.execute(
                    select(product_categories.c.product_id)
                    .where(product_categories.c.category_id.in_(chunk))
                    .distinct()
                ).scalars()
            )
        return found
