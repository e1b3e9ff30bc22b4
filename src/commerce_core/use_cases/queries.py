"""Read-side use cases: the catalog and a shopper's own orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from commerce_core.domain.catalog import Product
from commerce_core.domain.catalog_search import CatalogFacets, CatalogQuery, FacetCount
from commerce_core.domain.categories import Category, descendant_ids
from commerce_core.domain.orders import Order
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ports import UnitOfWork
from commerce_core.views import Page

__all__ = [
    "MAX_PER_PAGE",
    "CatalogPage",
    "PageRequest",
    "get_order",
    "get_product",
    "list_all_orders",
    "list_orders",
    "list_products",
    "search_catalog",
]

MAX_PER_PAGE = 100


@attrs.frozen
class PageRequest:
    page: int = 1
    per_page: int = 20

    def __attrs_post_init__(self) -> None:
        errors = []
        if type(self.page) is not int or not (1 <= self.page <= 100_000):
            errors.append(FieldError("page", "must be a whole number from 1"))
        if type(self.per_page) is not int or not (1 <= self.per_page <= MAX_PER_PAGE):
            errors.append(FieldError("per_page", f"must be 1 to {MAX_PER_PAGE}"))
        if errors:
            raise InvalidInput(errors=errors)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def list_products(uow: UnitOfWork, paging: PageRequest, query: str | None = None) -> Page[Product]:
    """The catalogue's page, by name, whose name or description contains ``query``."""
    found = search_catalog(uow, CatalogQuery(text=query), paging, with_facets=False)
    return found.page


@attrs.frozen
class CatalogPage:
    page: Page[Product]
    # Category facets are counted by category slug; ``category_names`` names them.
    facets: CatalogFacets
    category_names: Mapping[str, str] = attrs.field(factory=dict)


def search_catalog(
    uow: UnitOfWork,
    where: CatalogQuery,
    paging: PageRequest,
    *,
    category: str | None = None,
    attributes: Mapping[str, Sequence[str]] | None = None,
    with_facets: bool = True,
) -> CatalogPage:
    """The page of products matching ``where`` - in the category with slug ``category`` or any
    of its sub-categories, and with one of the given values of each attribute - and, for the
    whole match, the facet counts; read in one transaction, so the counts and the page agree.
    ``InvalidInput`` names an unknown category, an attribute that is not filterable, or a
    value the attribute cannot have."""
    with uow:
        categories = uow.categories.all() if with_facets or category is not None else []
        where = _narrowed(uow, where, categories, category, attributes or {})
        items, total = uow.products.search(where, paging.offset, paging.per_page)
        facets = uow.products.facets(where) if with_facets else CatalogFacets()
    by_id = {c.id: c for c in categories}
    facets = attrs.evolve(
        facets,
        categories=tuple(
            FacetCount(by_id[f.value].slug, f.count) for f in facets.categories if f.value in by_id
        ),
    )
    names = {c.slug: c.name for c in categories}
    return CatalogPage(Page(items, paging.page, paging.per_page, total), facets, names)


def _narrowed(
    uow: UnitOfWork,
    where: CatalogQuery,
    categories: Sequence[Category],
    category: str | None,
    attributes: Mapping[str, Sequence[str]],
) -> CatalogQuery:
    errors: list[FieldError] = []
    category_ids = where.category_ids
    if category is not None:
        found = next((c for c in categories if c.slug == category), None)
        if found is None:
            errors.append(FieldError("category", "no such category"))
        else:
            category_ids = descendant_ids(categories, [found.id])
    accepted: dict[str, frozenset[str]] = dict(where.attributes)
    if attributes:
        definitions = {d.code: d for d in uow.attributes.definitions()}
        for code, raw_values in sorted(attributes.items()):
            field = f"attr[{code}]"
            definition = definitions.get(code)
            if definition is None or not definition.filterable:
                errors.append(FieldError(field, "is not an attribute the catalogue filters by"))
                continue
            values: set[str] = set()
            for raw in raw_values:
                try:
                    values.add(definition.parse(raw, field).text)
                except InvalidInput as refused:
                    errors.extend(refused.errors)
            accepted[code] = frozenset(values)
    if errors:
        raise InvalidInput(errors=errors)
    return attrs.evolve(where, category_ids=category_ids, attributes=accepted)


def get_product(uow: UnitOfWork, slug: str) -> Product:
    """The product shoppers see at ``slug``; an archived one is ``NotFound`` like a missing one."""
    with uow:
        product = uow.products.get_by_slug(slug)
    if product is None or product.archived:
        raise NotFound(f"no product {slug!r}")
    return product


def list_orders(uow: UnitOfWork, user_id: str, paging: PageRequest) -> Page[Order]:
    with uow:
        items, total = uow.orders.list_for_user(user_id, paging.offset, paging.per_page)
    return Page(items, paging.page, paging.per_page, total)


def list_all_orders(uow: UnitOfWork, paging: PageRequest) -> Page[Order]:
    with uow:
        items, total = uow.orders.list_all(paging.offset, paging.per_page)
    return Page(items, paging.page, paging.per_page, total)


def get_order(uow: UnitOfWork, user_id: str, order_id: str) -> Order:
    """One's own order; another user's order is ``NotFound``, exactly like a missing one."""
    with uow:
        order = uow.orders.get(order_id)
    if order is None or order.user_id != user_id:
        raise NotFound("no such order")
    return order
