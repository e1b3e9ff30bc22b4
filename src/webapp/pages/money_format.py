"""Money as shoppers and staff read it: one formatter for every page (the ``price`` filter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commerce_core import Money, exponent_of

__all__ = ["format_price"]

_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "CAD": "CA$",
    "AUD": "A$",
}


def format_price(value: Money | Mapping[str, Any]) -> str:
    """``Money(123456, "USD")`` (or its primitive) as "$1,234.56"; "CHF 1,234.56" for a currency
    without a symbol here. Exact: from the minor units, never through a float."""
    money = value if isinstance(value, Money) else Money(value["amount"], value["currency"])
    exponent = exponent_of(money.currency)
    whole, minor = divmod(abs(money.amount), 10**exponent)
    number = f"{whole:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(money.currency)
    text = f"{symbol}{number}" if symbol else f"{money.currency} {number}"
    return f"-{text}" if money.amount < 0 else text
