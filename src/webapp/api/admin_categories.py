"""Staff shape the catalogue: categories (a tree), attribute definitions, and which categories
and attribute values each product has.

Each route declares ``catalog:write``; the use cases check it again and audit every change.
Saving a category or an attribute is create-or-edit by its slug or code (201 when it is new,
200 when it edited one); deleting an unknown one is a 404. A product's categories and values
are replaced as a whole (``PUT``). Lists are ``{items, page, per_page, total}``, never cached.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, request

from commerce_core import (
    ATTRIBUTE_CODE_PATTERN,
    MAX_ATTRIBUTES,
    MAX_PRODUCT_CATEGORIES,
    AssignProductCategories,
    DeleteAttribute,
    DeleteCategory,
    FieldError,
    Permission,
    SaveAttribute,
    SaveCategory,
    SetProductAttributes,
    assign_product_categories,
    attribute_definition_view,
    category_view,
    delete_attribute,
    delete_category,
    list_attribute_definitions,
    list_categories,
    product_view,
    save_attribute,
    save_category,
    set_product_attributes,
)
from webapp.api.responses import json_response
from webapp.payloads import BodyReader, UnacceptableText, clean_text, json_body
from webapp.query_reader import QueryReader
from webapp.request_ports import container, request_uow
from webapp.sessions import permission_required, require_user

__all__ = [
    "MAX_ATTRIBUTE_TEXT",
    "MAX_CATEGORY_DESCRIPTION",
    "MAX_CHOICES",
    "MAX_CODE",
    "MAX_LABEL",
    "MAX_SLUG",
    "MAX_UNIT",
    "bp",
]

bp = Blueprint("admin_categories", __name__, url_prefix="/api/admin")

# The domain's bounds, checked here first so that an absurdly long value is refused before
# anything reads it (and stated once for the OpenAPI document).
MAX_SLUG = 100
MAX_LABEL = 100  # a category's or an attribute's name, a choice
MAX_CATEGORY_DESCRIPTION = 2000
MAX_CODE = 40
MAX_UNIT = 20
MAX_CHOICES = 100
# A text value, or a number written as a decimal string.
MAX_ATTRIBUTE_TEXT = 200
_CODE = re.compile(ATTRIBUTE_CODE_PATTERN)


def _no_content() -> Response:
    return Response(status=204)


def _optional_integer(body: BodyReader, data: dict[str, Any], name: str, default: int) -> int:
    return default if data.get(name) is None else body.integer(name)


def _texts(body: BodyReader, data: dict[str, Any], name: str, *, max_items: int) -> list[str]:
    """An optional array of short texts (absent or null: empty)."""
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        body.errors.append(FieldError(name, "must be an array of strings"))
        return []
    if len(value) > max_items:
        body.errors.append(FieldError(name, f"must have at most {max_items} entries"))
        return []
    texts = []
    for index, item in enumerate(value):
        field = f"{name}[{index}]"
        if not isinstance(item, str) or len(item) > MAX_LABEL:
            body.errors.append(FieldError(field, f"must be a string of at most {MAX_LABEL}"))
            continue
        try:
            texts.append(clean_text(item))
        except UnacceptableText as refused:
            body.errors.append(FieldError(field, str(refused)))
    return texts


# -- categories ----------------------------------------------------------------------------------


@bp.get("/categories")
@permission_required(Permission.CATALOG_WRITE)
def list_all_categories() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    page = list_categories(request_uow(), require_user(), paging)
    return json_response(page.to_primitive(lambda item: item))


@bp.post("/categories")
@permission_required(Permission.CATALOG_WRITE)
def save_one_category() -> Response:
    data = json_body()
    body = BodyReader(data)
    slug = body.text("slug", max_length=MAX_SLUG, min_length=1)
    name = body.text("name", max_length=MAX_LABEL)
    parent = body.optional_text("parent", max_length=MAX_SLUG)
    description = body.optional_text(
        "description", max_length=MAX_CATEGORY_DESCRIPTION, multiline=True
    )
    position = _optional_integer(body, data, "position", 0)
    body.finish()
    saved = save_category(
        SaveCategory(
            require_user().id,
            slug,
            name,
            parent=parent or None,
            description=description or "",
            position=position,
            ip=request.remote_addr,
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    shown = {**category_view(saved.value), "parent": parent or None}
    return json_response({"category": shown}, 201 if saved.created else 200)


@bp.delete("/categories/<slug>")
@permission_required(Permission.CATALOG_WRITE)
def delete_one_category(slug: str) -> Response:
    delete_category(
        DeleteCategory(require_user().id, slug, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _no_content()


@bp.put("/products/<slug>/categories")
@permission_required(Permission.CATALOG_WRITE)
def set_categories_of_product(slug: str) -> Response:
    data = json_body()
    body = BodyReader(data)
    if not isinstance(data.get("categories"), list):
        body.errors.append(FieldError("categories", "must be an array of category slugs"))
    chosen = _texts(body, data, "categories", max_items=MAX_PRODUCT_CATEGORIES)
    body.finish()
    result = assign_product_categories(
        AssignProductCategories(require_user().id, slug, tuple(chosen), ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return json_response({"product": product_view(result.product, result.details)})


# -- attributes ----------------------------------------------------------------------------------


@bp.get("/attributes")
@permission_required(Permission.CATALOG_WRITE)
def list_all_attributes() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    page = list_attribute_definitions(request_uow(), require_user(), paging)
    return json_response(page.to_primitive(attribute_definition_view))


@bp.post("/attributes")
@permission_required(Permission.CATALOG_WRITE)
def save_one_attribute() -> Response:
    data = json_body()
    body = BodyReader(data)
    code = body.text("code", max_length=MAX_CODE, min_length=1)
    name = body.text("name", max_length=MAX_LABEL)
    kind = body.text("kind", max_length=10, min_length=1)
    choices = _texts(body, data, "choices", max_items=MAX_CHOICES)
    unit = body.optional_text("unit", max_length=MAX_UNIT)
    filterable = body.flag("filterable")
    body.finish()
    saved = save_attribute(
        SaveAttribute(
            require_user().id,
            code,
            name,
            kind,
            choices=tuple(choices),
            unit=unit or None,
            filterable=filterable,
            ip=request.remote_addr,
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    view = attribute_definition_view(saved.value)
    return json_response({"attribute": view}, 201 if saved.created else 200)


@bp.delete("/attributes/<code>")
@permission_required(Permission.CATALOG_WRITE)
def delete_one_attribute(code: str) -> Response:
    delete_attribute(
        DeleteAttribute(require_user().id, code, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _no_content()


@bp.put("/products/<slug>/attributes")
@permission_required(Permission.CATALOG_WRITE)
def set_attributes_of_product(slug: str) -> Response:
    data = json_body()
    body = BodyReader(data)
    values = _values(body, data.get("values"))
    body.finish()
    result = set_product_attributes(
        SetProductAttributes(require_user().id, slug, values, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return json_response({"product": product_view(result.product, result.details)})


def _values(body: BodyReader, value: object) -> dict[str, object]:
    """The required ``values`` object: attribute code -> a string or an integer (the core
    checks each against its definition)."""
    if not isinstance(value, dict):
        body.errors.append(FieldError("values", "must be an object of attribute code -> value"))
        return {}
    if len(value) > MAX_ATTRIBUTES:
        body.errors.append(FieldError("values", f"must have at most {MAX_ATTRIBUTES} entries"))
        return {}
    values: dict[str, object] = {}
    for code, raw in value.items():
        if not _CODE.fullmatch(code):
            # Not echoed: a key may hold anything a client can put in JSON.
            body.errors.append(FieldError("values", "keys must be attribute codes"))
            continue
        field = f"values.{code}"
        if isinstance(raw, str):
            if len(raw) > MAX_ATTRIBUTE_TEXT:
                body.errors.append(FieldError(field, f"must be at most {MAX_ATTRIBUTE_TEXT}"))
                continue
            try:
                values[code] = clean_text(raw)
            except UnacceptableText as refused:
                body.errors.append(FieldError(field, str(refused)))
        elif type(raw) is int:
            values[code] = raw
        else:
            body.errors.append(FieldError(field, "must be a string or an integer"))
    return values
