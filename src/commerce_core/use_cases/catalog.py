"""Stocking the catalog: adding products (the demo seed, later the staff's catalogue tools)."""

from __future__ import annotations

from typing import Any

import attrs

from commerce_core.domain.catalog import Product, validate_slug
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.errors import InvalidInput
from commerce_core.ports import Clock, UnitOfWork

__all__ = ["NewProduct", "stock_catalog"]


@attrs.frozen
class NewProduct:
    slug: str
    name: str
    description: str
    price: Money
    image_url: str
    stock: int
    weight_grams: int | None = None

    @classmethod
    def from_primitive(cls, data: dict[str, Any], currency: str) -> NewProduct:
        try:
            price, stock = data["price"], data["stock"]
            weight = data.get("weight_grams")
            if weight is not None and type(weight) is not int:
                raise InvalidInput(f"weight_grams of {data.get('slug')!r} must be an integer")
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
                weight_grams=weight,
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
                    weight_grams=new.weight_grams,
                )
            )
            added += 1
        uow.commit()
    return added
