"""What staff do to the catalogue: create and edit products and their variants, count stock,
archive, add images.

Each call checks the actor's permission itself (``catalog:write``, whatever the driver checked
before) and is audited - actor, action, target ``product:<id>``, address, and what changed from
what - in the transaction that makes the change. A product is changed under its row lock, so
an edit, a stock count and a sale never overwrite one another.

Products are never deleted (orders refer to them): archiving takes one off sale - unlisted,
not shown to shoppers, refused at checkout - and unarchiving brings it back.

Stock is set to a counted level or moved by a delta, always with a reason; it never goes below
zero (a delta that would is refused as ``OutOfStock``, nothing changed).

Variants: a product without options has one variant, which ``price``, ``weight_grams`` and
stock commands without a ``sku`` act on. A product with options (``option_names``) has a variant
per combination sold; each is added, edited, counted and archived by its SKU. Variants, like
products, are archived, never deleted.

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
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from commerce_core.domain.catalog import MAX_STOCK, Product, Variant, options_for, validate_sku
from commerce_core.domain.ids import new_id
from commerce_core.domain.images import ImageFormat
from commerce_core.domain.money import Money
from commerce_core.domain.permissions import Permission
from commerce_core.errors import Conflict, FieldError, InvalidInput, NotFound, OutOfStock
from commerce_core.ports import Clock, ImageDecoder, ImageStore, UnitOfWork
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page, product_view, timestamp, variant_view

__all__ = [
    "KEEP",
    "MAX_DESCRIPTION",
    "MAX_STOCK_REASON",
    "AddVariant",
    "ChangeStock",
    "CreateProduct",
    "EditProduct",
    "EditVariant",
    "NewVariant",
    "SetProductArchived",
    "UploadProductImage",
    "add_variant",
    "change_stock",
    "create_product",
    "edit_product",
    "edit_variant",
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
class NewVariant:
    """A variant to create: its SKU, a value for each of the product's options, price (``Money``
    or minor units in the product's currency), stock, weight."""

    sku: str
    options: Mapping[str, str]
    price: Money | int
    stock: int = 0
    weight_grams: int | None = None


@attrs.frozen
class CreateProduct:
    """A new product, on sale at once (with no stock unless ``stock`` says).

    Without ``option_names``: one default variant with ``price``, ``stock``, ``weight_grams``
    and ``sku`` (the slug if None). With them: ``variants`` (at least one), whose prices are
    in ``price``'s currency."""

    actor_id: str
    slug: str
    name: str
    price: Money
    description: str = ""
    stock: int = 0
    weight_grams: int | None = None
    ip: str | None = None
    sku: str | None = None
    option_names: tuple[str, ...] = ()
    variants: tuple[NewVariant, ...] = ()


@attrs.frozen
class AddVariant:
    actor_id: str
    slug: str
    variant: NewVariant
    ip: str | None = None


@attrs.frozen
class EditVariant:
    """Change what is given of the variant ``sku`` of product ``slug``; ``None`` (``KEEP`` for
    the weight) leaves a field as it is."""

    actor_id: str
    slug: str
    sku: str
    new_sku: str | None = None
    options: Mapping[str, str] | None = None
    price: Money | int | None = None
    weight_grams: int | Literal[_Keep.KEEP] | None = KEEP
    archived: bool | None = None
    ip: str | None = None


@attrs.frozen
class EditProduct:
    """Change what is given; ``None`` (``KEEP`` for the weight) leaves a field as it is.
    ``price`` is ``Money`` or minor units, in the product's currency either way; it and the
    weight are the default variant's (a product with options has them per variant).
    ``option_names`` changes the options: an added one needs its value for the existing
    variants in ``fill``."""

    actor_id: str
    slug: str
    name: str | None = None
    description: str | None = None
    new_slug: str | None = None
    price: Money | int | None = None
    weight_grams: int | Literal[_Keep.KEEP] | None = KEEP
    ip: str | None = None
    option_names: tuple[str, ...] | None = None
    fill: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class ChangeStock:
    """Set the stock of the variant ``sku`` (None: the product's default variant) to a counted
    level (``set_to``) or move it by ``add`` units (negative: taken out - damaged, lost);
    exactly one of the two, and always a ``reason``."""

    actor_id: str
    slug: str
    reason: str
    set_to: int | None = None
    add: int | None = None
    ip: str | None = None
    sku: str | None = None


@attrs.frozen
class SetProductArchived:
    actor_id: str
    slug: str
    archived: bool
    ip: str | None = None


@attrs.frozen
class UploadProductImage:
    """``data`` as uploaded; ``image_format`` is what the client said it is (Content-Type).
    With ``sku``, the image is that variant's (a colour's photo), else the product's."""

    actor_id: str
    slug: str
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    image_format: ImageFormat
    ip: str | None = None
    sku: str | None = None


def staff_product_view(product: Product) -> dict[str, Any]:
    """A product as staff see it: the shopper's view, whether it is archived, its weight, and
    every variant (archived ones too)."""
    return {
        **product_view(product),
        "archived": product.archived,
        "weight_grams": product.weight_grams,
        "variants": [
            {**variant_view(v), "archived": v.archived, "updated_at": timestamp(v.updated_at)}
            for v in product.variants
        ],
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
        product = new_product_from(command, now)
        if uow.products.get_by_slug(product.slug) is not None:
            raise Conflict(f"a product with slug {product.slug!r} already exists")
        _check_skus_free(uow, product, product.variants)
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
        changed = {k: v for k, v in changes.items() if getattr(product, k) != v}
        variant_changes = _default_variant_edits(product, command)
        options_before = product.option_names
        options_change = command.option_names is not None and (
            tuple(command.option_names) != options_before
        )
        if not changed and not variant_changes and not options_change:
            return product
        if "slug" in changed:
            taken = uow.products.get_by_slug(changed["slug"])
            if taken is not None and taken.id != product.id:
                raise Conflict(f"a product with slug {changed['slug']!r} already exists")
        now = clock.now()
        # Validates every field; its own list of variants, so the audit can compare.
        edited = attrs.evolve(product, updated_at=now, variants=list(product.variants), **changed)
        if variant_changes:
            default = edited.variants[0]
            edited.replace_variant(attrs.evolve(default, updated_at=now, **variant_changes), now)
        if command.option_names is not None and options_change:
            edited.set_option_names(tuple(command.option_names), command.fill, now)
        uow.products.save(edited)
        audited = {
            name: {"before": _plain(getattr(product, name)), "after": _plain(value)}
            for name, value in changed.items()
        }
        for name, value in variant_changes.items():
            audited[name] = {
                "before": _plain(getattr(product.variants[0], name)),
                "after": _plain(value),
            }
        if options_change:
            audited["option_names"] = {
                "before": list(options_before),
                "after": list(edited.option_names),
            }
        audit_staff_action(
            uow, now, actor, "product.edit", _target(product), command.ip, changed=audited
        )
        uow.commit()
    return edited


def _default_variant_edits(product: Product, command: EditProduct) -> dict[str, Any]:
    """What a product edit changes of its default variant (price, weight)."""
    if command.price is None and command.weight_grams is KEEP:
        return {}
    default = _default_variant(product, "price" if command.price is not None else "weight_grams")
    changes: dict[str, Any] = {}
    if command.price is not None:
        changes["price"] = _price_in(product, command.price)
    if command.weight_grams is not KEEP:
        changes["weight_grams"] = command.weight_grams
    return {k: v for k, v in changes.items() if getattr(default, k) != v}


def add_variant(command: AddVariant, *, uow: UnitOfWork, clock: Clock) -> Product:
    """Add a variant to a product with options. ``Conflict`` if its SKU is taken;
    ``InvalidInput`` if its options do not name exactly the product's, or repeat a variant's."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        if not product.option_names:
            raise InvalidInput.for_field(
                "options", "the product has no options: give it option_names first"
            )
        now = clock.now()
        variant = _variant_from(product.option_names, product.currency, command.variant, now)
        _check_skus_free(uow, product, [variant])
        product.add_variant(variant, now)
        uow.products.save(product)
        audit_staff_action(
            uow,
            now,
            actor,
            "variant.create",
            _target(product),
            command.ip,
            **_audited_variant(variant),
        )
        uow.commit()
    return product


def edit_variant(command: EditVariant, *, uow: UnitOfWork, clock: Clock) -> Product:
    """Change a variant's SKU, options, price, weight, or archive it (or bring it back);
    audited field by field. Nothing given, or nothing different: nothing written."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        variant = product.sku_variant(command.sku)
        changes: dict[str, Any] = {}
        if command.new_sku is not None:
            changes["sku"] = command.new_sku
        if command.options is not None:
            changes["options"] = options_for(product.option_names, command.options)
        if command.price is not None:
            changes["price"] = _price_in(product, command.price)
        if command.weight_grams is not KEEP:
            changes["weight_grams"] = command.weight_grams
        if command.archived is not None:
            if type(command.archived) is not bool:
                raise InvalidInput.for_field("archived", "must be true or false")
            changes["archived"] = command.archived
        changed = {k: v for k, v in changes.items() if getattr(variant, k) != v}
        if not changed:
            return product
        now = clock.now()
        edited = attrs.evolve(variant, updated_at=now, **changed)  # validates every field
        if "sku" in changed:
            _check_skus_free(uow, product, [edited])
        product.replace_variant(edited, now)
        uow.products.save(product)
        audit_staff_action(
            uow,
            now,
            actor,
            "variant.edit",
            _target(product),
            command.ip,
            sku=variant.sku,
            changed={
                name: {"before": _plain(getattr(variant, name)), "after": _plain(value)}
                for name, value in changed.items()
            },
        )
        uow.commit()
    return product


def change_stock(command: ChangeStock, *, uow: UnitOfWork, clock: Clock) -> Product:
    """Set or move a product's stock under its row lock; audited with who, why, before and
    after. A move below zero is ``OutOfStock`` and changes nothing."""
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        _check_stock_command(command)
        variant = (
            _default_variant(product, "sku")
            if command.sku is None
            else product.sku_variant(command.sku)
        )
        before = variant.stock
        now = clock.now()
        if command.set_to is not None:
            variant.set_stock(command.set_to, now)
        else:
            added = command.add or 0
            if before + added < 0:
                raise OutOfStock(
                    f"removing {-added} would leave {before + added} of {variant.sku!r} "
                    f"({before} in stock)",
                    [product.id],
                    variant_ids=[variant.id],
                )
            if before + added > MAX_STOCK:
                raise InvalidInput.for_field("add", f"stock cannot exceed {MAX_STOCK}")
            variant.set_stock(before + added, now)
        product.updated_at = now
        uow.products.save(product)
        audit_staff_action(
            uow,
            now,
            actor,
            "product.stock",
            _target(product),
            command.ip,
            sku=variant.sku,
            before=before,
            after=variant.stock,
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
        found = _found(uow, command.slug)
        if command.sku is not None:
            found.sku_variant(command.sku)
    clean = decoder.clean(command.data, command.image_format)
    key = images.put(clean.data, clean.format)
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = _locked(uow, command.slug)
        now = clock.now()
        if command.sku is None:
            before = product.image_url
            product.image_url = after = images.url(key)
            product.updated_at = now
        else:
            variant = product.sku_variant(command.sku)
            before, after = variant.image_url, images.url(key)
            product.replace_variant(attrs.evolve(variant, image_url=after, updated_at=now), now)
        uow.products.save(product)
        audit_staff_action(
            uow,
            now,
            actor,
            "product.image",
            _target(product),
            command.ip,
            before=before,
            after=after,
            sku=command.sku,
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
    return _money_in(product.currency, price)


def _money_in(currency: str, price: Money | int) -> Money:
    if isinstance(price, Money):
        if price.currency != currency:
            raise InvalidInput.for_field("price", f"must be in the product's currency, {currency}")
        return price
    if type(price) is not int:
        raise InvalidInput.for_field("price", "must be an integer number of minor units")
    return Money(price, currency)


def _default_variant(product: Product, field: str) -> Variant:
    """The variant a product-level price, weight or stock command acts on."""
    default = product.default_variant
    if default is None:
        raise InvalidInput.for_field(
            field, "the product has options: name the variant (its SKU) to change"
        )
    return default


def _variant_from(
    option_names: tuple[str, ...], currency: str, new: NewVariant, now: datetime
) -> Variant:
    return Variant(
        id=new_id("var"),
        sku=validate_sku(new.sku),
        price=_money_in(currency, new.price),
        stock=new.stock,
        created_at=now,
        updated_at=now,
        options=options_for(option_names, new.options),
        weight_grams=new.weight_grams,
    )


def new_product_from(command: CreateProduct, now: datetime) -> Product:
    if not command.option_names:
        if command.variants:
            raise InvalidInput.for_field("variants", "give option_names for several variants")
        return Product.single(
            product_id=new_id("prod"),
            slug=command.slug,
            name=command.name,
            description=command.description,
            price=command.price,
            stock=command.stock,
            now=now,
            weight_grams=command.weight_grams,
            sku=command.sku,
        )
    if not command.variants:
        raise InvalidInput.for_field("variants", "a product with options needs its variants")
    names = tuple(command.option_names)
    return Product(
        id=new_id("prod"),
        slug=command.slug,
        name=command.name,
        description=command.description,
        image_url="",
        created_at=now,
        updated_at=now,
        variants=[_variant_from(names, command.price.currency, v, now) for v in command.variants],
        option_names=names,
    )


def _check_skus_free(uow: UnitOfWork, product: Product, variants: list[Variant]) -> None:
    """``Conflict`` if another product has one of these SKUs (the database's unique index
    would refuse it too; this says which)."""
    for variant in variants:
        owner = uow.products.get_by_sku(variant.sku)
        if owner is not None and owner.id != product.id:
            raise Conflict(f"SKU {variant.sku!r} is taken by product {owner.slug!r}")


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
        "option_names": list(product.option_names),
        "skus": [v.sku for v in product.variants],
    }


def _audited_variant(variant: Variant) -> dict[str, Any]:
    return {
        "sku": variant.sku,
        "options": variant.option_values,
        "price": variant.price.to_primitive(),
        "stock": variant.stock,
        "weight_grams": variant.weight_grams,
    }


def _plain(value: object) -> object:
    if isinstance(value, Money):
        return value.to_primitive()
    if isinstance(value, tuple):
        return dict(value)  # a variant's options
    return value
