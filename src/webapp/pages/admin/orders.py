"""``/admin/orders``: every order, filtered and paged, and one order with its lines, payment,
refunds and audit trail - and what staff do to it: ship it, refund it (in part or in full), or
cancel it before it ships.

The same use cases as the admin API: ``search_orders`` and ``order_for_staff`` (``orders:read``),
``fulfil_order`` (``orders:fulfil``), ``refund_order`` and ``cancel_paid_order``
(``orders:refund``). A refund is typed in major units and converted exactly (12.34 is 1234 minor
units of the order's currency). Like ``POST /api/payments/refund`` it carries an idempotency
key - made when the form is drawn, sent back as a hidden field - so a form sent twice (a double
click, a reload of the post) refunds once: the second answer is the first one's replay. It is
also counted against the API's refund rate limit, which the two doors share.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any, assert_never

from flask import Response, request

from commerce_core import (
    MAX_EMAIL_SEARCH,
    MAX_REASON,
    CancelPaidOrder,
    CommerceError,
    FulfilOrder,
    IdempotencyKeyReused,
    InvalidInput,
    LimitedOperation,
    Money,
    OrderSearch,
    OrderStatus,
    Permission,
    RefundOrder,
    RefundOutcome,
    StaffOrderDetail,
    cancel_paid_order,
    fulfil_order,
    order_for_staff,
    refund_order,
    search_orders,
)
from webapp.pages.admin.console import PROBLEM, bp, done, page, staff, staff_page
from webapp.pages.admin.display import format_price
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.query_reader import QueryReader
from webapp.rate_limiting import enforce_rate_limits
from webapp.request_ports import container, payment_ports, request_uow

__all__ = ["MAX_CARRIER", "MAX_TRACKING", "order_page"]

MAX_CARRIER = 100
MAX_TRACKING = 100
MAX_STATUS = 32
_ORDER_ID = 100
# A key this page made: long, random, URL-safe; anything else is a new form.
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATUS_CHOICES = [("", "Any status")] + [
    (status.value, status.value.replace("_", " ").capitalize()) for status in OrderStatus
]
_REFUNDABLE = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.FULFILLED,
        OrderStatus.NEEDS_REFUND,
    }
)
_UNSHIPPED = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED})


@bp.get("/orders")
@staff_page(Permission.ORDERS_READ)
def orders() -> Response:
    filters = FormState("filters", request.args.to_dict(), posted=True)
    query = QueryReader()
    paging = query.paging()
    statuses = query.texts("status", max_length=MAX_STATUS)
    placed_from = query.instant("placed_from")
    placed_to = query.instant("placed_to")
    if placed_to is not None and _DATE.match(request.args.get("placed_to", "")):
        placed_to += timedelta(days=1)  # a date "to" is the whole of that day
    customer_email = query.text("customer_email", max_length=MAX_EMAIL_SEARCH)
    disputed = query.boolean("disputed")
    try:
        search = query.build(
            lambda: OrderSearch(
                statuses=statuses,
                placed_from=placed_from,
                placed_to=placed_to,
                customer_email=customer_email,
                disputed=disputed,
            )
        )
    except InvalidInput as invalid:
        status = refusal_status(invalid, filters)
        return page(
            "admin/orders.html", filters=filters, found=None, status=status, statuses=STATUS_CHOICES
        )
    found = search_orders(request_uow(), staff(), search, paging)
    return page("admin/orders.html", filters=filters, found=found, statuses=_choices(filters))


def _choices(filters: FormState) -> list[tuple[str, str]]:
    """The status choices, with the one asked for if it is several (a dashboard's link)."""
    asked = filters.value("status")
    if asked and asked not in dict(STATUS_CHOICES):
        return [*STATUS_CHOICES, (asked, asked.replace("_", " ").replace(",", " or "))]
    return STATUS_CHOICES


@bp.get("/orders/<order_id>")
@staff_page(Permission.ORDERS_READ)
def order(order_id: str) -> Response:
    return order_page(order_id)


def order_page(order_id: str, *, status: int = 200, **forms: FormState) -> Response:
    """The order, with its forms as given (a refused one shows its problems)."""
    detail = order_for_staff(request_uow(), staff(), order_id[:_ORDER_ID])
    refund = forms.get("refund") or FormState("refund", {"scope": "partial"})
    if not _FORM_KEY.match(refund.value("idempotency_key")):
        refund.values["idempotency_key"] = secrets.token_urlsafe(24)
    return page(
        "admin/order.html",
        status=status,
        detail=detail,
        order=detail.order,
        fulfil=forms.get("fulfil") or FormState("fulfil"),
        refund=refund,
        cancel=forms.get("cancel") or FormState("cancel"),
        can=_actions(detail),
    )


def _actions(detail: StaffOrderDetail) -> dict[str, bool]:
    """Which forms this order offers: what its state allows (the core decides in the end)."""
    order = detail.order
    unshipped = order.status in _UNSHIPPED and order.fulfilment is None
    return {
        "fulfil": unshipped,
        "refund": order.status in _REFUNDABLE and order.refundable.is_positive,
        "cancel": unshipped,
    }


def _back(order_id: str) -> str:
    return f"/admin/orders/{order_id}"


@bp.post("/orders/<order_id>/fulfil")
@staff_page(Permission.ORDERS_FULFIL)
def order_fulfil(order_id: str) -> Response:
    form = FormState.from_post("fulfil")
    read = FormReader()
    carrier = read.text("carrier", max_length=MAX_CARRIER)
    tracking = read.text("tracking_number", max_length=MAX_TRACKING)
    shop = container()
    try:
        read.finish()
        fulfil_order(
            FulfilOrder(
                staff().id, order_id[:_ORDER_ID], carrier, tracking, ip=request.remote_addr
            ),
            uow=request_uow(),
            clock=shop.clock,
            events=shop.events,
        )
    except CommerceError as error:
        return order_page(order_id, status=refusal_status(error, form), fulfil=form)
    return done(_back(order_id), f"Shipped with {carrier}, tracking number {tracking}.")


@bp.post("/orders/<order_id>/refund")
@staff_page(Permission.ORDERS_REFUND)
def order_refund(order_id: str) -> Response:
    form = FormState.from_post("refund")
    actor = staff()
    # Counted before anything else is done, as the API's route counts it.
    enforce_rate_limits(LimitedOperation.REFUND)
    current = order_for_staff(request_uow(), actor, order_id[:_ORDER_ID]).order
    read = FormReader()
    key = form.value("idempotency_key")
    if not _FORM_KEY.match(key):
        read.fail("idempotency_key", "this form is out of date; check the amount and send it again")
        form.values.pop("idempotency_key", None)
    scope = read.choice("scope", ("partial", "full"))
    amount = read.money("amount", current.currency, required=scope == "partial")
    reason = read.text("reason", max_length=MAX_REASON, required=False, multiline=True)
    try:
        read.finish()
        result = refund_order(
            RefundOrder(
                actor_id=actor.id,
                order_id=current.id,
                amount=amount if scope == "partial" else None,
                idempotency_key=key,
                reason=reason,
                ip=request.remote_addr,
            ),
            **payment_ports(),
        )
    except IdempotencyKeyReused:
        # This form was sent before with other values (changed after a failure): a fresh form.
        form.values.pop("idempotency_key", None)
        form.messages.append(
            "This form was already sent with other values. Check the refunds above, then send "
            "the form again."
        )
        return order_page(order_id, status=422, refund=form)
    except CommerceError as error:
        return order_page(order_id, status=refusal_status(error, form), refund=form)
    refunded = _refund_amount(result.body)
    again = (
        " (this form had been sent already: nothing more was refunded)" if result.replayed else ""
    )
    match result.outcome:
        case RefundOutcome.SUCCEEDED:
            return done(_back(current.id), f"Refunded {refunded}{again}.")
        case RefundOutcome.PENDING:
            return done(
                _back(current.id),
                f"Refund of {refunded} asked; the payment gateway confirms it later{again}.",
            )
        case RefundOutcome.FAILED:
            return done(
                _back(current.id),
                f"The payment gateway refused the refund of {refunded}; nothing was refunded.",
                PROBLEM,
            )
        case unknown:
            assert_never(unknown)


def _refund_amount(body: dict[str, Any]) -> str:
    amount = body["refund"]["amount"]
    return format_price(Money(amount["amount"], amount["currency"]))


@bp.post("/orders/<order_id>/cancel")
@staff_page(Permission.ORDERS_REFUND)
def order_cancel(order_id: str) -> Response:
    form = FormState.from_post("cancel")
    read = FormReader()
    reason = read.text("reason", max_length=MAX_REASON, required=False, multiline=True)
    try:
        read.finish()
        cancel_paid_order(
            CancelPaidOrder(staff().id, order_id[:_ORDER_ID], reason, ip=request.remote_addr),
            **payment_ports(),
        )
    except CommerceError as error:
        return order_page(order_id, status=refusal_status(error, form), cancel=form)
    return done(
        _back(order_id), "Cancelled: what remained is refunded and the units are back on sale."
    )
