"""Money: integer minor units of one known currency, no floats, no cross-currency arithmetic."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given

from commerce_core import (
    MAX_AMOUNT,
    CurrencyMismatch,
    InvalidInput,
    InvalidMoney,
    Money,
    exponent_of,
)
from commerce_core.testing import strategies as cst


@pytest.mark.parametrize(
    ("currency", "exponent", "amount", "text"),
    [
        ("JPY", 0, 500, "500"),
        ("USD", 2, 1999, "19.99"),
        ("USD", 2, 5, "0.05"),
        ("KWD", 3, 1500, "1.500"),
        ("KWD", 3, 7, "0.007"),
    ],
)
def test_each_currency_has_its_own_number_of_minor_digits(
    currency: str, exponent: int, amount: int, text: str
) -> None:
    assert exponent_of(currency) == exponent
    assert Money(amount, currency).to_decimal_string() == text
    assert Money.parse(text, currency) == Money(amount, currency)


def test_negative_amounts_format_with_a_leading_minus() -> None:
    assert Money(-5, "USD").to_decimal_string() == "-0.05"
    assert str(Money(-1500, "KWD")) == "-1.500 KWD"


@pytest.mark.parametrize(
    ("text", "currency"),
    [("1.5", "JPY"), ("0.001", "USD"), ("19.999", "USD"), ("0.0001", "KWD")],
)
def test_parse_refuses_more_decimals_than_the_currency_has(text: str, currency: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(text, currency)


@pytest.mark.parametrize("text", ["", "abc", "1,50", "NaN", "Infinity", "-inf", "sNaN"])
def test_parse_refuses_text_that_is_not_a_finite_decimal(text: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(text, "USD")


def test_trailing_zeros_beyond_the_exponent_are_harmless() -> None:
    assert Money.parse("19.990", "USD") == Money(1999, "USD")
    assert Money.parse("500.0", "JPY") == Money(500, "JPY")


@given(cst.money(min_amount=-(10**15), max_amount=10**15))
def test_format_then_parse_is_the_identity(price: Money) -> None:
    assert Money.parse(price.to_decimal_string(), price.currency) == price


@pytest.mark.parametrize("amount", [19.99, 20.0, True, False, "1999", None, 10**3 * 1.0])
def test_amount_must_be_an_int_not_a_float_bool_or_string(amount: Any) -> None:
    with pytest.raises(InvalidMoney):
        Money(amount, "USD")


@pytest.mark.parametrize("currency", ["XXX", "usd", "US", "", None, 840])
def test_unknown_currencies_are_refused_rather_than_guessed(currency: Any) -> None:
    with pytest.raises(InvalidMoney):
        Money(100, currency)
    if isinstance(currency, str):
        with pytest.raises(InvalidMoney):
            Money.parse("1", currency)


def test_invalid_money_is_a_validation_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(1.5, "USD")  # type: ignore[arg-type]
    assert caught.value.code == "validation_error"


@pytest.mark.parametrize(
    "combine",
    [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge],
)
def test_no_arithmetic_or_ordering_across_currencies(
    combine: Callable[[Money, Money], object],
) -> None:
    with pytest.raises(CurrencyMismatch):
        combine(Money(100, "USD"), Money(100, "EUR"))


def test_equal_amounts_of_different_currencies_are_not_equal() -> None:
    assert Money(100, "USD") != Money(100, "EUR")
    assert Money(100, "USD") == Money(100, "USD")


def test_arithmetic_within_one_currency() -> None:
    assert Money(1999, "USD") + Money(1, "USD") == Money(2000, "USD")
    assert Money(1999, "USD") - Money(1999, "USD") == Money.zero("USD")
    assert Money(1999, "USD") * 3 == Money(5997, "USD") == 3 * Money(1999, "USD")
    assert -Money(5, "USD") == Money(-5, "USD")
    assert Money(1, "USD") < Money(2, "USD") <= Money(2, "USD")
    assert Money.zero("JPY").is_zero
    assert not Money.zero("JPY").is_positive


@pytest.mark.parametrize("factor", [1.5, True, "2", 2.0])
def test_money_is_multiplied_only_by_an_int(factor: Any) -> None:
    with pytest.raises(TypeError):
        Money(100, "USD") * factor


def test_money_is_not_combined_with_plain_numbers() -> None:
    with pytest.raises(TypeError):
        Money(100, "USD") + 1  # type: ignore[operator]


def test_money_is_immutable() -> None:
    price = Money(100, "USD")
    with pytest.raises(AttributeError):
        price.amount = 1  # type: ignore[misc]


def test_primitive_is_minor_units_and_code() -> None:
    assert Money(1999, "USD").to_primitive() == {"amount": 1999, "currency": "USD"}


# -- the edges of parsing: regressions for bugs found by this suite -------------------------


@pytest.mark.parametrize("value", [True, 0.5, 2.0])
def test_parse_refuses_bools_and_floats(value: Any) -> None:
    # Decimal(True) is 1 and Decimal(0.5) is exact: parse must not let them in by the side door.
    with pytest.raises(InvalidMoney):
        Money.parse(value, "USD")


@pytest.mark.parametrize(
    "text", ["12345678901234567890123456789.99", "12345678901234567890123456789.999"]
)
def test_parse_never_rounds_a_long_amount(text: str) -> None:
    try:
        parsed = Money.parse(text, "USD")
    except InvalidMoney:
        return  # refusing is fine; silently changing the amount is not
    assert parsed.to_decimal_string() == text


@pytest.mark.parametrize("text", ["1e999999", "-1e999999", "1e-30"])
def test_parse_refuses_an_absurd_exponent_as_invalid_money(text: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(text, "USD")


def test_amounts_are_bounded() -> None:
    assert Money(MAX_AMOUNT, "USD").amount == MAX_AMOUNT
    assert Money(-MAX_AMOUNT, "USD").amount == -MAX_AMOUNT
    with pytest.raises(InvalidMoney):
        Money(MAX_AMOUNT + 1, "USD")
    with pytest.raises(InvalidMoney):
        Money.parse("1e20", "USD")


@pytest.mark.parametrize(
    "text", ["1.0000000000000000000000000001", "0.10000000000000000000000000001", "1e-999999999"]
)
def test_parse_refuses_extra_decimals_hidden_past_28_significant_digits(text: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(text, "USD")
