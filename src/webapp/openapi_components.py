"""Building blocks of the OpenAPI document: schemas, shared responses, parameters, security."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ANON_CSRF",
    "AUTHENTICATED",
    "COMMON",
    "IDEMPOTENCY_KEY",
    "JSON",
    "NULLABLE_STRING",
    "OPTIONAL_IDEMPOTENCY_KEY",
    "PAGING",
    "PROBLEM",
    "SCHEMAS",
    "SESSION",
    "SESSION_CSRF",
    "STRING",
    "UNSAFE",
    "VALIDATION",
    "body",
    "json_content",
    "object_schema",
    "problem",
    "ref",
]

JSON = "application/json"
PROBLEM = "application/problem+json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def problem(description: str, schema: str = "Problem") -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": ref(schema)}}}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def object_schema(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}

# Failures every route can answer.
COMMON = {
    "400": problem("Malformed JSON or bad request"),
    "413": problem("Body too large"),
    "415": problem("Body is not application/json"),
    "500": problem("Unexpected error; carries an error_id"),
}
UNSAFE = {
    **COMMON,
    "403": problem(
        "csrf_failed; cross_site_request (another site's page sent it: Sec-Fetch-Site "
        "cross-site, or an Origin not the shop's); or forbidden"
    ),
}
VALIDATION = {"422": problem("validation_error, with errors[]", "ValidationProblem")}
AUTHENTICATED = {"401": problem("unauthenticated")}

SESSION: list[dict[str, list[str]]] = [{"sessionCookie": []}]
SESSION_CSRF: list[dict[str, list[str]]] = [{"sessionCookie": [], "csrfHeader": []}]
ANON_CSRF: list[dict[str, list[str]]] = [{"csrfHeader": []}]

PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
]
IDEMPOTENCY_KEY = {"$ref": "#/components/parameters/IdempotencyKey"}
# A reference takes no "required" beside it (OpenAPI 3.1): the optional key is a parameter
# of its own.
OPTIONAL_IDEMPOTENCY_KEY = {"$ref": "#/components/parameters/OptionalIdempotencyKey"}


def page_of(item: str) -> dict[str, Any]:
    return object_schema(
        ["items", "page", "per_page", "total"],
        items={"type": "array", "items": ref(item)},
        page={"type": "integer"},
        per_page={"type": "integer"},
        total={"type": "integer"},
    )


SCHEMAS: dict[str, Any] = {
    "Problem": object_schema(
        ["type", "title", "status", "detail", "code"],
        type=STRING,
        title=STRING,
        status={"type": "integer"},
        detail=STRING,
        code={"type": "string", "description": "stable machine code"},
        error_id={"type": "string", "description": "500 only: quote it to support"},
    ),
    "ValidationProblem": {
        "allOf": [
            ref("Problem"),
            object_schema(
                ["errors"],
                errors={
                    "type": "array",
                    "items": object_schema(["field", "message"], field=STRING, message=STRING),
                },
            ),
        ]
    },
    "Money": object_schema(
        ["amount", "currency"],
        amount={"type": "integer", "description": "minor units (cents)"},
        currency={"type": "string", "pattern": "^[A-Z]{3}$"},
    ),
    "User": object_schema(
        ["id", "email", "name", "role"],
        id=STRING,
        email={"type": "string", "format": "email"},
        name=STRING,
        role={"enum": ["customer", "support", "admin"]},
    ),
    "Product": object_schema(
        ["id", "slug", "name", "description", "price", "image_url", "stock", "in_stock"],
        id=STRING,
        slug=STRING,
        name=STRING,
        description=STRING,
        price=ref("Money"),
        image_url=STRING,
        stock={"type": "integer", "minimum": 0},
        in_stock={"type": "boolean"},
    ),
    "Refund": object_schema(
        ["id", "amount", "status"],
        id=STRING,
        amount=ref("Money"),
        status={"enum": ["pending", "succeeded", "failed"]},
        reason=STRING,
        created_at=TIMESTAMP,
    ),
    "Order": object_schema(
        ["id", "status", "items", "total"],
        id=STRING,
        status={
            "enum": [
                "awaiting_payment",
                "paid",
                "partially_refunded",
                "refunded",
                "payment_failed",
                "cancelled",
                "needs_refund",
            ],
            "description": "needs_refund: the gateway took the money after the order had ended "
            "and its stock was gone; the shop is refunding it (then cancelled)",
        },
        items={
            "type": "array",
            "items": object_schema(
                ["product_id", "quantity", "unit_price", "line_total"],
                product_id=STRING,
                slug=STRING,
                name=STRING,
                unit_price=ref("Money"),
                quantity={"type": "integer"},
                line_total=ref("Money"),
            ),
        },
        total=ref("Money"),
        amount_captured={"oneOf": [ref("Money"), {"type": "null"}]},
        amount_refunded=ref("Money"),
        refunds={"type": "array", "items": ref("Refund")},
        intent_id=NULLABLE_STRING,
        failure_code=NULLABLE_STRING,
        hold_expires_at=TIMESTAMP,
        created_at=TIMESTAMP,
        paid_at=TIMESTAMP,
    ),
    "ProductPage": page_of("Product"),
    "OrderPage": page_of("Order"),
    "UserEnvelope": object_schema(["user"], user=ref("User")),
    "OrderEnvelope": object_schema(["order"], order=ref("Order")),
    "CheckoutIntent": object_schema(
        ["order_id", "intent_id", "client_secret", "amount", "status"],
        order_id=STRING,
        intent_id=STRING,
        client_secret={
            **NULLABLE_STRING,
            "description": "for the gateway's client SDK (Stripe.js); null if it has none",
        },
        amount=ref("Money"),
        status=STRING,
        hold_expires_at=TIMESTAMP,
    ),
    "PendingPayment": object_schema(
        ["status", "order"],
        status={"enum": ["requires_action", "processing"]},
        client_secret={
            **NULLABLE_STRING,
            "description": "for requires_action: finish it in the gateway's client SDK",
        },
        next_action={
            "oneOf": [
                object_schema(
                    [],
                    client_secret=NULLABLE_STRING,
                    redirect_url={
                        **NULLABLE_STRING,
                        "description": "or send the buyer here (approval, 3-D Secure page)",
                    },
                ),
                {"type": "null"},
            ]
        },
        order=ref("Order"),
    ),
    "RefundResult": object_schema(["refund", "order"], refund=ref("Refund"), order=ref("Order")),
}
