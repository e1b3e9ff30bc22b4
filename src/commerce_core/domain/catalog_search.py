"""What a shopper looks for in the catalogue: text, categories, a price range, stock, attribute
values - sorted and counted (facets).

``CatalogQuery`` is the one definition of a match (``matches``): the in-memory store applies it
as written, the SQL adapter translates the same fields into WHERE clauses, and the
``UnitOfWorkContract`` holds both to the same answers. A field left ``None`` (or empty) does not
filter. Text matches a case-insensitive substring of the name or the description (PostgreSQL
serves it from trigram indexes, so it never scans the table).

Facets count the products that match the whole query, by category, by value of each filterable
attribute, and by price range (``price_ranges``), so a shopper sees how many products each
further choice would leave.

    >>> CatalogQuery(text="  Mug ", min_price=500).text
    'mug'
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping

import attrs

from commerce_core.domain.catalog import MAX_PRICE, Product
from commerce_core.domain.money import exponent_of
from commerce_core.errors import FieldError, InvalidInput

__all__ = [
    "MAX_SEARCH_TEXT",
    "CatalogFacets",
    "CatalogQuery",
    "CatalogSort",
    "FacetCount",
    "PriceRangeCount",
    "attribute_facets",
    "count_price_ranges",
    "facet_counts",
    "price_ranges",
]

MAX_SEARCH_TEXT = 100
# Price range boundaries in major units (10, 25 ... of the currency), the last one open.
_RANGE_BOUNDS = (10, 25, 50, 100, 250)


class CatalogSort(enum.StrEnum):
    NAME = "name"
    PRICE = "price"
    PRICE_DESC = "-price"
    NEWEST = "newest"


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = unicodedata.normalize("NFC", value).strip().lower()
    return cleaned or None


@attrs.frozen
class CatalogQuery:
    text: str | None = attrs.field(default=None, converter=_text)
    # The categories asked for with all their sub-categories (``category_tree``); None: any.
    category_ids: frozenset[str] | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    # Attribute code -> the values accepted (any of them), as stored.
    attributes: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    sort: CatalogSort = CatalogSort.NAME

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.text is not None and (
            len(self.text) > MAX_SEARCH_TEXT or not self.text.isprintable()
        ):
            errors.append(
                FieldError("q", f"must be at most {MAX_SEARCH_TEXT} printable characters")
            )
        for name in ("min_price", "max_price"):
            price = getattr(self, name)
            if price is not None and (type(price) is not int or not 0 <= price <= MAX_PRICE):
                errors.append(FieldError(name, f"must be 0 to {MAX_PRICE} minor units"))
        if (
            not errors
            and self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            errors.append(FieldError("max_price", "must not be below min_price"))
        if errors:
            raise InvalidInput(errors=errors)

    def matches(
        self,
        product: Product,
        categories: Iterable[str] = (),
        attributes: Mapping[str, str] | None = None,
    ) -> bool:
        """Whether ``product`` (in ``categories``, with these attribute values) matches."""
        if product.archived:
            return False
        if self.text is not None and not (
            self.text in product.name.lower() or self.text in product.description.lower()
        ):
            return False
        if self.category_ids is not None and not self.category_ids & set(categories):
            return False
        price = product.price.amount
        if self.min_price is not None and price < self.min_price:
            return False
        if self.max_price is not None and price > self.max_price:
            return False
        if self.in_stock is not None and product.in_stock is not self.in_stock:
            return False
        values = attributes or {}
        return all(values.get(code) in accepted for code, accepted in self.attributes.items())

    def sort_key(self, product: Product) -> tuple[object, ...]:
        """The order of the results (the SQL adapter orders the same way), ties by id."""
        if self.sort is CatalogSort.PRICE:
            return (product.price.amount, product.name, product.id)
        if self.sort is CatalogSort.PRICE_DESC:
            return (-product.price.amount, product.name, product.id)
        if self.sort is CatalogSort.NEWEST:
            return (-product.created_at.timestamp(), product.id)
        return (product.name, product.id)


def price_ranges(currency: str) -> tuple[tuple[int, int | None], ...]:
    """The price facet's ranges in minor units: [0, 10), [10, 25) ... [250, open)."""
    unit = 10 ** exponent_of(currency)
    lows = (0, *(bound * unit for bound in _RANGE_BOUNDS))
    highs: tuple[int | None, ...] = (*(bound * unit for bound in _RANGE_BOUNDS), None)
    return tuple(zip(lows, highs, strict=True))


@attrs.frozen
class FacetCount:
    value: str
    count: int


@attrs.frozen
class PriceRangeCount:
    currency: str
    min: int
    max: int | None  # exclusive; None: no upper bound
    count: int


@attrs.frozen
class CatalogFacets:
    """How many matching products each further choice would leave."""

    # Category id -> count of matching products in it (directly assigned).
    categories: tuple[FacetCount, ...] = ()
    # Attribute code -> value counts, most frequent first.
    attributes: Mapping[str, tuple[FacetCount, ...]] = attrs.field(factory=dict)
    price_ranges: tuple[PriceRangeCount, ...] = ()


def facet_counts(counts: Iterable[tuple[str, int]]) -> tuple[FacetCount, ...]:
    """Counts as facets, most frequent first, then by value."""
    return tuple(
        FacetCount(value, count)
        for value, count in sorted(counts, key=lambda vc: (-vc[1], vc[0]))
        if count > 0
    )


def attribute_facets(counts: Iterable[tuple[str, str, int]]) -> dict[str, tuple[FacetCount, ...]]:
    """``(code, value, count)`` rows as each attribute's value facets."""
    by_code: dict[str, list[tuple[str, int]]] = {}
    for code, value, count in counts:
        by_code.setdefault(code, []).append((value, count))
    return {code: facet_counts(found) for code, found in sorted(by_code.items())}


def count_price_ranges(prices: Iterable[tuple[str, int, int]]) -> tuple[PriceRangeCount, ...]:
    """Per price range of each currency present, how many products, from ``(currency, price,
    count)`` rows (the database counts per distinct price; this sums them into the ranges)."""
    counts: dict[tuple[str, int], int] = {}
    currencies = set()
    for currency, amount, count in prices:
        currencies.add(currency)
        for low, high in price_ranges(currency):
            if amount >= low and (high is None or amount < high):
                counts[(currency, low)] = counts.get((currency, low), 0) + count
                break
    return tuple(
        PriceRangeCount(currency, low, high, counts.get((currency, low), 0))
        for currency in sorted(currencies)
        for low, high in price_ranges(currency)
    )
