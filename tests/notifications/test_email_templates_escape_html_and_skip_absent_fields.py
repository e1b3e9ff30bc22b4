"""The shop's emails are rendered from plain data in the core: what each says, that HTML is
escaped whatever the text, and that order fields absent from the view are left out."""

from __future__ import annotations

from typing import Any

from commerce_core import (
    new_login_notice,
    order_confirmation,
    order_shipped,
    password_reset,
    refund_issued,
)


def _money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


BARE_ORDER: dict[str, Any] = {
    "id": "ord_1",
    "items": [
        {"name": "Mug", "quantity": 2, "line_total": _money(3600)},
        {"name": "Lamp", "quantity": 1, "line_total": _money(8900)},
    ],
    "total": _money(12500),
    "amount_refunded": _money(0),
}
FULL_ORDER: dict[str, Any] = {
    **BARE_ORDER,
    "subtotal": _money(12500),
    "shipping": _money(500),
    "tax": _money(1040),
    "total": _money(14040),
    "shipping_address": {
        "name": "Ada <script>alert(1)</script>",
        "line1": "1 Analytical Row",
        "line2": None,
        "city": "London",
        "postal_code": "N1 9GU",
        "region": None,
        "country": "GB",
    },
    "fulfilment": {
        "carrier": "Royal Mail",
        "tracking_number": "RM123456789GB",
        "fulfilled_at": "2026-03-02T10:00:00Z",
    },
}


def test_an_order_confirmation_lists_the_lines_totals_and_address_when_the_view_has_them() -> None:
    message = order_confirmation(FULL_ORDER, to="ada@example.com")

    assert message.id == "order-paid:ord_1"
    assert message.subject == "Order confirmation ord_1"
    for expected in (
        "Mug x 2  36.00 USD",
        "Lamp x 1  89.00 USD",
        "Subtotal: 125.00 USD",
        "Shipping: 5.00 USD",
        "Tax: 10.40 USD",
        "Total: 140.40 USD",
        "1 Analytical Row",
        "N1 9GU London",
        "GB",
    ):
        assert expected in message.text
    assert "None" not in message.text


def test_an_order_view_without_shipping_or_tax_renders_only_what_it_has() -> None:
    message = order_confirmation(BARE_ORDER, to="ada@example.com")

    assert "Total: 125.00 USD" in message.text
    for absent in ("Subtotal", "Shipping", "Tax", "None"):
        assert absent not in message.text
        assert absent not in message.html


def test_every_value_in_the_html_body_is_escaped() -> None:
    hostile = {
        **FULL_ORDER,
        "id": 'ord_"><img src=x>',
        "items": [{"name": "<b>Mug</b> & co", "quantity": 1, "line_total": _money(100)}],
    }

    html = order_confirmation(hostile, to="ada@example.com").html

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Mug&lt;/b&gt; &amp; co" in html
    assert "<img" not in html


def test_a_shipping_notice_names_the_carrier_and_tracking_number() -> None:
    message = order_shipped(FULL_ORDER, to="ada@example.com")

    assert message.id == "order-shipped:ord_1"
    assert "Carrier: Royal Mail" in message.text
    assert "Tracking number: RM123456789GB" in message.text
    assert "RM123456789GB" in message.html
    assert message.subject == "Your order ord_1 has shipped"


def test_a_shipping_notice_without_a_fulfilment_still_says_the_order_shipped() -> None:
    message = order_shipped(BARE_ORDER, to="ada@example.com")

    assert "on its way" in message.text
    assert "Tracking" not in message.text


def test_a_refund_notice_says_how_much_and_never_the_staff_reason() -> None:
    order = {**BARE_ORDER, "amount_refunded": _money(1000)}
    refund = {"id": "re_1", "amount": _money(1000), "reason": "customer was rude"}

    message = refund_issued(order, refund, to="ada@example.com")

    assert message.id == "refund:re_1"
    assert "We have refunded 10.00 USD of your order ord_1." in message.text
    assert "rude" not in message.text + message.html


def test_a_password_reset_carries_its_link_and_is_marked_sensitive() -> None:
    link = "https://shop.example/reset-password?token=abc&x=<y>"

    message = password_reset(to="ada@example.com", link=link, reset_id="prt_1", valid_minutes=30)

    assert message.sensitive
    assert link in message.text
    assert "30 minutes" in message.text
    assert 'href="https://shop.example/reset-password?token=abc&amp;x=&lt;y&gt;"' in message.html


def test_a_new_sign_in_notice_names_the_address_and_time() -> None:
    message = new_login_notice(
        to="ada@example.com", ip="203.0.113.9", at="2026-03-01T09:30:00Z", login_id="lgn_1"
    )

    assert "203.0.113.9" in message.text
    assert "2026-03-01T09:30:00Z" in message.text
    assert not message.sensitive
