"""The OpenAPI description of the catalogue's structure: the public category tree and filterable
attributes (``webapp.api.categories``), the staff's categories, attribute definitions and
product assignments (``webapp.api.admin_categories``), and a product's detail shape.

Kept beside ``webapp.openapi``, which includes these paths; the same test holds them to the
routes in both directions. Every constraint stated here is one the routes enforce (a value
outside it is a 422).
"""

from __future__ import annotations

from typing import Any

from commerce_core import ATTRIBUTE_CODE_PATTERN, MAX_ATTRIBUTES, MAX_PRODUCT_CATEGORIES
from webapp.api.admin_categories import (
    MAX_ATTRIBUTE_TEXT,
    MAX_CATEGORY_DESCRIPTION,
    MAX_CHOICES,
    MAX_CODE,
    MAX_LABEL,
    MAX_SLUG,
    MAX_UNIT,
)
from webapp.api.categories import STRUCTURE_MAX_AGE
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

__all__ = ["CATEGORY_PATHS", "PRODUCT_DETAIL"]

# The largest whole number a number attribute takes (12 digits before the point).
_MAX_NUMBER = 10**12 - 1
_SLUG_PATTERN = "^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_SLUG,
    "pattern": _SLUG_PATTERN,
    "description": "lowercase letters and digits in words joined by single dashes",
}
_LABEL = {"type": "string", "minLength": 1, "maxLength": MAX_LABEL}
_FORBIDDEN = {"403": problem("forbidden: the role lacks the permission")}
_CACHE_HEADERS = {
    "Cache-Control": {"schema": STRING, "description": f"public, max-age={STRUCTURE_MAX_AGE}"}
}

_CATEGORY_FIELDS: dict[str, Any] = {
    "id": STRING,
    "slug": STRING,
    "name": STRING,
    "description": STRING,
    "position": {"type": "integer", "description": "siblings are ordered by it, then by name"},
}
_CATEGORY_REQUIRED = ["id", "slug", "name", "description", "position"]
_CATEGORY = object_schema(_CATEGORY_REQUIRED, **_CATEGORY_FIELDS)
_STAFF_CATEGORY = object_schema(
    [*_CATEGORY_REQUIRED, "parent"],
    **_CATEGORY_FIELDS,
    parent={"type": ["string", "null"], "description": "the parent's slug; null: a root"},
)
_CRUMB = object_schema(["slug", "name"], slug=STRING, name=STRING)
# The tree: each node with its children, nested. (Drawn one level deep here; every level below
# has the same shape.)
_TREE_NODE = object_schema(
    [*_CATEGORY_REQUIRED, "children"],
    **_CATEGORY_FIELDS,
    children={"type": "array", "items": {"type": "object"}},
)
_CATEGORY_DETAIL = object_schema(
    [*_CATEGORY_REQUIRED, "path", "children"],
    **_CATEGORY_FIELDS,
    path={
        "type": "array",
        "items": _CRUMB,
        "description": "the breadcrumb: the root first, this category last",
    },
    children={"type": "array", "items": _CATEGORY, "description": "direct sub-categories"},
)
_ATTRIBUTE = object_schema(
    ["code", "name", "kind", "choices", "unit", "filterable"],
    code=STRING,
    name=STRING,
    kind={"enum": ["text", "number", "choice"]},
    choices={"type": "array", "items": STRING, "description": "a choice attribute's values"},
    unit={"type": ["string", "null"], "description": "a number's unit, e.g. ml"},
    filterable={"type": "boolean"},
)

PRODUCT_DETAIL: dict[str, Any] = {
    "allOf": [
        ref("Product"),
        object_schema(
            ["categories", "attributes"],
            categories={
                "type": "array",
                "items": _CRUMB,
                "description": "the categories it is in, in tree order",
            },
            attributes={
                "type": "object",
                "description": "attribute code -> its name, value (a number as decimal text) "
                "and unit",
                "additionalProperties": object_schema(
                    ["name", "value"], name=STRING, value=STRING, unit=STRING
                ),
            },
        ),
    ]
}


def _page_of(item: dict[str, Any]) -> dict[str, Any]:
    return object_schema(
        ["items", "page", "per_page", "total"],
        items={"type": "array", "items": item},
        page={"type": "integer"},
        per_page={"type": "integer"},
        total={"type": "integer"},
    )


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": STRING}


def _public(
    summary: str, answer: dict[str, Any], what: str, *, not_found: bool = False, **more: Any
) -> dict[str, Any]:
    missing = {"404": problem("not_found")} if not_found else {}
    return {
        "summary": f"{summary} (public; cacheable {STRUCTURE_MAX_AGE} s)",
        "tags": ["catalog"],
        **more,
        "responses": {
            "200": {**json_content(answer, what), "headers": _CACHE_HEADERS},
            **missing,
            **COMMON,
        },
    }


def _list(summary: str, item: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "summary": f"{summary} (permission catalog:write)",
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


def _change(
    summary: str,
    request: dict[str, Any],
    answers: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    conflict: str | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {**answers}
    if conflict is not None:
        responses["409"] = problem(conflict)
    return {
        "summary": f"{summary} (permission catalog:write; audited)",
        "tags": ["admin"],
        "security": SESSION_CSRF,
        **({"parameters": parameters} if parameters else {}),
        "requestBody": body(request),
        "responses": {**responses, **VALIDATION, **AUTHENTICATED, **UNSAFE},
    }


def _delete(summary: str, name: str, conflict: str | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {"204": {"description": "Deleted"}, "404": problem("not_found")}
    if conflict is not None:
        responses["409"] = problem(conflict)
    return {
        "summary": f"{summary} (permission catalog:write; audited)",
        "tags": ["admin"],
        "security": SESSION_CSRF,
        "parameters": [_path(name)],
        "responses": {**responses, **AUTHENTICATED, **UNSAFE},
    }


_PRODUCT_ANSWER = object_schema(["product"], product=PRODUCT_DETAIL)

CATEGORY_PATHS: dict[str, Any] = {
    "/api/categories": {
        "get": _public(
            "The category tree: roots by position then name, each with its nested children",
            object_schema(["items"], items={"type": "array", "items": _TREE_NODE}),
            "The tree",
        )
    },
    "/api/categories/{slug}": {
        "get": _public(
            "One category, its breadcrumb path from the root and its sub-categories",
            _CATEGORY_DETAIL,
            "The category",
            parameters=[_path("slug")],
            not_found=True,
        )
    },
    "/api/attributes": {
        "get": _public(
            "The attributes shoppers may filter by, by code",
            object_schema(["items"], items={"type": "array", "items": _ATTRIBUTE}),
            "The filterable attributes",
        )
    },
    "/api/admin/categories": {
        "get": _list("Every category, flat, in tree order", _STAFF_CATEGORY, "categories"),
        "post": _change(
            "Create a category, or edit the one with this slug (a new parent moves it)",
            object_schema(
                ["slug", "name"],
                slug=_SLUG,
                name=_LABEL,
                parent={
                    "type": ["string", "null"],
                    "maxLength": MAX_SLUG,
                    "description": "the parent's slug; absent or null: a root. Not the "
                    "category itself nor one of its sub-categories",
                },
                description={"type": ["string", "null"], "maxLength": MAX_CATEGORY_DESCRIPTION},
                position={
                    "type": ["integer", "null"],
                    "minimum": 0,
                    "maximum": 1_000_000,
                    "description": "siblings are ordered by it, then by name; absent: 0",
                },
            ),
            {
                "200": json_content(
                    object_schema(["category"], category=_STAFF_CATEGORY), "Edited"
                ),
                "201": json_content(
                    object_schema(["category"], category=_STAFF_CATEGORY), "Created"
                ),
            },
            conflict="conflict: the slug was taken meanwhile",
        ),
    },
    "/api/admin/categories/{slug}": {
        "delete": _delete(
            "Delete a category (its products leave it)",
            "slug",
            conflict="conflict: it has sub-categories; move or delete them first",
        ),
    },
    "/api/admin/products/{slug}/categories": {
        "put": _change(
            "Put a product in exactly these categories",
            object_schema(
                ["categories"],
                categories={
                    "type": "array",
                    "maxItems": MAX_PRODUCT_CATEGORIES,
                    "items": {"type": "string", "maxLength": MAX_SLUG},
                    "description": "category slugs; empty: in none",
                },
            ),
            {
                "200": json_content(_PRODUCT_ANSWER, "The product as shown now"),
                "404": problem("not_found: no such product"),
            },
            parameters=[_path("slug")],
        ),
    },
    "/api/admin/attributes": {
        "get": _list("Every attribute, filterable or not, by code", _ATTRIBUTE, "attributes"),
        "post": _change(
            "Define an attribute, or edit the one with this code",
            object_schema(
                ["code", "name", "kind"],
                code={
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_CODE,
                    "pattern": ATTRIBUTE_CODE_PATTERN,
                },
                name=_LABEL,
                kind={"enum": ["text", "number", "choice"]},
                choices={
                    "type": ["array", "null"],
                    "maxItems": MAX_CHOICES,
                    "items": {"type": "string", "maxLength": MAX_LABEL},
                    "description": "required for a choice attribute, distinct in any case; "
                    "none for the others",
                },
                unit={
                    "type": ["string", "null"],
                    "maxLength": MAX_UNIT,
                    "description": "a number's unit, e.g. ml",
                },
                filterable={
                    "type": ["boolean", "null"],
                    "description": "whether shoppers may filter by it; absent or null: true",
                },
            ),
            {
                "200": json_content(object_schema(["attribute"], attribute=_ATTRIBUTE), "Edited"),
                "201": json_content(object_schema(["attribute"], attribute=_ATTRIBUTE), "Created"),
            },
            conflict="conflict: products have values the edit would refuse (another kind, a "
            "choice taken away)",
        ),
    },
    "/api/admin/attributes/{code}": {
        "delete": _delete("Delete an attribute and every product's value of it", "code"),
    },
    "/api/admin/products/{slug}/attributes": {
        "put": _change(
            "Set a product's attribute values (codes left out lose their value)",
            object_schema(
                ["values"],
                values={
                    "type": "object",
                    "maxProperties": MAX_ATTRIBUTES,
                    "description": "attribute code -> value: text, one of a choice "
                    "attribute's choices (any case), or a number as an integer or a decimal "
                    "string (at most 4 decimals; never a float)",
                    "propertyNames": {"pattern": ATTRIBUTE_CODE_PATTERN},
                    "additionalProperties": {
                        "oneOf": [
                            {"type": "string", "minLength": 1, "maxLength": MAX_ATTRIBUTE_TEXT},
                            {"type": "integer", "minimum": -_MAX_NUMBER, "maximum": _MAX_NUMBER},
                        ]
                    },
                },
            ),
            {
                "200": json_content(_PRODUCT_ANSWER, "The product as shown now"),
                "404": problem("not_found: no such product"),
            },
            parameters=[_path("slug")],
        ),
    },
}
