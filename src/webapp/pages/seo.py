"""What search engines and link previews read: absolute canonical URLs, JSON-LD, the sitemap and
robots.txt.

Every URL handed out here is absolute and built from ``PUBLIC_URL`` - never from the request's
``Host``, which a client chooses: a canonical link or a sitemap pointing at whatever host a
request named would let anyone make the shop advertise their domain.

JSON-LD (schema.org) follows Google's product rich results: a ``Product`` carries one ``Offer``
(price as a decimal string, currency, availability, SKU), or an ``AggregateOffer`` with the
lowest and highest price and an ``Offer`` per variant when it has options; product and category
pages carry a ``BreadcrumbList``; the home page an ``Organization`` and a ``WebSite`` with its
search.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app

from commerce_core import (
    MAX_PER_PAGE,
    CatalogQuery,
    CategoryNode,
    PageRequest,
    Product,
    Variant,
    get_category_tree,
    search_catalog,
)
from webapp.config import Settings
from webapp.request_ports import request_uow

__all__ = [
    "DISALLOWED_PATHS",
    "SITEMAP_MAX_URLS",
    "absolute_url",
    "availability",
    "bp",
    "breadcrumb_json_ld",
    "listing_url",
    "meta_description",
    "organization_json_ld",
    "product_json_ld",
]

bp = Blueprint("pages_seo", __name__)

# The sitemap protocol's limit per file; a larger catalogue needs a sitemap index.
SITEMAP_MAX_URLS = 50_000
# Personal, transactional or machine paths: nothing there belongs in a search index. The API's
# rendered documentation is the exception.
DISALLOWED_PATHS = (
    "/admin",
    "/account",
    "/cart",
    "/checkout",
    "/orders/",
    "/fake-gateway/",
    "/api/",
)
ALLOWED_PATHS = ("/api/docs",)
# Search engines show about this much of a description.
MAX_DESCRIPTION = 160
_SITEMAP_MAX_AGE = 3600
_SCHEMA = "https://schema.org"


def _public_url() -> str:
    settings: Settings = current_app.config["COMMERCE_SETTINGS"]
    return settings.public_url.rstrip("/")


def absolute_url(path: str) -> str:
    """``path`` (starting with ``/``) on the shop's public origin; an absolute URL (a CDN's
    image) is returned as it is."""
    if path.startswith(("https://", "http://")):
        return path
    return _public_url() + path


def listing_url(path: str, params: Sequence[tuple[str, str]], *, absolute: bool = False) -> str:
    """``path`` with ``params`` in the order given (the caller's canonical order)."""
    query = urlencode(list(params))
    url = f"{path}?{query}" if query else path
    return absolute_url(url) if absolute else url


def meta_description(text: str) -> str:
    """``text`` on one line, cut at a word to what a result snippet shows."""
    flat = " ".join(text.split())
    if len(flat) <= MAX_DESCRIPTION:
        return flat
    cut = flat[: MAX_DESCRIPTION - 1].rsplit(" ", 1)[0].rstrip(",.;:")
    return cut + "…"


def availability(variant_or_product: Variant | Product) -> str:
    in_stock = variant_or_product.in_stock
    return f"{_SCHEMA}/InStock" if in_stock else f"{_SCHEMA}/OutOfStock"


def _offer(product: Product, variant: Variant) -> dict[str, Any]:
    return {
        "@type": "Offer",
        "url": absolute_url(f"/products/{product.slug}"),
        "sku": variant.sku,
        "price": variant.price.to_decimal_string(),
        "priceCurrency": variant.price.currency,
        "availability": availability(variant),
        "itemCondition": f"{_SCHEMA}/NewCondition",
    }


def product_json_ld(
    product: Product, *, image_url: str, category_names: Sequence[str]
) -> dict[str, Any]:
    """A ``Product`` with what it sells: the one ``Offer`` of a product without options, else
    an ``AggregateOffer`` over the variants on sale."""
    on_sale = product.on_sale
    data: dict[str, Any] = {
        "@context": _SCHEMA,
        "@type": "Product",
        "name": product.name,
        "url": absolute_url(f"/products/{product.slug}"),
    }
    if product.description:
        data["description"] = product.description
    if image_url:
        data["image"] = [absolute_url(image_url)]
    if category_names:
        data["category"] = " > ".join(category_names)
    if not product.option_names and len(on_sale) == 1:
        data["sku"] = on_sale[0].sku
        data["offers"] = _offer(product, on_sale[0])
        return data
    prices = [v.price for v in on_sale] or [product.price]
    low = min(prices, key=lambda money: money.amount)
    high = max(prices, key=lambda money: money.amount)
    data["offers"] = {
        "@type": "AggregateOffer",
        "lowPrice": low.to_decimal_string(),
        "highPrice": high.to_decimal_string(),
        "priceCurrency": low.currency,
        "offerCount": len(on_sale),
        "availability": availability(product),
        "offers": [_offer(product, variant) for variant in on_sale],
    }
    return data


def breadcrumb_json_ld(trail: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A ``BreadcrumbList`` of ``(name, path)``, home first."""
    return {
        "@context": _SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": index, "name": name, "item": absolute_url(path)}
            for index, (name, path) in enumerate(trail, start=1)
        ],
    }


def organization_json_ld(shop_name: str) -> list[dict[str, Any]]:
    """The shop itself, and its site search (which search engines may offer in results)."""
    home = absolute_url("/")
    return [
        {"@context": _SCHEMA, "@type": "Organization", "name": shop_name, "url": home},
        {
            "@context": _SCHEMA,
            "@type": "WebSite",
            "name": shop_name,
            "url": home,
            "potentialAction": {
                "@type": "SearchAction",
                "target": {
                    "@type": "EntryPoint",
                    "urlTemplate": absolute_url("/search?q={search_term_string}"),
                },
                "query-input": "required name=search_term_string",
            },
        },
    ]


# -- sitemap.xml and robots.txt -----------------------------------------------------------------


def _categories(tree: Iterable[CategoryNode]) -> Iterator[str]:
    for node in tree:
        yield node.category.slug
        yield from _categories(node.children)


def _products_on_sale() -> Iterator[Product]:
    """Every product a shopper can see (archived ones are not), a page at a time."""
    page = 1
    while True:
        found = search_catalog(
            request_uow(), CatalogQuery(), PageRequest(page, MAX_PER_PAGE), with_facets=False
        )
        yield from found.page.items
        if page * MAX_PER_PAGE >= found.page.total or not found.page.items:
            return
        page += 1


def _lastmod(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _url_entry(loc: str, lastmod: datetime | None) -> str:
    modified = "" if lastmod is None else f"<lastmod>{_lastmod(lastmod)}</lastmod>"
    return f"<url><loc>{escape(loc)}</loc>{modified}</url>"


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """The home page, every category and every product on sale (``lastmod``: its last change)."""
    categories = list(_categories(get_category_tree(request_uow())))
    room = SITEMAP_MAX_URLS - 1 - len(categories)  # the core keeps categories far below this
    products: list[Product] = []
    for product in _products_on_sale():
        if len(products) >= room:
            break
        products.append(product)
    newest = max((p.updated_at for p in products), default=None)
    entries = [_url_entry(absolute_url("/"), newest)]
    entries += [_url_entry(absolute_url(f"/categories/{slug}"), None) for slug in categories]
    entries += [_url_entry(absolute_url(f"/products/{p.slug}"), p.updated_at) for p in products]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(entries)
        + "\n</urlset>\n"
    )
    return current_app.response_class(
        body,
        mimetype="application/xml",
        headers={"Cache-Control": f"public, max-age={_SITEMAP_MAX_AGE}"},
    )


@bp.get("/robots.txt")
def robots() -> Response:
    lines = ["User-agent: *"]
    lines += [f"Allow: {path}" for path in ALLOWED_PATHS]
    lines += [f"Disallow: {path}" for path in DISALLOWED_PATHS]
    lines += ["", f"Sitemap: {absolute_url('/sitemap.xml')}", ""]
    return current_app.response_class(
        "\n".join(lines),
        mimetype="text/plain",
        headers={"Cache-Control": f"public, max-age={_SITEMAP_MAX_AGE}"},
    )
