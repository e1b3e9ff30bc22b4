"""Reading a catalogue search from the query string: one reading for the JSON API
(``webapp.api.catalog``) and the storefront's pages (``webapp.pages.shop``), so that both accept
and refuse exactly the same filters.

The two differ only in how a price is written - minor units in the API, the currency's major
units (``19.99``) in a page's form - so the price reader is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import attrs
from flask import request

from commerce_core import CatalogQuery, CatalogSort, FieldError
from webapp.query_reader import QueryReader

__all__ = [
    "ATTRIBUTE_FILTER",
    "MAX_ATTRIBUTE_FILTERS",
    "MAX_ATTRIBUTE_VALUE",
    "MAX_QUERY",
    "MAX_SLUG",
    "SORTS",
    "CatalogSearch",
    "attribute_filters",
    "read_catalog_search",
]

# The longest search the catalog answers (the core refuses longer ones too).
MAX_QUERY = 100
MAX_SLUG = 100
SORTS = frozenset(sort.value for sort in CatalogSort)
# `attr[material]=stoneware,porcelain`: any of the values of one attribute (OpenAPI's
# deepObject style); several attributes must all match.
ATTRIBUTE_FILTER = re.compile(r"^attr\[([a-z][a-z0-9_]{0,39})\]$")
MAX_ATTRIBUTE_FILTERS = 10
MAX_ATTRIBUTE_VALUE = 200


@attrs.frozen
class CatalogSearch:
    """What ``search_catalog`` takes: the query, a category slug, attribute values by code."""

    where: CatalogQuery
    category: str | None
    attributes: Mapping[str, tuple[str, ...]]


def attribute_filters(query: QueryReader) -> dict[str, tuple[str, ...]]:
    """``attr[<code>]=<value>[,<value>]`` parameters, by code; a malformed name is an error."""
    filters: dict[str, tuple[str, ...]] = {}
    for name in request.args:
        if not name.startswith("attr"):
            continue
        match = ATTRIBUTE_FILTER.match(name)
        if match is None:
            query.errors.append(FieldError(name[:60], "is not a filter: attr[<code>]=<value>"))
            continue
        values = query.texts(name, max_length=MAX_ATTRIBUTE_VALUE)
        if values:
            filters[match.group(1)] = values
    if len(filters) > MAX_ATTRIBUTE_FILTERS:
        query.errors.append(FieldError("attr", f"at most {MAX_ATTRIBUTE_FILTERS} attributes"))
    return filters


def read_catalog_search(
    query: QueryReader,
    *,
    price: Callable[[str], int | None],
    with_category: bool = True,
) -> CatalogSearch:
    """``q``, ``min_price``/``max_price`` (read by ``price``), ``in_stock``, ``sort``,
    ``category`` (unless the page names it in its path) and ``attr[...]``. Every error read
    so far, the core's own checks included, is raised at once (``InvalidInput``)."""
    text = query.text("q", max_length=MAX_QUERY)
    min_price = price("min_price")
    max_price = price("max_price")
    in_stock = query.boolean("in_stock")
    sort = query.choice("sort", SORTS)
    category = query.text("category", max_length=MAX_SLUG) if with_category else None
    attributes = attribute_filters(query)
    where = query.build(
        lambda: CatalogQuery(
            text=text,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
            sort=CatalogSort(sort) if sort else CatalogSort.NAME,
        )
    )
    return CatalogSearch(where, category, attributes)
