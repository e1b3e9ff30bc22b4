"""``/admin``: the dashboard - sales over the last 30 days as a chart, and what needs a look
(paid orders to ship, orders owing their capture back, disputed payments, stored alerts).

The chart is the core's ``sales_over_time`` (paid orders per UTC day in the shop's currency)
drawn as inline SVG (``webapp.pages.admin.chart``); the counts are ``search_orders`` totals, each
a link to the list it counts.
"""

from __future__ import annotations

from flask import Response

from commerce_core import (
    Money,
    OrderSearch,
    OrderStatus,
    PageRequest,
    Permission,
    SalesOverTime,
    SalesQuery,
    list_alerts,
    sales_over_time,
    search_orders,
)
from webapp.pages.admin.chart import sales_chart
from webapp.pages.admin.console import bp, may, page, staff, staff_page
from webapp.request_ports import container, request_uow

__all__ = ["SALES_DAYS", "dashboard"]

SALES_DAYS = 30
_COUNT_ONLY = PageRequest(per_page=1)
_TO_SHIP = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value)


@bp.get("")
@staff_page(Permission.ORDERS_READ)
def dashboard() -> Response:
    actor = staff()
    report = sales_over_time(
        request_uow(), actor, SalesQuery(days=SALES_DAYS), clock=container().clock
    )

    def count(search: OrderSearch) -> int:
        return search_orders(request_uow(), actor, search, _COUNT_ONLY).total

    watch = [
        (
            "Paid, to ship",
            count(OrderSearch(statuses=_TO_SHIP)),
            "/admin/orders?status=paid,partially_refunded",
        ),
        (
            "Owing a refund",
            count(OrderSearch(statuses=(OrderStatus.NEEDS_REFUND.value,))),
            "/admin/orders?status=needs_refund",
        ),
        ("Disputed payments", count(OrderSearch(disputed=True)), "/admin/orders?disputed=true"),
    ]
    if may(Permission.ALERTS_READ):
        watch.append(
            ("Alerts", list_alerts(request_uow(), actor, _COUNT_ONLY).total, "/admin/alerts")
        )
    return page(
        "admin/dashboard.html",
        report=report,
        chart=sales_chart(report),
        average=_average(report),
        watch=watch,
    )


def _average(report: SalesOverTime) -> Money | None:
    """The mean paid order, rounded half up to a minor unit (shown, never charged)."""
    total = report.total
    if total is None or not report.orders:
        return None
    return Money((2 * total.amount + report.orders) // (2 * report.orders), total.currency)
