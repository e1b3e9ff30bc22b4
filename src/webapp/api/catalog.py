"""The public catalog: cacheable by browsers and proxies, revalidated by strong ETags."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from flask import Blueprint, Response, request

from commerce_core.queries import PageRequest, get_product, list_products
from commerce_core.views import product_view
from webapp.api.responses import json_response
from webapp.payloads import query_int
from webapp.request_ports import request_uow

__all__ = ["bp"]

bp = Blueprint("catalog", __name__, url_prefix="/api/products")

# Short: stock changes with every sale. After this, clients revalidate and mostly get a 304.
CATALOG_MAX_AGE = 15


@bp.get("")
def list_catalog() -> Response:
    paging = PageRequest(page=query_int("page", 1), per_page=query_int("per_page", 20))
    page = list_products(request_uow(), paging, request.args.get("q"))
    return _cacheable(page.to_primitive(product_view))


@bp.get("/<slug>")
def show_product(slug: str) -> Response:
    return _cacheable(product_view(get_product(request_uow(), slug)))


def _cacheable(body: dict[str, Any]) -> Response:
    response = json_response(body)
    # Strong: the same bytes give the same tag (Flask sorts keys, so the bytes are stable).
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:40])
    response.cache_control.public = True
    response.cache_control.max_age = CATALOG_MAX_AGE
    # 304 without a body when If-None-Match names this tag.
    return cast(Response, response.make_conditional(request))
