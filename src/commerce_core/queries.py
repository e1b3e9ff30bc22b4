"""Read-side use cases: the catalog and a shopper's own orders."""

from __future__ import annotations

from typing import Any

import attrs

from commerce_core.audit import verify_chain
from commerce_core.catalog import Product, validate_slug
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ids import new_id
from commerce_core.money import Money
from commerce_core.orders import Order
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.views import Page

__all__ = [
    "MAX_PER_PAGE",
    "AuditVerification",
    "NewProduct",
    "PageRequest",
    "get_order",
    "get_product",
    "list_all_orders",
    "list_orders",
    "list_products",
    "stock_catalog",
    "verify_audit_log",
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
class AuditVerification:
    intact: bool
    entries: int
    first_bad_entry: str | None


def verify_audit_log(uow: UnitOfWork) -> AuditVerification:
    """Walk the audit log's hash chain; ``intact`` is False if any entry was altered or removed."""
    with uow:
        entries = list(uow.audit.all())
    intact, first_bad = verify_chain(entries)
    return AuditVerification(intact, len(entries), first_bad)


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
            price, stock = data["price"], data["stock"]
            if type(price) is not int or type(stock) is not int:
                # 18.99 must not quietly become 18: prices are minor units, stock whole units.
                raise InvalidInput(f"price and stock of {data.get('slug')!r} must be integers")
            return cls(
                slug=str(data["slug"]),
                name=str(data["name"]),
                description=str(data.get("description", "")),
                price=Money(price, currency),
                image_url=str(data.get("image_url", "")),
                stock=stock,
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
