"""Shipping and tax as the shop is set up: seeding the set-up, and quoting a cart.

``configure_shipping`` adds the zones, methods and tax rates a shop starts with (the demo's,
or a deployment's own) and leaves alone whatever is already there, so running it twice
changes nothing. ``shipping_options`` prices every method that ships a cart to a country, as
the checkout will charge it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import attrs

from commerce_core.domain.addresses import COUNTRIES
from commerce_core.domain.money import Money
from commerce_core.domain.shipping import (
    ShippingMethod,
    ShippingQuote,
    ShippingZone,
    quote_shipping,
)
from commerce_core.domain.tax import TaxRate
from commerce_core.errors import FieldError, InvalidInput
from commerce_core.ports import UnitOfWork
from commerce_core.use_cases.checkout import CartItem, _validated_cart, resolve_cart

__all__ = ["ShippingSetup", "configure_shipping", "shipping_options"]


@attrs.frozen
class ShippingSetup:
    zones: tuple[ShippingZone, ...] = ()
    methods: tuple[ShippingMethod, ...] = ()
    tax_rates: tuple[TaxRate, ...] = ()


def configure_shipping(uow: UnitOfWork, setup: ShippingSetup) -> int:
    """Add what ``setup`` has that the shop has not (by zone id, method id, tax rate's country
    and region); how many were added. Existing entries, perhaps edited by staff, are kept."""
    added = 0
    with uow:
        zones = {zone.id for zone in uow.shipping.zones()}
        methods = {method.id for method in uow.shipping.methods()}
        rates = {rate.key for rate in uow.tax_rates.list()}
        for zone in setup.zones:
            if zone.id not in zones:
                uow.shipping.save_zone(zone)
                added += 1
        for method in setup.methods:
            if method.id not in methods:
                uow.shipping.save_method(method)
                added += 1
        for rate in setup.tax_rates:
            if rate.key not in rates:
                uow.tax_rates.save(rate)
                added += 1
        uow.commit()
    return added


def shipping_options(
    uow: UnitOfWork, country: str, items: Sequence[CartItem] = ()
) -> list[ShippingQuote]:
    """The methods that ship ``items`` (priced by the catalog, weighed by its weights) to
    ``country``, cheapest first. With no items, each method's price for an empty parcel."""
    code = country.upper() if isinstance(country, str) else ""
    if code not in COUNTRIES:
        raise InvalidInput(errors=[FieldError("country", "must be an ISO 3166-1 alpha-2 code")])
    wanted = _validated_cart(tuple(items)) if items else Counter[tuple[str, str]]()
    with uow:
        zones, methods = uow.shipping.zones(), uow.shipping.methods()
        # Unknown or archived products and variants are refused, as at checkout.
        products, resolved = resolve_cart(wanted, uow, lock=False)
    subtotal: Money | None = None
    weight = 0
    for (pid, vid), quantity in sorted(resolved.items()):
        variant = products[pid].must_variant(vid)
        line = variant.price * quantity
        if subtotal is not None and line.currency != subtotal.currency:
            raise InvalidInput.for_field("items", "all products of one order must share a currency")
        subtotal = line if subtotal is None else subtotal + line
        weight += (variant.weight_grams or 0) * quantity
    if subtotal is None:
        currencies = {method.currency for method in methods}
        return [
            quote
            for currency in sorted(currencies)
            for quote in quote_shipping(
                zones, methods, country=code, subtotal=Money.zero(currency), weight_grams=0
            )
        ]
    return quote_shipping(zones, methods, country=code, subtotal=subtotal, weight_grams=weight)
