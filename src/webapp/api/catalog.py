"""The public catalog: cacheable by browsers and proxies, revalidated by strong ETags.

Each app instance also keeps its rendered answers for a second (``webapp.catalog_cache``): a
repeated request, or a revalidation naming the current tag, is answered without the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, cast

from flask import Blueprint, Response, current_app, request

from commerce_core import (
    facets_view,
    get_product_with_details,
    product_view,
    search_catalog,
)
from webapp.api.responses import json_response
from webapp.catalog_cache import CachedPage, catalog_cache
from webapp.catalog_query import read_catalog_search
from webapp.query_reader import QueryReader
from webapp.request_ports import request_uow

__all__ = ["CATALOG_MAX_AGE", "bp"]

bp = Blueprint("catalog", __name__, url_prefix="/api/products")

# Short: stock changes with every sale. After this, clients revalidate and mostly get a 304.
# The server's own cache adds at most its TTL to the staleness a client may see.
CATALOG_MAX_AGE = 15
_CACHE_CONTROL = f"public, max-age={CATALOG_MAX_AGE}"


@bp.get("")
def list_catalog() -> Response:
    """Search and browse: ``q``, ``category`` (a slug, its sub-categories included),
    ``min_price``/``max_price`` (minor units), ``in_stock``, ``attr[<code>]=<value>,...``,
    ``sort`` and paging; the answer adds ``facets`` for the whole match. Each URL (query
    string included) is cached and tagged on its own."""

    def render() -> dict[str, Any]:
        query = QueryReader()
        paging = query.paging()
        search = read_catalog_search(query, price=query.amount)
        found = search_catalog(
            request_uow(),
            search.where,
            paging,
            category=search.category,
            attributes=search.attributes,
        )
        return {
            **found.page.to_primitive(product_view),
            "facets": facets_view(found.facets, found.category_names),
        }

    return _cacheable(render)


@bp.get("/<slug>")
def show_product(slug: str) -> Response:
    def render() -> dict[str, Any]:
        found = get_product_with_details(request_uow(), slug)
        return product_view(found.product, found.details)

    return _cacheable(render)


def _cacheable(render: Callable[[], dict[str, Any]]) -> Response:
    """The cached answer for this URL if it is fresh, else ``render()``'s, cached. Only 200s
    are cached: a 404 or 422 raises out of ``render`` and is answered as before."""
    cache = catalog_cache()
    key = request.full_path
    page = cache.get(key)
    if page is None:
        read_at = cache.now()
        body = json_response(render()).get_data()
        page = cache.put(key, body, _etag(body), read_at=read_at)
    return _response(page)


def _etag(body: bytes) -> str:
    # Strong: the same bytes give the same tag (Flask sorts keys, so the bytes are stable).
    return hashlib.sha256(body).hexdigest()[:40]


def _response(page: CachedPage) -> Response:
    # Header values as strings: cheaper than werkzeug's parsed views, and the same bytes.
    headers = {"ETag": f'"{page.etag}"', "Cache-Control": _CACHE_CONTROL}
    response = current_app.response_class(page.body, mimetype="application/json", headers=headers)
    # 304 without a body when If-None-Match names this tag.
    return cast(Response, response.make_conditional(request))
