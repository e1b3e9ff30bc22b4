"""The pure rules of shipping an order: what an address must be, which methods ship where and
at what price, and how tax is computed and rounded (per line, half up, in minor units)."""

from __future__ import annotations

from typing import Any

import pytest

from commerce_core import (
    Address,
    InvalidInput,
    Money,
    ShippingMethod,
    ShippingQuote,
    ShippingZone,
    TaxRate,
    choose_shipping,
    price_order,
    quote_shipping,
    rate_for,
)
from commerce_core.domain.tax import tax_exclusive, tax_inclusive

GOOD: dict[str, Any] = {
    "name": "Ada Lovelace",
    "line1": "12 Main St",
    "city": "Springfield",
    "postal_code": "62701",
    "region": "IL",
    "country": "US",
}


def usd(cents: int) -> Money:
    return Money(cents, "USD")


# -- addresses -----------------------------------------------------------------------------


def test_an_address_is_kept_trimmed_nfc_and_with_an_upper_case_country() -> None:
    address = Address.parse({**GOOD, "name": "  Zoe\u0301 ", "country": "us", "line2": None})
    assert address.name == "Zoé"
    assert address.country == "US"
    assert address.line2 == ""
    assert Address.from_primitive(address.to_primitive()) == address


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "shipping_address.name"),
        ({"line1": None}, "shipping_address.line1"),
        ({"city": "x" * 101}, "shipping_address.city"),
        ({"country": "XX"}, "shipping_address.country"),
        ({"country": "USA"}, "shipping_address.country"),
        ({"postal_code": "ABCDE"}, "shipping_address.postal_code"),
        ({"postal_code": ""}, "shipping_address.postal_code"),
        ({"line1": "1 Main\x00St"}, "shipping_address.line1"),
        ({"line1": "1 Main \ud800"}, "shipping_address.line1"),
        ({"city": 5}, "shipping_address.city"),
        ({"street": "1 Main St"}, "shipping_address.street"),
    ],
)
def test_a_bad_address_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Address.parse({**GOOD, **change})
    assert field in {error.field for error in refused.value.errors}


def test_an_address_must_be_an_object() -> None:
    with pytest.raises(InvalidInput) as refused:
        Address.parse(["not", "an", "address"])
    assert refused.value.errors[0].field == "shipping_address"


@pytest.mark.parametrize(
    ("country", "postal_code", "kept"),
    [
        ("US", "62701-1234", "62701-1234"),
        ("GB", "sw1a 1aa", "SW1A 1AA"),
        ("CA", "K1A 0B1", "K1A 0B1"),
        ("NL", "1012 ab", "1012 AB"),
        ("DE", "10115", "10115"),
        ("HK", "", ""),  # Hong Kong has no postal codes
        ("KE", "00100", "00100"),  # no known format: letters, digits, spaces and dashes
    ],
)
def test_postal_codes_follow_the_country(country: str, postal_code: str, kept: str) -> None:
    address = Address.parse({**GOOD, "country": country, "postal_code": postal_code})
    assert address.postal_code == kept


@pytest.mark.parametrize(("country", "postal_code"), [("DE", "1011"), ("GB", "12345")])
def test_a_postal_code_not_of_the_country_is_refused(country: str, postal_code: str) -> None:
    with pytest.raises(InvalidInput):
        Address.parse({**GOOD, "country": country, "postal_code": postal_code})


# -- shipping ------------------------------------------------------------------------------

DOMESTIC = ShippingZone("domestic", "Domestic", frozenset({"US"}))
EUROPE = ShippingZone("europe", "Europe", frozenset({"DE", "FR"}))
WORLD = ShippingZone("world", "Rest of the world", frozenset({"*"}))
STANDARD = ShippingMethod("standard", "domestic", "Standard", usd(500), free_above=usd(5000))
EXPRESS = ShippingMethod("express", "domestic", "Express", usd(1500))
HEAVY = ShippingMethod(
    "international", "world", "International", usd(2500), per_kg=usd(800), max_weight_grams=20_000
)
RETIRED = ShippingMethod("old", "domestic", "Old", usd(100), active=False)
ZONES = [DOMESTIC, EUROPE, WORLD]
METHODS = [STANDARD, EXPRESS, HEAVY, RETIRED]


def quotes(country: str, subtotal: int = 1800, grams: int = 0) -> list[tuple[str, int]]:
    found = quote_shipping(
        ZONES, METHODS, country=country, subtotal=usd(subtotal), weight_grams=grams
    )
    return [(q.method_id, q.price.amount) for q in found]


def test_a_country_gets_its_zones_active_methods_cheapest_first() -> None:
    assert quotes("US") == [("standard", 500), ("express", 1500)]


def test_a_method_is_free_at_and_above_its_threshold() -> None:
    assert quotes("US", subtotal=4999)[0] == ("standard", 500)
    assert quotes("US", subtotal=5000)[0] == ("standard", 0)


def test_the_rest_of_the_world_takes_every_country_no_zone_names() -> None:
    assert quotes("JP", grams=0) == [("international", 2500)]
    assert quotes("DE") == []  # Europe is a zone of its own, with no methods yet


def test_weight_is_charged_per_started_kilogram_up_to_the_limit() -> None:
    assert quotes("JP", grams=1) == [("international", 3300)]
    assert quotes("JP", grams=1000) == [("international", 3300)]
    assert quotes("JP", grams=1001) == [("international", 4100)]
    assert quotes("JP", grams=20_000) == [("international", 2500 + 20 * 800)]
    assert quotes("JP", grams=20_001) == []


def test_a_zone_without_the_rest_of_the_world_ships_nowhere_else() -> None:
    found = quote_shipping([DOMESTIC], [STANDARD], country="FR", subtotal=usd(100), weight_grams=0)
    assert found == []


def test_choosing_a_method_that_does_not_ship_there_is_a_field_error() -> None:
    with pytest.raises(InvalidInput) as refused:
        choose_shipping(ZONES, METHODS, "express", country="JP", subtotal=usd(1), weight_grams=0)
    assert refused.value.errors[0].field == "shipping_method"
    assert choose_shipping(
        ZONES, METHODS, "express", country="US", subtotal=usd(1), weight_grams=0
    ) == ShippingQuote("express", "Express", usd(1500), True)


def test_a_method_in_another_currency_does_not_price_the_cart() -> None:
    euro = ShippingMethod("eu", "domestic", "Euro", Money(300, "EUR"))
    assert quote_shipping([DOMESTIC], [euro], country="US", subtotal=usd(1), weight_grams=0) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "Bad Id"},
        {"name": ""},
        {"price": usd(-1)},
        {"free_above": Money(5, "EUR")},
        {"max_weight_grams": 0},
    ],
)
def test_a_method_is_checked_when_made(bad: dict[str, Any]) -> None:
    fields = {"id": "m", "zone_id": "z", "name": "M", "price": usd(1), **bad}
    with pytest.raises(InvalidInput):
        ShippingMethod(**fields)


def test_the_rest_of_the_world_stands_alone_in_its_zone() -> None:
    with pytest.raises(InvalidInput):
        ShippingZone("mixed", "Mixed", frozenset({"*", "US"}))


# -- tax -----------------------------------------------------------------------------------

CA = TaxRate("US", "CA", 725, "California", shipping_taxable=False)
NY = TaxRate("US", "NY", 400, "New York", shipping_taxable=True)
US = TaxRate("US", "", 0, "No state tax")
DE = TaxRate("DE", "", 1900, "MwSt")


def test_a_regions_rate_replaces_the_countrys() -> None:
    rates = [CA, NY, US, DE]
    assert rate_for(rates, "US", "ca") is CA
    assert rate_for(rates, "US", "OR") is US
    assert rate_for(rates, "US") is US
    assert rate_for(rates, "DE", "Bayern") is DE
    assert rate_for(rates, "FR") is None


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [
        (1800, 725, 131),  # 130.5 rounds half up
        (1000, 725, 73),  # 72.5 rounds half up
        (999, 725, 72),  # 72.4275
        (1, 725, 0),
        (0, 725, 0),
        (1000, 0, 0),
    ],
)
def test_exclusive_tax_is_rounded_half_up_per_line(amount: int, rate: int, tax: int) -> None:
    assert tax_exclusive(amount, rate) == tax


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [
        (1190, 1900, 190),  # 19 % VAT inside 11.90
        (1000, 1900, 160),  # 840.336 net rounds to 840
        (1, 1900, 0),
        (2000, 2000, 333),  # 1666.67 net rounds to 1667
    ],
)
def test_inclusive_tax_is_the_part_of_the_price_above_its_rounded_net(
    amount: int, rate: int, tax: int
) -> None:
    assert tax_inclusive(amount, rate) == tax


def test_an_exclusive_order_adds_tax_per_line_and_on_taxable_shipping() -> None:
    shipping = ShippingQuote("standard", "Standard", usd(500), True)
    lines = [("mug", usd(1800)), ("lamp", usd(999))]
    breakdown = price_order(lines, shipping, rate=NY, prices_include_tax=False)
    assert [(t.line, t.tax.amount) for t in breakdown.tax_lines] == [
        ("mug", 72),
        ("lamp", 40),
        ("shipping", 20),
    ]
    assert breakdown.subtotal == usd(2799)
    assert breakdown.tax == usd(132)
    assert breakdown.total == usd(2799 + 500 + 132)


def test_shipping_is_untaxed_where_the_rate_says_so_or_the_method_is_not_taxable() -> None:
    taxable = ShippingQuote("standard", "Standard", usd(500), True)
    untaxable = ShippingQuote("standard", "Standard", usd(500), False)
    lines = [("mug", usd(1800))]
    assert price_order(lines, taxable, rate=CA, prices_include_tax=False).tax == usd(131)
    assert price_order(lines, untaxable, rate=NY, prices_include_tax=False).tax == usd(72)


def test_an_inclusive_order_shows_the_tax_it_contains_and_charges_the_listed_prices() -> None:
    shipping = ShippingQuote("standard", "Standard", Money(490, "EUR"), True)
    breakdown = price_order(
        [("mug", Money(1190, "EUR"))], shipping, rate=DE, prices_include_tax=True
    )
    assert breakdown.tax == Money(190 + 78, "EUR")
    assert breakdown.total == Money(1190 + 490, "EUR")


def test_no_rate_means_no_tax_lines() -> None:
    breakdown = price_order([("mug", usd(1800))], None, rate=None, prices_include_tax=False)
    assert breakdown.tax_lines == ()
    assert breakdown.total == usd(1800)
