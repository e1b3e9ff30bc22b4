"""Categories: a tree the catalog is browsed by, and the pure rules over it.

A category has at most one parent; roots have none. Siblings are ordered by ``position``, then
by name (then id, so the order is total). A product belongs to any number of categories, by id;
filtering by a category takes in its sub-categories (``descendant_ids``).

The tree is small (tens to a few hundred categories) and read whole, so every rule here works
on the full list of categories: no rule needs a database to answer.

>>> kitchen = Category("cat_k", "kitchen", "Kitchen")
>>> mugs = Category("cat_m", "mugs", "Mugs", parent_id="cat_k")
>>> [c.slug for c in category_path([kitchen, mugs], "cat_m")]
['kitchen', 'mugs']
>>> sorted(descendant_ids([kitchen, mugs], ["cat_k"]))
['cat_k', 'cat_m']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import attrs

from commerce_core.domain.catalog import validate_slug
from commerce_core.errors import FieldError, InvalidInput

__all__ = [
    "MAX_CATEGORIES",
    "MAX_CATEGORY_DEPTH",
    "MAX_CATEGORY_DESCRIPTION",
    "MAX_CATEGORY_NAME",
    "MAX_POSITION",
    "MAX_PRODUCT_CATEGORIES",
    "Category",
    "CategoryNode",
    "category_path",
    "category_tree",
    "check_placement",
    "descendant_ids",
]

MAX_CATEGORY_NAME = 100
MAX_CATEGORY_DESCRIPTION = 2000
MAX_POSITION = 1_000_000
# Deeper trees are a mistake in a shop's navigation (and a breadcrumb nobody reads).
MAX_CATEGORY_DEPTH = 8
# A shop's navigation, not a taxonomy of everything: bounds every read of the whole tree.
MAX_CATEGORIES = 1000
# A product in more categories than this is mis-filed.
MAX_PRODUCT_CATEGORIES = 20


def _printable(text: str, *, multiline: bool = False) -> bool:
    lines = text.split("\n") if multiline else [text]
    return all(line.isprintable() for line in lines)


@attrs.frozen
class Category:
    """One node of the tree. ``parent_id`` is ``None`` for a root."""

    id: str
    slug: str
    name: str
    parent_id: str | None = None
    description: str = ""
    position: int = 0

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        try:
            validate_slug(self.slug)
            # validate_slug's pattern ends in "$", which also matches before a final newline.
            if not isinstance(self.slug, str) or not self.slug.isprintable():
                raise InvalidInput.for_field("slug", "must be lowercase letters, digits and dashes")
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
        if (
            not isinstance(self.name, str)
            or not (1 <= len(self.name) <= MAX_CATEGORY_NAME)
            or not self.name.strip()
            or not _printable(self.name)
        ):
            errors.append(
                FieldError("name", f"must be 1 to {MAX_CATEGORY_NAME} printable characters")
            )
        if (
            not isinstance(self.description, str)
            or len(self.description) > MAX_CATEGORY_DESCRIPTION
            or not _printable(self.description, multiline=True)
        ):
            errors.append(
                FieldError(
                    "description",
                    f"must be at most {MAX_CATEGORY_DESCRIPTION} printable characters",
                )
            )
        if type(self.position) is not int or not (0 <= self.position <= MAX_POSITION):
            errors.append(FieldError("position", f"must be a whole number 0 to {MAX_POSITION}"))
        if self.parent_id is not None and self.parent_id == self.id:
            errors.append(FieldError("parent", "a category cannot be its own parent"))
        if errors:
            raise InvalidInput(errors=errors)

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (self.position, self.name.casefold(), self.id)


@attrs.frozen
class CategoryNode:
    """A category and its sub-categories, in order."""

    category: Category
    children: tuple[CategoryNode, ...] = ()


def _children_of(categories: Iterable[Category]) -> dict[str | None, list[Category]]:
    children: dict[str | None, list[Category]] = defaultdict(list)
    for category in categories:
        children[category.parent_id].append(category)
    for siblings in children.values():
        siblings.sort(key=lambda c: c.sort_key)
    return children


def category_tree(categories: Iterable[Category]) -> tuple[CategoryNode, ...]:
    """The roots, each with its sub-categories, siblings ordered by position then name.

    A category whose parent is missing from ``categories`` is left out with its sub-tree (the
    repositories never store one; a caller's partial list must not invent roots)."""
    children = _children_of(categories)

    def grow(category: Category, depth: int) -> CategoryNode:
        if depth > MAX_CATEGORY_DEPTH:  # only a cycle gets this deep; it was refused on save
            return CategoryNode(category)
        return CategoryNode(
            category, tuple(grow(child, depth + 1) for child in children.get(category.id, ()))
        )

    return tuple(grow(root, 1) for root in children.get(None, ()))


def category_path(categories: Iterable[Category], category_id: str) -> tuple[Category, ...]:
    """The breadcrumb of ``category_id``: its root first, the category itself last. Empty if
    the category is unknown."""
    by_id = {c.id: c for c in categories}
    path: list[Category] = []
    current = by_id.get(category_id)
    while current is not None and len(path) <= MAX_CATEGORY_DEPTH:
        path.append(current)
        current = None if current.parent_id is None else by_id.get(current.parent_id)
    return tuple(reversed(path))


def descendant_ids(categories: Iterable[Category], category_ids: Iterable[str]) -> frozenset[str]:
    """``category_ids`` (those that exist) and the ids of all their sub-categories, at any
    depth: what a filter on those categories takes in."""
    listed = list(categories)
    children = _children_of(listed)
    known = {c.id for c in listed}
    found: set[str] = set()
    waiting = [cid for cid in category_ids if cid in known]
    while waiting:
        current = waiting.pop()
        if current in found:
            continue
        found.add(current)
        waiting.extend(child.id for child in children.get(current, ()))
    return frozenset(found)


def check_placement(categories: Sequence[Category], category: Category) -> None:
    """Refuse ``category`` (new, or an edit of the one with its id) where it cannot go in the
    tree ``categories``: under a parent that does not exist, under itself or one of its own
    sub-categories (a cycle), or deeper than ``MAX_CATEGORY_DEPTH``. ``InvalidInput`` on
    ``parent``."""
    if category.parent_id is None:
        depth_above = 0
    else:
        others = [c for c in categories if c.id != category.id]
        by_id = {c.id: c for c in others}
        if category.parent_id not in by_id:
            raise InvalidInput.for_field("parent", "no such category")
        if category.parent_id in descendant_ids(categories, [category.id]):
            raise InvalidInput.for_field(
                "parent", "a category cannot move under itself or its own sub-categories"
            )
        depth_above = len(category_path(others, category.parent_id))
    below = _height(categories, category.id)
    if depth_above + below > MAX_CATEGORY_DEPTH:
        raise InvalidInput.for_field(
            "parent", f"the tree may be at most {MAX_CATEGORY_DEPTH} levels deep"
        )


def _height(categories: Sequence[Category], category_id: str) -> int:
    """Levels from ``category_id`` down to its deepest sub-category, itself counted (1 for a
    leaf or a new category)."""
    children = _children_of(categories)
    height, level = 1, [category_id]
    while height <= MAX_CATEGORY_DEPTH:
        level = [child.id for cid in level for child in children.get(cid, ())]
        if not level:
            break
        height += 1
    return height
