"""Shipping: zones by country, and the methods (rates) that ship to each zone, as pure rules.

A zone is a set of countries; one zone may instead be the rest of the world (``"*"``), used
only for countries no other zone names. A method belongs to one zone and prices a parcel as

    free, if the cart's subtotal is at least ``free_above``;
    else ``price`` + ``per_kg`` for every started kilogram of the cart's weight;

and is not offered above ``max_weight_grams``. Products without a weight weigh nothing here, so
a shop that never weighs anything pays flat rates. A method is taxable unless it says not
(the tax rate of the destination decides whether shipping is taxed at all, ``tax.py``).

>>> zone = ShippingZone("dom", "Domestic", frozenset({"US"}))
>>> std = ShippingMethod("standard", "dom", "Standard", Money(500, "USD"),
...                      free_above=Money(5000, "USD"))
>>> [q.price.amount for q in quote_shipping([zone], [std], country="US",
...                                         subtotal=Money(1800, "USD"), weight_grams=0)]
[500]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from commerce_core.domain.money import Money
from commerce_core.errors import FieldError, InvalidInput

__all__ = [
    "REST_OF_WORLD",
    "ShippingMethod",
    "ShippingQuote",
    "ShippingZone",
    "choose_shipping",
    "quote_shipping",
]

REST_OF_WORLD = "*"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_WEIGHT_GRAMS = 10**7  # 10 t: far above any parcel, far below any overflow
GRAMS_PER_KG = 1000


def _check_id(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidInput.for_field(
            attribute.name, "must be 1 to 64 lowercase letters, digits, '-' or '_'"
        )


@attrs.frozen
class ShippingZone:
    id: str = attrs.field(validator=_check_id)
    name: str
    countries: frozenset[str]

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not (1 <= len(self.name) <= 100) or not self.name.isprintable():
            errors.append(FieldError("name", "must be 1 to 100 printable characters"))
        if not self.countries:
            errors.append(FieldError("countries", "must name at least one country, or '*'"))
        if REST_OF_WORLD in self.countries and len(self.countries) > 1:
            errors.append(FieldError("countries", "'*' (the rest of the world) stands alone"))
        if errors:
            raise InvalidInput(errors=errors)

    @property
    def is_rest_of_world(self) -> bool:
        return REST_OF_WORLD in self.countries


@attrs.frozen
class ShippingMethod:
    """One way of shipping to one zone, and its price. ``id`` is what a checkout names."""

    id: str = attrs.field(validator=_check_id)
    zone_id: str
    name: str
    price: Money
    free_above: Money | None = None
    per_kg: Money | None = None
    max_weight_grams: int | None = None
    taxable: bool = True
    active: bool = True

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not (1 <= len(self.name) <= 100) or not self.name.isprintable():
            errors.append(FieldError("name", "must be 1 to 100 printable characters"))
        if self.price.amount < 0:
            errors.append(FieldError("price", "must not be negative"))
        for name, money in (("free_above", self.free_above), ("per_kg", self.per_kg)):
            if money is None:
                continue
            if money.currency != self.price.currency:
                errors.append(FieldError(name, f"must be in {self.price.currency}"))
            elif money.amount < 0:
                errors.append(FieldError(name, "must not be negative"))
        if self.max_weight_grams is not None and not (
            type(self.max_weight_grams) is int and 0 < self.max_weight_grams <= MAX_WEIGHT_GRAMS
        ):
            errors.append(FieldError("max_weight_grams", f"must be 1 to {MAX_WEIGHT_GRAMS}"))
        if errors:
            raise InvalidInput(errors=errors)

    @property
    def currency(self) -> str:
        return self.price.currency

    def price_for(self, subtotal: Money, weight_grams: int) -> Money | None:
        """What this method charges for a cart, or None if it cannot carry it."""
        if subtotal.currency != self.currency:
            return None
        if self.max_weight_grams is not None and weight_grams > self.max_weight_grams:
            return None
        if self.free_above is not None and subtotal >= self.free_above:
            return Money.zero(self.currency)
        price = self.price
        if self.per_kg is not None and weight_grams > 0:
            started_kg = -(-weight_grams // GRAMS_PER_KG)
            price += self.per_kg * started_kg
        return price


@attrs.frozen
class ShippingQuote:
    """A method that can carry the cart, and what it costs."""

    method_id: str
    name: str
    price: Money
    taxable: bool

    def to_primitive(self) -> dict[str, object]:
        return {"id": self.method_id, "name": self.name, "price": self.price.to_primitive()}


def zone_for(zones: Iterable[ShippingZone], country: str) -> ShippingZone | None:
    """The zone that names ``country``, else the rest-of-the-world zone, else None."""
    fallback = None
    for zone in zones:
        if country in zone.countries:
            return zone
        if zone.is_rest_of_world:
            fallback = zone
    return fallback


def quote_shipping(
    zones: Iterable[ShippingZone],
    methods: Iterable[ShippingMethod],
    *,
    country: str,
    subtotal: Money,
    weight_grams: int,
) -> list[ShippingQuote]:
    """The methods that ship this cart to ``country``, cheapest first (then by name)."""
    zone = zone_for(zones, country)
    if zone is None:
        return []
    quotes = []
    for method in methods:
        if method.zone_id != zone.id or not method.active:
            continue
        price = method.price_for(subtotal, weight_grams)
        if price is not None:
            quotes.append(ShippingQuote(method.id, method.name, price, method.taxable))
    return sorted(quotes, key=lambda q: (q.price.amount, q.name, q.method_id))


def choose_shipping(
    zones: Sequence[ShippingZone],
    methods: Sequence[ShippingMethod],
    method_id: str,
    *,
    country: str,
    subtotal: Money,
    weight_grams: int,
) -> ShippingQuote:
    """The quote of the method a checkout named; ``InvalidInput`` on ``shipping_method`` if it
    does not ship this cart there."""
    for quote in quote_shipping(
        zones, methods, country=country, subtotal=subtotal, weight_grams=weight_grams
    ):
        if quote.method_id == method_id:
            return quote
    raise InvalidInput.for_field(
        "shipping_method", f"is not a shipping method for this cart to {country}"
    )
