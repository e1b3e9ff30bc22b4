"""``/admin/audit-log`` and ``/admin/alerts``: what staff and the shop did, newest first, with
the verdict on the whole hash chain shown first (a tampered entry anywhere shows on every page),
and the alerts the monitor stored (credential stuffing, card testing, refund velocity ...).

The admin API's ``read_audit_log`` (``audit:read``) and ``list_alerts`` (``alerts:read``).
"""

from __future__ import annotations

from flask import Response

from commerce_core import Permission, list_alerts, read_audit_log
from webapp.pages.admin.console import bp, page, staff, staff_page
from webapp.query_reader import QueryReader
from webapp.request_ports import request_uow

__all__ = ["alerts", "audit_log"]


@bp.get("/audit-log")
@staff_page(Permission.AUDIT_READ)
def audit_log() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    log = read_audit_log(request_uow(), staff(), paging)
    return page("admin/audit_log.html", log=log, found=log.entries)


@bp.get("/alerts")
@staff_page(Permission.ALERTS_READ)
def alerts() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    found = list_alerts(request_uow(), staff(), paging)
    return page("admin/alerts.html", found=found)
