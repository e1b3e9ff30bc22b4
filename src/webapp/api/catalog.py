"""The public catalog: cacheable by browsers and proxies, revalidated by strong ETags.

Each app instance also keeps its rendered answers for a second (``webapp.catalog_cache``): a
repeated request, or a revalidation naming the current tag, is answered without the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, cast

from flask import Blueprint, Response, current_app, request

from commerce_core import PageRequest, get_product, list_products, product_view
from webapp.api.responses import json_response
from webapp.catalog_cache import CachedPage, catalog_cache
from webapp.payloads import query_int, query_text
from webapp.request_ports import request_uow

__all__ = ["CATALOG_MAX_AGE", "bp"]

bp = Blueprint("catalog", __name__, url_prefix="/api/products")

# Short: stock changes with every sale. After this, clients revalidate and mostly get a 304.
# The server's own cache adds at most its TTL to the staleness a client may see.
CATALOG_MAX_AGE = 15
_CACHE_CONTROL = f"public, max-age={CATALOG_MAX_AGE}"
# The longest search the catalog answers (the core refuses longer ones too).
MAX_QUERY = 100


@bp.get("")
def list_catalog() -> Response:
    def render() -> dict[str, Any]:
        paging = PageRequest(page=query_int("page", 1), per_page=query_int("per_page", 20))
        query = query_text("q", max_length=MAX_QUERY)
        return list_products(request_uow(), paging, query).to_primitive(product_view)

    return _cacheable(render)


@bp.get("/<slug>")
def show_product(slug: str) -> Response:
    return _cacheable(lambda: product_view(get_product(request_uow(), slug)))


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
