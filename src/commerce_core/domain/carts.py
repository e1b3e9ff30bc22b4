"""A shopper's cart, kept by the shop so that it survives signing in and changing device.

A cart names variants and quantities, nothing more: names, prices and stock are read from the
catalogue each time it is shown, so it never shows a stale price. It belongs to an account, or
to nobody - an anonymous visitor's cart, known only by its id (128 random bits, kept by the
browser). Signing in folds the anonymous cart into the account's (``absorb``).

Its bounds are checkout's (``CartLimits``, given by the use cases): a cart never holds what the
checkout would refuse. ``order_id`` links the order placed from the cart while its payment is
under way; once that order is paid, what it bought leaves the cart (``forget_bought``), and a
declined card leaves the cart as it was, to try again.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 3, 1, tzinfo=UTC)
>>> cart = Cart.new("cart_1", None, now)
>>> cart.add("var_1", 2, now, CartLimits(max_lines=50, max_quantity=100))
>>> cart.units
2
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from commerce_core.errors import InvalidInput

__all__ = ["Cart", "CartLimits", "CartLine"]


@attrs.frozen
class CartLimits:
    """How many different variants a cart holds, and how many units of each."""

    max_lines: int
    max_quantity: int


@attrs.frozen
class CartLine:
    variant_id: str
    quantity: int


@attrs.define
class Cart:
    id: str
    # The owner's account; None for an anonymous visitor's cart.
    user_id: str | None
    created_at: datetime
    # Every change touches it: carts untouched for long are purged.
    updated_at: datetime
    # In the order the shopper added them.
    lines: list[CartLine] = attrs.Factory(list)
    # The order placed from this cart whose payment is under way (see the module docstring).
    order_id: str | None = None

    @classmethod
    def new(cls, cart_id: str, user_id: str | None, now: datetime) -> Cart:
        return cls(id=cart_id, user_id=user_id, created_at=now, updated_at=now)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    def quantity_of(self, variant_id: str) -> int:
        return next((line.quantity for line in self.lines if line.variant_id == variant_id), 0)

    def add(self, variant_id: str, quantity: int, now: datetime, limits: CartLimits) -> None:
        """Add units of a variant (to its line, or as a new line); ``InvalidInput`` if the line
        would exceed ``max_quantity`` or the cart ``max_lines``."""
        _check_quantity(quantity, limits, least=1)
        held = self.quantity_of(variant_id)
        if held + quantity > limits.max_quantity:
            raise InvalidInput.for_field(
                "quantity", f"a cart holds at most {limits.max_quantity} of one item"
            )
        self._put(variant_id, held + quantity, now, limits)

    def set_quantity(
        self, variant_id: str, quantity: int, now: datetime, limits: CartLimits
    ) -> None:
        """Make the line ``quantity`` units (0 removes it)."""
        _check_quantity(quantity, limits, least=0)
        self._put(variant_id, quantity, now, limits)

    def remove(self, variant_id: str, now: datetime) -> bool:
        """Take the line out; whether there was one."""
        kept = [line for line in self.lines if line.variant_id != variant_id]
        if len(kept) == len(self.lines):
            return False
        self.lines = kept
        self.updated_at = now
        return True

    def absorb(self, other: Cart, now: datetime, limits: CartLimits) -> int:
        """Add ``other``'s lines to this cart (a line both have adds up, capped at
        ``max_quantity``); lines beyond ``max_lines`` cannot come. Returns how many units
        did not fit."""
        left_out = 0
        for line in other.lines:
            held = self.quantity_of(line.variant_id)
            if held == 0 and len(self.lines) >= limits.max_lines:
                left_out += line.quantity
                continue
            wanted = min(held + line.quantity, limits.max_quantity)
            left_out += held + line.quantity - wanted
            self._put(line.variant_id, wanted, now, limits)
        return left_out

    def forget_bought(self, bought: Mapping[str, int], now: datetime) -> None:
        """The order placed from this cart was paid: take out what it bought (variant id ->
        units), and forget the order. Lines added since stay."""
        lines = []
        for line in self.lines:
            left = line.quantity - bought.get(line.variant_id, 0)
            if left > 0:
                lines.append(CartLine(line.variant_id, left))
        self.lines = lines
        self.order_id = None
        self.updated_at = now

    def _put(self, variant_id: str, quantity: int, now: datetime, limits: CartLimits) -> None:
        if quantity == 0:
            self.remove(variant_id, now)
            return
        if not any(line.variant_id == variant_id for line in self.lines):
            if len(self.lines) >= limits.max_lines:
                raise InvalidInput.for_field(
                    "items", f"a cart holds at most {limits.max_lines} different items"
                )
            self.lines.append(CartLine(variant_id, quantity))
        else:
            self.lines = [
                CartLine(variant_id, quantity) if line.variant_id == variant_id else line
                for line in self.lines
            ]
        self.updated_at = now


def _check_quantity(quantity: object, limits: CartLimits, *, least: int) -> None:
    if type(quantity) is not int or not (least <= quantity <= limits.max_quantity):
        raise InvalidInput.for_field(
            "quantity", f"must be a whole number from {least} to {limits.max_quantity}"
        )
