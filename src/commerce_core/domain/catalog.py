"""Products and their stock.

``Product.stock`` is what can still be sold. Creating a checkout intent moves units out of it into
the order's hold; a failed, cancelled or expired payment moves them back; a paid order keeps them.
So for every product, at every moment: ``stock + held + sold == units ever received``.
"""

from __future__ import annotations

import re
from datetime import datetime

import attrs

from commerce_core.domain.money import Money
from commerce_core.errors import FieldError, InvalidInput, OutOfStock

__all__ = ["MAX_PRICE", "MAX_STOCK", "Product", "validate_slug"]

# Bounds that keep every total (50 lines x 100 units x MAX_PRICE) well inside Money's range and
# stock inside a 32-bit column.
MAX_PRICE = 10**10
MAX_STOCK = 10**9
MAX_WEIGHT_GRAMS = 10**6  # a tonne: heavier goods do not ship as parcels
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def validate_slug(slug: str) -> None:
    if not (1 <= len(slug) <= 100) or not _SLUG.fullmatch(slug):
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
    # Grams, for weight-based shipping; None: not weighed (ships as weighing nothing).
    weight_grams: int | None = None
    # Archived: no longer listed, shown or sold, but kept (orders refer to it); staff may
    # bring it back. A product is never deleted.
    archived: bool = False

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.weight_grams is not None and (
            type(self.weight_grams) is not int or not (0 <= self.weight_grams <= MAX_WEIGHT_GRAMS)
        ):
            errors.append(FieldError("weight_grams", f"must be 0 to {MAX_WEIGHT_GRAMS} grams"))
        if not (1 <= len(self.name) <= 200):
            errors.append(FieldError("name", "must be 1 to 200 characters"))
        if not (0 < self.price.amount <= MAX_PRICE):
            errors.append(FieldError("price", f"must be positive and at most {MAX_PRICE}"))
        if type(self.stock) is not int or not (0 <= self.stock <= MAX_STOCK):
            errors.append(FieldError("stock", f"must be a whole number of units, 0 to {MAX_STOCK}"))
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

    def set_stock(self, level: int, now: datetime) -> None:
        """Staff counted the shelf: sellable stock is now ``level`` (0 to ``MAX_STOCK``)."""
        if type(level) is not int or not (0 <= level <= MAX_STOCK):
            raise InvalidInput.for_field(
                "stock", f"must be a whole number of units, 0 to {MAX_STOCK}"
            )
        self.stock = level
        self.updated_at = now

    def put_back(self, quantity: int, now: datetime) -> None:
        """Return held units to sellable stock (payment failed, cancelled or hold expired)."""
        if quantity <= 0:
            raise InvalidInput.for_field("quantity", "must be at least 1")
        if self.stock + quantity > MAX_STOCK:
            raise InvalidInput.for_field("stock", f"cannot exceed {MAX_STOCK}")
        self.stock += quantity
        self.updated_at = now
