"""What staff read: every order (filtered, and one with its payment and audit trail), the
accounts, the audit log with its chain verified, and the stored alerts.

Each route declares its permission; the core's queries check it again. Filters are read by
``QueryReader`` (every bad value is a 422 naming its parameter); lists are
``{items, page, per_page, total}``, newest first. Answers are personal and never cached
(``Cache-Control: no-store``, as for every API answer that does not say otherwise).
"""

from __future__ import annotations

from flask import Blueprint, Response

from commerce_core import (
    MAX_EMAIL_SEARCH,
    OrderSearch,
    Permission,
    UserSearch,
    alert_view,
    list_alerts,
    order_for_staff,
    read_audit_log,
    search_orders,
    search_users,
    staff_order_summary_view,
    staff_user_view,
)
from webapp.api.responses import json_response
from webapp.query_reader import QueryReader
from webapp.request_ports import request_uow
from webapp.sessions import permission_required, require_user

__all__ = ["bp"]

bp = Blueprint("admin", __name__, url_prefix="/api/admin")

MAX_STATUS = 32
MAX_ROLE = 32


@bp.get("/orders")
@permission_required(Permission.ORDERS_READ)
def list_orders() -> Response:
    query = QueryReader()
    paging = query.paging()
    statuses = query.texts("status", max_length=MAX_STATUS)
    placed_from = query.instant("placed_from")
    placed_to = query.instant("placed_to")
    customer_email = query.text("customer_email", max_length=MAX_EMAIL_SEARCH)
    disputed = query.boolean("disputed")
    search = query.build(
        lambda: OrderSearch(
            statuses=statuses,
            placed_from=placed_from,
            placed_to=placed_to,
            customer_email=customer_email,
            disputed=disputed,
        )
    )
    page = search_orders(request_uow(), require_user(), search, paging)
    return json_response(page.to_primitive(staff_order_summary_view))


@bp.get("/orders/<order_id>")
@permission_required(Permission.ORDERS_READ)
def show_order(order_id: str) -> Response:
    detail = order_for_staff(request_uow(), require_user(), order_id)
    return json_response({"order": detail.to_primitive()})


@bp.get("/users")
@permission_required(Permission.USERS_MANAGE)
def list_users() -> Response:
    query = QueryReader()
    paging = query.paging()
    email = query.text("email", max_length=MAX_EMAIL_SEARCH)
    role = query.text("role", max_length=MAX_ROLE)
    active = query.boolean("active")
    search = query.build(lambda: UserSearch(email=email, role=role, active=active))
    page = search_users(request_uow(), require_user(), search, paging)
    return json_response(page.to_primitive(staff_user_view))


@bp.get("/audit-log")
@permission_required(Permission.AUDIT_READ)
def show_audit_log() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    return json_response(read_audit_log(request_uow(), require_user(), paging).to_primitive())


@bp.get("/alerts")
@permission_required(Permission.ALERTS_READ)
def show_alerts() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    page = list_alerts(request_uow(), require_user(), paging)
    return json_response(page.to_primitive(alert_view))
