"""The OpenAPI 3.1 description of the JSON API, as plain data.

A test checks it against ``app.url_map`` in both directions, so a route cannot be added or
removed without this document following.
"""

from __future__ import annotations

import copy
from typing import Any

from webapp.openapi_admin import ADMIN_READ_PATHS
from webapp.openapi_catalog_admin import CATALOG_ADMIN_PATHS
from webapp.openapi_categories import CATEGORY_PATHS, PRODUCT_DETAIL
from webapp.openapi_components import (
    ANON_CSRF,
    AUTHENTICATED,
    COMMON,
    IDEMPOTENCY_KEY,
    JSON,
    NULLABLE_STRING,
    OPTIONAL_IDEMPOTENCY_KEY,
    PAGING,
    SCHEMAS,
    SESSION,
    SESSION_CSRF,
    STRING,
    UNSAFE,
    VALIDATION,
    body,
    json_content,
    object_schema,
    problem,
    ref,
)
from webapp.openapi_shipping import SHIPPING_PATHS

__all__ = ["openapi_spec"]

_AUTH_PATHS: dict[str, Any] = {
    "/api/auth/csrf": {
        "get": {
            "summary": "Get a CSRF token (sets the csrf_token cookie, and a pre-login id)",
            "tags": ["auth"],
            "responses": {
                "200": json_content(object_schema(["csrf_token"], csrf_token=STRING), "The token"),
                **COMMON,
            },
        }
    },
    "/api/auth/register": {
        "post": {
            "summary": "Create a customer account and sign in",
            "tags": ["auth"],
            "security": ANON_CSRF,
            "requestBody": body(
                object_schema(
                    ["email", "password", "name"],
                    email=STRING,
                    password={"type": "string", "minLength": 12, "maxLength": 128},
                    name=STRING,
                )
            ),
            "responses": {
                "201": json_content(
                    ref("UserEnvelope"),
                    "Registered and signed in - or, for an email that already has an account, "
                    "the same answer with nothing created (the owner is told by email)",
                ),
                **VALIDATION,
                **UNSAFE,
            },
        }
    },
    "/api/auth/login": {
        "post": {
            "summary": "Sign in (a new session id every time)",
            "tags": ["auth"],
            "security": ANON_CSRF,
            "requestBody": body(
                object_schema(["email", "password"], email=STRING, password=STRING)
            ),
            "responses": {
                "200": json_content(ref("UserEnvelope"), "Signed in"),
                "401": problem("invalid_credentials (same body for every reason)"),
                "429": problem(
                    "locked_out (too many failures for this email; Retry-After), alike for "
                    "unknown emails"
                ),
                **VALIDATION,
                **UNSAFE,
            },
        }
    },
    "/api/auth/refresh": {
        "post": {
            "summary": "Rotate the refresh cookie and start a new session",
            "description": (
                "The refresh cookie (HttpOnly, Path=/api/auth) is rotated into its successor; "
                "two tabs within 20 s get the same one. A reused (older rotated) token revokes "
                "its whole family and is answered 401, cookies cleared."
            ),
            "tags": ["auth"],
            "security": [{"refreshCookie": [], "csrfHeader": []}],
            "responses": {
                "200": json_content(ref("UserEnvelope"), "A new session"),
                "401": problem("refresh_rejected (missing, expired, revoked or reused)"),
                **UNSAFE,
            },
        }
    },
    "/api/auth/password": {
        "post": {
            "summary": "Change one's password; every other session and refresh token ends",
            "tags": ["auth"],
            "security": SESSION_CSRF,
            "requestBody": body(
                object_schema(
                    ["current_password", "new_password"],
                    current_password=STRING,
                    new_password={"type": "string", "minLength": 12, "maxLength": 128},
                )
            ),
            "responses": {
                "200": json_content(ref("UserEnvelope"), "Changed; signed in afresh"),
                "401": problem("unauthenticated, or invalid_credentials (wrong current password)"),
                **VALIDATION,
                **UNSAFE,
            },
        }
    },
    "/api/auth/logout": {
        "post": {
            "summary": "End the session on the server and clear the cookies",
            "tags": ["auth"],
            "security": SESSION_CSRF,
            "responses": {"204": {"description": "Signed out"}, **UNSAFE},
        }
    },
    "/api/auth/password-reset": {
        "post": {
            "summary": "Email a single-use password-reset link (valid 30 minutes)",
            "description": (
                "Answers 202 alike whether or not the email has an account, and does the same "
                "work. The link is {PUBLIC_URL}/reset-password?token=...; a newer request "
                "supersedes older links."
            ),
            "tags": ["auth"],
            "security": ANON_CSRF,
            "requestBody": body(
                object_schema(["email"], email={"type": "string", "maxLength": 320})
            ),
            "responses": {
                "202": json_content(
                    object_schema(["detail"], detail=STRING),
                    "Accepted (a link is emailed if the address has an account)",
                ),
                **VALIDATION,
                **UNSAFE,
            },
        }
    },
    "/api/auth/password-reset/confirm": {
        "post": {
            "summary": "Set a new password with the emailed token; every session of the "
            "account ends",
            "tags": ["auth"],
            "security": ANON_CSRF,
            "requestBody": body(
                object_schema(
                    ["token", "password"],
                    token={"type": "string", "maxLength": 200},
                    password={"type": "string", "minLength": 12, "maxLength": 128},
                )
            ),
            "responses": {
                "204": {"description": "Password set; every session and refresh token ended"},
                "400": problem(
                    "reset_token_invalid (unknown, expired, used or superseded: one answer), "
                    "malformed_json"
                ),
                **VALIDATION,
                "403": UNSAFE["403"],
                "413": COMMON["413"],
                "415": COMMON["415"],
                "500": COMMON["500"],
            },
        }
    },
    "/api/auth/me": {
        "get": {
            "summary": "The signed-in user",
            "tags": ["auth"],
            "security": SESSION,
            "responses": {
                "200": json_content(ref("UserEnvelope"), "The user"),
                **AUTHENTICATED,
                **COMMON,
            },
        }
    },
}

_STAFF_USER = object_schema(
    ["id", "email", "name", "role", "active"],
    id=STRING,
    email={"type": "string", "format": "email"},
    name=STRING,
    role={"enum": ["customer", "support", "admin"]},
    active={"type": "boolean"},
)


_UNLOCKED = object_schema(
    ["unlocked", "address_counters_cleared"],
    unlocked={"type": "boolean"},
    address_counters_cleared={"type": "integer", "minimum": 0},
)


def _staff_action(summary: str, permission: str, request: dict[str, Any] | None) -> Any:
    operation: dict[str, Any] = {
        "summary": f"{summary} (permission {permission}; audited)",
        "tags": ["admin"],
        "security": SESSION_CSRF,
        "parameters": [{"name": "user_id", "in": "path", "required": True, "schema": STRING}],
        "responses": {
            "200": json_content(object_schema(["user"], user=_STAFF_USER), "The account now"),
            "404": problem("not_found"),
            "409": problem("conflict (one's own account, or the last active admin)"),
            **VALIDATION,
            **AUTHENTICATED,
            **UNSAFE,
        },
    }
    if request is not None:
        operation["requestBody"] = body(request)
    return {"post": operation}


def _order_action(summary: str, permission: str, request: dict[str, Any]) -> Any:
    return {
        "post": {
            "summary": f"{summary} (permission {permission}; audited)",
            "tags": ["admin"],
            "security": SESSION_CSRF,
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": STRING}],
            "requestBody": body(request),
            "responses": {
                "200": json_content(ref("OrderEnvelope"), "The order now"),
                "404": problem("not_found"),
                "409": problem("illegal_transition: the order is not in a state that allows it"),
                **VALIDATION,
                **AUTHENTICATED,
                **UNSAFE,
            },
        }
    }


_STAFF_PATHS: dict[str, Any] = {
    "/api/admin/orders/{order_id}/fulfil": _order_action(
        "Ship a paid order: it becomes fulfilled with the tracking the shopper sees, and the "
        "shopper is emailed",
        "orders:fulfil",
        object_schema(
            ["carrier", "tracking_number"],
            carrier={"type": "string", "minLength": 1, "maxLength": 100},
            tracking_number={"type": "string", "minLength": 1, "maxLength": 100},
        ),
    ),
    "/api/admin/orders/{order_id}/cancel": _order_action(
        "Cancel a paid order before it ships: all that remains is refunded (needs_refund, then "
        "cancelled) and its stock returns to the catalog",
        "orders:refund",
        object_schema([], reason={"type": ["string", "null"], "maxLength": 500}),
    ),
    "/api/admin/users/{user_id}/role": _staff_action(
        "Change an account's role; its sessions end",
        "users:manage",
        object_schema(["role"], role={"enum": ["customer", "support", "admin"]}),
    ),
    "/api/admin/users/{user_id}/disable": _staff_action(
        "Disable an account; its sessions end", "users:manage", None
    ),
    "/api/admin/users/{user_id}/enable": _staff_action(
        "Enable a disabled account", "users:manage", None
    ),
    "/api/admin/users/{user_id}/unlock": {
        "post": {
            "summary": "Lift the login lockout of an account's email, from every address "
            "(permission logins:unlock; audited)",
            "tags": ["admin"],
            "security": SESSION_CSRF,
            "parameters": [{"name": "user_id", "in": "path", "required": True, "schema": STRING}],
            "responses": {
                "200": json_content(_UNLOCKED, "Unlocked"),
                "404": problem("not_found"),
                **AUTHENTICATED,
                **UNSAFE,
            },
        }
    },
    "/api/admin/logins/unlock": {
        "post": {
            "summary": "Lift an email's login lockout, from every address (permission "
            "logins:unlock; audited)",
            "tags": ["admin"],
            "security": SESSION_CSRF,
            "requestBody": body(object_schema(["email"], email=STRING)),
            "responses": {
                "200": json_content(_UNLOCKED, "Unlocked"),
                **VALIDATION,
                **AUTHENTICATED,
                **UNSAFE,
            },
        }
    },
}

_SHOP_PATHS: dict[str, Any] = {
    "/api/products": {
        "get": {
            "summary": "Search and browse the catalog, with facet counts (public, cacheable, "
            "ETag per URL)",
            "tags": ["catalog"],
            "parameters": [
                *PAGING,
                {
                    "name": "q",
                    "in": "query",
                    "description": "a case-insensitive substring of the name or description",
                    "schema": {"type": "string", "maxLength": 100},
                },
                {
                    "name": "min_price",
                    "in": "query",
                    "description": "minor units, inclusive",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 10**9 - 1},
                },
                {
                    "name": "max_price",
                    "in": "query",
                    "description": "minor units, inclusive",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 10**9 - 1},
                },
                {"name": "in_stock", "in": "query", "schema": {"type": "boolean"}},
                {
                    "name": "category",
                    "in": "query",
                    "description": "a category's slug: its products and its sub-categories'",
                    "schema": {"type": "string", "maxLength": 100},
                },
                {
                    "name": "attr",
                    "in": "query",
                    "style": "deepObject",
                    "explode": True,
                    "description": "attr[<code>]=<value>[,<value>...]: products with one of the "
                    "values of that filterable attribute (GET /api/attributes)",
                    "schema": {
                        "type": "object",
                        "maxProperties": 10,
                        "additionalProperties": {"type": "string", "maxLength": 2000},
                    },
                },
                {
                    "name": "sort",
                    "in": "query",
                    "schema": {"enum": ["name", "price", "-price", "newest"]},
                },
            ],
            "responses": {
                "200": json_content(ref("CatalogPage"), "A page of products and the facets"),
                "304": {"description": "Not modified (If-None-Match)"},
                **VALIDATION,
                **COMMON,
            },
        }
    },
    "/api/products/{slug}": {
        "get": {
            "summary": "One product",
            "tags": ["catalog"],
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": STRING}],
            "responses": {
                "200": json_content(PRODUCT_DETAIL, "The product, its categories and attributes"),
                "304": {"description": "Not modified (If-None-Match)"},
                "404": problem("not_found"),
                **COMMON,
            },
        }
    },
    "/api/checkout/intent": {
        "post": {
            "summary": "Price the cart on the server, hold its stock, create the payment intent",
            "tags": ["checkout"],
            "security": SESSION_CSRF,
            "parameters": [OPTIONAL_IDEMPOTENCY_KEY],
            "requestBody": body(
                object_schema(
                    ["items", "shipping_address", "shipping_method"],
                    items={
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 50,
                        "items": {
                            **object_schema(
                                ["quantity"],
                                variant_id={**STRING, "description": "the variant bought"},
                                product_id={
                                    **STRING,
                                    "description": "a product without options: its one variant",
                                },
                                quantity={"type": "integer", "minimum": 1, "maximum": 100},
                            ),
                            "oneOf": [{"required": ["variant_id"]}, {"required": ["product_id"]}],
                        },
                    },
                    shipping_address=ref("Address"),
                    shipping_method={
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 64,
                        "description": "a method id from GET /api/shipping/methods",
                    },
                )
            ),
            "responses": {
                "201": json_content(ref("CheckoutIntent"), "Order awaiting payment"),
                "409": problem("out_of_stock, hold_limit_reached, idempotency_in_progress"),
                **AUTHENTICATED,
                **VALIDATION,
                **UNSAFE,
                "502": problem("payment_gateway_error"),
                "503": problem("payment_gateway_unavailable"),
            },
        }
    },
    "/api/checkout/confirm": {
        "post": {
            "summary": "Confirm the payment of one's own order (idempotent)",
            "tags": ["checkout"],
            "security": SESSION_CSRF,
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": body(
                object_schema(
                    ["intent_id"],
                    intent_id=STRING,
                    payment_method={
                        **NULLABLE_STRING,
                        "description": "stripe: a PaymentMethod id (pm_...); paypal: 'paypal' "
                        "once the buyer approved; razorpay: Checkout's razorpay_payment_id",
                    },
                    payment_proof={
                        **NULLABLE_STRING,
                        "description": "the gateway client's proof (Razorpay's signature)",
                    },
                )
            ),
            "responses": {
                "200": json_content(ref("OrderEnvelope"), "Already paid"),
                "201": json_content(ref("OrderEnvelope"), "Paid"),
                "202": json_content(ref("PendingPayment"), "requires_action or processing"),
                "400": problem("idempotency_key_required, malformed_json"),
                "402": problem("payment_declined (decline_code, order_id)"),
                "404": problem("not_found"),
                "409": problem(
                    "order_not_payable, payment_canceled, idempotency_in_progress, "
                    "payment_not_completed (taken after the order ended: refunded; has order)"
                ),
                "422": problem("validation_error, idempotency_key_reused", "ValidationProblem"),
                **AUTHENTICATED,
                "403": problem("csrf_failed or cross_site_request"),
                "413": COMMON["413"],
                "415": COMMON["415"],
                "500": COMMON["500"],
                "502": problem("payment_gateway_error"),
                "503": problem("payment_gateway_unavailable, payment_gateway_not_configured"),
            },
        }
    },
    "/api/orders": {
        "get": {
            "summary": "One's own orders",
            "tags": ["orders"],
            "security": SESSION,
            "parameters": PAGING,
            "responses": {
                "200": json_content(ref("OrderPage"), "A page of orders"),
                **AUTHENTICATED,
                **VALIDATION,
                **COMMON,
            },
        }
    },
    "/api/orders/{order_id}": {
        "get": {
            "summary": "One of one's own orders (others' are 404)",
            "tags": ["orders"],
            "security": SESSION,
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": STRING}],
            "responses": {
                "200": json_content(ref("OrderEnvelope"), "The order"),
                "404": problem("not_found"),
                **AUTHENTICATED,
                **COMMON,
            },
        }
    },
}

WEBHOOK: dict[str, Any] = {
    "summary": "Stripe's events (Stripe-Signature), or the fake gateway's without Stripe keys",
    "tags": ["payments"],
    "security": [{"gatewaySignature": []}],
    "requestBody": {"required": True, "content": {JSON: {"schema": {"type": "object"}}}},
    "responses": {
        "200": json_content(
            object_schema(
                ["status"],
                status={"enum": ["processed", "duplicate", "ignored", "rejected"]},
            ),
            "Accepted",
        ),
        "400": problem("invalid_webhook"),
        "413": COMMON["413"],
        "500": COMMON["500"],
        "503": problem("retry_later (one of our refunds is in flight), gateway unavailable"),
    },
}

_PAYMENT_PATHS: dict[str, Any] = {
    "/api/payments/webhook": {"post": WEBHOOK},
    "/api/payments/webhook/{gateway}": {
        "post": {
            **WEBHOOK,
            "summary": "A gateway's events (signed as it signs: stripe, paypal, razorpay, fake)",
            "parameters": [
                {"name": "gateway", "in": "path", "required": True, "schema": STRING},
            ],
            "responses": {**WEBHOOK["responses"], "404": problem("not_found")},
        }
    },
    "/api/payments/config": {
        "get": {
            "summary": "What a browser needs to pay with the shop's gateway (nothing secret)",
            "tags": ["payments"],
            "responses": {
                "200": json_content(
                    object_schema(
                        ["gateway"],
                        gateway={"enum": ["fake", "stripe", "paypal", "razorpay"]},
                        publishable_key=STRING,
                        client_id=STRING,
                        environment=STRING,
                        key_id=STRING,
                    ),
                    "The gateway and its public client settings",
                ),
                "500": COMMON["500"],
            },
        }
    },
    "/api/payments/refund": {
        "post": {
            "summary": "Refund a paid order, fully or partly (permission orders:refund)",
            "tags": ["payments"],
            "security": SESSION_CSRF,
            "parameters": [IDEMPOTENCY_KEY],
            "requestBody": body(
                object_schema(
                    ["order_id"],
                    order_id=STRING,
                    amount={
                        "description": "minor units of the order's currency, or Money; "
                        "default: all that remains",
                        "oneOf": [{"type": "integer", "minimum": 1}, ref("Money")],
                    },
                    reason={"type": "string", "maxLength": 500},
                )
            ),
            "responses": {
                "201": json_content(ref("RefundResult"), "Refunded"),
                "202": json_content(ref("RefundResult"), "Pending at the gateway"),
                "404": problem("not_found"),
                "409": problem("order_not_refundable, idempotency_in_progress"),
                "422": problem(
                    "refund_exceeds_captured, idempotency_key_reused, validation_error",
                    "ValidationProblem",
                ),
                **AUTHENTICATED,
                **UNSAFE,
                "502": problem("refund_failed, payment_gateway_error"),
                "503": problem("payment_gateway_unavailable"),
            },
        }
    },
}

_OPERATIONS_PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "summary": "Liveness (no dependencies touched)",
            "tags": ["operations"],
            "responses": {"200": json_content(object_schema(["status"], status=STRING), "Alive")},
        }
    },
    "/readyz": {
        "get": {
            "summary": "Readiness (the database answers)",
            "tags": ["operations"],
            "responses": {
                "200": json_content(object_schema(["status"], status=STRING), "Ready"),
                "503": problem("not_ready"),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "tags": ["operations"],
            "responses": {"200": json_content({"type": "object"}, "OpenAPI 3.1")},
        }
    },
    "/api/docs": {
        "get": {
            "summary": "This document as an HTML page (Swagger UI, served by the shop itself)",
            "tags": ["operations"],
            "responses": {
                "200": {
                    "description": "The page",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        }
    },
}


# The operations ``webapp.rate_limiting`` guards (a test checks this against the routes): each
# may answer 429, and its answers carry the RateLimit-* headers.
RATE_LIMITED_OPERATIONS = (
    ("/api/auth/register", "post"),
    ("/api/auth/login", "post"),
    ("/api/auth/refresh", "post"),
    ("/api/auth/password-reset", "post"),
    ("/api/auth/password-reset/confirm", "post"),
    ("/api/checkout/intent", "post"),
    ("/api/checkout/confirm", "post"),
    ("/api/payments/refund", "post"),
)
_SECONDS = {"type": "integer", "minimum": 0}
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Limit": {"description": "requests allowed per window", "schema": _SECONDS},
    "RateLimit-Remaining": {"description": "requests left in the window", "schema": _SECONDS},
    "RateLimit-Reset": {"description": "seconds until a request frees up", "schema": _SECONDS},
}
RATE_LIMITED: dict[str, Any] = {
    **problem("rate_limited: too many requests from this address or for this account"),
    "headers": {
        "Retry-After": {
            "description": "seconds to wait",
            "schema": {"type": "integer", "minimum": 1},
        },
        **RATE_LIMIT_HEADERS,
    },
}


def _with_rate_limits(paths: dict[str, Any]) -> dict[str, Any]:
    """``paths`` with the 429 answer and the headers on the limited operations (new dicts: the
    module's own are shared by every call)."""
    limited = dict(paths)
    for path, method in RATE_LIMITED_OPERATIONS:
        if path not in limited or method not in limited[path]:
            continue
        operation = limited[path][method]
        responses = {
            status: {**answer, "headers": RATE_LIMIT_HEADERS} if status.startswith("2") else answer
            for status, answer in operation["responses"].items()
        }
        responses["429"] = RATE_LIMITED
        limited[path] = {**limited[path], method: {**operation, "responses": responses}}
    return limited


def openapi_spec() -> dict[str, Any]:
    """A fresh copy each call, so no caller can alter what the next one is served."""
    return _empty_query_values_mean_absent(copy.deepcopy(_spec()))


def _empty_query_values_mean_absent(spec: dict[str, Any]) -> dict[str, Any]:
    """Mark every query parameter ``allowEmptyValue``: the API reads ``?page=`` (what an empty
    form field sends) as no ``page`` at all, on every route (``webapp.payloads``,
    ``webapp.query_reader``), and says so here once rather than on each parameter."""
    for item in spec["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") == "query":
                    parameter.setdefault("allowEmptyValue", True)
    return spec


def _spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Commerce API",
            "version": "0.1.0",
            "description": (
                "Errors are RFC 9457 problem details with a stable `code`. Every state-changing "
                "request except the webhook needs the X-CSRF-Token header (from GET "
                "/api/auth/csrf), and is refused with 403 cross_site_request when the browser "
                "says another site sent it (Sec-Fetch-Site: cross-site, or an Origin other "
                "than the shop's). Money is {amount (integer minor units), currency}."
            ),
        },
        "paths": _with_rate_limits(
            {
                **_OPERATIONS_PATHS,
                **_AUTH_PATHS,
                **_SHOP_PATHS,
                **_PAYMENT_PATHS,
                **_STAFF_PATHS,
                **ADMIN_READ_PATHS,
                **SHIPPING_PATHS,
                **CATEGORY_PATHS,
                **CATALOG_ADMIN_PATHS,
            }
        ),
        "components": {
            "schemas": SCHEMAS,
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Reuse it on retry: the first response is replayed.",
                },
                "OptionalIdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Optional: reuse it on retry and the first response is "
                    "replayed.",
                },
            },
            "securitySchemes": {
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "__Host-session in production",
                },
                "csrfHeader": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "equal to the csrf_token cookie (__Host-csrf_token in production)",
                },
                "gatewaySignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"},
                "refreshCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "refresh",
                    "description": "__Secure-refresh in production; sent only to /api/auth",
                },
            },
        },
    }
