"""What a product shows beyond its own row: the categories it is in and its attribute values,
each with the definition that names and types it."""

from __future__ import annotations

from typing import Any

import attrs

from commerce_core.domain.attributes import AttributeDefinition, AttributeValue
from commerce_core.domain.categories import Category

__all__ = ["ProductAttribute", "ProductDetails"]


@attrs.frozen
class ProductAttribute:
    definition: AttributeDefinition
    value: AttributeValue


@attrs.frozen
class ProductDetails:
    """A product's categories (in tree order) and attributes (by code)."""

    categories: tuple[Category, ...] = ()
    attributes: tuple[ProductAttribute, ...] = ()

    def to_primitive(self) -> dict[str, Any]:
        """``categories: [{slug, name}]`` and ``attributes: {code: {name, value, unit?}}``, as
        the product API shows them (a number's value is its canonical decimal text)."""
        attributes: dict[str, Any] = {}
        for attribute in self.attributes:
            shown: dict[str, Any] = {
                "name": attribute.definition.name,
                "value": attribute.value.text,
            }
            if attribute.definition.unit is not None:
                shown["unit"] = attribute.definition.unit
            attributes[attribute.definition.code] = shown
        return {
            "categories": [{"slug": c.slug, "name": c.name} for c in self.categories],
            "attributes": attributes,
        }
