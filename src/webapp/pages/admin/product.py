"""``/admin/products/<slug>``: one product's page - its variants, details and options, stock
counts with a reason, its image, archiving, its categories and attribute values - and the edits
made from it.

The admin API's ``get_product_for_staff``, ``edit_product``, ``change_stock``,
``set_product_archived`` and ``set_product_image`` (``catalog:write``, audited); the image is the
same ``UploadProductImage`` as the API's raw-body upload, here a multipart form's file. A refused
form is this page again with its problems (``product_page``, also what the variants', categories'
and attributes' forms come back to).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from commerce_core import (
    KEEP,
    MAX_DESCRIPTION,
    MAX_IMAGE_BYTES,
    MAX_STOCK_REASON,
    ChangeStock,
    CommerceError,
    EditProduct,
    ImageFormat,
    Money,
    Permission,
    Product,
    SetProductArchived,
    UploadProductImage,
    catalog_details,
    change_stock,
    edit_product,
    get_product_for_staff,
    list_attribute_definitions,
    list_categories,
    set_product_archived,
    set_product_image,
)
from webapp.pages.admin.console import accepts_upload, bp, done, every_item, page, staff, staff_page
from webapp.pages.admin.display import major
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.pages.admin.products import (
    MAX_NAME,
    MAX_OPTION_TEXT,
    MAX_SKU,
    MAX_SLUG,
    OPTION_SLOTS,
    catalogue_changed,
    product_path,
    read_option_names,
    with_depth,
)
from webapp.request_ports import container, request_uow

__all__ = ["product_page"]

_EXTENSIONS = {
    ".png": ImageFormat.PNG,
    ".jpg": ImageFormat.JPEG,
    ".jpeg": ImageFormat.JPEG,
    ".webp": ImageFormat.WEBP,
}


@bp.get("/products/<slug>")
@staff_page(Permission.CATALOG_WRITE)
def product(slug: str) -> Response:
    return product_page(slug)


def product_page(slug: str, *, status: int = 200, **forms: FormState) -> Response:
    """The product's page, its forms as given (a refused one shows its problems)."""
    actor = staff()
    found = get_product_for_staff(request_uow(), actor.id, slug)
    details = catalog_details(request_uow(), [found.id])[found.id]
    categories = every_item(lambda paging: list_categories(request_uow(), actor, paging))
    definitions = every_item(
        lambda paging: list_attribute_definitions(request_uow(), actor, paging)
    )
    chosen = {category.slug for category in details.categories}
    values = {attribute.definition.code: attribute.value.text for attribute in details.attributes}
    defaults: dict[str, FormState] = {
        "details": FormState("details", _details_values(found)),
        "stock": FormState("stock", {"mode": "add"}),
        "image": FormState("image"),
        "variant": FormState("variant"),
        "categories": FormState("categories", {f"category-{s}": "true" for s in chosen}),
        "attributes": FormState("attributes", {f"value-{code}": v for code, v in values.items()}),
    }
    return page(
        "admin/product.html",
        status=status,
        product=found,
        category_choices=with_depth(categories),
        definitions=definitions,
        slots=OPTION_SLOTS,
        **{name: forms.get(name) or state for name, state in defaults.items()},
    )


def _details_values(found: Product) -> dict[str, str]:
    values = {"name": found.name, "slug": found.slug, "description": found.description}
    default = found.default_variant
    if default is not None:
        values["price"] = major(default.price)
        values["weight_grams"] = "" if default.weight_grams is None else str(default.weight_grams)
    for slot, name in zip(OPTION_SLOTS, found.option_names, strict=False):
        values[f"option_name_{slot}"] = name
    return values


@bp.post("/products/<slug>")
@staff_page(Permission.CATALOG_WRITE)
def product_edit(slug: str) -> Response:
    form = FormState.from_post("details", {"option_names": "option_name_1"})
    current = get_product_for_staff(request_uow(), staff().id, slug)
    read = FormReader()
    name = read.text("name", max_length=MAX_NAME)
    new_slug = read.text("slug", max_length=MAX_SLUG)
    description = read.text(
        "description", max_length=MAX_DESCRIPTION, required=False, multiline=True
    )
    price: Money | None = None
    weight: Any = KEEP
    if current.default_variant is not None:
        price = read.money("price", current.currency, required=True)
        weight = read.whole_number("weight_grams")
    option_names = read_option_names(read)
    fill = {}
    for slot, option in zip(OPTION_SLOTS, option_names, strict=False):
        value = read.text(f"fill_{slot}", max_length=MAX_OPTION_TEXT, required=False)
        if value and option not in current.option_names:
            fill[option] = value
    try:
        read.finish()
        edited = edit_product(
            EditProduct(
                staff().id,
                slug,
                name=name,
                description=description,
                new_slug=new_slug,
                price=price,
                weight_grams=weight,
                ip=request.remote_addr,
                option_names=option_names,
                fill=fill,
            ),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return product_page(slug, status=refusal_status(error, form), details=form)
    catalogue_changed()
    return done(product_path(edited.slug), f"Saved {edited.name}.")


@bp.post("/products/<slug>/stock")
@staff_page(Permission.CATALOG_WRITE)
def product_stock(slug: str) -> Response:
    form = FormState.from_post("stock", {"set": "quantity", "add": "quantity"})
    read = FormReader()
    sku = read.text("sku", max_length=MAX_SKU)
    mode = read.choice("mode", ("set", "add"))
    quantity = read.whole_number("quantity", required=True, signed=mode == "add")
    reason = read.text("reason", max_length=MAX_STOCK_REASON, multiline=True)
    try:
        read.finish()
        changed = change_stock(
            ChangeStock(
                staff().id,
                slug,
                reason,
                set_to=quantity if mode == "set" else None,
                add=quantity if mode == "add" else None,
                ip=request.remote_addr,
                sku=sku,
            ),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return product_page(slug, status=refusal_status(error, form), stock=form)
    catalogue_changed()
    variant = changed.sku_variant(sku)
    return done(product_path(slug), f"{sku} now has {variant.stock} in stock.")


@bp.post("/products/<slug>/archive")
@staff_page(Permission.CATALOG_WRITE)
def product_archive(slug: str) -> Response:
    return _archived(slug, archived=True)


@bp.post("/products/<slug>/unarchive")
@staff_page(Permission.CATALOG_WRITE)
def product_unarchive(slug: str) -> Response:
    return _archived(slug, archived=False)


def _archived(slug: str, *, archived: bool) -> Response:
    changed = set_product_archived(
        SetProductArchived(staff().id, slug, archived, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    catalogue_changed()
    if archived:
        return done(
            product_path(slug), f"{changed.name} is archived: off sale, kept for its orders."
        )
    return done(product_path(slug), f"{changed.name} is on sale again.")


@bp.post("/products/<slug>/image")
@accepts_upload(MAX_IMAGE_BYTES)
@staff_page(Permission.CATALOG_WRITE)
def product_image(slug: str) -> Response:
    form = FormState.from_post("image")
    actor_id = staff().id
    read = FormReader()
    sku = read.optional_text("sku", max_length=MAX_SKU)
    upload = read.file("image")
    data = b""
    image_format = None
    if upload is not None:
        data = upload.stream.read(MAX_IMAGE_BYTES + 1)
        image_format = _image_format(upload.mimetype, upload.filename or "")
        if len(data) > MAX_IMAGE_BYTES:
            read.fail("image", f"must be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
        elif image_format is None:
            read.fail("image", "must be a PNG, JPEG or WebP image")
    try:
        read.finish()
        if image_format is None:  # pragma: no cover - finish() raised
            raise AssertionError("an image without a format passed the form's checks")
        ports = container()
        set_product_image(
            UploadProductImage(actor_id, slug, data, image_format, ip=request.remote_addr, sku=sku),
            uow=request_uow(),
            clock=ports.clock,
            decoder=ports.image_decoder,
            images=ports.images,
        )
    except CommerceError as error:
        return product_page(slug, status=refusal_status(error, form), image=form)
    catalogue_changed()
    return done(
        product_path(slug),
        f"The image of {sku} is saved." if sku else "The product's image is saved.",
    )


def _image_format(media_type: str, filename: str) -> ImageFormat | None:
    """What the browser said the file is, else what its name says (the decoder checks both
    against the bytes themselves)."""
    found = ImageFormat.from_media_type(media_type)
    if found is not None:
        return found
    dot = filename.rfind(".")
    return _EXTENSIONS.get(filename[dot:].lower()) if dot >= 0 else None
