"""Money as integer minor units of one ISO 4217 currency.

There are no floats anywhere: ``Money(1999, "USD")`` is $19.99, ``Money(500, "JPY")`` is ¥500 and
``Money(1500, "KWD")`` is 1.500 KD. Arithmetic is allowed only within one currency.

>>> Money(1999, "USD") + Money(1, "USD")
Money(amount=2000, currency='USD')
>>> Money.parse("19.99", "USD").amount
1999
"""

from __future__ import annotations

import decimal
from typing import Any

import attrs

from commerce_core.errors import CurrencyMismatch, InvalidMoney

__all__ = ["CURRENCY_EXPONENTS", "MAX_AMOUNT", "Money", "exponent_of"]

# ISO 4217 minor-unit exponents. Anything not listed here is refused rather than guessed.
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "AED",
            "ARS",
            "AUD",
            "BDT",
            "BGN",
            "BRL",
            "CAD",
            "CHF",
            "CNY",
            "COP",
            "CZK",
            "DKK",
            "EGP",
            "EUR",
            "GBP",
            "HKD",
            "HUF",
            "IDR",
            "ILS",
            "INR",
            "KES",
            "MAD",
            "MXN",
            "MYR",
            "NGN",
            "NOK",
            "NZD",
            "PEN",
            "PHP",
            "PKR",
            "PLN",
            "QAR",
            "RON",
            "RUB",
            "SAR",
            "SEK",
            "SGD",
            "THB",
            "TRY",
            "TWD",
            "UAH",
            "USD",
            "ZAR",
        ],
        2,
    ),
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def exponent_of(currency: str) -> int:
    """The number of minor-unit digits of ``currency`` (JPY 0, USD 2, KWD 3)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InvalidMoney(f"unknown currency {currency!r}") from None


# Far above any real order, far below a 64-bit column: an absurd amount is a validation error,
# never a database overflow.
MAX_AMOUNT = 10**15


def _check_amount(_instance: Any, _attribute: Any, value: Any) -> None:
    # bool is an int subclass; True dollars is a bug, not a price.
    if type(value) is not int:
        raise InvalidMoney(f"amount must be an integer number of minor units, not {value!r}")
    if abs(value) > MAX_AMOUNT:
        raise InvalidMoney(f"amount must be at most {MAX_AMOUNT} minor units")


def _check_currency(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidMoney(f"currency must be an ISO 4217 code, not {value!r}")
    exponent_of(value)


@attrs.frozen(order=False)
class Money:
    """An amount of one currency in integer minor units."""

    amount: int = attrs.field(validator=_check_amount)
    currency: str = attrs.field(validator=_check_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a decimal string such as ``"19.99"``; more digits than the currency has are refused."""
        exponent = exponent_of(currency)
        if not isinstance(text, str):
            # Decimal(True) is 1 and Decimal(0.5) is 0.5: exactly what Money refuses.
            raise InvalidMoney(f"an amount to parse must be text, not {type(text).__name__}")
        if len(text) > 64:
            raise InvalidMoney("amount text is too long")
        try:
            value = decimal.Decimal(text)
        except ArithmeticError:
            raise InvalidMoney(f"{text!r} is not a decimal amount") from None
        if not value.is_finite():
            raise InvalidMoney(f"{text!r} is not a finite amount")
        # Decide on the digits themselves, never through the ambient decimal context, which
        # would round a long amount (28 significant digits) before we could refuse it.
        sign_digits = value.as_tuple()
        significant = "".join(map(str, sign_digits.digits)).rstrip("0")
        trailing_zeros = len(sign_digits.digits) - len(significant)
        smallest_place = int(sign_digits.exponent) + trailing_zeros
        if significant and smallest_place < -exponent:
            raise InvalidMoney(f"{text!r} has more than {exponent} decimal places for {currency}")
        if value.adjusted() > 20:
            raise InvalidMoney(f"amount must be at most {MAX_AMOUNT} minor units")
        minor = int(value.scaleb(exponent, decimal.Context(prec=100)))
        return cls(minor, currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, times: int) -> Money:
        if type(times) is not int:
            raise TypeError("Money can only be multiplied by an integer")
        return Money(self.amount * times, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def to_decimal_string(self) -> str:
        """``Money(1999, "USD")`` -> ``"19.99"``; exact, for display and for gateways' edges."""
        exponent = exponent_of(self.currency)
        sign = "-" if self.amount < 0 else ""
        digits = str(abs(self.amount)).rjust(exponent + 1, "0")
        if exponent == 0:
            return sign + digits
        return f"{sign}{digits[:-exponent]}.{digits[-exponent:]}"

    def to_primitive(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"
