"""The catalogue-structure use cases with in-memory fakes: staff calls check ``catalog:write``
themselves (before reading the input), audit what they changed and leave the shop as it was
when they refuse; the public reads give the tree, a breadcrumb and each product's details; the
seed adds only what is missing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commerce_core import (
    AssignProductCategories,
    AttributeDefinition,
    AttributeKind,
    CatalogSetup,
    Conflict,
    DeleteCategory,
    InvalidInput,
    NewCategory,
    NotFound,
    PermissionDenied,
    Role,
    SaveAttribute,
    SaveCategory,
    SetProductAttributes,
    User,
    assign_product_categories,
    catalog_details,
    configure_catalog,
    delete_category,
    get_category,
    get_category_tree,
    save_attribute,
    save_category,
    set_product_attributes,
)
from commerce_core.testing import FakeClock, InMemoryUnitOfWork, make_product

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
CLOCK = FakeClock(T0)


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    with uow:
        for role in Role:
            email = f"{role.value}@example.com"
            uow.users.add(User(f"usr_{role.value}", email, "X", "h", role, True, T0))
        uow.products.add(make_product(slug="mug", now=T0))
        uow.commit()
    return uow


def category(uow: InMemoryUnitOfWork, slug: str, parent: str | None = None, **more: object) -> None:
    save_category(
        SaveCategory("usr_admin", slug, slug.title(), parent=parent, **more),  # type: ignore[arg-type]
        uow=uow,
        clock=CLOCK,
    )


def audit_actions(uow: InMemoryUnitOfWork) -> list[str]:
    with uow:
        return [entry.action for entry in uow.audit.all()]


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.CUSTOMER])
def test_without_catalog_write_nothing_changes_and_input_is_not_even_read(
    uow: InMemoryUnitOfWork, role: Role
) -> None:
    actor = f"usr_{role.value}"
    calls = [
        lambda: save_category(SaveCategory(actor, "Bad Slug!", ""), uow=uow, clock=CLOCK),
        lambda: delete_category(DeleteCategory(actor, "nope"), uow=uow, clock=CLOCK),
        lambda: assign_product_categories(
            AssignProductCategories(actor, "mug", ("nope",)), uow=uow, clock=CLOCK
        ),
        lambda: save_attribute(SaveAttribute(actor, "X", "", "nope"), uow=uow, clock=CLOCK),
        lambda: set_product_attributes(
            SetProductAttributes(actor, "mug", {"x": 1.5}), uow=uow, clock=CLOCK
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert audit_actions(uow) == []
    assert get_category_tree(uow) == ()


def test_staff_build_the_tree_and_shoppers_read_it(uow: InMemoryUnitOfWork) -> None:
    category(uow, "kitchen")
    category(uow, "mugs", "kitchen", position=2)
    category(uow, "carafes", "kitchen", position=1)
    tree = get_category_tree(uow)
    assert [node.category.slug for node in tree[0].children] == ["carafes", "mugs"]
    detail = get_category(uow, "mugs")
    assert [c.slug for c in detail.path] == ["kitchen", "mugs"]
    with pytest.raises(NotFound):
        get_category(uow, "nope")
    assert audit_actions(uow) == ["catalog.category_saved"] * 3


def test_a_refused_move_changes_nothing(uow: InMemoryUnitOfWork) -> None:
    category(uow, "kitchen")
    category(uow, "mugs", "kitchen")
    with pytest.raises(InvalidInput) as refused:
        category(uow, "kitchen", "mugs")
    assert {e.field for e in refused.value.errors} == {"parent"}
    assert get_category(uow, "kitchen").path[0].parent_id is None
    with pytest.raises(Conflict):
        delete_category(DeleteCategory("usr_admin", "kitchen"), uow=uow, clock=CLOCK)
    assert audit_actions(uow) == ["catalog.category_saved"] * 2


def test_a_product_shows_its_categories_in_tree_order_and_its_values(
    uow: InMemoryUnitOfWork,
) -> None:
    category(uow, "kitchen")
    category(uow, "mugs", "kitchen")
    save_attribute(
        SaveAttribute("usr_admin", "capacity", "Capacity", "number", unit="ml"),
        uow=uow,
        clock=CLOCK,
    )
    assigned = assign_product_categories(
        AssignProductCategories("usr_admin", "mug", ("mugs", "kitchen")), uow=uow, clock=CLOCK
    )
    assert [c.slug for c in assigned.details.categories] == ["kitchen", "mugs"]
    set_product_attributes(
        SetProductAttributes("usr_admin", "mug", {"capacity": "350.0"}), uow=uow, clock=CLOCK
    )
    details = catalog_details(uow, [assigned.product.id, "prod_unknown"])
    assert details["prod_unknown"].categories == ()
    assert details[assigned.product.id].to_primitive() == {
        "categories": [{"slug": "kitchen", "name": "Kitchen"}, {"slug": "mugs", "name": "Mugs"}],
        "attributes": {"capacity": {"name": "Capacity", "value": "350", "unit": "ml"}},
    }
    assert audit_actions(uow)[-2:] == [
        "catalog.product_categories_set",
        "catalog.product_attributes_set",
    ]


def test_seeding_the_catalogue_twice_adds_nothing_twice(uow: InMemoryUnitOfWork) -> None:
    setup = CatalogSetup(
        categories=(NewCategory("kitchen", "Kitchen"), NewCategory("mugs", "Mugs", "kitchen")),
        attributes=(AttributeDefinition("material", "Material", AttributeKind.CHOICE, ("Glass",)),),
        product_categories={"mug": ("mugs",)},
        product_attributes={"mug": {"material": "glass"}},
    )
    first = configure_catalog(uow, setup)
    assert (first.categories, first.attributes, first.products) == (2, 1, 1)
    again = configure_catalog(uow, setup)
    assert (again.categories, again.attributes, again.products) == (0, 0, 0)
    with pytest.raises(InvalidInput):
        configure_catalog(uow, CatalogSetup(product_categories={"nope": ("mugs",)}))
