"""The in-memory category tree and product attributes of ``InMemoryUnitOfWork`` (each over the
dicts of the store's transaction copy), held to ``CatalogDetailsContract`` like the SQL ones.

What the search needs from them is plain data: ``memberships`` (product id -> its category ids)
and ``values`` (product id -> code -> ``AttributeValue``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from commerce_core.domain.attributes import AttributeDefinition, AttributeValue
from commerce_core.domain.catalog import Product
from commerce_core.domain.categories import Category
from commerce_core.errors import Conflict

__all__ = ["InMemoryAttributes", "InMemoryCategories"]


class InMemoryCategories:
    def __init__(
        self,
        categories: dict[str, Category],
        memberships: dict[str, frozenset[str]],
        products: Mapping[str, Product],
    ) -> None:
        self._categories = categories
        self._memberships = memberships
        self._products = products

    def all(self) -> list[Category]:
        return sorted(self._categories.values(), key=lambda c: c.sort_key)

    def get_by_slug(self, slug: str) -> Category | None:
        return next((c for c in self._categories.values() if c.slug == slug), None)

    def save(self, category: Category) -> None:
        if any(c.slug == category.slug and c.id != category.id for c in self._categories.values()):
            raise Conflict(f"category slug {category.slug!r} is taken")
        if category.parent_id is not None and category.parent_id not in self._categories:
            raise Conflict(f"no category {category.parent_id}")
        self._categories[category.id] = category

    def delete(self, category_id: str) -> bool:
        if category_id not in self._categories:
            return False
        if any(c.parent_id == category_id for c in self._categories.values()):
            raise Conflict("the category has sub-categories: move or delete them first")
        del self._categories[category_id]
        for product_id, ids in list(self._memberships.items()):
            if category_id in ids:
                self._set(product_id, ids - {category_id})
        return True

    def set_product_categories(self, product_id: str, category_ids: Iterable[str]) -> None:
        wanted = frozenset(category_ids)
        if product_id not in self._products:
            raise Conflict(f"no product {product_id}")
        unknown = wanted - set(self._categories)
        if unknown:
            raise Conflict(f"no category {sorted(unknown)[0]}")
        self._set(product_id, wanted)

    def _set(self, product_id: str, category_ids: frozenset[str]) -> None:
        if category_ids:
            self._memberships[product_id] = category_ids
        else:
            self._memberships.pop(product_id, None)

    def categories_of(self, product_ids: Iterable[str]) -> dict[str, list[str]]:
        return {
            pid: sorted(self._memberships[pid])
            for pid in set(product_ids)
            if self._memberships.get(pid)
        }

    def product_ids_in(self, category_ids: Iterable[str]) -> set[str]:
        wanted = set(category_ids)
        return {pid for pid, ids in self._memberships.items() if ids & wanted}


class InMemoryAttributes:
    def __init__(
        self,
        definitions: dict[str, AttributeDefinition],
        values: dict[str, dict[str, AttributeValue]],
        products: Mapping[str, Product],
    ) -> None:
        self._definitions = definitions
        self._values = values
        self._products = products

    def definitions(self) -> list[AttributeDefinition]:
        return [self._definitions[code] for code in sorted(self._definitions)]

    def save_definition(self, definition: AttributeDefinition) -> None:
        self._definitions[definition.code] = definition

    def delete_definition(self, code: str) -> bool:
        if self._definitions.pop(code, None) is None:
            return False
        for product_id, values in list(self._values.items()):
            if code in values:
                self._set(product_id, {k: v for k, v in values.items() if k != code})
        return True

    def values_of(self, product_ids: Iterable[str]) -> dict[str, dict[str, AttributeValue]]:
        return {pid: dict(self._values[pid]) for pid in set(product_ids) if self._values.get(pid)}

    def set_values(self, product_id: str, values: Mapping[str, AttributeValue]) -> None:
        if product_id not in self._products:
            raise Conflict(f"no product {product_id}")
        unknown = set(values) - set(self._definitions)
        if unknown:
            raise Conflict(f"no attribute {sorted(unknown)[0]}")
        if any(value.code != code for code, value in values.items()):
            raise ValueError("each value must be filed under its own code")
        self._set(product_id, dict(values))

    def _set(self, product_id: str, values: dict[str, AttributeValue]) -> None:
        if values:
            self._values[product_id] = values
        else:
            self._values.pop(product_id, None)

    def value_counts(self, code: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for values in self._values.values():
            if code in values:
                text = values[code].text
                counts[text] = counts.get(text, 0) + 1
        return counts
