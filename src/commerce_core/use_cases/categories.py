"""Browsing the category tree, and what staff do to it: create or edit a category (by slug),
delete one without sub-categories, and put a product in categories.

Staff calls check ``catalog:write`` themselves (whatever the driver checked, and before looking
at the input: someone without it learns nothing from a 422) and write their audit entry in the
transaction that makes the change. Categories are named by slug at this edge, by id inside.

Also here: ``catalog_details``, a product's categories and attribute values for the product API
(the detail route, and the listing for a page of products at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.attributes import AttributeDefinition, AttributeValue
from commerce_core.domain.catalog import Product
from commerce_core.domain.categories import (
    MAX_CATEGORIES,
    MAX_PRODUCT_CATEGORIES,
    Category,
    CategoryNode,
    category_path,
    category_tree,
    check_placement,
)
from commerce_core.domain.ids import new_id
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.domain.product_details import ProductAttribute, ProductDetails
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.use_cases._shipping_staff import SavedSetting, page_of
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page

__all__ = [
    "AssignProductCategories",
    "CategoryDetail",
    "DeleteCategory",
    "ProductWithDetails",
    "SaveCategory",
    "assign_product_categories",
    "catalog_details",
    "catalog_details_in",
    "category_detail_view",
    "category_tree_view",
    "category_view",
    "delete_category",
    "get_category",
    "get_category_tree",
    "get_product_with_details",
    "list_categories",
    "save_category",
]


@attrs.frozen
class SaveCategory:
    """Create the category ``slug``, or edit the one with that slug. ``parent`` is the parent's
    slug (``None``: a root)."""

    actor_id: str
    slug: str
    name: str
    parent: str | None = None
    description: str = ""
    position: int = 0
    ip: str | None = None


@attrs.frozen
class DeleteCategory:
    """Delete a category without sub-categories (its products simply leave it)."""

    actor_id: str
    slug: str
    ip: str | None = None


@attrs.frozen
class AssignProductCategories:
    """Make ``categories`` (slugs) the categories of the product ``product_slug``."""

    actor_id: str
    product_slug: str
    categories: tuple[str, ...]
    ip: str | None = None


@attrs.frozen
class CategoryDetail:
    """One category, its breadcrumb (root first, itself last) and its direct sub-categories."""

    category: Category
    path: tuple[Category, ...]
    children: tuple[Category, ...]


@attrs.frozen
class ProductWithDetails:
    product: Product
    details: ProductDetails


# -- views ---------------------------------------------------------------------------------------


def category_view(category: Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "slug": category.slug,
        "name": category.name,
        "description": category.description,
        "position": category.position,
    }


def category_tree_view(tree: Iterable[CategoryNode]) -> list[dict[str, Any]]:
    return [
        {**category_view(node.category), "children": category_tree_view(node.children)}
        for node in tree
    ]


def category_detail_view(detail: CategoryDetail) -> dict[str, Any]:
    return {
        **category_view(detail.category),
        "path": [{"slug": c.slug, "name": c.name} for c in detail.path],
        "children": [category_view(child) for child in detail.children],
    }


def _staff_category_view(category: Category, all_categories: Iterable[Category]) -> dict[str, Any]:
    parents = {c.id: c.slug for c in all_categories}
    parent = None if category.parent_id is None else parents.get(category.parent_id)
    return {**category_view(category), "parent": parent}


# -- reading -------------------------------------------------------------------------------------


def get_category_tree(uow: UnitOfWork) -> tuple[CategoryNode, ...]:
    """The whole tree: roots, each with its sub-categories, by position then name."""
    with uow:
        return category_tree(uow.categories.all())


def get_category(uow: UnitOfWork, slug: str) -> CategoryDetail:
    """The category ``slug`` with its breadcrumb and direct sub-categories; ``NotFound``."""
    with uow:
        everything = uow.categories.all()
    found = next((c for c in everything if c.slug == slug), None)
    if found is None:
        raise NotFound(f"no category {slug!r}")
    children = tuple(c for c in everything if c.parent_id == found.id)
    return CategoryDetail(found, category_path(everything, found.id), children)


def list_categories(uow: UnitOfWork, actor: User, paging: PageRequest) -> Page[dict[str, Any]]:
    """Every category, flat, in tree order, each with its parent's slug (``catalog:write``)."""
    require_permission(actor, Permission.CATALOG_WRITE)
    with uow:
        everything = uow.categories.all()
    ordered = list(_depth_first(category_tree(everything)))
    return page_of([_staff_category_view(c, everything) for c in ordered], paging)


def _depth_first(tree: Iterable[CategoryNode]) -> Iterable[Category]:
    for node in tree:
        yield node.category
        yield from _depth_first(node.children)


def catalog_details_in(uow: UnitOfWork, product_ids: Iterable[str]) -> dict[str, ProductDetails]:
    """Each product's categories (in tree order) and attribute values (by code), read inside
    the caller's open transaction. Every asked product is in the answer (maybe empty)."""
    wanted = sorted(set(product_ids))
    if not wanted:
        return {}
    memberships = uow.categories.categories_of(wanted)
    values = uow.attributes.values_of(wanted)
    everything = uow.categories.all() if memberships else []
    definitions = {d.code: d for d in uow.attributes.definitions()} if values else {}
    order = {c.id: index for index, c in enumerate(_depth_first(category_tree(everything)))}
    by_id = {c.id: c for c in everything}
    return {
        pid: ProductDetails(
            categories=tuple(
                by_id[cid]
                for cid in sorted(memberships.get(pid, ()), key=lambda cid: order.get(cid, -1))
                if cid in by_id
            ),
            attributes=_attributes(definitions, values.get(pid, {})),
        )
        for pid in wanted
    }


def _attributes(
    definitions: Mapping[str, AttributeDefinition], values: Mapping[str, AttributeValue]
) -> tuple[ProductAttribute, ...]:
    return tuple(
        ProductAttribute(definitions[code], values[code])
        for code in sorted(values)
        if code in definitions
    )


def catalog_details(uow: UnitOfWork, product_ids: Iterable[str]) -> dict[str, ProductDetails]:
    """``catalog_details_in`` in a transaction of its own: what a page of the product listing
    shows beside each product (``product_view(product, details)``)."""
    with uow:
        return catalog_details_in(uow, product_ids)


def get_product_with_details(uow: UnitOfWork, slug: str) -> ProductWithDetails:
    """The product ``slug`` with its categories and attributes, read together; ``NotFound``."""
    with uow:
        product = uow.products.get_by_slug(slug)
        if product is None or product.archived:  # archived: off sale, shown to staff only
            raise NotFound(f"no product {slug!r}")
        details = catalog_details_in(uow, [product.id])[product.id]
    return ProductWithDetails(product, details)


# -- changing ------------------------------------------------------------------------------------


def _catalog_writer(uow: UnitOfWork, actor_id: str) -> User:
    return acting_staff(uow, actor_id, Permission.CATALOG_WRITE)


def save_category(
    command: SaveCategory, *, uow: UnitOfWork, clock: Clock
) -> SavedSetting[Category]:
    """Create the category, or edit the one with its slug (moving it under another parent, or
    to the top with ``parent=None``). A parent that does not exist, or one inside the category
    itself, is ``InvalidInput`` on ``parent``."""
    now = clock.now()
    with uow:
        actor = _catalog_writer(uow, command.actor_id)
        everything = uow.categories.all()
        by_slug = {c.slug: c for c in everything}
        previous = by_slug.get(command.slug)
        errors: list[FieldError] = []
        parent_id = None
        if command.parent is not None:
            parent = by_slug.get(command.parent)
            if parent is None:
                errors.append(FieldError("parent", "no such category"))
            else:
                parent_id = parent.id
        if previous is None and len(everything) >= MAX_CATEGORIES:
            errors.append(FieldError("slug", f"the shop has {MAX_CATEGORIES} categories already"))
        try:
            category = Category(
                id=previous.id if previous is not None else new_id("cat"),
                slug=command.slug,
                name=command.name.strip() if isinstance(command.name, str) else command.name,
                parent_id=parent_id,
                description=command.description.strip()
                if isinstance(command.description, str)
                else command.description,
                position=command.position,
            )
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
            raise InvalidInput(errors=errors) from None
        if errors:
            raise InvalidInput(errors=errors)
        check_placement(everything, category)
        uow.categories.save(category)
        audit_staff_action(
            uow,
            now,
            actor,
            "catalog.category_saved",
            f"category:{category.id}",
            command.ip,
            category=_staff_category_view(category, [*everything, category]),
            previous=None if previous is None else _staff_category_view(previous, everything),
        )
        uow.commit()
    return SavedSetting(category, created=previous is None)


def delete_category(command: DeleteCategory, *, uow: UnitOfWork, clock: Clock) -> None:
    """Delete the category; ``NotFound`` if unknown, ``Conflict`` while it has sub-categories."""
    now = clock.now()
    with uow:
        actor = _catalog_writer(uow, command.actor_id)
        category = uow.categories.get_by_slug(command.slug)
        if category is None:
            raise NotFound(f"no category {command.slug!r}")
        products = sorted(uow.categories.product_ids_in([category.id]))
        uow.categories.delete(category.id)
        audit_staff_action(
            uow,
            now,
            actor,
            "catalog.category_deleted",
            f"category:{category.id}",
            command.ip,
            category=category_view(category),
            products_removed=len(products),
        )
        uow.commit()


def assign_product_categories(
    command: AssignProductCategories, *, uow: UnitOfWork, clock: Clock
) -> ProductWithDetails:
    """Put the product in exactly these categories (none: in no category). An unknown
    category is ``InvalidInput`` naming it (``categories[i]``); an unknown product
    ``NotFound``."""
    now = clock.now()
    with uow:
        actor = _catalog_writer(uow, command.actor_id)
        if len(command.categories) > MAX_PRODUCT_CATEGORIES:
            raise InvalidInput.for_field(
                "categories", f"must have at most {MAX_PRODUCT_CATEGORIES} entries"
            )
        product = uow.products.get_by_slug(command.product_slug)
        if product is None:
            raise NotFound(f"no product {command.product_slug!r}")
        by_slug = {c.slug: c for c in uow.categories.all()}
        errors = [
            FieldError(f"categories[{index}]", "no such category")
            for index, slug in enumerate(command.categories)
            if slug not in by_slug
        ]
        if errors:
            raise InvalidInput(errors=errors)
        chosen = sorted({by_slug[slug].id for slug in command.categories})
        before = uow.categories.categories_of([product.id]).get(product.id, [])
        uow.categories.set_product_categories(product.id, chosen)
        slugs = {c.id: c.slug for c in by_slug.values()}
        audit_staff_action(
            uow,
            now,
            actor,
            "catalog.product_categories_set",
            f"product:{product.id}",
            command.ip,
            categories=sorted(slugs[cid] for cid in chosen),
            previous=sorted(slugs.get(cid, cid) for cid in before),
        )
        details = catalog_details_in(uow, [product.id])[product.id]
        uow.commit()
    return ProductWithDetails(product, details)
