"""Browsing the catalogue's structure: the category tree, one category with its breadcrumb,
and the attributes shoppers may filter by.

The answers depend on the URL alone - no cookie, no session - and change only when staff edit
the catalogue, so browsers and shared caches may keep them a minute.
"""

from __future__ import annotations

from flask import Blueprint, Response

from commerce_core import (
    attribute_definition_view,
    category_detail_view,
    category_tree_view,
    get_category,
    get_category_tree,
    list_filterable_attributes,
)
from webapp.api.responses import json_response
from webapp.request_ports import request_uow

__all__ = ["STRUCTURE_MAX_AGE", "bp"]

bp = Blueprint("categories", __name__, url_prefix="/api")

STRUCTURE_MAX_AGE = 60
_CACHE_CONTROL = f"public, max-age={STRUCTURE_MAX_AGE}"


def _cacheable(response: Response) -> Response:
    response.headers["Cache-Control"] = _CACHE_CONTROL
    return response


@bp.get("/categories")
def category_tree() -> Response:
    tree = get_category_tree(request_uow())
    return _cacheable(json_response({"items": category_tree_view(tree)}))


@bp.get("/categories/<slug>")
def show_category(slug: str) -> Response:
    return _cacheable(json_response(category_detail_view(get_category(request_uow(), slug))))


@bp.get("/attributes")
def filterable_attributes() -> Response:
    definitions = list_filterable_attributes(request_uow())
    return _cacheable(json_response({"items": [attribute_definition_view(d) for d in definitions]}))
