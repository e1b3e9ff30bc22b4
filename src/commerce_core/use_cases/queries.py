"""Read-side use cases: the catalog and a shopper's own orders."""

from __future__ import annotations

import attrs

from commerce_core.domain.catalog import Product
from commerce_core.domain.orders import Order
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ports import UnitOfWork
from commerce_core.views import Page

__all__ = [
    "MAX_PER_PAGE",
    "PageRequest",
    "get_order",
    "get_product",
    "list_all_orders",
    "list_orders",
    "list_products",
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
    query = (query or "").strip() or None
    if query is not None and len(query) > 100:
        raise InvalidInput.for_field("q", "must be at most 100 characters")
    with uow:
        items, total = uow.products.search(query, paging.offset, paging.per_page)
    return Page(items, paging.page, paging.per_page, total)


def get_product(uow: UnitOfWork, slug: str) -> Product:
    with uow:
        product = uow.products.get_by_slug(slug)
    if product is None:
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
