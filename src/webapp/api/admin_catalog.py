"""Staff manage the catalogue: list every product, create, edit, count stock, archive, add images;
add and edit a product's variants (by SKU).

Each route declares ``catalog:write``; the use cases check it again and audit every change.
Bodies are strict: JSON fields of the wrong type and fields a route does not know are a 422
(a mistyped ``nmae`` must not be a silent no-op). Answers are ``{product}`` (staff's view, with
``archived`` and ``weight_grams``) or ``{items, page, per_page, total}``, never cached.

An image is sent as the raw request body with its media type - ``Content-Type: image/png``,
``image/jpeg`` or ``image/webp`` (anything else: 415) - at most ``MAX_IMAGE_BYTES`` (413, also
chunked). It must decode in full as that format (422 ``invalid_image``,
``unsupported_image_format``, ``image_too_large``); it is stored re-encoded without metadata
under its content hash and served at ``/media/<hash>.<ext>`` (``webapp.media``).

Every change empties this process's rendered-catalog cache (``webapp.catalog_cache``), so the
change shows at once here; other worker processes show it within their cache's TTL (a second),
and browsers and proxies within the catalog's ``Cache-Control: max-age``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Blueprint, Response, request

from commerce_core import (
    KEEP,
    MAX_DESCRIPTION,
    MAX_IMAGE_BYTES,
    MAX_OPTIONS,
    MAX_STOCK_REASON,
    MAX_VARIANTS,
    AddVariant,
    ChangeStock,
    CreateProduct,
    EditProduct,
    EditVariant,
    FieldError,
    ImageFormat,
    Money,
    NewVariant,
    Permission,
    Product,
    SetProductArchived,
    UploadProductImage,
    add_variant,
    change_stock,
    create_product,
    edit_product,
    edit_variant,
    get_product_for_staff,
    list_staff_products,
    set_product_archived,
    set_product_image,
    staff_product_view,
)
from webapp.api.responses import json_response
from webapp.catalog_cache import catalog_cache
from webapp.payloads import BodyReader, json_body, request_body
from webapp.problems import ApiProblem
from webapp.query_reader import QueryReader
from webapp.request_ports import container, request_uow
from webapp.sessions import permission_required, require_user

__all__ = ["IMAGE_MEDIA_TYPES", "MAX_NAME", "MAX_SLUG", "bp"]

bp = Blueprint("admin_catalog", __name__, url_prefix="/api/admin/products")

MAX_NAME = 200
MAX_SLUG = 100
IMAGE_MEDIA_TYPES = tuple(image_format.media_type for image_format in ImageFormat)

MAX_SKU = 64
MAX_OPTION_TEXT = 50

_CREATE_FIELDS = {
    "slug",
    "name",
    "description",
    "price",
    "stock",
    "weight_grams",
    "sku",
    "option_names",
    "variants",
}
_EDIT_FIELDS = {"slug", "name", "description", "price", "weight_grams", "option_names", "fill"}
_STOCK_FIELDS = {"set", "add", "reason", "sku"}
_VARIANT_FIELDS = {"sku", "options", "price", "stock", "weight_grams"}
_VARIANT_EDIT_FIELDS = {"sku", "options", "price", "weight_grams", "archived"}


def _weight(body: BodyReader, data: dict[str, Any]) -> Any:
    """``weight_grams``: absent is ``KEEP``, null no weight, else an integer."""
    if "weight_grams" not in data:
        return KEEP
    return None if data["weight_grams"] is None else body.integer("weight_grams")


def _new_variant(body: BodyReader, data: dict[str, Any]) -> NewVariant | None:
    _known_fields(body, data, _VARIANT_FIELDS)
    sku = body.text("sku", max_length=MAX_SKU, min_length=1)
    options = body.optional_text_map("options", max_items=MAX_OPTIONS, max_length=MAX_OPTION_TEXT)
    price = body.optional_amount("price")
    if price is None and "price" not in data:
        body.errors.append(FieldError(body.field("price"), "is required"))
    stock = 0 if data.get("stock") is None else body.integer("stock")
    weight = None if data.get("weight_grams") is None else body.integer("weight_grams")
    if price is None or body.errors:
        return None
    return NewVariant(sku, options or {}, price, stock, weight)


def _answer(product: Product, status: int = 200) -> Response:
    # The public catalog renders from the database again from now on, in this process.
    catalog_cache().clear()
    return json_response({"product": staff_product_view(product)}, status)


def _known_fields(body: BodyReader, data: dict[str, Any], allowed: Collection[str]) -> None:
    for name in sorted(set(data) - set(allowed)):
        body.errors.append(FieldError(name, "is not a field of this request"))


@bp.get("")
@permission_required(Permission.CATALOG_WRITE)
def list_all() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    page = list_staff_products(request_uow(), require_user().id, paging)
    return json_response(page.to_primitive(staff_product_view))


@bp.post("")
@permission_required(Permission.CATALOG_WRITE)
def create() -> Response:
    data = json_body()
    body = BodyReader(data)
    _known_fields(body, data, _CREATE_FIELDS)
    slug = body.text("slug", max_length=MAX_SLUG, min_length=1)
    name = body.text("name", max_length=MAX_NAME)
    description = (
        body.optional_text("description", max_length=MAX_DESCRIPTION, multiline=True) or ""
    )
    stock = 0 if data.get("stock") is None else body.integer("stock")
    weight = None if data.get("weight_grams") is None else body.integer("weight_grams")
    sku = body.optional_text("sku", max_length=MAX_SKU)
    option_names = body.optional_names(
        "option_names", max_items=MAX_OPTIONS, max_length=MAX_OPTION_TEXT
    )
    variants = []
    if data.get("variants") is not None:
        readers = body.objects("variants", max_items=MAX_VARIANTS)
        variants = [_new_variant(reader, reader.data) for reader in readers]
        body.adopt(readers)
    price = _product_price(body, data, variants)
    body.finish()
    if price is None:  # pragma: no cover - finish() raised: the reader recorded why
        raise AssertionError("a product without a price passed the body's checks")
    product = create_product(
        CreateProduct(
            require_user().id,
            slug,
            name,
            price,
            description=description,
            stock=stock,
            weight_grams=weight,
            ip=request.remote_addr,
            sku=sku,
            option_names=tuple(option_names or ()),
            variants=tuple(v for v in variants if v is not None),
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    return _answer(product, 201)


def _product_price(
    body: BodyReader, data: dict[str, Any], variants: list[NewVariant | None]
) -> Money | None:
    """The product's price (its default variant's), or with ``variants`` just their currency:
    the ``price`` given, else the first variant's ``{amount, currency}``."""
    if "price" in data or not variants:
        return body.money("price")
    first = variants[0]
    if first is not None and isinstance(first.price, Money):
        return first.price
    if first is not None:
        body.errors.append(
            FieldError("variants[0].price", "must be {amount, currency} (or give price)")
        )
    return None


@bp.patch("/<slug>")
@permission_required(Permission.CATALOG_WRITE)
def edit(slug: str) -> Response:
    data = json_body()
    body = BodyReader(data)
    _known_fields(body, data, _EDIT_FIELDS)
    new_slug = body.optional_text("slug", max_length=MAX_SLUG)
    name = body.optional_text("name", max_length=MAX_NAME)
    description = body.optional_text("description", max_length=MAX_DESCRIPTION, multiline=True)
    price = body.optional_amount("price")
    weight = _weight(body, data)  # null: no weight; absent: as it was
    option_names = body.optional_names(
        "option_names", max_items=MAX_OPTIONS, max_length=MAX_OPTION_TEXT
    )
    fill = body.optional_text_map("fill", max_items=MAX_OPTIONS, max_length=MAX_OPTION_TEXT)
    body.finish()
    product = edit_product(
        EditProduct(
            require_user().id,
            slug,
            name=name,
            description=description,
            new_slug=new_slug,
            price=price,
            weight_grams=weight,
            ip=request.remote_addr,
            option_names=None if option_names is None else tuple(option_names),
            fill=fill or {},
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    return _answer(product)


@bp.post("/<slug>/variants")
@permission_required(Permission.CATALOG_WRITE)
def create_variant(slug: str) -> Response:
    data = json_body()
    body = BodyReader(data)
    variant = _new_variant(body, data)
    body.finish()
    if variant is None:  # pragma: no cover - finish() raised
        raise AssertionError("a variant without its fields passed the body's checks")
    product = add_variant(
        AddVariant(require_user().id, slug, variant, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _answer(product, 201)


@bp.patch("/<slug>/variants/<sku>")
@permission_required(Permission.CATALOG_WRITE)
def change_variant(slug: str, sku: str) -> Response:
    data = json_body()
    body = BodyReader(data)
    _known_fields(body, data, _VARIANT_EDIT_FIELDS)
    new_sku = body.optional_text("sku", max_length=MAX_SKU)
    options = body.optional_text_map("options", max_items=MAX_OPTIONS, max_length=MAX_OPTION_TEXT)
    price = body.optional_amount("price")
    weight = _weight(body, data)
    archived = None if data.get("archived") is None else body.flag("archived")
    body.finish()
    product = edit_variant(
        EditVariant(
            require_user().id,
            slug,
            sku,
            new_sku=new_sku,
            options=options,
            price=price,
            weight_grams=weight,
            archived=archived,
            ip=request.remote_addr,
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    return _answer(product)


@bp.post("/<slug>/stock")
@permission_required(Permission.CATALOG_WRITE)
def stock(slug: str) -> Response:
    data = json_body()
    body = BodyReader(data)
    _known_fields(body, data, _STOCK_FIELDS)
    set_to = None if data.get("set") is None else body.integer("set")
    add = None if data.get("add") is None else body.integer("add")
    reason = body.text("reason", max_length=MAX_STOCK_REASON, multiline=True)
    sku = body.optional_text("sku", max_length=MAX_SKU)
    body.finish()
    product = change_stock(
        ChangeStock(
            require_user().id,
            slug,
            reason,
            set_to=set_to,
            add=add,
            ip=request.remote_addr,
            sku=sku,
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    return _answer(product)


@bp.post("/<slug>/archive")
@permission_required(Permission.CATALOG_WRITE)
def archive(slug: str) -> Response:
    return _archived(slug, archived=True)


@bp.post("/<slug>/unarchive")
@permission_required(Permission.CATALOG_WRITE)
def unarchive(slug: str) -> Response:
    return _archived(slug, archived=False)


def _archived(slug: str, *, archived: bool) -> Response:
    product = set_product_archived(
        SetProductArchived(require_user().id, slug, archived, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _answer(product)


@bp.post("/<slug>/image")
@permission_required(Permission.CATALOG_WRITE)
def upload_image(slug: str) -> Response:
    actor_id = require_user().id
    query = QueryReader()
    sku = query.text("sku", max_length=MAX_SKU)
    query.finish()
    # An unknown product (or variant) is a 404 whatever was sent (before the media type's 415).
    found = get_product_for_staff(request_uow(), actor_id, slug)
    if sku is not None:
        found.sku_variant(sku)
    image_format = ImageFormat.from_media_type(request.mimetype)
    if image_format is None:
        raise ApiProblem(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            f"send the image itself as the body, as {', '.join(IMAGE_MEDIA_TYPES)}",
        )
    data = request_body(MAX_IMAGE_BYTES)
    ports = container()
    product = set_product_image(
        UploadProductImage(actor_id, slug, data, image_format, ip=request.remote_addr, sku=sku),
        uow=request_uow(),
        clock=ports.clock,
        decoder=ports.image_decoder,
        images=ports.images,
    )
    return _answer(product)
