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
        stock={"type": "integer", "minimum": 0, "description": "units, its variants together"},
        in_stock={"type": "boolean", "description": "whether any variant on sale is"},
        option_names={
            "type": "array",
            "items": STRING,
            "description": "what its variants differ by, e.g. [size, colour]; [] for none",
        },
        variants={"type": "array", "items": ref("Variant"), "minItems": 1},
    ),
    "Variant": object_schema(
        ["id", "sku", "options", "price", "stock", "in_stock"],
        id=STRING,
        sku=STRING,
        options={
            "type": "object",
            "additionalProperties": STRING,
            "description": "a value per option name ({} for a product without options)",
        },
        price=ref("Money"),
        stock={"type": "integer", "minimum": 0},
        in_stock={"type": "boolean"},
        weight_grams={"type": ["integer", "null"]},
        image_url=STRING,
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
                "fulfilled",
            ],
            "description": "needs_refund: the shop is refunding the whole capture (the gateway "
            "took the money after the order had ended and its stock was gone, or staff cancelled "
            "the paid order before it shipped), then cancelled; fulfilled: shipped",
        },
        items={
            "type": "array",
            "items": object_schema(
                ["product_id", "quantity", "unit_price", "line_total"],
                product_id=STRING,
                variant_id={"type": ["string", "null"]},
                sku={"type": ["string", "null"]},
                options={"type": "object", "additionalProperties": STRING},
                slug=STRING,
                name=STRING,
                unit_price=ref("Money"),
                quantity={"type": "integer"},
                line_total=ref("Money"),
            ),
        },
        subtotal=ref("Money"),
        shipping=ref("Money"),
        tax=ref("Money"),
        total=ref("Money"),
        prices_include_tax={"type": "boolean"},
        tax_lines={"type": "array", "items": ref("TaxLine")},
        shipping_address={"oneOf": [ref("Address"), {"type": "null"}]},
        shipping_method={
            "oneOf": [object_schema(["id", "name"], id=STRING, name=STRING), {"type": "null"}]
        },
        fulfilment={
            "oneOf": [
                object_schema(
                    ["carrier", "tracking_number", "fulfilled_at"],
                    carrier=STRING,
                    tracking_number=STRING,
                    fulfilled_at=TIMESTAMP,
                ),
                {"type": "null"},
            ]
        },
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
    "CatalogPage": {
        "allOf": [
            page_of("Product"),
            object_schema(
                ["facets"],
                facets=object_schema(
                    ["categories", "attributes", "price_ranges"],
                    categories={
                        "type": "array",
                        "items": object_schema(
                            ["slug", "name", "count"],
                            slug=STRING,
                            name=STRING,
                            count={"type": "integer", "minimum": 0},
                        ),
                    },
                    attributes={
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": object_schema(
                                ["value", "count"],
                                value=STRING,
                                count={"type": "integer", "minimum": 0},
                            ),
                        },
                    },
                    price_ranges={
                        "type": "array",
                        "items": object_schema(
                            ["currency", "min", "max", "count"],
                            currency=STRING,
                            min={"type": "integer", "minimum": 0},
                            max={"type": ["integer", "null"]},
                            count={"type": "integer", "minimum": 0},
                        ),
                    },
                ),
            ),
        ]
    },
    "OrderPage": page_of("Order"),
    "UserEnvelope": object_schema(["user"], user=ref("User")),
    "OrderEnvelope": object_schema(["order"], order=ref("Order")),
    "Address": object_schema(
        ["name", "line1", "city", "country"],
        name={"type": "string", "minLength": 1, "maxLength": 200},
        line1={"type": "string", "minLength": 1, "maxLength": 200},
        line2={"type": ["string", "null"], "maxLength": 200},
        city={"type": "string", "minLength": 1, "maxLength": 100},
        postal_code={
            "type": ["string", "null"],
            "maxLength": 20,
            "description": "checked against the country's format where the shop knows it; "
            "required except where the country has no postal codes",
        },
        region={"type": ["string", "null"], "maxLength": 100},
        country={"type": "string", "description": "ISO 3166-1 alpha-2, e.g. US"},
    ),
    "TaxLine": object_schema(
        ["line", "taxable", "rate_basis_points", "tax"],
        line={"type": "string", "description": "a product id, or 'shipping'"},
        taxable=ref("Money"),
        rate_basis_points={"type": "integer", "description": "725 is 7.25 %"},
        tax=ref("Money"),
    ),
    "CheckoutIntent": object_schema(
        [
            "order_id",
            "intent_id",
            "client_secret",
            "amount",
            "subtotal",
            "shipping",
            "tax",
            "prices_include_tax",
            "status",
        ],
        order_id=STRING,
        intent_id=STRING,
        client_secret={
            **NULLABLE_STRING,
            "description": "for the gateway's client SDK (Stripe.js); null if it has none",
        },
        amount={**ref("Money"), "description": "the total charged"},
        subtotal=ref("Money"),
        shipping=ref("Money"),
        tax=ref("Money"),
        prices_include_tax={"type": "boolean"},
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
