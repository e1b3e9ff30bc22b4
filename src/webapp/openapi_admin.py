"""The OpenAPI description of the staff's read routes (``webapp.api.admin``): every order, one
order with its payment and audit trail, the accounts, the audit log and the alerts.

Kept beside ``webapp.openapi``, which includes these paths; the same test holds them to the
routes in both directions.
"""

from __future__ import annotations

from typing import Any

from commerce_core import MAX_EMAIL_SEARCH, OrderStatus, Role
from webapp.openapi_components import (
    AUTHENTICATED,
    COMMON,
    NULLABLE_STRING,
    PAGING,
    SESSION,
    STRING,
    VALIDATION,
    json_content,
    object_schema,
    problem,
    ref,
)
from webapp.query_reader import MAX_LIST_ITEMS

__all__ = ["ADMIN_READ_PATHS"]

_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
_INSTANT = {
    "type": "string",
    "maxLength": 40,
    "description": "ISO 8601 date (midnight UTC at its start) or date-time (UTC without an offset)",
}
_BOOLEAN = {"type": "boolean", "description": "true or false"}
_FORBIDDEN = {"403": problem("forbidden: the role lacks the permission")}


def _page_of(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return object_schema(
        ["items", "page", "per_page", "total", *extra],
        items={"type": "array", "items": item},
        page={"type": "integer"},
        per_page={"type": "integer"},
        total={"type": "integer"},
        **extra,
    )


_STAFF_ORDER_SUMMARY = {
    "allOf": [
        ref("Order"),
        object_schema(
            ["user_id", "gateway", "disputed"],
            user_id=STRING,
            gateway=STRING,
            disputed={"type": "boolean", "description": "a chargeback is open"},
        ),
    ]
}
_STAFF_REFUND = {
    "allOf": [
        ref("Refund"),
        object_schema(
            ["gateway_refund_id", "requested_by", "external"],
            gateway_refund_id=NULLABLE_STRING,
            requested_by={**NULLABLE_STRING, "description": "the staff member; null: the shop"},
            external={"type": "boolean", "description": "made in the provider's dashboard"},
            updated_at=_TIMESTAMP,
        ),
    ]
}
_MONEY_OR_NULL = {"oneOf": [ref("Money"), {"type": "null"}]}
_AUDIT_ENTRY = object_schema(
    ["id", "at", "actor", "action", "target", "ip", "details", "prev_hash", "hash"],
    id=STRING,
    at=_TIMESTAMP,
    actor=NULLABLE_STRING,
    action=STRING,
    target={"type": "string", "description": "order:<id>, user:<id> ..."},
    ip=NULLABLE_STRING,
    details={"type": "object"},
    prev_hash=STRING,
    hash=STRING,
)
_STAFF_ORDER = {
    "allOf": [
        _STAFF_ORDER_SUMMARY,
        object_schema(
            ["payment", "refunds", "customer", "audit_trail"],
            stock_state={"enum": ["held", "taken", "released"]},
            payment=object_schema(
                ["gateway", "intent_id", "captured", "status"],
                gateway=STRING,
                intent_id=NULLABLE_STRING,
                amount=ref("Money"),
                captured=_MONEY_OR_NULL,
                refunded=ref("Money"),
                refundable=ref("Money"),
                status={
                    "enum": [
                        "pending",
                        "failed",
                        "cancelled",
                        "captured",
                        "partially_refunded",
                        "refunded",
                    ]
                },
                failure_code=NULLABLE_STRING,
                intent_to_cancel={"type": "boolean"},
            ),
            refunds={
                "type": "array",
                "items": _STAFF_REFUND,
                "description": "every refund, the external ones too",
            },
            customer=object_schema(
                ["id", "email"],
                id=STRING,
                email={**NULLABLE_STRING, "description": "null if the account is gone"},
            ),
            audit_trail={
                "type": "array",
                "items": _AUDIT_ENTRY,
                "description": "audit entries whose target is order:<id>, oldest first",
            },
        ),
    ]
}
_STAFF_USER = {
    "allOf": [
        ref("User"),
        object_schema(["active", "created_at"], active={"type": "boolean"}, created_at=_TIMESTAMP),
    ]
}
_ALERT = object_schema(
    ["id", "name", "occurred_at", "fields"],
    id=STRING,
    name={"type": "string", "description": "alert.*, e.g. alert.card_testing"},
    occurred_at=_TIMESTAMP,
    fields={"type": "object"},
)


def _read(
    summary: str,
    answer: dict[str, Any],
    parameters: list[dict[str, Any]],
    responses: dict[str, Any],
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "tags": ["admin"],
            "security": SESSION,
            "parameters": parameters,
            "responses": {
                "200": answer,
                **AUTHENTICATED,
                **_FORBIDDEN,
                **responses,
                **COMMON,
            },
        }
    }


ADMIN_READ_PATHS: dict[str, Any] = {
    "/api/admin/orders": _read(
        "Every customer's orders, newest first (permission orders:read)",
        json_content(_page_of(_STAFF_ORDER_SUMMARY), "A page of orders"),
        [
            *PAGING,
            {
                "name": "status",
                "in": "query",
                "style": "form",
                "explode": True,
                "description": "any of these statuses; repeat the parameter or separate "
                "values with commas",
                "schema": {
                    "type": "array",
                    "maxItems": MAX_LIST_ITEMS,
                    "items": {"enum": [status.value for status in OrderStatus]},
                },
            },
            {
                "name": "placed_from",
                "in": "query",
                "schema": {**_INSTANT, "description": f"inclusive; {_INSTANT['description']}"},
            },
            {
                "name": "placed_to",
                "in": "query",
                "schema": {
                    **_INSTANT,
                    "description": "exclusive (placed_to=2026-02-01 ends with January); "
                    f"{_INSTANT['description']}",
                },
            },
            {
                "name": "customer_email",
                "in": "query",
                "description": "the customer's exact email (any case)",
                "schema": {"type": "string", "format": "email", "maxLength": MAX_EMAIL_SEARCH},
            },
            {"name": "disputed", "in": "query", "schema": _BOOLEAN},
        ],
        VALIDATION,
    ),
    "/api/admin/orders/{order_id}": _read(
        "Any order, with its payment, refunds, customer and audit trail (orders:read)",
        json_content(object_schema(["order"], order=_STAFF_ORDER), "The order"),
        [{"name": "order_id", "in": "path", "required": True, "schema": STRING}],
        {"404": problem("not_found")},
    ),
    "/api/admin/users": _read(
        "Accounts, newest first (permission users:manage)",
        json_content(_page_of(_STAFF_USER), "A page of accounts"),
        [
            *PAGING,
            {
                "name": "email",
                "in": "query",
                "description": "a part of the email, any case (a % or _ is itself)",
                "schema": {"type": "string", "maxLength": MAX_EMAIL_SEARCH},
            },
            {"name": "role", "in": "query", "schema": {"enum": [role.value for role in Role]}},
            {"name": "active", "in": "query", "schema": _BOOLEAN},
        ],
        VALIDATION,
    ),
    "/api/admin/audit-log": _read(
        "The audit log, newest first, and whether its hash chain is intact (audit:read)",
        json_content(
            _page_of(
                _AUDIT_ENTRY,
                chain=object_schema(
                    ["intact", "entries", "first_bad_entry"],
                    intact={"type": "boolean"},
                    entries={"type": "integer", "minimum": 0},
                    first_bad_entry={
                        **NULLABLE_STRING,
                        "description": "the first entry that does not link to the one before",
                    },
                ),
            ),
            "A page of entries",
        ),
        PAGING,
        VALIDATION,
    ),
    "/api/admin/alerts": _read(
        "Stored alerts, newest first (permission alerts:read)",
        json_content(_page_of(_ALERT), "A page of alerts"),
        PAGING,
        VALIDATION,
    ),
}
