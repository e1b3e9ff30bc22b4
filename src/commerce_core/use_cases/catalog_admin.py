"""What staff do to the catalogue: create and edit products, count stock, archive, add images.

Each call checks the actor's permission itself (``catalog:write``, whatever the driver checked
before) and is audited - actor, action, target ``product:<id>``, address, and what changed from
what - in the transaction that makes the change. A product is changed under its row lock, so
an edit, a stock count and a sale never overwrite one another.

Products are never deleted (orders refer to them): archiving takes one off sale - unlisted,
not shown to shoppers, refused at checkout - and unarchiving brings it back.

Stock is set to a counted level or moved by a delta, always with a reason; it never goes below
zero (a delta that would is refused as ``OutOfStock``, nothing changed).

An image is decoded in full and re-encoded without metadata (``ImageDecoder``) outside any
transaction, stored under its content hash (``ImageStore``), and the product then points at it.

>>> from commerce_core import Money, Register, create_staff_user, Role
>>> from commerce_core.testing import InMemoryShop
>>> shop = InMemoryShop()
>>> admin = create_staff_user(
...     Register("a@example.com", "a long passphrase", "Ann", role=Role.ADMIN), **shop.account_ports)
>>> mug = create_product(
...     CreateProduct(admin.id, "mug", "Mug", Money(1500, "USD")), uow=shop.uow, clock=shop.clock)
>>> change_stock(
...     ChangeStock(admin.id, "mug", "delivery", add=12), uow=shop.uow, clock=shop.clock).stock
12
"""

from __future__ import annotations

import enum
from typing import Any, Literal

import attrs

from commerce_core.domain.catalog import MAX_STOCK, Product
from commerce_core.domain.ids import new_id
from commerce_core.domain.images import ImageFormat
from commerce_core.domain.money import Money
from commerce_core.domain.permissions import Permission
from commerce_core.errors import Conflict, FieldError, InvalidInput, NotFound, OutOfStock
from commerce_core.ports import Clock, ImageDecoder, ImageStore, UnitOfWork
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page, product_view, timestamp

__all__ = [
    "KEEP",
    "MAX_DESCRIPTION",
    "MAX_STOCK_REASON",
    "ChangeStock",
    "CreateProduct",
    "EditProduct",
    "SetProductArchived",
    "UploadProductImage",
    "change_stock",
    "create_product",
    "edit_product",
    "get_product_for_staff",
    "list_staff_products",
    "set_product_archived",
    "set_product_image",
    "staff_product_view",
]

MAX_DESCRIPTION = 10_000
MAX_STOCK_REASON = 500


class _Keep(enum.Enum):
    KEEP = "keep"


# "Leave this field as it is" where ``None`` is a value (an unweighed product).
KEEP: Literal[_Keep.KEEP] = _Keep.KEEP


@attrs.frozen
class CreateProduct:
    """A new product, on sale at once (with no stock unless ``stock`` says)."""

    actor_id: str
    slug: str
    name: str
    price: Money
    description: str = ""
    stock: int = 0
    weight_grams: int | None = None
    ip: str | None = None


@attrs.frozen
class EditProduct:
    """Change what is given; ``None`` (``KEEP`` for the weight) leaves a field as it is.
    ``price`` is ``Money`` or minor units, in the product's currency either way."""

    actor_id: str
    slug: str
    name: str | None = None
    description: str | None = None
    new_slug: str | None = None
    price: Money | int | None = None
    weight_grams: int | Literal[_Keep.KEEP] | None = KEEP
    ip: str | None = None


@attrs.frozen
class ChangeStock:
    """Set the stock to a counted level (``set_to``) or move it by ``add`` units (negative:
    taken out - damaged, lost); exactly one of the two, and always a ``reason``."""

    actor_id: str
    slug: str
    reason: str
    set_to: int | None = None
    add: int | None = None
    ip: str | None = None


@attrs.frozen
class SetProductArchived:
    actor_id: str
    slug: str
    archived: bool
    ip: str | None = None


@attrs.frozen
class UploadProductImage:
    """``data`` as uploaded; ``image_format`` is what the client said it is (Content-Type)."""

    actor_id: str
    slug: str
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    image_format: ImageFormat
    ip: str | None = None


def staff_product_view(product: Product) -> dict[str, Any]:
    """A product as staff see it: the shopper's view, whether it is archived, its weight."""
    return {
        **product_view(product),
        "archived": product.archived,
        "weight_grams": product.weight_grams,
        "created_at": timestamp(product.created_at),
        "updated_at": timestamp(product.updated_at),
    }


def list_staff_products(uow: UnitOfWork, actor_id: str, paging: PageRequest) -> Page[Product]:
    """Every product, archived ones too, by name (``catalog:write``)."""
    with uow:
        acting_staff(uow, actor_id, Permission.CATALOG_WRITE)
        items, total = uow.products.list_for_staff(paging.offset, paging.per_page)
    return Page(items, paging.page, paging.per_page, total)


def get_product_for_staff(uow: UnitOfWork, actor_id: str, slug: str) -> Product:
    """The product ``slug``, archived or not (``catalog:write``); ``NotFound``."""
    with uow:
        acting_staff(uow, actor_id, Permission.CATALOG_WRITE)
        return _found(uow, slug)


def create_product(command: CreateProduct, *, uow: UnitOfWork, clock: Clock) -> Product:
    """Add a product. ``Conflict`` if its slug is taken; ``InvalidInput`` naming each bad field."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        _check_description(command.description)
        now = clock.now()
        product = Product(
            id=new_id("prod"),
            slug=command.slug,
            name=command.name,
            description=command.description,
            price=command.price,
            image_url="",
            stock=command.stock,
            created_at=now,
            updated_at=now,
            weight_grams=command.weight_grams,
        )
        if uow.products.get_by_slug(product.slug) is not None:
            raise Conflict(f"a product with slug {product.slug!r} already exists")
        uow.products.add(product)
        audit_staff_action(
            uow, now, actor, "product.create", _target(product), command.ip, **_audited(product)
        )
        uow.commit()
    return product


def edit_product(command: EditProduct, *, uow: UnitOfWork, clock: Clock) -> Product:
    """Change a product's name, description, slug, price or weight; audited field by field
    (before and after). Nothing given, or nothing different: nothing written."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        if command.description is not None:
            _check_description(command.description)
        changes: dict[str, Any] = {}
        if command.name is not None:
            changes["name"] = command.name
        if command.description is not None:
            changes["description"] = command.description
        if command.new_slug is not None:
            changes["slug"] = command.new_slug
        if command.price is not None:
            changes["price"] = _price_in(product, command.price)
        if command.weight_grams is not KEEP:
            changes["weight_grams"] = command.weight_grams
        changed = {k: v for k, v in changes.items() if getattr(product, k) != v}
        if not changed:
            return product
        if "slug" in changed:
            taken = uow.products.get_by_slug(changed["slug"])
            if taken is not None and taken.id != product.id:
                raise Conflict(f"a product with slug {changed['slug']!r} already exists")
        now = clock.now()
        edited = attrs.evolve(product, updated_at=now, **changed)  # validates every field
        uow.products.save(edited)
        audit_staff_action(
            uow,
            now,
            actor,
            "product.edit",
            _target(product),
            command.ip,
            changed={
                name: {"before": _plain(getattr(product, name)), "after": _plain(value)}
                for name, value in changed.items()
            },
        )
        uow.commit()
    return edited


def change_stock(command: ChangeStock, *, uow: UnitOfWork, clock: Clock) -> Product:
    """Set or move a product's stock under its row lock; audited with who, why, before and
    after. A move below zero is ``OutOfStock`` and changes nothing."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        _check_stock_command(command)
        before = product.stock
        now = clock.now()
        if command.set_to is not None:
            product.set_stock(command.set_to, now)
        else:
            added = command.add or 0
            if before + added < 0:
                raise OutOfStock(
                    f"removing {-added} would leave {before + added} of {product.slug!r} "
                    f"({before} in stock)",
                    [product.id],
                )
            if before + added > MAX_STOCK:
                raise InvalidInput.for_field("add", f"stock cannot exceed {MAX_STOCK}")
            product.set_stock(before + added, now)
        uow.products.save(product)
        audit_staff_action(
            uow,
            now,
            actor,
            "product.stock",
            _target(product),
            command.ip,
            before=before,
            after=product.stock,
            reason=command.reason,
            **({"set": command.set_to} if command.set_to is not None else {"add": command.add}),
        )
        uow.commit()
    return product


def set_product_archived(command: SetProductArchived, *, uow: UnitOfWork, clock: Clock) -> Product:
    """Archive (take off sale) or unarchive a product; doing it twice changes nothing more.
    Stock held by open checkouts stays held: those orders may still be paid."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        if product.archived == command.archived:
            return product
        now = clock.now()
        product.archived = command.archived
        product.updated_at = now
        uow.products.save(product)
        action = "product.archive" if command.archived else "product.unarchive"
        audit_staff_action(uow, now, actor, action, _target(product), command.ip)
        uow.commit()
    return product


def set_product_image(
    command: UploadProductImage,
    *,
    uow: UnitOfWork,
    clock: Clock,
    decoder: ImageDecoder,
    images: ImageStore,
) -> Product:
    """Validate, clean and store an image, and make it the product's.

    The permission and the product are checked first (someone without the permission learns
    nothing from an image's 422); the decoding and storing happen outside any transaction
    (they take time, and a stored image nobody points at is harmless: it is content-addressed).
    """
    with uow:
        acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        _found(uow, command.slug)
    clean = decoder.clean(command.data, command.image_format)
    key = images.put(clean.data, clean.format)
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        before = product.image_url
        now = clock.now()
        product.image_url = images.url(key)
        product.updated_at = now
        uow.products.save(product)
        audit_staff_action(
            uow,
            now,
            actor,
            "product.image",
            _target(product),
            command.ip,
            before=before,
            after=product.image_url,
            image=key,
            bytes=len(clean.data),
            width=clean.width,
            height=clean.height,
        )
        uow.commit()
    return product


# -- helpers -------------------------------------------------------------------------------------


def _target(product: Product) -> str:
    return f"product:{product.id}"


def _found(uow: UnitOfWork, slug: str) -> Product:
    product = uow.products.get_by_slug(slug)
    if product is None:
        raise NotFound(f"no product {slug!r}")
    return product


def _locked(uow: UnitOfWork, slug: str) -> Product:
    """The product with ``slug``, locked for this transaction."""
    product_id = _found(uow, slug).id
    locked = uow.products.lock([product_id]).get(product_id)
    if locked is None or locked.slug != slug:  # renamed between the two reads
        raise NotFound(f"no product {slug!r}")
    return locked


def _price_in(product: Product, price: Money | int) -> Money:
    if isinstance(price, Money):
        if price.currency != product.price.currency:
            raise InvalidInput.for_field(
                "price", f"must be in the product's currency, {product.price.currency}"
            )
        return price
    if type(price) is not int:
        raise InvalidInput.for_field("price", "must be an integer number of minor units")
    return Money(price, product.price.currency)


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput.for_field("description", f"must be at most {MAX_DESCRIPTION} characters")


def _check_stock_command(command: ChangeStock) -> None:
    errors: list[FieldError] = []
    if (command.set_to is None) == (command.add is None):
        errors.append(FieldError("set", "give exactly one of set and add"))
    elif command.add is not None and (type(command.add) is not int or command.add == 0):
        errors.append(FieldError("add", "must be a non-zero whole number of units"))
    elif command.set_to is not None and (
        type(command.set_to) is not int or not 0 <= command.set_to <= MAX_STOCK
    ):
        errors.append(FieldError("set", f"must be a whole number of units, 0 to {MAX_STOCK}"))
    if not command.reason.strip():
        errors.append(FieldError("reason", "is required: say why the stock changes"))
    elif len(command.reason) > MAX_STOCK_REASON:
        errors.append(FieldError("reason", f"must be at most {MAX_STOCK_REASON} characters"))
    if errors:
        raise InvalidInput(errors=errors)


def _audited(product: Product) -> dict[str, Any]:
    return {
        "slug": product.slug,
        "name": product.name,
        "price": product.price.to_primitive(),
        "stock": product.stock,
        "weight_grams": product.weight_grams,
    }


def _plain(value: object) -> object:
    return value.to_primitive() if isinstance(value, Money) else value
