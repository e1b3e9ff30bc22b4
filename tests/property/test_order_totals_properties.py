"""Whatever the cart, the destination's rate and the shop's tax setting: an order's totals add
up to its lines, are never negative, the gateway is asked for exactly the total, and refunds
stay bounded by what was captured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from commerce_core import (
    Address,
    Money,
    Order,
    OrderLine,
    RefundExceedsCaptured,
    ShippingQuote,
    TaxRate,
    price_order,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ADDRESS = Address("Ada", "1 Main St", "Springfield", "62701", "US")

prices = st.integers(min_value=1, max_value=10**8)
lines = st.lists(
    st.tuples(prices, st.integers(min_value=1, max_value=100)), min_size=1, max_size=10
)
rates = st.none() | st.builds(
    TaxRate,
    country=st.just("US"),
    region=st.just(""),
    basis_points=st.integers(min_value=0, max_value=10_000),
    name=st.just("Tax"),
    shipping_taxable=st.booleans(),
)
shipping = st.none() | st.builds(
    ShippingQuote,
    method_id=st.just("standard"),
    name=st.just("Standard"),
    price=st.integers(min_value=0, max_value=10**6).map(lambda c: Money(c, "USD")),
    taxable=st.booleans(),
)


def _order(
    cart: list[tuple[int, int]], quote: ShippingQuote | None, rate: TaxRate | None, inclusive: bool
) -> Order:
    order_lines = [
        OrderLine(f"prod_{n}", f"p-{n}", "P", Money(price, "USD"), quantity)
        for n, (price, quantity) in enumerate(cart)
    ]
    pricing = price_order(
        [(line.product_id, line.total) for line in order_lines],
        quote,
        rate=rate,
        prices_include_tax=inclusive,
    )
    return Order.place(
        order_id="ord_1",
        user_id="usr_1",
        lines=order_lines,
        gateway="fake",
        now=T0,
        hold_expires_at=T0 + timedelta(minutes=15),
        shipping_address=None if quote is None else ADDRESS,
        shipping_method=quote,
        pricing=pricing,
    )


@given(lines, shipping, rates, st.booleans())
def test_totals_are_the_sum_of_their_lines_and_never_negative(
    cart: list[tuple[int, int]], quote: ShippingQuote | None, rate: TaxRate | None, inclusive: bool
) -> None:
    order = _order(cart, quote, rate, inclusive)
    subtotal = sum(price * quantity for price, quantity in cart)
    assert order.subtotal.amount == subtotal
    assert order.tax.amount == sum(line.tax.amount for line in order.tax_lines)
    assert order.tax.amount >= 0
    assert order.shipping.amount >= 0
    assert all(0 <= line.tax.amount <= line.taxable.amount for line in order.tax_lines)
    expected = subtotal + order.shipping.amount + (0 if inclusive else order.tax.amount)
    assert order.total.amount == expected
    if inclusive:
        # The tax is inside the prices: never more than what is charged.
        assert order.tax.amount <= order.total.amount


@given(lines, shipping, rates, st.booleans(), st.lists(st.integers(1, 10**9), max_size=6))
def test_refunds_never_exceed_what_was_captured(
    cart: list[tuple[int, int]],
    quote: ShippingQuote | None,
    rate: TaxRate | None,
    inclusive: bool,
    asks: list[int],
) -> None:
    order = _order(cart, quote, rate, inclusive)
    assert order.settle(order.total, T0)
    for n, ask in enumerate(asks):
        try:
            refund = order.request_refund(
                refund_id=f"re_{n}", amount=Money(ask, "USD"), reason="", requested_by=None, now=T0
            )
        except RefundExceedsCaptured:
            continue
        order.complete_refund(refund.id, f"gw_{n}", T0)
    assert order.refunded <= order.total
    assert order.refundable.amount >= 0
