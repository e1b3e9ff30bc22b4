"""The OpenAPI description of the staff's catalogue management (``webapp.api.admin_catalog``).

Kept beside ``webapp.openapi``, which includes these paths; the same test holds them to the
routes in both directions. Every constraint stated here is one the routes enforce (a value
outside it is a 422). The image upload takes the image itself as the body, not JSON.
"""

from __future__ import annotations

from typing import Any

from commerce_core import (
    MAX_DESCRIPTION,
    MAX_IMAGE_BYTES,
    MAX_PRICE,
    MAX_STOCK,
    MAX_STOCK_REASON,
)
from webapp.api.admin_catalog import IMAGE_MEDIA_TYPES, MAX_NAME, MAX_SLUG
from webapp.openapi_components import (
    AUTHENTICATED,
    COMMON,
    PAGING,
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

__all__ = ["CATALOG_ADMIN_PATHS"]

_PERMISSION = "permission catalog:write"
_MAX_WEIGHT_GRAMS = 10**6  # commerce_core.domain.catalog: a tonne

_SLUG = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_SLUG,
    "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "description": "lowercase letters, digits and single dashes; unique",
}
_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
_DESCRIPTION = {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION}
_WEIGHT = {
    "type": ["integer", "null"],
    "minimum": 0,
    "maximum": _MAX_WEIGHT_GRAMS,
    "description": "grams, for weight-based shipping; null: not weighed",
}
_PRICE = object_schema(
    ["amount", "currency"],
    amount={"type": "integer", "minimum": 1, "maximum": MAX_PRICE, "description": "minor units"},
    currency={"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217"},
)
_STAFF_PRODUCT = {
    "allOf": [
        ref("Product"),
        object_schema(
            ["archived", "weight_grams", "created_at", "updated_at"],
            archived={"type": "boolean", "description": "off sale: not listed, not sold"},
            weight_grams={"type": ["integer", "null"]},
            created_at={"type": "string", "format": "date-time"},
            updated_at={"type": "string", "format": "date-time"},
        ),
    ]
}
_ANSWER = object_schema(["product"], product=_STAFF_PRODUCT)
_FORBIDDEN = {"403": problem("forbidden: the role lacks the permission")}
_SLUG_PARAMETER = [{"name": "slug", "in": "path", "required": True, "schema": STRING}]


def _strict(required: list[str], **properties: Any) -> dict[str, Any]:
    """A request body that refuses fields it does not name."""
    return {**object_schema(required, **properties), "additionalProperties": False}


def _change(summary: str, request: dict[str, Any] | None, **responses: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": f"{summary} ({_PERMISSION}; audited)",
        "tags": ["admin"],
        "security": SESSION_CSRF,
        "parameters": _SLUG_PARAMETER,
        "responses": {
            "200": json_content(_ANSWER, "The product now"),
            "404": problem("not_found: no product with this slug"),
            **responses,
            **VALIDATION,
            **AUTHENTICATED,
            **UNSAFE,
        },
    }
    if request is not None:
        operation["requestBody"] = body(request)
    return {"post": operation}


_IMAGE_UPLOAD = _change(
    "Set the product's image: the image itself as the body (PNG, JPEG or WebP, at most "
    f"{MAX_IMAGE_BYTES // (1024 * 1024)} MiB). It is decoded in full, re-encoded without "
    "metadata (EXIF, GPS) and served at /media/<sha256>.<ext>, which image_url then names",
    None,
    **{
        "413": problem(f"payload_too_large: more than {MAX_IMAGE_BYTES} bytes"),
        "415": problem("unsupported_media_type: not image/png, image/jpeg or image/webp"),
        "422": problem(
            "invalid_image (not an image, or cut short), unsupported_image_format (another "
            "format, or not the one sent as), image_too_large (too many pixels: a "
            "decompression bomb), with errors[]",
            "ValidationProblem",
        ),
    },
)
_IMAGE_UPLOAD["post"]["requestBody"] = {
    "required": True,
    "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}}
        for media_type in IMAGE_MEDIA_TYPES
    },
}

CATALOG_ADMIN_PATHS: dict[str, Any] = {
    "/api/admin/products": {
        "get": {
            "summary": f"Every product, archived ones too, by name ({_PERMISSION})",
            "tags": ["admin"],
            "security": SESSION,
            "parameters": PAGING,
            "responses": {
                "200": json_content(
                    object_schema(
                        ["items", "page", "per_page", "total"],
                        items={"type": "array", "items": _STAFF_PRODUCT},
                        page={"type": "integer"},
                        per_page={"type": "integer"},
                        total={"type": "integer"},
                    ),
                    "A page of products",
                ),
                **AUTHENTICATED,
                **_FORBIDDEN,
                **VALIDATION,
                **COMMON,
            },
        },
        "post": {
            "summary": f"Create a product, on sale at once ({_PERMISSION}; audited)",
            "tags": ["admin"],
            "security": SESSION_CSRF,
            "requestBody": body(
                _strict(
                    ["slug", "name", "price"],
                    slug=_SLUG,
                    name=_NAME,
                    description=_DESCRIPTION,
                    price=_PRICE,
                    stock={"type": ["integer", "null"], "minimum": 0, "maximum": MAX_STOCK},
                    weight_grams=_WEIGHT,
                )
            ),
            "responses": {
                "201": json_content(_ANSWER, "Created"),
                "409": problem("conflict: a product has this slug"),
                **VALIDATION,
                **AUTHENTICATED,
                **UNSAFE,
            },
        },
    },
    "/api/admin/products/{slug}": {
        "patch": {
            **_change(
                "Edit a product: only the fields given change (weight_grams null: not weighed)",
                _strict(
                    [],
                    slug={**_SLUG, "type": ["string", "null"], "description": "a new slug"},
                    name={**_NAME, "type": ["string", "null"]},
                    description=_DESCRIPTION,
                    price={
                        "oneOf": [
                            {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_PRICE,
                                "description": "minor units of the product's currency",
                            },
                            {**_PRICE, "description": "in the product's currency"},
                            {"type": "null"},
                        ]
                    },
                    weight_grams=_WEIGHT,
                ),
                **{"409": problem("conflict: another product has this slug")},
            )["post"],
        }
    },
    "/api/admin/products/{slug}/stock": _change(
        "Set the stock to a counted level (set) or move it (add, negative to take out), with "
        "a reason; never below zero",
        _strict(
            ["reason"],
            set={"type": ["integer", "null"], "minimum": 0, "maximum": MAX_STOCK},
            add={
                "type": ["integer", "null"],
                "minimum": -MAX_STOCK,
                "maximum": MAX_STOCK,
                "description": "not 0; exactly one of set and add",
            },
            reason={"type": "string", "minLength": 1, "maxLength": MAX_STOCK_REASON},
        ),
        **{"409": problem("out_of_stock: the change would leave less than nothing")},
    ),
    "/api/admin/products/{slug}/archive": _change(
        "Archive a product: no longer listed, shown to shoppers or sold; orders keep it", None
    ),
    "/api/admin/products/{slug}/unarchive": _change("Put an archived product back on sale", None),
    "/api/admin/products/{slug}/image": _IMAGE_UPLOAD,
}
