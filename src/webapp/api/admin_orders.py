"""Staff actions on orders: ship one (carrier and tracking), or cancel a paid one before it ships.

Refunds stay where they were (``POST /api/payments/refund``); a cancel is a refund of all that
remains plus the stock going back, so it needs ``orders:refund`` too.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from commerce_core import (
    CancelPaidOrder,
    FulfilOrder,
    Permission,
    cancel_paid_order,
    fulfil_order,
)
from webapp.api.responses import json_response
from webapp.payloads import BodyReader, json_body
from webapp.request_ports import container, payment_ports, request_uow
from webapp.sessions import permission_required, require_user

__all__ = ["bp"]

bp = Blueprint("admin_orders", __name__, url_prefix="/api/admin")

MAX_ID_INPUT = 100
MAX_CARRIER = 100
MAX_TRACKING = 100
MAX_REASON = 500


@bp.post("/orders/<order_id>/fulfil")
@permission_required(Permission.ORDERS_FULFIL)
def fulfil(order_id: str) -> Response:
    body = BodyReader(json_body())
    carrier = body.text("carrier", min_length=1, max_length=MAX_CARRIER)
    tracking = body.text("tracking_number", min_length=1, max_length=MAX_TRACKING)
    body.finish()
    shop = container()
    order = fulfil_order(
        FulfilOrder(
            require_user().id, order_id[:MAX_ID_INPUT], carrier, tracking, ip=request.remote_addr
        ),
        uow=request_uow(),
        clock=shop.clock,
        events=shop.events,
    )
    return json_response({"order": order})


@bp.post("/orders/<order_id>/cancel")
@permission_required(Permission.ORDERS_REFUND)
def cancel(order_id: str) -> Response:
    body = BodyReader(json_body())
    reason = body.optional_text("reason", max_length=MAX_REASON) or ""
    body.finish()
    order = cancel_paid_order(
        CancelPaidOrder(require_user().id, order_id[:MAX_ID_INPUT], reason, ip=request.remote_addr),
        **payment_ports(),
    )
    return json_response({"order": order})
