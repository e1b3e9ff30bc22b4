"""Checkout: create a payment intent for a cart, then confirm it.

``confirm`` moves money, so it requires an ``Idempotency-Key``; a replay answers the stored first
response - same status, same body - with ``Idempotent-Replayed: true``. A decline is a business
outcome, rendered as a 402 problem that is replayed like any other answer.
"""

from __future__ import annotations

from typing import assert_never

from flask import Blueprint, Response, request

from commerce_core import (
    MAX_LINES,
    CartItem,
    ConfirmOrder,
    ConfirmOutcome,
    CreateCheckoutIntent,
    FieldError,
    LimitedOperation,
    Result,
    confirm_order,
    create_checkout_intent,
)
from webapp.api.responses import json_response, with_replay_header
from webapp.payloads import BodyReader, idempotency_key, json_body
from webapp.problems import problem_response
from webapp.rate_limiting import rate_limited
from webapp.request_ports import container, payment_ports
from webapp.sessions import require_user

__all__ = ["bp"]

bp = Blueprint("checkout", __name__, url_prefix="/api/checkout")

MAX_ID = 255
MAX_METHOD_ID = 64


def _cart_item(line: BodyReader) -> CartItem:
    """``{variant_id, quantity}``, or ``{product_id, quantity}`` for a product's default
    variant; exactly one of the two ids."""
    variant_id = line.optional_text("variant_id", max_length=MAX_ID)
    product_id = line.optional_text("product_id", max_length=MAX_ID)
    quantity = line.integer("quantity")
    if (variant_id is None) == (product_id is None):
        if not line.errors:
            line.errors.append(
                FieldError(
                    line.field("variant_id"), "give exactly one of variant_id and product_id"
                )
            )
        return CartItem(product_id=None, quantity=quantity, variant_id="")
    return CartItem(product_id=product_id, quantity=quantity, variant_id=variant_id)


@bp.post("/intent")
@rate_limited(LimitedOperation.CHECKOUT_INTENT)
def create_intent() -> Response:
    user = require_user()
    key = idempotency_key(required=False)
    body = BodyReader(json_body())
    lines = body.objects("items", max_items=MAX_LINES)
    # Only variant or product ids and quantities are read: a client-sent price is ignored.
    items = tuple(_cart_item(line) for line in lines)
    body.adopt(lines)
    address = body.address("shipping_address")
    method = body.text("shipping_method", min_length=1, max_length=MAX_METHOD_ID)
    if address is None and not any(e.field.startswith("shipping_address") for e in body.errors):
        body.errors.append(FieldError("shipping_address", "is required"))
    body.finish()
    shop = container()
    result = create_checkout_intent(
        CreateCheckoutIntent(
            user_id=user.id,
            items=items,
            idempotency_key=key,
            ip=request.remote_addr,
            shipping_address=address,
            shipping_method=method,
        ),
        **payment_ports(),
        hold_for=shop.hold_for,
        hold_limits=shop.hold_limits,
        prices_include_tax=shop.prices_include_tax,
    )
    return with_replay_header(json_response(result.body, 201), result)


@bp.post("/confirm")
@rate_limited(LimitedOperation.CHECKOUT_CONFIRM)
def confirm() -> Response:
    user = require_user()
    key = idempotency_key(required=True)
    body = BodyReader(json_body())
    intent_id = body.text("intent_id", min_length=1, max_length=MAX_ID)
    payment_method = body.optional_text("payment_method", max_length=MAX_ID)
    proof = body.optional_text("payment_proof", max_length=512)
    body.finish()
    result = confirm_order(
        ConfirmOrder(
            user_id=user.id,
            intent_id=intent_id,
            payment_method=payment_method,
            idempotency_key=key,
            proof=proof,
            ip=request.remote_addr,
        ),
        **payment_ports(),
    )
    return with_replay_header(render_confirmation(result), result)


def render_confirmation(result: Result[ConfirmOutcome]) -> Response:
    body = result.body
    order_id = body["order"]["id"]
    match result.outcome:
        case ConfirmOutcome.PAID:
            return json_response(body, 201)
        case ConfirmOutcome.ALREADY_PAID:
            return json_response(body, 200)
        case ConfirmOutcome.REQUIRES_ACTION | ConfirmOutcome.PROCESSING:
            return json_response(body, 202)
        case ConfirmOutcome.DECLINED:
            return problem_response(
                402,
                "payment_declined",
                "Payment declined",
                body.get("message") or "Your card was declined.",
                extra={"decline_code": body.get("decline_code"), "order_id": order_id},
            )
        case ConfirmOutcome.CANCELED:
            return problem_response(
                409,
                "payment_canceled",
                "Payment canceled",
                "the payment was canceled; start a new checkout",
                extra={"order_id": order_id},
            )
        case ConfirmOutcome.REFUNDING:
            return problem_response(
                409,
                "payment_not_completed",
                "Order not completed",
                body.get("detail") or "the payment could not complete the order",
                extra={"order_id": order_id, "order": body["order"]},
            )
        case unknown:
            assert_never(unknown)
