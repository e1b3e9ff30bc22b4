"""The shipping set-up of the test shops: one free domestic method and no tax, so a test's
totals are its lines' (the tests of shipping and tax set up their own)."""

from __future__ import annotations

from typing import Any

from commerce_core import Money, ShippingMethod, ShippingSetup, ShippingZone

US_ADDRESS: dict[str, Any] = {
    "name": "Sam Shopper",
    "line1": "1 Main Street",
    "city": "Springfield",
    "postal_code": "62701",
    "region": "IL",
    "country": "US",
}
METHOD = "standard"

FREE_DOMESTIC = ShippingSetup(
    zones=(ShippingZone("domestic", "Domestic", frozenset({"US"})),),
    methods=(ShippingMethod(METHOD, "domestic", "Standard", Money(0, "USD")),),
)


def shipped(body: dict[str, Any]) -> dict[str, Any]:
    """An intent request's body with the test address and method added."""
    return {"shipping_address": US_ADDRESS, "shipping_method": METHOD, **body}
