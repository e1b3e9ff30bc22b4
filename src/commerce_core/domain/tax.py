"""Sales tax and VAT: a rate per destination, computed per line, in integer minor units.

Rates are per country, and per region (a state, a province) where one is given: a region's
rate, when the shop has one for the address's region, replaces the country-wide one. A rate in
basis points (``725`` is 7.25 %) applies to every order line, and to the shipping line when the
rate says shipping is taxed there and the shipping method is taxable.

Prices are either tax-exclusive (the shop's listed price plus tax, as US shops show them) or
tax-inclusive (the listed price already contains it, as EU shops must show them), a shop
setting stored on each order.

Rounding, per line (never on the sum), half up, in the currency's minor units:

- exclusive: ``tax = round_half_up(amount * rate / 10000)``
- inclusive: ``tax = amount - round_half_up(amount * 10000 / (10000 + rate))``

Per line, so each line's tax can be shown beside it and a refund of one line refunds exactly
its tax; half up, as shoppers and most tax authorities (the EU VAT directive's member states,
US states) expect. Everything is integer arithmetic: no float ever sees money.

>>> rate = TaxRate("US", "CA", 725, "California sales tax", shipping_taxable=False)
>>> b = price_order([("mug", Money(1800, "USD"))], None, rate=rate, prices_include_tax=False)
>>> (b.subtotal.amount, b.tax.amount, b.total.amount)
(1800, 131, 1931)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from commerce_core.domain.money import Money
from commerce_core.domain.shipping import ShippingQuote
from commerce_core.errors import FieldError, InvalidInput

__all__ = [
    "MAX_RATE_BASIS_POINTS",
    "PriceBreakdown",
    "TaxLine",
    "TaxRate",
    "price_order",
    "rate_for",
    "tax_exclusive",
    "tax_inclusive",
]

BASIS = 10_000
MAX_RATE_BASIS_POINTS = 10_000  # 100 %: above any real rate


def _round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def tax_exclusive(amount: int, basis_points: int) -> int:
    """The tax to add to a tax-exclusive ``amount``."""
    return _round_half_up(amount * basis_points, BASIS)


def tax_inclusive(amount: int, basis_points: int) -> int:
    """The tax contained in a tax-inclusive ``amount``."""
    return amount - _round_half_up(amount * BASIS, BASIS + basis_points)


@attrs.frozen
class TaxRate:
    country: str
    region: str
    basis_points: int
    name: str
    shipping_taxable: bool = True

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not (len(self.country) == 2 and self.country.isascii() and self.country.isupper()):
            errors.append(FieldError("country", "must be an ISO 3166-1 alpha-2 code"))
        if len(self.region) > 100 or not self.region.isprintable():
            errors.append(FieldError("region", "must be at most 100 printable characters"))
        if type(self.basis_points) is not int or not (
            0 <= self.basis_points <= MAX_RATE_BASIS_POINTS
        ):
            errors.append(
                FieldError("basis_points", f"must be 0 to {MAX_RATE_BASIS_POINTS} (100 %)")
            )
        if not (1 <= len(self.name) <= 100) or not self.name.isprintable():
            errors.append(FieldError("name", "must be 1 to 100 printable characters"))
        if errors:
            raise InvalidInput(errors=errors)

    @property
    def key(self) -> tuple[str, str]:
        return (self.country, self.region)


def rate_for(rates: Iterable[TaxRate], country: str, region: str = "") -> TaxRate | None:
    """The region's rate if the shop has one (case-insensitive), else the country's, else None."""
    wanted = region.strip().casefold()
    country_wide = None
    for rate in rates:
        if rate.country != country:
            continue
        if not rate.region:
            country_wide = rate
        elif wanted and rate.region.casefold() == wanted:
            return rate
    return country_wide


@attrs.frozen
class TaxLine:
    """The tax of one line of an order (``line`` is the variant id - a product id on orders
    placed before variants - or ``"shipping"``)."""

    line: str
    taxable: Money
    basis_points: int
    tax: Money

    def to_primitive(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "taxable": self.taxable.to_primitive(),
            "rate_basis_points": self.basis_points,
            "tax": self.tax.to_primitive(),
        }

    @classmethod
    def from_primitive(cls, data: Mapping[str, Any]) -> TaxLine:
        return cls(
            line=data["line"],
            taxable=Money(data["taxable"]["amount"], data["taxable"]["currency"]),
            basis_points=data["rate_basis_points"],
            tax=Money(data["tax"]["amount"], data["tax"]["currency"]),
        )


@attrs.frozen
class PriceBreakdown:
    """What an order costs: ``total = subtotal + shipping (+ tax unless prices include it)``."""

    subtotal: Money
    shipping: Money
    tax: Money
    total: Money
    prices_include_tax: bool
    tax_lines: tuple[TaxLine, ...]


def price_order(
    lines: Sequence[tuple[str, Money]],
    shipping: ShippingQuote | None,
    *,
    rate: TaxRate | None,
    prices_include_tax: bool,
) -> PriceBreakdown:
    """Price the ``(line id, line amount)`` lines and the shipping line under ``rate`` (None:
    no tax where the parcel goes)."""
    if not lines:
        raise InvalidInput.for_field("items", "an order needs at least one line")
    currency = lines[0][1].currency
    subtotal = Money.zero(currency)
    for _, amount in lines:
        subtotal += amount
    shipping_price = Money.zero(currency) if shipping is None else shipping.price
    taxed: list[tuple[str, Money]] = list(lines)
    if (
        shipping is not None
        and rate is not None
        and rate.shipping_taxable
        and shipping.taxable
        and shipping_price.is_positive
    ):
        taxed.append(("shipping", shipping_price))
    tax_lines: list[TaxLine] = []
    tax = Money.zero(currency)
    if rate is not None and rate.basis_points > 0:
        of = tax_inclusive if prices_include_tax else tax_exclusive
        for line, amount in taxed:
            line_tax = Money(of(amount.amount, rate.basis_points), currency)
            tax_lines.append(TaxLine(line, amount, rate.basis_points, line_tax))
            tax += line_tax
    total = subtotal + shipping_price
    if not prices_include_tax:
        total += tax
    return PriceBreakdown(
        subtotal=subtotal,
        shipping=shipping_price,
        tax=tax,
        total=total,
        prices_include_tax=prices_include_tax,
        tax_lines=tuple(tax_lines),
    )
