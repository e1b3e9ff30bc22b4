"""Products and their stock.

``Product.stock`` is what can still be sold. Creating a checkout intent moves units out of it into
the order's hold; a failed, cancelled or expired payment moves them back; a paid order keeps them.
So for every product, at every moment: ``stock + held + sold == units ever received``.
"""

from __future__ import annotations

import re
from datetime import datetime

import attrs

from commerce_core.errors import FieldError, InvalidInput, OutOfStock
from commerce_core.money import Money

__all__ = ["Product", "validate_slug"]

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def validate_slug(slug: str) -> None:
    if not (1 <= len(slug) <= 100) or not _SLUG.match(slug):
        raise InvalidInput.for_field("slug", "must be lowercase letters, digits and single dashes")


@attrs.define(eq=True)
class Product:
    """A sellable item. Mutable: stock changes under a row lock in a unit of work."""

    id: str
    slug: str
    name: str
    description: str
    price: Money
    image_url: str
    stock: int
    created_at: datetime
    updated_at: datetime

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not (1 <= len(self.name) <= 200):
            errors.append(FieldError("name", "must be 1 to 200 characters"))
        if not self.price.is_positive:
            errors.append(FieldError("price", "must be positive"))
        if type(self.stock) is not int or self.stock < 0:
            errors.append(FieldError("stock", "must be a whole number of units, at least 0"))
        if errors:
            raise InvalidInput(errors=errors)
        validate_slug(self.slug)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    def take(self, quantity: int, now: datetime) -> None:
        """Move ``quantity`` units out of sellable stock; never below zero."""
        if quantity <= 0:
            raise InvalidInput.for_field("quantity", "must be at least 1")
        if quantity > self.stock:
            raise OutOfStock(
                f"only {self.stock} of {self.slug!r} left, {quantity} asked", [self.id]
            )
        self.stock -= quantity
        self.updated_at = now

    def put_back(self, quantity: int, now: datetime) -> None:
        """Return held units to sellable stock (payment failed, cancelled or hold expired)."""
        if quantity <= 0:
            raise InvalidInput.for_field("quantity", "must be at least 1")
        self.stock += quantity
        self.updated_at = now
