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
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_OPTIONS,
    MAX_PRICE,
    MAX_STOCK,
    MAX_STOCK_REASON,
    MAX_VARIANTS,
)
from webapp.api.admin_catalog import (
    IMAGE_MEDIA_TYPES,
    MAX_NAME,
    MAX_OPTION_TEXT,
    MAX_SKU,
    MAX_SLUG,
)
from webapp.api.admin_catalog_csv import CSV_MEDIA_TYPE
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
_SKU = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_SKU,
    "pattern": "^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,62}[A-Za-z0-9])?$",
    "description": "unique across the catalogue",
}
_OPTION_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_OPTION_TEXT}
_OPTION_NAMES = {
    "type": ["array", "null"],
    "maxItems": MAX_OPTIONS,
    "items": _OPTION_TEXT,
    "description": "what the variants differ by, in display order, e.g. [size, colour]",
}
_OPTION_VALUES = {
    "type": ["object", "null"],
    "maxProperties": MAX_OPTIONS,
    "additionalProperties": _OPTION_TEXT,
}
_AMOUNT = {
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
}
_STOCK = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_STOCK}
_NEW_VARIANT = {
    **object_schema(
        ["sku", "options", "price"],
        sku=_SKU,
        options={**_OPTION_VALUES, "description": "a value for each of the product's options"},
        price=_AMOUNT,
        stock=_STOCK,
        weight_grams={
            "type": ["integer", "null"],
            "minimum": 0,
            "maximum": _MAX_WEIGHT_GRAMS,
        },
    ),
    "additionalProperties": False,
}
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
                    price={
                        **_PRICE,
                        "description": "the default variant's; with variants, optional: their "
                        "currency (else the first variant's price must be {amount, currency})",
                    },
                    stock=_STOCK,
                    weight_grams=_WEIGHT,
                    sku={**_SKU, "type": ["string", "null"], "description": "default: the slug"},
                    option_names=_OPTION_NAMES,
                    variants={
                        "type": ["array", "null"],
                        "minItems": 1,
                        "maxItems": MAX_VARIANTS,
                        "items": _NEW_VARIANT,
                        "description": "with option_names: one per combination sold",
                    },
                )
            ),
            "responses": {
                "201": json_content(_ANSWER, "Created"),
                "409": problem("conflict: a product has this slug, or a variant this SKU"),
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
                    price={**_AMOUNT, "description": "the default variant's"},
                    weight_grams=_WEIGHT,
                    option_names=_OPTION_NAMES,
                    fill={
                        **_OPTION_VALUES,
                        "description": "an added option's value for the existing variants",
                    },
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
            sku={
                **_SKU,
                "type": ["string", "null"],
                "description": "the variant; default: the one variant of a product without options",
            },
        ),
        **{"409": problem("out_of_stock: the change would leave less than nothing")},
    ),
    "/api/admin/products/{slug}/archive": _change(
        "Archive a product: no longer listed, shown to shoppers or sold; orders keep it", None
    ),
    "/api/admin/products/{slug}/unarchive": _change("Put an archived product back on sale", None),
    "/api/admin/products/{slug}/image": _IMAGE_UPLOAD,
    "/api/admin/products/{slug}/variants": {
        "post": {
            **_change(
                "Add a variant to a product with options",
                _NEW_VARIANT,
                **{"409": problem("conflict: a variant has this SKU")},
            )["post"],
            "responses": {
                "201": json_content(_ANSWER, "Created"),
                "404": problem("not_found: no product with this slug"),
                "409": problem("conflict: a variant has this SKU"),
                **VALIDATION,
                **AUTHENTICATED,
                **UNSAFE,
            },
        }
    },
    "/api/admin/products/{slug}/variants/{sku}": {
        "patch": {
            **_change(
                "Edit a variant: only the fields given change; archived: off sale (variants "
                "are never deleted)",
                {
                    **object_schema(
                        [],
                        sku={**_SKU, "type": ["string", "null"], "description": "a new SKU"},
                        options=_OPTION_VALUES,
                        price=_AMOUNT,
                        weight_grams=_WEIGHT,
                        archived={"type": ["boolean", "null"]},
                    ),
                    "additionalProperties": False,
                },
                **{"409": problem("conflict: another variant has this SKU")},
            )["post"],
            "parameters": [
                *_SLUG_PARAMETER,
                {"name": "sku", "in": "path", "required": True, "schema": STRING},
            ],
        }
    },
}
_IMAGE_UPLOAD["post"]["parameters"] = [
    *_SLUG_PARAMETER,
    {
        "name": "sku",
        "in": "query",
        "required": False,
        "schema": _SKU,
        "description": "the variant whose image this is (default: the product's)",
    },
]

# -- the catalogue as CSV (``webapp.api.admin_catalog_csv``): the file itself is the body ---------

_COUNT = {"type": "integer", "minimum": 0}
_IMPORT_REPORT = object_schema(
    [
        "products_created",
        "products_updated",
        "variants_created",
        "variants_updated",
        "unchanged",
        "dry_run",
        "rows",
    ],
    products_created=_COUNT,
    products_updated=_COUNT,
    variants_created=_COUNT,
    variants_updated=_COUNT,
    unchanged=_COUNT,
    dry_run={"type": "boolean", "description": "true: nothing was written"},
    rows={
        "type": "array",
        "items": object_schema(
            ["line", "sku", "action"],
            line={"type": "integer", "description": "the row, as a spreadsheet numbers it"},
            sku=STRING,
            action={"enum": ["created", "updated", "unchanged"]},
        ),
    },
)
CATALOG_CSV_PATHS: dict[str, Any] = {
    "/api/admin/catalog/export": {
        "get": {
            "summary": "The whole catalogue as CSV, archived products too: one row per variant, "
            f"by product slug ({_PERMISSION})",
            "tags": ["admin"],
            "security": SESSION,
            "responses": {
                "200": {
                    "description": "catalog.csv, as an attachment",
                    "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
                },
                **AUTHENTICATED,
                **_FORBIDDEN,
                **COMMON,
            },
        }
    },
    "/api/admin/catalog/import": {
        "post": {
            "summary": "Create and update products and variants from CSV, keyed by SKU, all or "
            f"nothing: the file itself as the body, UTF-8, at most {MAX_IMPORT_BYTES} bytes and "
            f"{MAX_IMPORT_ROWS} rows, with the export's columns ({_PERMISSION}; audited)",
            "tags": ["admin"],
            "security": SESSION_CSRF,
            "parameters": [
                {
                    "name": "dry_run",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "boolean"},
                    "description": "true: check and report, write nothing",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
            },
            "responses": {
                **AUTHENTICATED,
                **UNSAFE,
                "200": json_content(
                    object_schema(["report"], report=_IMPORT_REPORT), "What the import did"
                ),
                "409": problem("conflict: another change to the catalogue got there first"),
                "413": problem(f"payload_too_large: more than {MAX_IMPORT_BYTES} bytes"),
                "415": problem("unsupported_media_type: not text/csv in UTF-8"),
                "422": problem(
                    "validation_error: every problem of the file, each as row <n>.<column> "
                    "(or file), and nothing imported",
                    "ValidationProblem",
                ),
            },
        }
    },
}
CATALOG_ADMIN_PATHS.update(CATALOG_CSV_PATHS)
