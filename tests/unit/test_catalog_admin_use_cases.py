"""The staff's catalogue use cases with in-memory fakes: each checks ``catalog:write`` itself,
audits what it changed (stock with who, why, before and after), leaves the shop as it was when it
refuses; archived products are kept but neither listed, shown nor sold; an image is cleaned by
the decoder and stored once per content."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from commerce_core import (
    CartItem,
    ChangeStock,
    Conflict,
    CreateCheckoutIntent,
    CreateProduct,
    EditProduct,
    ImageFormat,
    ImageTooLarge,
    InvalidImage,
    InvalidInput,
    Money,
    NotFound,
    OutOfStock,
    PageRequest,
    PermissionDenied,
    Product,
    Role,
    SetProductArchived,
    UnsupportedImageFormat,
    UploadProductImage,
    User,
    change_stock,
    create_checkout_intent,
    create_product,
    edit_product,
    get_product,
    get_product_for_staff,
    list_products,
    list_staff_products,
    set_product_archived,
    set_product_image,
)
from commerce_core.testing import (
    FakeImageDecoder,
    InMemoryImageStore,
    InMemoryShop,
    fake_image,
)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ADMIN = "usr_admin"


@pytest.fixture
def shop() -> InMemoryShop:
    shop = InMemoryShop.with_demo_product(stock=10)
    with shop.uow as uow:
        for role in Role:
            email = f"{role.value}@example.com"
            uow.users.add(User(f"usr_{role.value}", email, "X", "h", role, True, T0))
        uow.commit()
    return shop


def ports(shop: InMemoryShop) -> dict[str, Any]:
    return {"uow": shop.uow, "clock": shop.clock}


def mug(shop: InMemoryShop) -> Product:
    return shop.product(shop.product_id)


def audit(shop: InMemoryShop) -> list[tuple[str, str, str, dict[str, Any]]]:
    with shop.uow as uow:
        return [(e.actor, e.action, e.target, e.details) for e in uow.audit.all()]


def new_product(shop: InMemoryShop, slug: str = "teapot", **kwargs: Any) -> Product:
    command = CreateProduct(ADMIN, slug, "Teapot", Money(3500, "USD"), **kwargs)
    return create_product(command, **ports(shop))


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SUPPORT])
def test_only_catalog_write_may_change_the_catalogue_even_with_bad_input(
    shop: InMemoryShop, role: Role
) -> None:
    actor = f"usr_{role.value}"
    slug = mug(shop).slug
    before = mug(shop)
    calls = [
        lambda: create_product(CreateProduct(actor, "", "", Money(1, "USD")), **ports(shop)),
        lambda: edit_product(EditProduct(actor, slug, name=""), **ports(shop)),
        lambda: change_stock(ChangeStock(actor, slug, "", add=0), **ports(shop)),
        lambda: set_product_archived(SetProductArchived(actor, slug, True), **ports(shop)),
        lambda: list_staff_products(shop.uow, actor, PageRequest()),
        lambda: set_product_image(
            UploadProductImage(actor, slug, b"junk", ImageFormat.PNG),
            **ports(shop),
            decoder=FakeImageDecoder(),
            images=InMemoryImageStore(),
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert mug(shop) == before
    assert audit(shop) == []


def test_a_disabled_admin_may_change_nothing(shop: InMemoryShop) -> None:
    with shop.uow as uow:
        admin = uow.users.get(ADMIN)
        assert admin is not None
        admin.is_active = False
        uow.users.save(admin)
        uow.commit()
    with pytest.raises(PermissionDenied):
        new_product(shop)


def test_a_created_product_is_on_sale_and_audited(shop: InMemoryShop) -> None:
    product = new_product(shop, description="Glazed.", stock=4, weight_grams=900, ip="10.0.0.1")
    assert (product.slug, product.stock, product.weight_grams, product.archived) == (
        "teapot",
        4,
        900,
        False,
    )
    assert get_product(shop.uow, "teapot") == product
    [(actor, action, target, details)] = audit(shop)
    assert (actor, action, target) == (ADMIN, "product.create", f"product:{product.id}")
    assert details["price"] == {"amount": 3500, "currency": "USD"}


def test_a_taken_slug_or_a_bad_field_creates_nothing(shop: InMemoryShop) -> None:
    with pytest.raises(Conflict):
        new_product(shop, slug=mug(shop).slug)
    with pytest.raises(InvalidInput) as caught:
        create_product(CreateProduct(ADMIN, "ok", "", Money(0, "USD"), stock=-1), **ports(shop))
    assert {e.field for e in caught.value.errors} == {"name", "price", "stock"}
    with pytest.raises(InvalidInput):
        new_product(shop, slug="Not A Slug")
    assert list_staff_products(shop.uow, ADMIN, PageRequest()).total == 1
    assert audit(shop) == []


def test_an_edit_changes_the_fields_given_and_audits_before_and_after(
    shop: InMemoryShop,
) -> None:
    before = mug(shop)
    edited = edit_product(
        EditProduct(ADMIN, before.slug, name="Big mug", new_slug="big-mug", price=2500),
        **ports(shop),
    )
    assert (edited.name, edited.slug, edited.price) == ("Big mug", "big-mug", Money(2500, "USD"))
    assert edited.description == before.description
    assert edited.stock == before.stock
    [(_, action, _, details)] = audit(shop)
    assert action == "product.edit"
    assert details["changed"] == {
        "name": {"before": before.name, "after": "Big mug"},
        "slug": {"before": before.slug, "after": "big-mug"},
        "price": {
            "before": before.price.to_primitive(),
            "after": {"amount": 2500, "currency": "USD"},
        },
    }
    with pytest.raises(NotFound):
        get_product(shop.uow, before.slug)


def test_an_edit_that_changes_nothing_writes_nothing(shop: InMemoryShop) -> None:
    before = mug(shop)
    same = edit_product(EditProduct(ADMIN, before.slug, name=before.name), **ports(shop))
    assert same == before
    assert audit(shop) == []


def test_weight_is_kept_unless_given_and_null_clears_it(shop: InMemoryShop) -> None:
    slug = mug(shop).slug
    assert edit_product(EditProduct(ADMIN, slug, weight_grams=350), **ports(shop)).weight_grams
    assert edit_product(EditProduct(ADMIN, slug, name="Mug 2"), **ports(shop)).weight_grams == 350
    assert (
        edit_product(EditProduct(ADMIN, slug, weight_grams=None), **ports(shop)).weight_grams
        is None
    )


def test_an_edit_refuses_a_taken_slug_another_currency_and_bad_values(shop: InMemoryShop) -> None:
    new_product(shop)
    slug = mug(shop).slug
    before = mug(shop)
    with pytest.raises(Conflict):
        edit_product(EditProduct(ADMIN, slug, new_slug="teapot"), **ports(shop))
    with pytest.raises(InvalidInput) as caught:
        edit_product(EditProduct(ADMIN, slug, price=Money(100, "EUR")), **ports(shop))
    assert caught.value.errors[0].field == "price"
    for bad in (
        EditProduct(ADMIN, slug, price=0),
        EditProduct(ADMIN, slug, name=""),
        EditProduct(ADMIN, slug, new_slug="-x-"),
        EditProduct(ADMIN, slug, weight_grams=-1),
        EditProduct(ADMIN, slug, description="x" * 10_001),
    ):
        with pytest.raises(InvalidInput):
            edit_product(bad, **ports(shop))
    with pytest.raises(NotFound):
        edit_product(EditProduct(ADMIN, "no-such-thing", name="X"), **ports(shop))
    assert mug(shop) == before


def test_stock_is_set_or_moved_with_a_reason_and_audited(shop: InMemoryShop) -> None:
    slug = mug(shop).slug
    assert change_stock(ChangeStock(ADMIN, slug, "counted", set_to=7), **ports(shop)).stock == 7
    delivery = ChangeStock(ADMIN, slug, "delivery 42", add=5, ip="10.0.0.9")
    assert change_stock(delivery, **ports(shop)).stock == 12
    assert change_stock(ChangeStock(ADMIN, slug, "broken", add=-2), **ports(shop)).stock == 10
    entries = [(action, details) for _, action, _, details in audit(shop)]
    assert entries == [
        ("product.stock", {"sku": slug, "before": 10, "after": 7, "reason": "counted", "set": 7}),
        (
            "product.stock",
            {"sku": slug, "before": 7, "after": 12, "reason": "delivery 42", "add": 5},
        ),
        ("product.stock", {"sku": slug, "before": 12, "after": 10, "reason": "broken", "add": -2}),
    ]


def test_stock_never_goes_below_zero_and_a_refused_change_changes_nothing(
    shop: InMemoryShop,
) -> None:
    slug = mug(shop).slug
    with pytest.raises(OutOfStock):
        change_stock(ChangeStock(ADMIN, slug, "lost", add=-11), **ports(shop))
    for bad in (
        ChangeStock(ADMIN, slug, "", add=1),
        ChangeStock(ADMIN, slug, "   ", add=1),
        ChangeStock(ADMIN, slug, "both", add=1, set_to=1),
        ChangeStock(ADMIN, slug, "neither"),
        ChangeStock(ADMIN, slug, "zero", add=0),
        ChangeStock(ADMIN, slug, "negative", set_to=-1),
        ChangeStock(ADMIN, slug, "huge", set_to=10**9 + 1),
        ChangeStock(ADMIN, slug, "too many", add=10**9),
        ChangeStock(ADMIN, slug, "x" * 501, add=1),
    ):
        with pytest.raises(InvalidInput):
            change_stock(bad, **ports(shop))
    assert mug(shop).stock == 10
    assert audit(shop) == []


def test_an_archived_product_is_kept_for_staff_but_not_listed_shown_or_sold(
    shop: InMemoryShop,
) -> None:
    product = mug(shop)
    archived = set_product_archived(SetProductArchived(ADMIN, product.slug, True), **ports(shop))
    assert archived.archived
    assert list_products(shop.uow, PageRequest()).total == 0
    with pytest.raises(NotFound):
        get_product(shop.uow, product.slug)
    assert get_product_for_staff(shop.uow, ADMIN, product.slug).archived is True
    staff_page = list_staff_products(shop.uow, ADMIN, PageRequest())
    assert [(p.id, p.archived) for p in staff_page.items] == [(product.id, True)]
    with pytest.raises(InvalidInput) as caught:
        create_checkout_intent(
            CreateCheckoutIntent("usr_customer", (CartItem(product.id, 1),)), **shop.ports
        )
    assert "no longer sold" in caught.value.errors[0].message
    assert mug(shop).stock == 10

    set_product_archived(SetProductArchived(ADMIN, product.slug, False), **ports(shop))
    assert list_products(shop.uow, PageRequest()).total == 1
    assert get_product(shop.uow, product.slug).archived is False
    actions = [action for _, action, _, _ in audit(shop)]
    assert actions == ["product.archive", "product.unarchive"]


def test_archiving_twice_is_audited_once(shop: InMemoryShop) -> None:
    for _ in range(2):
        set_product_archived(SetProductArchived(ADMIN, mug(shop).slug, True), **ports(shop))
    assert [action for _, action, _, _ in audit(shop)] == ["product.archive"]


def upload(
    shop: InMemoryShop,
    data: bytes,
    images: InMemoryImageStore,
    image_format: ImageFormat = ImageFormat.PNG,
) -> Product:
    command = UploadProductImage(ADMIN, mug(shop).slug, data, image_format, ip="10.0.0.2")
    return set_product_image(command, **ports(shop), decoder=FakeImageDecoder(), images=images)


def test_an_image_is_cleaned_stored_under_its_hash_and_named_by_the_product(
    shop: InMemoryShop,
) -> None:
    images = InMemoryImageStore()
    product = upload(shop, fake_image(ImageFormat.PNG, metadata=b"GPS 52N"), images)
    [(key, stored)] = images.images.items()
    assert product.image_url == f"/media/{key}"
    assert key.endswith(".png")
    assert b"GPS" not in stored
    [(_, action, _, details)] = audit(shop)
    assert action == "product.image"
    assert details["after"] == product.image_url
    assert (details["width"], details["height"]) == (4, 3)


def test_the_same_image_twice_is_stored_once(shop: InMemoryShop) -> None:
    images = InMemoryImageStore()
    first = upload(shop, fake_image(ImageFormat.JPEG, metadata=b"one"), images, ImageFormat.JPEG)
    second = upload(shop, fake_image(ImageFormat.JPEG, metadata=b"two"), images, ImageFormat.JPEG)
    assert first.image_url == second.image_url
    assert len(images.images) == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"not an image", InvalidImage),
        (fake_image("gif"), UnsupportedImageFormat),
        (fake_image(ImageFormat.JPEG), UnsupportedImageFormat),  # sent as PNG
        (fake_image(ImageFormat.PNG, width=10_000, height=10_000), ImageTooLarge),
    ],
)
def test_a_refused_image_stores_nothing_and_changes_nothing(
    shop: InMemoryShop, data: bytes, error: type[InvalidImage]
) -> None:
    before = mug(shop)
    images = InMemoryImageStore()
    with pytest.raises(error):
        upload(shop, data, images)
    assert images.images == {}
    assert mug(shop) == before
    assert audit(shop) == []


def test_an_image_for_an_unknown_product_is_not_even_decoded(shop: InMemoryShop) -> None:
    decoder, images = FakeImageDecoder(), InMemoryImageStore()
    command = UploadProductImage(
        ADMIN, "nothing-here", fake_image(ImageFormat.PNG), ImageFormat.PNG
    )
    with pytest.raises(NotFound):
        set_product_image(command, **ports(shop), decoder=decoder, images=images)
    assert decoder.calls == 0
    assert images.puts == 0
