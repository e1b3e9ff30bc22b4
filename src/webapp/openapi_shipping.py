"""The OpenAPI description of shipping: the staff's zones, methods and tax rates
(``webapp.api.admin_shipping``), the public quote (``webapp.api.shipping``) and a shopper's saved
addresses (``webapp.api.account``).

Kept beside ``webapp.openapi``, which includes these paths; the same test holds them to the
routes in both directions. Every constraint stated here is one the routes enforce (a value
outside it is a 422), so a client generated from the document is never surprised.
"""

from __future__ import annotations

from typing import Any

from commerce_core import (
    MAX_ADDRESS_LABEL,
    MAX_AMOUNT,
    MAX_LINES,
    MAX_RATE_BASIS_POINTS,
    MAX_ZONE_COUNTRIES,
)
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
from webapp.shipping_input import (
    ITEM_PATTERN,
    MAX_NAME,
    MAX_REGION,
    MAX_SETTING_ID,
    SHIPPING_MAX_AGE,
)

__all__ = ["SHIPPING_PATHS"]

# The most a parcel may weigh (commerce_core.domain.shipping: 10 t).
_MAX_WEIGHT_GRAMS = 10**7

_SETTING_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_SETTING_ID,
    "pattern": "^[a-z0-9][a-z0-9_-]*$",
    "description": "lowercase letters, digits, '-' and '_'",
}
_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
_COUNTRY = {
    "type": "string",
    "pattern": "^[A-Za-z]{2}$",
    "description": "ISO 3166-1 alpha-2 (any case), e.g. US",
}
_FLAG = {"type": ["boolean", "null"], "description": "absent or null: true"}
_AMOUNT_OR_NULL = {
    "oneOf": [
        {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_AMOUNT,
            "description": "minor units of the price's currency",
        },
        ref("Money"),
        {"type": "null"},
    ]
}
_FORBIDDEN = {"403": problem("forbidden: the role lacks the permission")}
_ZONE = object_schema(
    ["id", "name", "countries"],
    id=STRING,
    name=STRING,
    countries={"type": "array", "items": STRING, "description": "codes, or ['*']"},
)
_METHOD = object_schema(
    [
        "id",
        "zone_id",
        "name",
        "price",
        "free_above",
        "per_kg",
        "max_weight_grams",
        "taxable",
        "active",
    ],
    id=STRING,
    zone_id=STRING,
    name=STRING,
    price=ref("Money"),
    free_above={"oneOf": [ref("Money"), {"type": "null"}]},
    per_kg={"oneOf": [ref("Money"), {"type": "null"}]},
    max_weight_grams={"type": ["integer", "null"]},
    taxable={"type": "boolean"},
    active={"type": "boolean"},
)
_TAX_RATE = object_schema(
    ["country", "region", "basis_points", "name", "shipping_taxable"],
    country=STRING,
    region={"type": "string", "description": "empty: the country-wide rate"},
    basis_points={"type": "integer", "description": "725 is 7.25 %"},
    name=STRING,
    shipping_taxable={"type": "boolean"},
)
_SAVED_ADDRESS = object_schema(
    ["id", "label", "address", "created_at"],
    id=STRING,
    label=STRING,
    address=ref("Address"),
    created_at={"type": "string", "format": "date-time"},
)
_QUOTE = object_schema(["id", "name", "price"], id=STRING, name=STRING, price=ref("Money"))


def _page_of(item: dict[str, Any]) -> dict[str, Any]:
    return object_schema(
        ["items", "page", "per_page", "total"],
        items={"type": "array", "items": item},
        page={"type": "integer"},
        per_page={"type": "integer"},
        total={"type": "integer"},
    )


def _list(summary: str, item: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "summary": f"{summary} (permission shipping:manage)",
        "tags": ["admin"],
        "security": SESSION,
        "parameters": PAGING,
        "responses": {
            "200": json_content(_page_of(item), f"A page of {what}"),
            **AUTHENTICATED,
            **_FORBIDDEN,
            **VALIDATION,
            **COMMON,
        },
    }


def _save(summary: str, request: dict[str, Any], key: str, item: dict[str, Any]) -> Any:
    answer = object_schema([key], **{key: item})
    return {
        "summary": f"{summary} (permission shipping:manage; audited)",
        "tags": ["admin"],
        "security": SESSION_CSRF,
        "requestBody": body(request),
        "responses": {
            "200": json_content(answer, "Replaced the one with the same key"),
            "201": json_content(answer, "Created"),
            "409": problem("conflict (the zone was deleted meanwhile)"),
            **VALIDATION,
            **AUTHENTICATED,
            **UNSAFE,
        },
    }


def _delete(summary: str, parameters: list[dict[str, Any]]) -> Any:
    return {
        "summary": f"{summary} (permission shipping:manage; audited)",
        "tags": ["admin"],
        "security": SESSION_CSRF,
        "parameters": parameters,
        "responses": {
            "204": {"description": "Deleted"},
            "404": problem("not_found"),
            **VALIDATION,
            **AUTHENTICATED,
            **UNSAFE,
        },
    }


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": STRING}


SHIPPING_PATHS: dict[str, Any] = {
    "/api/admin/shipping/zones": {
        "get": _list("Shipping zones, by id", _ZONE, "zones"),
        "post": _save(
            "Create a shipping zone, or replace the one with this id (its methods stay)",
            object_schema(
                ["id", "name", "countries"],
                id=_SETTING_ID,
                name=_NAME,
                countries={
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_ZONE_COUNTRIES,
                    "description": "ISO 3166-1 alpha-2 codes the shop knows, or ['*'] for the "
                    "rest of the world; a country may be in one zone only",
                    "items": {"type": "string", "pattern": "^([A-Za-z]{2}|\\*)$"},
                },
            ),
            "zone",
            _ZONE,
        ),
    },
    "/api/admin/shipping/zones/{zone_id}": {
        "delete": _delete("Delete a shipping zone and its methods", [_path("zone_id")]),
    },
    "/api/admin/shipping/methods": {
        "get": _list("Shipping methods, active or not, by id", _METHOD, "methods"),
        "post": _save(
            "Create a shipping method, or replace the one with this id",
            object_schema(
                ["id", "zone_id", "name", "price"],
                id=_SETTING_ID,
                zone_id={"type": "string", "minLength": 1, "maxLength": MAX_SETTING_ID},
                name=_NAME,
                price={**ref("Money"), "description": "the flat rate (amount at least 0)"},
                free_above={
                    **_AMOUNT_OR_NULL,
                    "description": "free for a cart subtotal of at least this",
                },
                per_kg={**_AMOUNT_OR_NULL, "description": "added for every started kilogram"},
                max_weight_grams={
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": _MAX_WEIGHT_GRAMS,
                    "description": "not offered for heavier carts",
                },
                taxable={**_FLAG, "description": "whether the shipping line may be taxed"},
                active={**_FLAG, "description": "inactive methods are not offered"},
            ),
            "method",
            _METHOD,
        ),
    },
    "/api/admin/shipping/methods/{method_id}": {
        "delete": _delete("Delete a shipping method", [_path("method_id")]),
    },
    "/api/admin/tax-rates": {
        "get": _list("Tax rates, by country then region", _TAX_RATE, "tax rates"),
        "post": _save(
            "Create a tax rate, or replace the one for this country and region (any case)",
            object_schema(
                ["country", "basis_points", "name"],
                country=_COUNTRY,
                region={
                    "type": ["string", "null"],
                    "maxLength": MAX_REGION,
                    "description": "a state or province as addresses name it (e.g. CA); "
                    "absent: the country-wide rate",
                },
                basis_points={
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_RATE_BASIS_POINTS,
                    "description": "725 is 7.25 %",
                },
                name=_NAME,
                shipping_taxable={**_FLAG, "description": "whether shipping is taxed there"},
            ),
            "tax_rate",
            _TAX_RATE,
        ),
    },
    "/api/admin/tax-rates/{country}": {
        "delete": _delete(
            "Delete the tax rate of a country (and region)",
            [
                _path("country"),
                {
                    "name": "region",
                    "in": "query",
                    "description": "absent: the country-wide rate",
                    "schema": {"type": "string", "maxLength": MAX_REGION},
                },
            ],
        ),
    },
    "/api/shipping/methods": {
        "get": {
            "summary": "The shipping methods to a country, priced for a cart, cheapest first "
            f"(public; cacheable {SHIPPING_MAX_AGE} s)",
            "tags": ["checkout"],
            "parameters": [
                {"name": "country", "in": "query", "required": True, "schema": _COUNTRY},
                {
                    "name": "item",
                    "in": "query",
                    "style": "form",
                    "explode": True,
                    "description": "the cart, one <product_id>:<quantity> per item (repeat the "
                    "parameter); without items, each method's price for an empty parcel",
                    "schema": {
                        "type": "array",
                        "maxItems": MAX_LINES,
                        "items": {"type": "string", "pattern": ITEM_PATTERN},
                    },
                },
            ],
            "responses": {
                "200": {
                    **json_content(
                        object_schema(["items"], items={"type": "array", "items": _QUOTE}),
                        "The methods that ship this cart there",
                    ),
                    "headers": {
                        "Cache-Control": {
                            "schema": STRING,
                            "description": f"public, max-age={SHIPPING_MAX_AGE}",
                        }
                    },
                },
                "422": problem(
                    "validation_error: a bad country or item, or an unknown product (items)",
                    "ValidationProblem",
                ),
                **COMMON,
            },
        }
    },
    "/api/account/addresses": {
        "get": {
            "summary": "One's saved addresses, oldest first (at most 20: one page)",
            "tags": ["account"],
            "security": SESSION,
            "responses": {
                "200": json_content(_page_of(_SAVED_ADDRESS), "The saved addresses"),
                **AUTHENTICATED,
                **COMMON,
            },
        },
        "post": {
            "summary": "Save an address on one's account (the same address and label again: "
            "the one saved before)",
            "tags": ["account"],
            "security": SESSION_CSRF,
            "requestBody": body(
                object_schema(
                    ["address"],
                    address=ref("Address"),
                    label={
                        "type": ["string", "null"],
                        "maxLength": MAX_ADDRESS_LABEL,
                        "description": "e.g. Home; absent: none",
                    },
                )
            ),
            "responses": {
                "200": json_content(
                    object_schema(["address"], address=_SAVED_ADDRESS), "Saved before"
                ),
                "201": json_content(object_schema(["address"], address=_SAVED_ADDRESS), "Saved"),
                "409": problem("address_book_full: the account keeps 20 addresses already"),
                **VALIDATION,
                **AUTHENTICATED,
                **UNSAFE,
            },
        },
    },
    "/api/account/addresses/{address_id}": {
        "delete": {
            "summary": "Delete one of one's saved addresses (another account's: 404)",
            "tags": ["account"],
            "security": SESSION_CSRF,
            "parameters": [_path("address_id")],
            "responses": {
                "204": {"description": "Deleted"},
                "404": problem("not_found"),
                **AUTHENTICATED,
                **UNSAFE,
            },
        }
    },
}
