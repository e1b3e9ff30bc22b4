"""The demo shop ``commerce seed --demo`` sets up: its catalog and how it ships and taxes.

Read from ``demo_catalog.json`` (in this package): products, and a ``shipping`` section of
zones, methods and tax rates with amounts in minor units of the catalog's ``currency``. The
demo is a US shop: prices listed without tax (``PRICES_INCLUDE_TAX`` unset), sales tax for a
few states (California's not on shipping), free standard shipping from $50, and one
weight-priced international method.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, TypeVar

import attrs

from commerce_core import (
    AttributeDefinition,
    AttributeKind,
    CatalogSetup,
    InvalidInput,
    Money,
    NewCategory,
    NewProduct,
    ShippingMethod,
    ShippingSetup,
    ShippingZone,
    TaxRate,
)

__all__ = ["DemoShop", "load_demo_shop"]

T = TypeVar("T")


@attrs.frozen
class DemoShop:
    products: tuple[NewProduct, ...]
    shipping: ShippingSetup
    catalog: CatalogSetup = attrs.field(factory=CatalogSetup)


def load_demo_shop() -> DemoShop:
    """The demo shop, checked into the core's types (``InvalidInput`` names a bad entry)."""
    text = resources.files("webapp").joinpath("demo_catalog.json").read_text(encoding="utf-8")
    data = json.loads(text)
    currency = data["currency"]
    products = tuple(NewProduct.from_primitive(item, currency) for item in data["products"])
    shipping = data.get("shipping", {})

    def money(amount: int | None) -> Money | None:
        return None if amount is None else Money(amount, currency)

    def method(entry: Mapping[str, Any]) -> ShippingMethod:
        return ShippingMethod(
            id=entry["id"],
            zone_id=entry["zone_id"],
            name=entry["name"],
            price=Money(entry["price"], currency),
            free_above=money(entry.get("free_above")),
            per_kg=money(entry.get("per_kg")),
            max_weight_grams=entry.get("max_weight_grams"),
            taxable=entry.get("taxable", True),
        )

    def zone(entry: Mapping[str, Any]) -> ShippingZone:
        return ShippingZone(entry["id"], entry["name"], frozenset(entry["countries"]))

    def rate(entry: Mapping[str, Any]) -> TaxRate:
        return TaxRate(
            country=entry["country"],
            region=entry.get("region", ""),
            basis_points=entry["basis_points"],
            name=entry["name"],
            shipping_taxable=entry.get("shipping_taxable", True),
        )

    return DemoShop(
        products=products,
        shipping=ShippingSetup(
            zones=_entries(shipping.get("zones", ()), zone),
            methods=_entries(shipping.get("methods", ()), method),
            tax_rates=_entries(shipping.get("tax_rates", ()), rate),
        ),
        catalog=_catalog(data.get("catalog", {})),
    )


def _catalog(data: Mapping[str, Any]) -> CatalogSetup:
    """The ``catalog`` section: categories (parents first), attribute definitions, and per
    product slug its ``categories`` (slugs) and ``attributes`` (code -> value)."""

    def category(entry: Mapping[str, Any]) -> NewCategory:
        return NewCategory(
            slug=entry["slug"],
            name=entry["name"],
            parent=entry.get("parent"),
            description=entry.get("description", ""),
            position=entry.get("position", 0),
        )

    def attribute(entry: Mapping[str, Any]) -> AttributeDefinition:
        return AttributeDefinition(
            code=entry["code"],
            name=entry["name"],
            kind=AttributeKind(entry["kind"]),
            choices=tuple(entry.get("choices", ())),
            unit=entry.get("unit"),
            filterable=entry.get("filterable", True),
        )

    products: Mapping[str, Mapping[str, Any]] = data.get("products", {})
    return CatalogSetup(
        categories=_entries(data.get("categories", ()), category),
        attributes=_entries(data.get("attributes", ()), attribute),
        product_categories={
            slug: tuple(entry["categories"])
            for slug, entry in products.items()
            if entry.get("categories")
        },
        product_attributes={
            slug: dict(entry["attributes"])
            for slug, entry in products.items()
            if entry.get("attributes")
        },
    )


def _entries(
    entries: list[Mapping[str, Any]], build: Callable[[Mapping[str, Any]], T]
) -> tuple[T, ...]:
    built = []
    for entry in entries:
        try:
            built.append(build(entry))
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            raise InvalidInput(f"bad demo entry {dict(entry)!r}: {exc}") from None
    return tuple(built)
