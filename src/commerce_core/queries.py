"""Read-side use cases: the catalog and a shopper's own orders."""

from __future__ import annotations

from typing import Any

import attrs

from commerce_core.catalog import Product, validate_slug
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ids import new_id
from commerce_core.money import Money
from commerce_core.orders import Order
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.views import Page

__all__ = [
    "MAX_PER_PAGE",
    "NewProduct",
    "PageRequest",
    "get_order",
    "get_product",
    "list_all_orders",
    "list_orders",
    "list_products",
    "stock_catalog",
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


@attrs.frozen
class NewProduct:
    slug: str
    name: str
    description: str
    price: Money
    image_url: str
    stock: int

    @classmethod
    def from_primitive(cls, data: dict[str, Any], currency: str) -> NewProduct:
        try:
            return cls(
                slug=str(data["slug"]),
                name=str(data["name"]),
                description=str(data.get("description", "")),
                price=Money(int(data["price"]), currency),
                image_url=str(data.get("image_url", "")),
                stock=int(data["stock"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"bad product entry {data!r}: {exc}") from None


def stock_catalog(uow: UnitOfWork, clock: Clock, products: list[NewProduct]) -> int:
    """Add the products whose slug is not in the catalog yet; returns how many were added.

    Running it twice adds nothing twice (seeding is idempotent by slug).
    """
    added = 0
    now = clock.now()
    with uow:
        for new in products:
            validate_slug(new.slug)
            if uow.products.get_by_slug(new.slug) is not None:
                continue
            uow.products.add(
                Product(
                    id=new_id("prod"),
                    slug=new.slug,
                    name=new.name,
                    description=new.description,
                    price=new.price,
                    image_url=new.image_url,
                    stock=new.stock,
                    created_at=now,
                    updated_at=now,
                )
            )
            added += 1
        uow.commit()
    return added
