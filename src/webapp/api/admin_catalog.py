"""Staff manage the catalogue: list every product, create, edit, count stock, archive, add images.

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
    MAX_STOCK_REASON,
    ChangeStock,
    CreateProduct,
    EditProduct,
    FieldError,
    ImageFormat,
    Permission,
    Product,
    SetProductArchived,
    UploadProductImage,
    change_stock,
    create_product,
    edit_product,
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

_CREATE_FIELDS = {"slug", "name", "description", "price", "stock", "weight_grams"}
_EDIT_FIELDS = {"slug", "name", "description", "price", "weight_grams"}
_STOCK_FIELDS = {"set", "add", "reason"}


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
    price = body.money("price")
    stock = 0 if data.get("stock") is None else body.integer("stock")
    weight = None if data.get("weight_grams") is None else body.integer("weight_grams")
    body.finish()
    if price is None:  # pragma: no cover - finish() raised: _money recorded why
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
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    return _answer(product, 201)


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
    weight: Any = KEEP
    if "weight_grams" in data:  # null: no weight; absent: as it was
        weight = None if data["weight_grams"] is None else body.integer("weight_grams")
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
    body.finish()
    product = change_stock(
        ChangeStock(
            require_user().id, slug, reason, set_to=set_to, add=add, ip=request.remote_addr
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
    # An unknown product is a 404 whatever was sent (before the media type's 415).
    get_product_for_staff(request_uow(), actor_id, slug)
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
        UploadProductImage(actor_id, slug, data, image_format, ip=request.remote_addr),
        uow=request_uow(),
        clock=ports.clock,
        decoder=ports.image_decoder,
        images=ports.images,
    )
    return _answer(product)
