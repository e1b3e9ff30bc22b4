"""A product's variants, by SKU: add one (to a product with options), change its SKU, option
values, price or weight, archive it or bring it back - never delete it (orders name it).

The admin API's ``add_variant`` and ``edit_variant`` (``catalog:write``, audited); a refused add
is the product's page again with the form's problems, a refused edit the variant's page.
"""

from __future__ import annotations

from flask import Response, request

from commerce_core import (
    AddVariant,
    CommerceError,
    EditVariant,
    Permission,
    Product,
    Variant,
    add_variant,
    edit_variant,
    get_product_for_staff,
)
from webapp.pages.admin.console import bp, done, page, staff, staff_page
from webapp.pages.admin.display import major
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.pages.admin.product import product_page
from webapp.pages.admin.products import (
    MAX_OPTION_TEXT,
    MAX_SKU,
    OPTION_SLOTS,
    catalogue_changed,
    read_variant,
)
from webapp.request_ports import container, request_uow

__all__ = ["variant"]


def _option_aliases(product: Product, prefix: str = "") -> dict[str, str]:
    """The core names an option's problem ``options.<name>``; the form, by its position."""
    aliases = {
        f"options.{name}": f"{prefix}value_{slot}"
        for slot, name in zip(OPTION_SLOTS, product.option_names, strict=False)
    }
    first = f"{prefix}value_1" if product.option_names else f"{prefix}sku"
    return {
        **aliases,
        "options": first,
        "sku": f"{prefix}sku",
        "price": f"{prefix}price",
        "stock": f"{prefix}stock",
        "weight_grams": f"{prefix}weight_grams",
    }


@bp.post("/products/<slug>/variants")
@staff_page(Permission.CATALOG_WRITE)
def variant_add(slug: str) -> Response:
    current = get_product_for_staff(request_uow(), staff().id, slug)
    form = FormState.from_post("variant", _option_aliases(current))
    read = FormReader()
    new = read_variant(read, "", current.option_names, current.currency)
    try:
        read.finish()
        if new is None:  # pragma: no cover - finish() raised
            raise AssertionError("a variant without a price passed the form's checks")
        add_variant(
            AddVariant(staff().id, slug, new, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return product_page(slug, status=refusal_status(error, form), variant=form)
    catalogue_changed()
    return done(f"/admin/products/{slug}", f"Added the variant {new.sku}.")


@bp.get("/products/<slug>/variants/<sku>")
@staff_page(Permission.CATALOG_WRITE)
def variant(slug: str, sku: str) -> Response:
    return _variant_page(slug, sku)


def _variant_page(
    slug: str, sku: str, form: FormState | None = None, status: int = 200
) -> Response:
    current = get_product_for_staff(request_uow(), staff().id, slug)
    shown = current.sku_variant(sku)
    return page(
        "admin/variant.html",
        status=status,
        product=current,
        variant=shown,
        form=form or FormState("edit", _values(current, shown)),
        slots=OPTION_SLOTS,
    )


def _values(current: Product, shown: Variant) -> dict[str, str]:
    values = {
        "sku": shown.sku,
        "price": major(shown.price),
        "weight_grams": "" if shown.weight_grams is None else str(shown.weight_grams),
    }
    options = shown.option_values
    for slot, name in zip(OPTION_SLOTS, current.option_names, strict=False):
        values[f"value_{slot}"] = options.get(name, "")
    return values


@bp.post("/products/<slug>/variants/<sku>")
@staff_page(Permission.CATALOG_WRITE)
def variant_edit(slug: str, sku: str) -> Response:
    current = get_product_for_staff(request_uow(), staff().id, slug)
    form = FormState.from_post("edit", _option_aliases(current))
    read = FormReader()
    new_sku = read.text("sku", max_length=MAX_SKU)
    options = {
        name: read.text(f"value_{slot}", max_length=MAX_OPTION_TEXT)
        for slot, name in zip(OPTION_SLOTS, current.option_names, strict=False)
    }
    price = read.money("price", current.currency, required=True)
    weight = read.whole_number("weight_grams")
    try:
        read.finish()
        edit_variant(
            EditVariant(
                staff().id,
                slug,
                sku,
                new_sku=new_sku,
                options=options if current.option_names else None,
                price=price,
                weight_grams=weight,
                ip=request.remote_addr,
            ),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _variant_page(slug, sku, form, refusal_status(error, form))
    catalogue_changed()
    return done(f"/admin/products/{slug}", f"Saved the variant {new_sku}.")


@bp.post("/products/<slug>/variants/<sku>/archive")
@staff_page(Permission.CATALOG_WRITE)
def variant_archive(slug: str, sku: str) -> Response:
    return _archived(slug, sku, archived=True)


@bp.post("/products/<slug>/variants/<sku>/unarchive")
@staff_page(Permission.CATALOG_WRITE)
def variant_unarchive(slug: str, sku: str) -> Response:
    return _archived(slug, sku, archived=False)


def _archived(slug: str, sku: str, *, archived: bool) -> Response:
    form = FormState("edit")
    try:
        edit_variant(
            EditVariant(staff().id, slug, sku, archived=archived, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        status = refusal_status(error, form)
        current = get_product_for_staff(request_uow(), staff().id, slug)
        form.values.update(_values(current, current.sku_variant(sku)))
        return _variant_page(slug, sku, form, status)
    catalogue_changed()
    if archived:
        return done(f"/admin/products/{slug}", f"The variant {sku} is archived: off sale.")
    return done(f"/admin/products/{slug}", f"The variant {sku} is on sale again.")
