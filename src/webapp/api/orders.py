"""A shopper's own orders. Another shopper's order is a 404, exactly like a missing one."""

from __future__ import annotations

from flask import Blueprint, Response

from commerce_core import PageRequest, get_order, list_orders, order_view
from webapp.api.responses import json_response
from webapp.payloads import query_int
from webapp.request_ports import request_uow
from webapp.sessions import require_user

__all__ = ["bp"]

bp = Blueprint("orders", __name__, url_prefix="/api/orders")


@bp.get("")
def list_my_orders() -> Response:
    user = require_user()
    paging = PageRequest(page=query_int("page", 1), per_page=query_int("per_page", 20))
    page = list_orders(request_uow(), user.id, paging)
    return json_response(page.to_primitive(order_view))


@bp.get("/<order_id>")
def show_my_order(order_id: str) -> Response:
    user = require_user()
    return json_response({"order": order_view(get_order(request_uow(), user.id, order_id))})
