"""The shop's emails, rendered from plain data: pure functions returning ``OutgoingMessage``s.

Orders are rendered from their primitive view (``commerce_core.views.order_view``), a plain
dict, so a field the view gains later (``subtotal``, ``shipping``, ``tax``,
``shipping_address``, ``fulfilment``) shows up when present and is skipped when absent. Every
value that goes into the HTML body is escaped (``html.escape``), whatever it is - a product name
or an address line is the customer's or a staff member's text. No template ever receives a
secret other than the password-reset link its recipient needs.

    >>> message = password_reset(
    ...     to="ada@example.com",
    ...     link="https://shop.example/reset-password?token=abc",
    ...     reset_id="prt_1",
    ...     valid_minutes=30,
    ... )
    >>> message.subject
    'Reset your password'
    >>> "https://shop.example/reset-password?token=abc" in message.text
    True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from string import Template
from typing import Any

from commerce_core.domain.money import Money
from commerce_core.domain.notifications import OutgoingMessage
from commerce_core.errors import InvalidInput

__all__ = [
    "new_login_notice",
    "order_confirmation",
    "order_shipped",
    "password_reset",
    "refund_issued",
]

_PAGE = Template(
    "<!doctype html>\n"
    '<html><body style="font-family: sans-serif; color: #222; max-width: 36em">\n'
    '<h1 style="font-size: 1.3em">$title</h1>\n'
    "$content\n"
    '<p style="color: #777; font-size: 0.85em">$footer</p>\n'
    "</body></html>\n"
)
_FOOTER = "You receive this email because of your account at our shop."


def _money(value: Any) -> str | None:
    """``{"amount": 1999, "currency": "USD"}`` as ``19.99 USD``; ``None`` if it is not money."""
    if not isinstance(value, Mapping):
        return None
    try:
        return str(Money(value["amount"], value["currency"]))
    except (KeyError, TypeError, ValueError, InvalidInput):
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _paragraphs(lines: Sequence[str]) -> str:
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)


def _table(rows: Sequence[Sequence[str]], *, header: Sequence[str] = ()) -> str:
    def row(cells: Sequence[str], tag: str) -> str:
        inner = "".join(
            f'<{tag} style="text-align: left; padding: 2px 12px 2px 0">{html.escape(cell)}</{tag}>'
            for cell in cells
        )
        return f"<tr>{inner}</tr>"

    head = row(header, "th") if header else ""
    return f"<table>{head}{''.join(row(cells, 'td') for cells in rows)}</table>"


def _page(title: str, content: str) -> str:
    return _PAGE.substitute(title=html.escape(title), content=content, footer=_FOOTER)


def _lines(order: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for item in order.get("items") or ():
        if not isinstance(item, Mapping):
            continue
        rows.append(
            (
                _text(item.get("name")),
                f"x {_text(item.get('quantity'))}",
                _money(item.get("line_total")) or "",
            )
        )
    return rows


# The order's money, in the order a receipt lists it; each shown only if the view has it.
_TOTALS = (("subtotal", "Subtotal"), ("shipping", "Shipping"), ("tax", "Tax"), ("total", "Total"))


def _totals(order: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (label, shown) for key, label in _TOTALS if (shown := _money(order.get(key))) is not None
    ]


_ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country")


def _address(value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return []
    city = " ".join(
        _text(value.get(key)) for key in ("postal_code", "city") if value.get(key)
    ).strip()
    lines = [_text(value.get("name")), _text(value.get("line1")), _text(value.get("line2")), city]
    lines += [_text(value.get("region")), _text(value.get("country"))]
    return [line for line in lines if line]


def order_confirmation(order: Mapping[str, Any], *, to: str) -> OutgoingMessage:
    """The receipt sent once an order is paid: its lines, totals and shipping address."""
    order_id = _text(order.get("id"))
    lines = _lines(order)
    totals = _totals(order)
    address = _address(order.get("shipping_address"))
    text = [f"Thank you for your order {order_id}. We have received your payment.", ""]
    text += [f"  {name} {quantity}  {total}" for name, quantity, total in lines]
    text += [""] + [f"  {label}: {shown}" for label, shown in totals]
    if address:
        text += ["", "Shipping to:"] + [f"  {line}" for line in address]
    content = _paragraphs([f"Thank you for your order {order_id}. We have received your payment."])
    content += _table(lines, header=("Item", "Quantity", "Price"))
    content += _table(totals)
    if address:
        content += '<h2 style="font-size: 1.1em">Shipping to</h2>' + _paragraphs(address)
    title = f"Your order {order_id}"
    return OutgoingMessage(
        id=f"order-paid:{order_id}",
        kind="order_confirmation",
        to=to,
        subject=f"Order confirmation {order_id}",
        text="\n".join(text) + "\n",
        html=_page(title, content),
    )


def refund_issued(
    order: Mapping[str, Any], refund: Mapping[str, Any], *, to: str
) -> OutgoingMessage:
    """A refund went through: how much, of which order, and what is left of it."""
    order_id = _text(order.get("id"))
    amount = _money(refund.get("amount")) or ""
    refunded = _money(order.get("amount_refunded"))
    # Not the refund's reason: staff write it for staff, not for the customer.
    said = [f"We have refunded {amount} of your order {order_id}."]
    if refunded is not None:
        said.append(f"Refunded so far on this order: {refunded}.")
    said.append("Depending on your bank, it may take a few days to appear on your statement.")
    return OutgoingMessage(
        id=f"refund:{_text(refund.get('id'))}",
        kind="refund_issued",
        to=to,
        subject=f"Refund for order {order_id}",
        text="\n\n".join(said) + "\n",
        html=_page(f"Refund for order {order_id}", _paragraphs(said)),
    )


def order_shipped(order: Mapping[str, Any], *, to: str) -> OutgoingMessage:
    """The order is on its way: the carrier and tracking number (``order["fulfilment"]``)."""
    order_id = _text(order.get("id"))
    fulfilment = order.get("fulfilment")
    fulfilment = fulfilment if isinstance(fulfilment, Mapping) else {}
    said = [f"Your order {order_id} is on its way."]
    details = [
        (label, _text(fulfilment.get(key)))
        for key, label in (("carrier", "Carrier"), ("tracking_number", "Tracking number"))
        if fulfilment.get(key)
    ]
    address = _address(order.get("shipping_address"))
    text = [*said, ""] + [f"  {label}: {value}" for label, value in details]
    if address:
        text += ["", "Shipping to:"] + [f"  {line}" for line in address]
    content = _paragraphs(said) + _table(details)
    if address:
        content += '<h2 style="font-size: 1.1em">Shipping to</h2>' + _paragraphs(address)
    return OutgoingMessage(
        id=f"order-shipped:{order_id}",
        kind="order_shipped",
        to=to,
        subject=f"Your order {order_id} has shipped",
        text="\n".join(text) + "\n",
        html=_page(f"Order {order_id} has shipped", content),
    )


def password_reset(*, to: str, link: str, reset_id: str, valid_minutes: int) -> OutgoingMessage:
    """The link that sets a new password; ``sensitive``: the outbox forgets it once sent."""
    said = [
        "Someone (hopefully you) asked to reset the password of your account.",
        f"The link works once, for {valid_minutes} minutes:",
    ]
    after = "If you did not ask for this, ignore this email: your password stays as it is."
    text = "\n\n".join([*said, link, after]) + "\n"
    content = _paragraphs(said)
    escaped = html.escape(link, quote=True)
    content += f'<p><a href="{escaped}">{escaped}</a></p>' + _paragraphs([after])
    return OutgoingMessage(
        id=f"password-reset:{reset_id}",
        kind="password_reset",
        to=to,
        subject="Reset your password",
        text=text,
        html=_page("Reset your password", content),
        sensitive=True,
    )


def new_login_notice(*, to: str, ip: str, at: str, login_id: str) -> OutgoingMessage:
    """A sign-in from an address the account never signed in from before."""
    said = [
        f"Your account was signed in to from a new address: {ip}, at {at}.",
        "If this was you, there is nothing to do. If it was not, reset your password now: "
        "that ends every session of your account.",
    ]
    return OutgoingMessage(
        id=f"new-login:{login_id}",
        kind="new_login",
        to=to,
        subject="New sign-in to your account",
        text="\n\n".join(said) + "\n",
        html=_page("New sign-in to your account", _paragraphs(said)),
    )
