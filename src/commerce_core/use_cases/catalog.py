"""Stocking the catalog: adding products (the demo seed, later the staff's catalogue tools)."""

from __future__ import annotations

from typing import Any

import attrs

from commerce_core.domain.catalog import validate_slug
from commerce_core.domain.money import Money
from commerce_core.errors import InvalidInput
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.use_cases.catalog_admin import CreateProduct, NewVariant, new_product_from

__all__ = ["NewProduct", "stock_catalog"]


@attrs.frozen
class NewProduct:
    """A product to seed: without ``option_names``, one variant (``price``, ``stock``,
    ``weight_grams``, SKU = the slug); with them, ``variants``."""

    slug: str
    name: str
    description: str
    price: Money
    image_url: str
    stock: int
    weight_grams: int | None = None
    option_names: tuple[str, ...] = ()
    variants: tuple[NewVariant, ...] = ()

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
            variants = tuple(
                NewVariant(
                    sku=str(v["sku"]),
                    options={str(k): str(o) for k, o in v["options"].items()},
                    price=_whole(v.get("price", price), "price", data),
                    stock=_whole(v.get("stock", 0), "stock", data),
                    weight_grams=v.get("weight_grams", weight),
                )
                for v in data.get("variants", ())
            )
            return cls(
                slug=str(data["slug"]),
                name=str(data["name"]),
                description=str(data.get("description", "")),
                price=Money(price, currency),
                image_url=str(data.get("image_url", "")),
                stock=stock,
                weight_grams=weight,
                option_names=tuple(str(n) for n in data.get("option_names", ())),
                variants=variants,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"bad product entry {data!r}: {exc}") from None


def _whole(value: object, name: str, data: dict[str, Any]) -> int:
    if type(value) is not int:
        raise InvalidInput(f"{name} of {data.get('slug')!r} must be an integer")
    return value


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
            product = new_product_from(
                CreateProduct(
                    actor_id="",
                    slug=new.slug,
                    name=new.name,
                    price=new.price,
                    description=new.description,
                    stock=new.stock,
                    weight_grams=new.weight_grams,
                    option_names=new.option_names,
                    variants=new.variants,
                ),
                now,
            )
            product.image_url = new.image_url
            uow.products.add(product)
            added += 1
        uow.commit()
    return added
