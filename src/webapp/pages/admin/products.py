"""``/admin/products``: the catalogue as staff see it (archived products too), and a new
product - without options, or with options and several variants at once.

The admin API's ``list_staff_products`` and ``create_product`` (``catalog:write``, audited).
Prices are typed in major units and converted exactly. Also here, for the product's own page and
the variants': reading a new variant's fields, and ``catalogue_changed`` - every change empties
this process's rendered-catalogue cache, as the API's routes do.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from commerce_core import (
    CURRENCY_EXPONENTS,
    MAX_DESCRIPTION,
    MAX_OPTIONS,
    CommerceError,
    CreateProduct,
    Money,
    NewVariant,
    PageRequest,
    Permission,
    create_product,
    list_staff_products,
)
from webapp.catalog_cache import catalog_cache
from webapp.pages.admin.console import bp, done, page, staff, staff_page
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.query_reader import QueryReader
from webapp.request_ports import container, request_uow

__all__ = [
    "CURRENCIES",
    "MAX_NAME",
    "MAX_OPTION_TEXT",
    "MAX_SKU",
    "MAX_SLUG",
    "NEW_VARIANT_ROWS",
    "OPTION_SLOTS",
    "catalogue_changed",
    "product_path",
    "read_option_names",
    "read_variant",
    "with_depth",
]

MAX_NAME = 200
MAX_SLUG = 100
MAX_SKU = 64
MAX_OPTION_TEXT = 50
# Rows of variants the new-product form offers; more are added on the product's page.
NEW_VARIANT_ROWS = 6
OPTION_SLOTS = range(1, MAX_OPTIONS + 1)
CURRENCIES = [(code, code) for code in sorted(CURRENCY_EXPONENTS)]
# The core names a variant's problems without saying which row: on the new-product form with
# options, they are the variants' together.
_VARIANT_FIELDS = {
    "sku": "variants",
    "price": "variants",
    "options": "variants",
    "stock": "variants",
    "weight_grams": "variants",
    "option_names": "option_name_1",
}


def catalogue_changed() -> None:
    """The public catalogue renders from the database again from now on, in this process."""
    catalog_cache().clear()


def product_path(product_slug: str) -> str:
    return f"/admin/products/{product_slug}"


@bp.get("/products")
@staff_page(Permission.CATALOG_WRITE)
def products() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    found = list_staff_products(request_uow(), staff().id, paging)
    return page("admin/products.html", found=found)


def _shop_currency() -> str:
    """The currency a new product is offered in first: the catalogue's, if it has products."""
    first = list_staff_products(request_uow(), staff().id, PageRequest(per_page=1)).items
    return first[0].currency if first else "USD"


@bp.get("/products/new")
@staff_page(Permission.CATALOG_WRITE)
def product_new() -> Response:
    form = FormState("product", {"currency": _shop_currency()})
    return _new_product_page(form)


def _new_product_page(form: FormState, status: int = 200) -> Response:
    return page(
        "admin/product_new.html",
        status=status,
        form=form,
        currencies=CURRENCIES,
        rows=range(NEW_VARIANT_ROWS),
        slots=OPTION_SLOTS,
    )


@bp.post("/products")
@staff_page(Permission.CATALOG_WRITE)
def product_create() -> Response:
    read = FormReader()
    option_names = read_option_names(read)
    form = FormState.from_post("product", _VARIANT_FIELDS if option_names else None)
    slug = read.text("slug", max_length=MAX_SLUG)
    name = read.text("name", max_length=MAX_NAME)
    description = read.text(
        "description", max_length=MAX_DESCRIPTION, required=False, multiline=True
    )
    currency = read.currency("currency")
    variants: list[NewVariant] = []
    if option_names:
        variants = _variant_rows(read, option_names, currency)
        price = variants[0].price if variants else None
        stock, weight, sku = 0, None, None
    else:
        price = read.money("price", currency, required=True)
        stock = read.whole_number("stock") or 0
        weight = read.whole_number("weight_grams")
        sku = read.optional_text("sku", max_length=MAX_SKU)
    try:
        read.finish()
        if not isinstance(price, Money):  # pragma: no cover - finish() raised: a price is required
            raise AssertionError("a product without a price passed the form's checks")
        product = create_product(
            CreateProduct(
                staff().id,
                slug,
                name,
                price,
                description=description,
                stock=stock,
                weight_grams=weight,
                ip=request.remote_addr,
                sku=sku,
                option_names=option_names,
                variants=tuple(variants),
            ),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _new_product_page(form, refusal_status(error, form))
    catalogue_changed()
    count = len(product.variants)
    return done(
        product_path(product.slug),
        f"Created {product.name} with {count} variant{'s' * (count != 1)}.",
    )


def read_option_names(read: FormReader) -> tuple[str, ...]:
    names = (
        read.text(f"option_name_{slot}", max_length=MAX_OPTION_TEXT, required=False)
        for slot in OPTION_SLOTS
    )
    return tuple(name for name in names if name)


def _variant_rows(
    read: FormReader, option_names: tuple[str, ...], currency: str | None
) -> list[NewVariant]:
    """The filled rows of the new-product form's variants (an empty row is skipped)."""
    variants = []
    for row in range(NEW_VARIANT_ROWS):
        prefix = f"variants-{row}-"
        names = [f"{prefix}{field}" for field in ("sku", "price", "stock", "weight_grams")]
        names += [f"{prefix}value_{slot}" for slot in OPTION_SLOTS]
        if not any(request.form.get(name, "").strip() for name in names):
            continue
        variant = read_variant(read, prefix, option_names, currency)
        if variant is not None:
            variants.append(variant)
    if not variants and not read.errors:
        read.fail("variants-0-sku", "give at least one variant (a SKU, its options and a price)")
    return variants


def read_variant(
    read: FormReader, prefix: str, option_names: tuple[str, ...], currency: str | None
) -> NewVariant | None:
    """A new variant's fields, named ``<prefix>sku``, ``<prefix>value_<n>`` (the n-th option's
    value), ``<prefix>price``, ``<prefix>stock`` and ``<prefix>weight_grams``."""
    sku = read.text(f"{prefix}sku", max_length=MAX_SKU)
    options = {
        name: read.text(f"{prefix}value_{slot}", max_length=MAX_OPTION_TEXT)
        for slot, name in zip(OPTION_SLOTS, option_names, strict=False)
    }
    price = read.money(f"{prefix}price", currency, required=True)
    stock = read.whole_number(f"{prefix}stock") or 0
    weight = read.whole_number(f"{prefix}weight_grams")
    if price is None:
        return None
    return NewVariant(sku, options, price, stock, weight)


def with_depth(categories: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """Categories in tree order (as ``list_categories`` gives them), each with its depth."""
    depth: dict[str, int] = {}
    shown = []
    for category in categories:
        parent = category["parent"]
        depth[category["slug"]] = 0 if parent is None else depth.get(parent, 0) + 1
        shown.append((category, depth[category["slug"]]))
    return shown
