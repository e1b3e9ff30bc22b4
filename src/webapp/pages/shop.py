"""The catalogue's pages: home, a category, search, and a product with its variant picker.

Everything shown comes from the core's read use cases (``search_catalog``, ``get_category``,
``get_product_with_details`` ...), and the filters are read by the very code the JSON API reads
them with (``webapp.catalog_query``), except that a page's prices are typed in the currency's
major units (``19.99``). A filter the catalogue cannot use - a price that is not one, an unknown
category or attribute value, a page out of range - is answered 422 with the listing page itself,
its messages on top and the form to fix them, never a 500 and never a silently different search.

Caching (``_page_response``, ``Vary: Cookie`` throughout): a page for a signed-in shopper or one
with a cart shows their name or cart in its header, so it is ``private, no-store``. For anyone
else home, category and search pages are the same bytes for everyone: ``public, max-age=60``
with a strong ETag (304 on ``If-None-Match``). A product page is different: its "Add to cart"
form carries a CSRF token bound to the browser's own session cookie, so no shared cache may hand
it to anyone else - it is ``private, max-age=60`` for the browser alone, its ETag computed
without the token (whose signature changes every second) but with the session it belongs to and
the token's age, so a 304 never revives a token that has expired.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import attrs
from flask import Blueprint, Flask, Response, current_app, g, request, session
from werkzeug.datastructures import MultiDict

from commerce_core import (
    MAX_PRICE,
    MAX_QUANTITY,
    AttributeDefinition,
    CatalogPage,
    Category,
    FacetCount,
    FieldError,
    InvalidInput,
    InvalidMoney,
    Money,
    PageRequest,
    Product,
    Variant,
    get_category,
    get_category_tree,
    get_product_with_details,
    list_filterable_attributes,
    list_products,
    search_catalog,
)
from webapp.catalog_query import ATTRIBUTE_FILTER, CatalogSearch, read_catalog_search
from webapp.images import ResponsiveImage, install_resized_images, responsive_image
from webapp.pages import seo
from webapp.pages.money_format import format_price
from webapp.payloads import UnacceptableText, clean_text
from webapp.query_reader import QueryReader
from webapp.request_ports import request_uow

__all__ = ["LOW_STOCK", "PAGE_MAX_AGE", "PER_PAGE", "bp", "format_price", "install", "stock_text"]

bp = Blueprint("pages_shop", __name__)

PER_PAGE = 12
HOME_PRODUCTS = 12
# At or below this many units a shopper is told how many are left.
LOW_STOCK = 5
PAGE_MAX_AGE = 60
CARD_IMAGE = (480, 480)
GALLERY_IMAGE = (960, 960)
SORT_LABELS = {
    "name": "Name (A to Z)",
    "price": "Price (low to high)",
    "-price": "Price (high to low)",
    "newest": "Newest first",
}
_FIELD_LABELS = {
    "q": "Search",
    "category": "Category",
    "min_price": "Minimum price",
    "max_price": "Maximum price",
    "in_stock": "In stock",
    "sort": "Sort",
    "page": "Page",
    "per_page": "Page size",
}
# A price as a shopper types it: digits, maybe a point and decimals (the currency says how many).
_MAJOR_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,4})?")
# Longer than any value a page's form sends: not shown back in the form.
_MAX_SHOWN_VALUE = 200


# -- money and stock as shoppers read them -------------------------------------------------------


def stock_text(stock: int) -> str:
    if stock <= 0:
        return "Out of stock"
    if stock <= LOW_STOCK:
        return f"Only {stock} left"
    return "In stock"


# -- what a page shows ---------------------------------------------------------------------------


@attrs.frozen
class Card:
    url: str
    name: str
    price: Money
    # The variants differ in price: the card says "from" its lowest.
    from_price: bool
    in_stock: bool
    image: ResponsiveImage
    image_url: str


def _card(product: Product) -> Card:
    prices = {v.price.amount for v in product.on_sale}
    return Card(
        url=f"/products/{product.slug}",
        name=product.name,
        price=product.price,
        from_price=len(prices) > 1,
        in_stock=product.in_stock,
        image=responsive_image(product.image_url, width=CARD_IMAGE[0], height=CARD_IMAGE[1]),
        image_url=product.image_url,
    )


@attrs.frozen
class Filters:
    """What the shopper asked for, as the form shows it again and as every link keeps it."""

    q: str = ""
    category: str = ""
    min_price: str = ""
    max_price: str = ""
    # "true" (the form's checkbox), "false" (sold out only, as the API reads it) or "".
    in_stock: str = ""
    attributes: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    sort: str = "name"
    page: int = 1

    @property
    def narrowed(self) -> bool:
        """Whether anything narrows the catalogue (paging and order do not)."""
        return bool(
            self.q
            or self.category
            or self.min_price
            or self.max_price
            or self.in_stock
            or self.attributes
        )

    def params(self, *, page: int | None = None, **changes: Any) -> list[tuple[str, str]]:
        """The query string of these filters in one stable order, defaults left out."""
        shown = attrs.evolve(self, **changes) if changes else self
        params: list[tuple[str, str]] = []
        for name in ("q", "category", "min_price", "max_price"):
            value = getattr(shown, name)
            if value:
                params.append((name, value))
        if shown.in_stock:
            params.append(("in_stock", shown.in_stock))
        for code in sorted(shown.attributes):
            params.append((f"attr[{code}]", ",".join(sorted(shown.attributes[code]))))
        if shown.sort != "name":
            params.append(("sort", shown.sort))
        number = shown.page if page is None else page
        if number > 1:
            params.append(("page", str(number)))
        return params


def _shown(raw: str | None) -> str:
    """A query value fit to show again in the form: short and free of control characters."""
    if not raw or len(raw) > _MAX_SHOWN_VALUE:
        return ""
    try:
        return clean_text(raw).strip()
    except UnacceptableText:
        return ""


def _filters_as_asked(args: MultiDict[str, str], *, with_category: bool) -> Filters:
    attributes: dict[str, tuple[str, ...]] = {}
    for name in args:
        match = ATTRIBUTE_FILTER.match(name)
        if match is None:
            continue
        values = tuple(
            value.strip()
            for raw in args.getlist(name)
            for value in _shown(raw).split(",")
            if value.strip()
        )
        if values:
            attributes[match.group(1)] = values
    page = args.get("page", "")
    sort = args.get("sort", "")
    return Filters(
        q=_shown(args.get("q")),
        category=_shown(args.get("category")) if with_category else "",
        min_price=_shown(args.get("min_price")),
        max_price=_shown(args.get("max_price")),
        in_stock=args.get("in_stock", "") if args.get("in_stock") in ("true", "false") else "",
        attributes=attributes,
        sort=sort if sort in SORT_LABELS else "name",
        page=int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1,
    )


@attrs.frozen
class FacetOption:
    value: str
    label: str
    count: int | None
    checked: bool


@attrs.frozen
class AttributeFacet:
    code: str
    name: str
    options: tuple[FacetOption, ...]

    @property
    def field(self) -> str:
        return f"attr[{self.code}]"


@attrs.frozen
class PriceLink:
    label: str
    url: str
    count: int
    current: bool


@attrs.frozen
class PageLink:
    number: int
    url: str
    current: bool


@attrs.frozen
class Pagination:
    page: int
    pages: int
    prev_url: str | None
    next_url: str | None
    links: tuple[PageLink | None, ...]  # None: a gap ("...")


@attrs.frozen
class Listing:
    """A category or search page: the results and everything to narrow them further."""

    path: str
    filters: Filters
    total: int
    first: int
    last: int
    cards: tuple[Card, ...]
    pagination: Pagination | None
    categories: tuple[FacetOption, ...]
    attributes: tuple[AttributeFacet, ...]
    price_links: tuple[PriceLink, ...]
    errors: tuple[str, ...] = ()


# -- reading the filters -------------------------------------------------------------------------


class _CatalogueCurrency:
    """The currency the catalogue prices in, read once per request and only when a price
    filter needs converting (the shop keeps one currency; an empty shop has none)."""

    def __init__(self) -> None:
        self._read = False
        self._currency: str | None = None

    def __call__(self) -> str | None:
        if not self._read:
            first = list_products(request_uow(), PageRequest(1, 1)).items
            self._currency = first[0].currency if first else None
            self._read = True
        return self._currency


def _major_price_reader(
    query: QueryReader, args: MultiDict[str, str]
) -> Callable[[str], int | None]:
    currency = _CatalogueCurrency()

    def read(name: str) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if not _MAJOR_AMOUNT.fullmatch(raw):
            query.errors.append(FieldError(name, "must be an amount such as 25 or 19.99"))
            return None
        shop_currency = currency()
        if shop_currency is None:
            return None  # nothing is for sale: there is no price to compare with
        try:
            amount = Money.parse(raw, shop_currency).amount
        except InvalidMoney:
            query.errors.append(
                FieldError(name, f"has more decimals than {shop_currency} prices have")
            )
            return None
        if amount > MAX_PRICE:
            limit = format_price(Money(MAX_PRICE, shop_currency))
            query.errors.append(FieldError(name, f"must be at most {limit}"))
            return None
        return amount

    return read


def _read_search(
    args: MultiDict[str, str], *, with_category: bool
) -> tuple[PageRequest, CatalogSearch]:
    """The page and the search asked for; ``InvalidInput`` with every problem at once."""
    fixed = args.copy()
    fixed["per_page"] = str(PER_PAGE)  # a page's size is the page's to choose
    query = QueryReader(fixed)
    paging = query.paging()
    search = read_catalog_search(
        query, price=_major_price_reader(query, fixed), with_category=with_category
    )
    return paging, search


def _messages(
    error: InvalidInput, definitions: Mapping[str, AttributeDefinition]
) -> tuple[str, ...]:
    messages = []
    for field_error in error.errors or [FieldError("query", error.detail)]:
        label = _FIELD_LABELS.get(field_error.field)
        attribute = re.fullmatch(r"attr\[([a-z0-9_]+)\]", field_error.field)
        if label is None and attribute is not None and attribute.group(1) in definitions:
            label = definitions[attribute.group(1)].name
        messages.append(f"{label or field_error.field}: {field_error.message}")
    return tuple(messages)


# -- building a listing --------------------------------------------------------------------------


def _pagination(path: str, filters: Filters, total: int) -> Pagination | None:
    pages = math.ceil(total / PER_PAGE)
    if pages <= 1 and filters.page <= 1:
        return None
    page = filters.page

    def url(number: int) -> str:
        return seo.listing_url(path, filters.params(page=number))

    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links: list[PageLink | None] = []
    for number in wanted:
        if links and links[-1] is not None and number - links[-1].number > 1:
            links.append(None)
        links.append(PageLink(number, url(number), number == page))
    return Pagination(
        page=page,
        pages=pages,
        prev_url=url(page - 1) if 1 < page <= pages + 1 else None,
        next_url=url(page + 1) if page < pages else None,
        links=tuple(links),
    )


def _attribute_facets(
    found: CatalogPage,
    search: CatalogSearch,
    category: str | None,
    definitions: Mapping[str, AttributeDefinition],
) -> tuple[AttributeFacet, ...]:
    """Each filterable attribute's values with how many products each would show. For an
    attribute already filtered, its values are counted without its own filter (its boxes mean
    "any of these"), so choosing one more value still shows what it would add."""
    facets = []
    for code, definition in sorted(definitions.items(), key=lambda item: item[1].name):
        counts: Sequence[FacetCount] = found.facets.attributes.get(code, ())
        chosen = set(search.attributes.get(code, ()))
        if chosen:
            others = {c: v for c, v in search.attributes.items() if c != code}
            without = search_catalog(
                request_uow(), search.where, PageRequest(1, 1), category=category, attributes=others
            )
            counts = without.facets.attributes.get(code, ())
        by_value = {facet.value.casefold(): facet for facet in counts}
        options = [
            FacetOption(f.value, _attribute_label(definition, f.value), f.count, f.value in chosen)
            for f in counts
        ]
        options += [
            FacetOption(value, _attribute_label(definition, value), 0, True)
            for value in sorted(chosen)
            if value.casefold() not in by_value
        ]
        if options:
            facets.append(AttributeFacet(code, definition.name, tuple(options)))
    return tuple(facets)


def _spelled(
    asked: Mapping[str, Sequence[str]], definitions: Mapping[str, AttributeDefinition]
) -> dict[str, tuple[str, ...]]:
    """Each filtered attribute's values as stored (the core has accepted them already)."""
    return {
        code: tuple(
            sorted({definitions[code].parse(value, f"attr[{code}]").text for value in values})
        )
        for code, values in asked.items()
        if code in definitions
    }


def _attribute_label(definition: AttributeDefinition, value: str) -> str:
    return f"{value} {definition.unit}" if definition.unit else value


def _price_links(path: str, filters: Filters, found: CatalogPage) -> tuple[PriceLink, ...]:
    links = []
    for price_range in found.facets.price_ranges:
        if price_range.count == 0:
            continue
        low = Money(price_range.min, price_range.currency)
        low_text = low.to_decimal_string() if price_range.min else ""
        if price_range.max is None:
            label = f"{format_price(low)} and over"
            high_text = ""
        else:
            high = Money(price_range.max, price_range.currency)
            top = Money(price_range.max - 1, price_range.currency)  # the filter's max is inclusive
            label = (
                f"Under {format_price(high)}"
                if not price_range.min
                else f"{format_price(low)} to {format_price(high)}"
            )
            high_text = top.to_decimal_string()
        params = filters.params(page=1, min_price=low_text, max_price=high_text)
        current = (filters.min_price, filters.max_price) == (low_text, high_text)
        links.append(PriceLink(label, seo.listing_url(path, params), price_range.count, current))
    return tuple(links)


def _category_options(found: CatalogPage, filters: Filters) -> tuple[FacetOption, ...]:
    options = [
        FacetOption(
            f.value,
            found.category_names.get(f.value, f.value),
            f.count,
            f.value == filters.category,
        )
        for f in found.facets.categories
    ]
    if filters.category and not any(o.checked for o in options):
        name = found.category_names.get(filters.category, filters.category)
        options.append(FacetOption(filters.category, name, None, True))
    return tuple(sorted(options, key=lambda o: o.label.casefold()))


def _listing(path: str, *, category: Category | None) -> Listing:
    """The listing at ``path`` for this request's query string, or the 422 listing naming what
    could not be used."""
    with_category = category is None
    filters = _filters_as_asked(request.args, with_category=with_category)
    definitions = {d.code: d for d in list_filterable_attributes(request_uow())}
    try:
        paging, search = _read_search(request.args, with_category=with_category)
        slug = category.slug if category is not None else search.category
        found = search_catalog(
            request_uow(), search.where, paging, category=slug, attributes=search.attributes
        )
        # Attribute values as the catalogue spells them ("linen" asked, "Linen" stored).
        chosen = _spelled(search.attributes, definitions)
        search = attrs.evolve(search, attributes=chosen)
        filters = attrs.evolve(filters, attributes=chosen, page=paging.page)
        attribute_facets = _attribute_facets(found, search, slug, definitions)
    except InvalidInput as error:
        return Listing(
            path=path,
            filters=attrs.evolve(filters, page=1),
            total=0,
            first=0,
            last=0,
            cards=(),
            pagination=None,
            categories=(),
            attributes=(),
            price_links=(),
            errors=_messages(error, definitions),
        )
    items = found.page.items
    first = paging.offset + 1 if items else 0
    return Listing(
        path=path,
        filters=filters,
        total=found.page.total,
        first=first,
        last=paging.offset + len(items),
        cards=tuple(_card(product) for product in items),
        pagination=_pagination(path, filters, found.page.total),
        categories=_category_options(found, filters) if with_category else (),
        attributes=attribute_facets,
        price_links=_price_links(path, filters, found),
    )


# -- caching -------------------------------------------------------------------------------------


def _render(template: str, context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The page and the context it was rendered with, the app's context processors included
    (the signed-in user, the cart's size), run once."""
    app = current_app
    app.update_template_context(context)
    return app.jinja_env.get_or_select_template(template).render(context), context


def _page_response(template: str, *, status: int = 200, **context: Any) -> Response:
    html, seen = _render(template, context)
    response = current_app.response_class(html, status=status, mimetype="text/html")
    response.vary.add("Cookie")
    personal = seen.get("signed_in_user") is not None or bool(seen.get("cart_count"))
    if personal or status != 200:
        response.headers["Cache-Control"] = "private, no-store"
        return response
    token = g.get("csrf_token")
    if token is None and not session.modified:
        response.headers["Cache-Control"] = f"public, max-age={PAGE_MAX_AGE}"
        response.set_etag(hashlib.sha256(html.encode()).hexdigest()[:40])
    else:
        response.headers["Cache-Control"] = f"private, max-age={PAGE_MAX_AGE}"
        response.set_etag(_browser_etag(html, token))
    return cast(Response, response.make_conditional(request))


def _browser_etag(html: str, token: str | None) -> str:
    """A tag for a page holding this browser's form token: its content without the token, the
    session the token belongs to, and the token's time window (a 304 hands back the copy the
    browser has, token included, so the tag changes before that token could expire)."""
    digest = hashlib.sha256(html.replace(token, "").encode() if token else html.encode())
    digest.update(str(session.get("csrf_token", "")).encode())
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
    if limit:
        digest.update(str(int(time.time() // max(1, limit // 2))).encode())
    return digest.hexdigest()[:40]


# -- pages ---------------------------------------------------------------------------------------


def _social(title: str, description: str, url: str, image_url: str, kind: str) -> dict[str, str]:
    return {
        "title": title,
        "description": description,
        "url": url,
        "image": seo.absolute_url(image_url) if image_url else "",
        "type": kind,
    }


def _shop_name() -> str:
    # Imported when asked: ``webapp.pages`` imports this module while it is being set up.
    from webapp.pages import SHOP_NAME

    return SHOP_NAME


@bp.get("/")
def home() -> Response:
    uow = request_uow()
    tree = get_category_tree(uow)
    found = list_products(uow, PageRequest(1, HOME_PRODUCTS))
    cards = tuple(_card(product) for product in found.items)
    shop_name = _shop_name()
    roots = [node.category for node in tree]
    names = ", ".join(c.name for c in roots)
    description = seo.meta_description(
        f"{shop_name}: {_count(found.total)}" + (f" in {names}." if names else ".")
    )
    canonical = seo.absolute_url("/")
    return _page_response(
        "shop/home.html",
        categories=roots,
        cards=cards,
        total=found.total,
        description=description,
        canonical=canonical,
        social=_social(
            shop_name, description, canonical, cards[0].image_url if cards else "", "website"
        ),
        json_ld=seo.organization_json_ld(shop_name),
    )


def _listing_seo(listing: Listing, title: str, description: str) -> dict[str, Any]:
    canonical = (
        seo.absolute_url(listing.path)
        if listing.errors
        else seo.listing_url(listing.path, listing.filters.params(), absolute=True)
    )
    image = listing.cards[0].image_url if listing.cards else ""
    page = listing.filters.page
    full_title = f"{title} (page {page})" if page > 1 and not listing.errors else title
    return {
        "title": full_title,
        "description": seo.meta_description(description),
        "canonical": canonical,
        "noindex": listing.filters.narrowed or bool(listing.errors),
        "social": _social(
            full_title, seo.meta_description(description), canonical, image, "website"
        ),
    }


def _count(total: int) -> str:
    return f"{total} product" + ("" if total == 1 else "s")


@bp.get("/categories/<slug>")
def category_page(slug: str) -> Response:
    detail = get_category(request_uow(), slug)
    category = detail.category
    path = f"/categories/{category.slug}"
    listing = _listing(path, category=category)
    trail = [("Home", "/"), *((c.name, f"/categories/{c.slug}") for c in detail.path)]
    description = category.description or f"{_count(listing.total)} in {category.name}."
    return _page_response(
        "shop/listing.html",
        status=422 if listing.errors else 200,
        listing=listing,
        heading=category.name,
        intro=category.description,
        category=category,
        children=detail.children,
        trail=trail,
        sort_labels=SORT_LABELS,
        search_text=listing.filters.q,
        json_ld=[seo.breadcrumb_json_ld(trail)],
        **_listing_seo(listing, category.name, description),
    )


@bp.get("/search")
def search_page() -> Response:
    listing = _listing("/search", category=None)
    query = listing.filters.q
    heading = f"Results for “{query}”" if query else "All products"
    description = (
        f"{_count(listing.total)} matching “{query}”." if query else f"{_count(listing.total)}."
    )
    return _page_response(
        "shop/listing.html",
        status=422 if listing.errors else 200,
        listing=listing,
        heading=heading,
        intro="",
        category=None,
        children=(),
        trail=[],
        sort_labels=SORT_LABELS,
        search_text=query,
        json_ld=[],
        **_listing_seo(listing, heading, description),
    )


@attrs.frozen
class VariantChoice:
    id: str
    sku: str
    label: str
    price: Money
    stock: int
    in_stock: bool
    stock_text: str
    options: Mapping[str, str]
    image: ResponsiveImage | None


def _variant_choice(variant: Variant) -> VariantChoice:
    return VariantChoice(
        id=variant.id,
        sku=variant.sku,
        label=variant.label or variant.sku,
        price=variant.price,
        stock=variant.stock,
        in_stock=variant.in_stock,
        stock_text=stock_text(variant.stock if variant.in_stock else 0),
        options=variant.option_values,
        image=(
            responsive_image(variant.image_url, width=GALLERY_IMAGE[0], height=GALLERY_IMAGE[1])
            if variant.image_url
            else None
        ),
    )


def _option_values(product: Product) -> list[tuple[str, list[str]]]:
    """Each option with its values in the order the variants first name them."""
    values: dict[str, list[str]] = {name: [] for name in product.option_names}
    for variant in product.on_sale:
        for name, value in variant.options:
            if name in values and value not in values[name]:
                values[name].append(value)
    return list(values.items())


def _picker_data(
    choices: Sequence[VariantChoice], selected: VariantChoice | None
) -> dict[str, Any]:
    """What ``variant-picker.js`` reads from the page's JSON data block."""
    return {
        "selected": selected.id if selected else None,
        "variants": [
            {
                "id": c.id,
                "sku": c.sku,
                "options": dict(c.options),
                "price": format_price(c.price),
                "in_stock": c.in_stock,
                "stock_text": c.stock_text,
                "max_quantity": min(c.stock, MAX_QUANTITY),
                "image": None if c.image is None else attrs.asdict(c.image),
            }
            for c in choices
        ],
    }


@bp.get("/products/<slug>")
def product_page(slug: str) -> Response:
    uow = request_uow()
    found = get_product_with_details(uow, slug)
    product, details = found.product, found.details
    path: tuple[Category, ...] = ()
    if details.categories:
        path = get_category(uow, details.categories[0].slug).path
    trail = [
        ("Home", "/"),
        *((c.name, f"/categories/{c.slug}") for c in path),
        (product.name, f"/products/{product.slug}"),
    ]
    choices = [_variant_choice(v) for v in product.on_sale]
    selected = next((c for c in choices if c.in_stock), choices[0] if choices else None)
    prices = {c.price.amount for c in choices}
    canonical = seo.absolute_url(f"/products/{product.slug}")
    description = seo.meta_description(
        product.description or f"{product.name} at {_shop_name()}, {format_price(product.price)}."
    )
    return _page_response(
        "shop/product.html",
        product=product,
        details=details,
        trail=trail,
        choices=choices,
        selected=selected,
        options=_option_values(product),
        from_price=len(prices) > 1,
        picker=_picker_data(choices, selected),
        # Without the picker script any variant may be posted: the largest stock bounds them all.
        max_quantity=max(1, min(max((c.stock for c in choices), default=1), MAX_QUANTITY)),
        image=responsive_image(product.image_url, width=GALLERY_IMAGE[0], height=GALLERY_IMAGE[1]),
        title=product.name,
        description=description,
        canonical=canonical,
        social=_social(product.name, description, canonical, product.image_url, "product"),
        json_ld=[
            seo.product_json_ld(
                product, image_url=product.image_url, category_names=[c.name for c in path]
            ),
            seo.breadcrumb_json_ld(trail),
        ],
    )


def install(app: Flask) -> None:
    """The catalogue's pages, the sitemap and robots.txt, and resized images."""
    app.register_blueprint(bp)
    app.register_blueprint(seo.bp)
    install_resized_images(app)
    app.jinja_env.globals.setdefault("stock_text", stock_text)
