"""``/orders/<id>``: where one of the shopper's orders stands, for its owner only.

The status as a shopper reads it (awaiting payment, paid, payment failed and why, cancelled,
shipped with carrier and tracking number, refunded), the lines with their options, the address
and the breakdown - all from the core's ``get_order``, which answers ``NotFound`` for another
shopper's order exactly as for a missing one (a 404 page either way).

While the payment is awaited (a 3-D Secure challenge, Stripe confirming in the browser, a
webhook on its way) a small script (``static/js/order-status.js``) asks the API until the
status changes and reloads; without script the page offers a link to look again.

Coming back from a gateway's page is a cross-site navigation, and the session cookie is
``SameSite=Strict``: the browser sends no cookie with it. Rather than a sign-in wall, such a
request gets a tiny page that asks for the same URL again at once from this site
(``<meta http-equiv="refresh" content="0">``, which the policy allows - no script), marked
with ``?returned=1`` so that it happens once; that request carries the cookies. Still without
a session, it is the sign-in page, coming back here after. Every answer is
``Cache-Control: private, no-store``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import attrs
from flask import Blueprint, Flask, Response, render_template, request

from commerce_core import Order, OrderStatus, get_order, settle_cart
from webapp.pages.auth import _see_other
from webapp.pages.countries import country_name
from webapp.request_ports import container, request_uow
from webapp.sessions import current_user

__all__ = ["FAILURE_TEXT", "RETURNED", "StatusView", "bp", "install_orders", "order_path"]

bp = Blueprint("pages_orders", __name__)

CACHE_CONTROL = "private, no-store"
RETURNED = "returned"
MAX_QUERY = 1000  # a gateway's return parameters fit; anything longer is not carried along

# Why an order ended unpaid, as the shopper reads it (``Order.failure_code``).
FAILURE_TEXT = {
    "card_declined": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds.",
    "expired_card": "The card has expired.",
    "authentication_failed": "The card holder could not be authenticated (3-D Secure).",
    "hold_expired": "The reservation ran out before the payment arrived.",
    "replaced_by_new_checkout": "A newer checkout of your cart took its place.",
    "intent_canceled": "The payment was cancelled.",
    "payment_canceled": "The payment was cancelled.",
    "gateway_error": "The payment service could not be reached.",
}


@attrs.frozen
class StatusView:
    title: str
    detail: str
    # "pending", "good", "bad" or "neutral": how the banner looks.
    tone: str


def order_path(order_id: str) -> str:
    return f"/orders/{quote(order_id, safe='')}"


def _status(order: Order) -> StatusView:
    failure = FAILURE_TEXT.get(order.failure_code or "", "")
    match order.status:
        case OrderStatus.AWAITING_PAYMENT:
            return StatusView(
                "Awaiting payment",
                "We are waiting for the payment to be confirmed. This takes a few seconds.",
                "pending",
            )
        case OrderStatus.PAID:
            return StatusView(
                "Paid", "Thank you! Your payment went through; we are preparing your order.", "good"
            )
        case OrderStatus.FULFILLED:
            return StatusView("Shipped", "Your order is on its way.", "good")
        case OrderStatus.PAYMENT_FAILED:
            return StatusView(
                "Payment failed",
                f"{failure or 'The payment did not go through.'} Nothing was charged, and the "
                "items are still in your cart to try again.",
                "bad",
            )
        case OrderStatus.CANCELLED:
            return StatusView(
                "Cancelled", failure or "This order was cancelled; nothing was charged.", "neutral"
            )
        case OrderStatus.NEEDS_REFUND:
            return StatusView(
                "Refund in progress",
                "The payment was taken but the order could not be completed; "
                "the whole payment is being refunded.",
                "neutral",
            )
        case OrderStatus.PARTIALLY_REFUNDED:
            return StatusView("Partially refunded", "Part of the payment was refunded.", "neutral")
        case OrderStatus.REFUNDED:
            return StatusView("Refunded", "The payment was refunded in full.", "neutral")
    return StatusView(order.status.value.replace("_", " ").capitalize(), "", "neutral")


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _without_session(order_id: str) -> Response:
    """No session cookie came: once, ask again from this site; then, the sign-in page."""
    path = order_path(order_id)
    if request.args.get(RETURNED):
        return _see_other(f"/login?next={quote(path, safe='/')}")
    args = [(k, v) for k, v in request.args.items(multi=True) if k != RETURNED]
    query = urlencode([*args, (RETURNED, "1")])
    again = f"{path}?{query}" if len(query) <= MAX_QUERY else f"{path}?{RETURNED}=1"
    return Response(render_template("orders/return.html", again=again), mimetype="text/html")


@bp.get("/orders/<order_id>")
def order_status(order_id: str) -> Response:
    user = current_user()
    if user is None:
        return _without_session(order_id)
    order = get_order(request_uow(), user.id, order_id)
    if order.status.is_paid:
        # What the order bought leaves the cart (the webhook may have paid it meanwhile).
        settle_cart(user.id, uow=request_uow(), clock=container().clock)
    body = render_template(
        "orders/order.html",
        order=order,
        status=_status(order),
        country_name=country_name,
        poll_until=order.hold_expires_at.isoformat(),
    )
    return Response(body, mimetype="text/html")


def install_orders(app: Flask) -> None:
    app.register_blueprint(bp)
