"""Products, their variants and the variants' stock.

A product is an aggregate of one or more variants: a product without options (``option_names``
empty) has exactly one, its default; a product with options (``("size", "colour")``) has one per
combination the shop sells, each naming a value for every option. A variant is what is sold: it
has its own SKU (unique across the catalogue), price, stock, and optional weight and image. The
product's ``price`` is its lowest variant price (what a listing shows as "from").

``Variant.stock`` is what can still be sold. Creating a checkout intent moves units out of it into
the order's hold; a failed, cancelled or expired payment moves them back; a paid order keeps them.
So for every variant, at every moment: ``stock + held + sold == units ever received``. The
product's row lock guards all of its variants: whatever changes a variant (a sale, a release, a
stock count, a price edit) locks its product first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.errors import FieldError, InvalidInput, NotFound, OutOfStock

__all__ = [
    "MAX_OPTIONS",
    "MAX_PRICE",
    "MAX_STOCK",
    "MAX_VARIANTS",
    "Options",
    "Product",
    "Variant",
    "default_sku",
    "options_for",
    "validate_sku",
    "validate_slug",
]

# Bounds that keep every total (50 lines x 100 units x MAX_PRICE) well inside Money's range and
# stock inside a 32-bit column.
MAX_PRICE = 10**10
MAX_STOCK = 10**9
MAX_WEIGHT_GRAMS = 10**6  # a tonne: heavier goods do not ship as parcels
MAX_VARIANTS = 100
MAX_SKU = 64
MAX_OPTIONS = 3
MAX_OPTION_TEXT = 50
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Letters, digits and . _ - / (no spaces: SKUs are typed into searches, labels and CSV cells).
_SKU = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,62}[A-Za-z0-9])?$")


def validate_slug(slug: str) -> None:
    if not (1 <= len(slug) <= 100) or not _SLUG.fullmatch(slug):
        raise InvalidInput.for_field("slug", "must be lowercase letters, digits and single dashes")


def validate_sku(sku: object, field: str = "sku") -> str:
    if not isinstance(sku, str) or not _SKU.fullmatch(sku):
        raise InvalidInput.for_field(
            field,
            "must be 1 to 64 letters, digits, '.', '_', '-' or '/', starting and ending "
            "with a letter or digit",
        )
    return sku


def default_sku(slug: str, product_id: str) -> str:
    """The SKU of a product's default variant when staff give none: its slug, cut to 64
    characters with a piece of the product's id when longer (the migration does the same)."""
    if len(slug) <= MAX_SKU:
        return slug
    suffix = product_id.rpartition("_")[2][:8]
    return f"{slug[: MAX_SKU - len(suffix) - 1].rstrip('-')}-{suffix}"


def _option_text(value: object) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= MAX_OPTION_TEXT
        and value == value.strip()
        and value.isprintable()
    )


Options = tuple[tuple[str, str], ...]


@attrs.define(eq=True)
class Variant:
    """One sellable version of a product (a size, a colour): SKU, price, stock, weight, image.

    ``options`` pairs each of the product's option names with this variant's value, in the
    product's option order (``()`` for the default variant of a product without options)."""

    id: str
    sku: str
    price: Money
    stock: int
    created_at: datetime
    updated_at: datetime
    options: Options = ()
    # Grams, for weight-based shipping; None: not weighed (ships as weighing nothing).
    weight_grams: int | None = None
    image_url: str = ""
    # Archived: no longer sold or shown (orders refer to it); staff may bring it back.
    archived: bool = False

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not isinstance(self.sku, str) or not _SKU.fullmatch(self.sku):
            errors.append(
                FieldError("sku", "must be 1 to 64 letters, digits, '.', '_', '-' or '/'")
            )
        if self.weight_grams is not None and (
            type(self.weight_grams) is not int or not (0 <= self.weight_grams <= MAX_WEIGHT_GRAMS)
        ):
            errors.append(FieldError("weight_grams", f"must be 0 to {MAX_WEIGHT_GRAMS} grams"))
        if not (0 < self.price.amount <= MAX_PRICE):
            errors.append(FieldError("price", f"must be positive and at most {MAX_PRICE}"))
        if type(self.stock) is not int or not (0 <= self.stock <= MAX_STOCK):
            errors.append(FieldError("stock", f"must be a whole number of units, 0 to {MAX_STOCK}"))
        if len(self.image_url) > 2000:
            errors.append(FieldError("image_url", "must be at most 2000 characters"))
        for name, value in self.options:
            if not (_option_text(name) and _option_text(value)):
                errors.append(
                    FieldError(
                        "options",
                        f"names and values must be 1 to {MAX_OPTION_TEXT} "
                        "printable characters without surrounding spaces",
                    )
                )
                break
        if errors:
            raise InvalidInput(errors=errors)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0 and not self.archived

    @property
    def option_values(self) -> dict[str, str]:
        return dict(self.options)

    @property
    def label(self) -> str:
        """``"M / blue"``; ``""`` for a variant without options."""
        return " / ".join(value for _, value in self.options)

    def take(self, quantity: int, now: datetime) -> None:
        """Move ``quantity`` units out of sellable stock; never below zero."""
        if quantity <= 0:
            raise InvalidInput.for_field("quantity", "must be at least 1")
        if quantity > self.stock:
            raise OutOfStock(
                f"only {self.stock} of {self.sku!r} left, {quantity} asked", variant_ids=[self.id]
            )
        self.stock -= quantity
        self.updated_at = now

    def set_stock(self, level: int, now: datetime) -> None:
        """Staff counted the shelf: sellable stock is now ``level`` (0 to ``MAX_STOCK``)."""
        if type(level) is not int or not (0 <= level <= MAX_STOCK):
            raise InvalidInput.for_field(
                "stock", f"must be a whole number of units, 0 to {MAX_STOCK}"
            )
        self.stock = level
        self.updated_at = now

    def put_back(self, quantity: int, now: datetime) -> None:
        """Return held units to sellable stock (payment failed, cancelled or hold expired)."""
        if quantity <= 0:
            raise InvalidInput.for_field("quantity", "must be at least 1")
        if self.stock + quantity > MAX_STOCK:
            raise InvalidInput.for_field("stock", f"cannot exceed {MAX_STOCK}")
        self.stock += quantity
        self.updated_at = now


def options_for(option_names: Sequence[str], values: Mapping[str, object]) -> Options:
    """``values`` (a name -> value mapping, e.g. from JSON) as a variant's options in the
    product's option order; ``InvalidInput`` unless it names exactly those options."""
    if not isinstance(values, Mapping):
        raise InvalidInput.for_field("options", "must be an object of option name to value")
    unknown = sorted(str(name) for name in values if name not in option_names)
    missing = [name for name in option_names if name not in values]
    errors = [
        FieldError(f"options.{name}", "is not one of the product's options") for name in unknown
    ]
    errors += [FieldError(f"options.{name}", "is required") for name in missing]
    for name in option_names:
        if name in values and not _option_text(values[name]):
            errors.append(
                FieldError(
                    f"options.{name}", f"must be 1 to {MAX_OPTION_TEXT} printable characters"
                )
            )
    if errors:
        raise InvalidInput(errors=errors)
    return tuple((name, str(values[name])) for name in option_names)


@attrs.define(eq=True)
class Product:
    """A product and its variants (at least one). Mutable: changed under the product's row
    lock in a unit of work; the repository saves the product and whichever variants changed."""

    id: str
    slug: str
    name: str
    description: str
    image_url: str
    created_at: datetime
    updated_at: datetime
    variants: list[Variant]
    # Archived: no longer listed, shown or sold, but kept (orders refer to it); staff may
    # bring it back. A product is never deleted.
    archived: bool = False
    # The names of the options its variants differ by, in display order; () for none.
    option_names: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not (1 <= len(self.name) <= 200):
            errors.append(FieldError("name", "must be 1 to 200 characters"))
        errors += _variant_errors(self.option_names, self.variants)
        if errors:
            raise InvalidInput(errors=errors)
        validate_slug(self.slug)

    @classmethod
    def single(
        cls,
        *,
        product_id: str,
        slug: str,
        name: str,
        description: str,
        price: Money,
        stock: int,
        now: datetime,
        image_url: str = "",
        weight_grams: int | None = None,
        sku: str | None = None,
    ) -> Product:
        """A product without options: its one (default) variant carries price and stock; its
        SKU is ``sku``, or the slug."""
        try:
            variant = Variant(
                id=new_id("var"),
                sku=default_sku(slug, product_id) if sku is None else sku,
                price=price,
                stock=stock,
                created_at=now,
                updated_at=now,
                weight_grams=weight_grams,
            )
        except InvalidInput as refused:
            # Name every bad field at once, the product's too (a SKU made of a bad slug is
            # the slug's error, not the SKU's).
            errors = [e for e in refused.errors if sku is not None or e.field != "sku"]
            if not (1 <= len(name) <= 200):
                errors.append(FieldError("name", "must be 1 to 200 characters"))
            if not (1 <= len(slug) <= 100) or not _SLUG.fullmatch(slug):
                errors.append(
                    FieldError("slug", "must be lowercase letters, digits and single dashes")
                )
            raise InvalidInput(errors=errors) from None
        return cls(
            id=product_id,
            slug=slug,
            name=name,
            description=description,
            image_url=image_url,
            created_at=now,
            updated_at=now,
            variants=[variant],
        )

    # -- what listings show ------------------------------------------------------------------

    @property
    def on_sale(self) -> list[Variant]:
        """The variants shoppers see and may buy (not archived), in the product's order."""
        return [v for v in self.variants if not v.archived]

    @property
    def price(self) -> Money:
        """The lowest price of the variants on sale (of all of them if none is)."""
        candidates = self.on_sale or self.variants
        return min(candidates, key=lambda v: (v.price.amount, v.id)).price

    @property
    def stock(self) -> int:
        """Units in stock, all variants on sale together."""
        return sum(v.stock for v in self.on_sale)

    @property
    def in_stock(self) -> bool:
        return any(v.stock > 0 for v in self.on_sale)

    @property
    def currency(self) -> str:
        return self.variants[0].price.currency

    @property
    def default_variant(self) -> Variant | None:
        """The variant a cart line naming only the product buys: the one variant of a product
        without options; None for a product with options (the shopper must choose)."""
        return self.variants[0] if not self.option_names and len(self.variants) == 1 else None

    @property
    def weight_grams(self) -> int | None:
        """The default variant's weight (None for a product with options)."""
        default = self.default_variant
        return None if default is None else default.weight_grams

    # -- finding and changing variants -------------------------------------------------------

    def variant(self, variant_id: str) -> Variant | None:
        return next((v for v in self.variants if v.id == variant_id), None)

    def must_variant(self, variant_id: str) -> Variant:
        """The variant ``variant_id``; ``NotFound`` if the product has none."""
        variant = self.variant(variant_id)
        if variant is None:
            raise NotFound(f"product {self.slug!r} has no variant {variant_id}")
        return variant

    def variant_by_sku(self, sku: str) -> Variant | None:
        return next((v for v in self.variants if v.sku == sku), None)

    def sku_variant(self, sku: str) -> Variant:
        """The variant with ``sku``; ``NotFound`` if the product has none."""
        variant = self.variant_by_sku(sku)
        if variant is None:
            raise NotFound(f"product {self.slug!r} has no variant {sku!r}")
        return variant

    def add_variant(self, variant: Variant, now: datetime) -> None:
        """Add a variant; ``InvalidInput`` if its options do not fit or repeat another's."""
        candidate = [*self.variants, variant]
        errors = _variant_errors(self.option_names, candidate)
        if errors:
            raise InvalidInput(errors=errors)
        self.variants = candidate
        self.updated_at = now

    def replace_variant(self, variant: Variant, now: datetime) -> None:
        """Put an edited copy of one of its variants in its place, after the same checks."""
        candidate = [variant if v.id == variant.id else v for v in self.variants]
        errors = _variant_errors(self.option_names, candidate)
        if errors:
            raise InvalidInput(errors=errors)
        self.variants = candidate
        self.updated_at = now

    def set_option_names(
        self, names: Sequence[str], fill: Mapping[str, str], now: datetime
    ) -> None:
        """Change the options: a removed option is dropped from every variant (refused if two
        variants would then be the same); an added one takes its value from ``fill`` for
        every existing variant (required)."""
        names = tuple(names)
        missing = [n for n in names if n not in self.option_names and n not in fill]
        if missing:
            raise InvalidInput(
                errors=[
                    FieldError(f"fill.{n}", "a value for the existing variants is required")
                    for n in missing
                ]
            )
        variants = []
        for v in self.variants:
            values = {**dict(fill), **v.option_values}
            variants.append(
                attrs.evolve(v, options=tuple((n, values[n]) for n in names), updated_at=now)
            )
        errors = _variant_errors(names, variants)
        if errors:
            raise InvalidInput(errors=errors)
        self.option_names = names
        self.variants = variants
        self.updated_at = now


def _variant_errors(option_names: Sequence[str], variants: Sequence[Variant]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(option_names, tuple) or len(option_names) > MAX_OPTIONS:
        errors.append(FieldError("option_names", f"must be at most {MAX_OPTIONS} names"))
        return errors
    if len(set(option_names)) != len(option_names) or not all(
        _option_text(n) for n in option_names
    ):
        errors.append(
            FieldError("option_names", f"must be distinct, 1 to {MAX_OPTION_TEXT} characters each")
        )
    if not variants:
        errors.append(FieldError("variants", "a product needs at least one variant"))
    if len(variants) > MAX_VARIANTS:
        errors.append(FieldError("variants", f"at most {MAX_VARIANTS} variants per product"))
    if not option_names and len(variants) > 1:
        errors.append(FieldError("variants", "a product without options has exactly one variant"))
    if len({v.price.currency for v in variants}) > 1:
        errors.append(FieldError("price", "all variants of a product share one currency"))
    seen_options: set[Options] = set()
    seen_skus: set[str] = set()
    for v in variants:
        if tuple(name for name, _ in v.options) != tuple(option_names):
            errors.append(
                FieldError(
                    "options",
                    f"variant {v.sku!r} must have a value for each of "
                    f"{list(option_names)}, and no other",
                )
            )
        elif v.options in seen_options:
            errors.append(FieldError("options", f"two variants have the options {v.label!r}"))
        if v.sku in seen_skus:
            errors.append(FieldError("sku", f"SKU {v.sku!r} is used twice"))
        seen_options.add(v.options)
        seen_skus.add(v.sku)
    return errors
