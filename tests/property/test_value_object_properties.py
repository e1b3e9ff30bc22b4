"""Properties of the value objects, and of the strategies that generate them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core import (
    CartItem,
    CreateCheckoutIntent,
    CurrencyMismatch,
    Money,
    OutOfStock,
    exponent_of,
    validate_email,
    validate_key,
)
from commerce_core import create_checkout_intent as create_intent
from commerce_core.simulated_gateway import DECLINES, SUCCEEDING_METHODS, THREE_DS_METHODS
from commerce_core.testing import InMemoryShop
from commerce_core.testing import strategies as cst


@given(cst.money(min_amount=-(10**15), max_amount=10**15))
def test_money_survives_its_decimal_string(price: Money) -> None:
    text = price.to_decimal_string()
    assert Money.parse(text, price.currency) == price
    exponent = exponent_of(price.currency)
    if exponent:
        assert len(text.split(".")[1]) == exponent
    else:
        assert "." not in text


@given(st.data(), cst.currencies())
def test_addition_is_commutative_associative_and_undone_by_subtraction(
    data: st.DataObject, currency: str
) -> None:
    a, b, c = (data.draw(cst.money(currency=currency, min_amount=-(10**9))) for _ in range(3))
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert a + b - b == a
    assert a + Money.zero(currency) == a
    assert (a < b) == (a.amount < b.amount)


@given(cst.money(), cst.money())
def test_money_of_two_currencies_never_combines(a: Money, b: Money) -> None:
    if a.currency == b.currency:
        assert (a + b).currency == a.currency
    else:
        with pytest.raises(CurrencyMismatch):
            a + b


@given(cst.money(currency="USD", min_amount=1, max_amount=10**6), st.integers(1, 100))
def test_a_line_total_is_price_times_quantity(price: Money, quantity: int) -> None:
    assert (price * quantity).amount == price.amount * quantity


@given(cst.idempotency_keys())
def test_generated_keys_are_valid_as_they_are(key: str) -> None:
    assert validate_key(key) == key


@given(cst.emails())
def test_generated_emails_are_valid_and_already_normalised(email: str) -> None:
    assert validate_email(email) == email


@given(cst.payment_methods())
def test_generated_payment_methods_are_known_to_the_fake_gateway(method: str) -> None:
    assert method in SUCCEEDING_METHODS | THREE_DS_METHODS | DECLINES.keys()


@given(cst.product_ids())
def test_generated_product_ids_look_like_the_cores(product_id: str) -> None:
    prefix, digits = product_id.split("_")
    assert prefix == "prod"
    assert len(digits) == 32
    int(digits, 16)


@given(st.data())
def test_generated_carts_are_accepted_or_refused_only_for_stock(data: st.DataObject) -> None:
    shop = InMemoryShop()
    ids = [shop.add_product(stock=data.draw(st.integers(0, 10))).id for _ in range(3)]
    items = data.draw(cst.cart_items(ids))
    wanted: dict[str, int] = {}
    for item in items:
        assert isinstance(item, CartItem)
        wanted[item.product_id] = wanted.get(item.product_id, 0) + item.quantity
    enough = all(shop.product(pid).stock >= qty for pid, qty in wanted.items())
    try:
        result = create_intent(CreateCheckoutIntent("usr_1", items), **shop.ports)
    except OutOfStock:
        assert not enough
    else:
        assert enough
        assert result.outcome == "created"
