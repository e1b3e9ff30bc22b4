"""``CategoryContract``: the category tree and products' memberships every ``UnitOfWork`` hands
out (``uow.categories``); ``AttributeContract``: attribute definitions and products' values
(``uow.attributes``).

Mixed into ``UnitOfWorkContract``; their fixture is the same ``new_uow``.
"""

from __future__ import annotations

from collections.abc import Callable

from commerce_core.domain.attributes import AttributeDefinition, AttributeKind, AttributeValue
from commerce_core.domain.catalog import Product
from commerce_core.domain.categories import Category
from commerce_core.errors import Conflict
from commerce_core.ports import UnitOfWork
from commerce_core.testing.contracts._support import T0
from commerce_core.testing.contracts._support import raises as _raises
from commerce_core.testing.shop import make_product

__all__ = ["AttributeContract", "CategoryContract"]

NewUow = Callable[[], UnitOfWork]

KITCHEN = Category("cat_kitchen", "kitchen", "Kitchen", position=1)
HOME = Category("cat_home", "home", "Home", position=2, description="Things for the house.")
MUGS = Category("cat_mugs", "mugs", "Mugs", parent_id="cat_kitchen")
CARAFES = Category("cat_carafes", "carafes", "Carafes & jugs", parent_id="cat_kitchen")

MATERIAL = AttributeDefinition(
    "material", "Material", AttributeKind.CHOICE, choices=("Stoneware", "Glass", "Brass")
)
CAPACITY = AttributeDefinition("capacity", "Capacity", AttributeKind.NUMBER, unit="ml")
COLOUR = AttributeDefinition("colour", "Colour", AttributeKind.TEXT, filterable=False)


def _products(new_uow: NewUow, count: int) -> list[Product]:
    made = [make_product(now=T0) for _ in range(count)]
    with new_uow() as uow:
        for product in made:
            uow.products.add(product)
        uow.commit()
    return made


def _tree(new_uow: NewUow) -> None:
    with new_uow() as uow:
        for category in (KITCHEN, HOME, MUGS, CARAFES):
            uow.categories.save(category)
        uow.commit()


class CategoryContract:
    def test_categories_are_saved_and_listed_by_position_then_name(self, new_uow: NewUow) -> None:
        _tree(new_uow)
        with new_uow() as uow:
            assert uow.categories.all() == [CARAFES, MUGS, KITCHEN, HOME]
            assert uow.categories.get_by_slug("mugs") == MUGS
            assert uow.categories.get_by_slug("cups") is None

    def test_a_category_saved_again_is_edited_and_may_move(self, new_uow: NewUow) -> None:
        _tree(new_uow)
        moved = Category("cat_mugs", "cups", "Cups", parent_id="cat_home", position=3)
        with new_uow() as uow:
            uow.categories.save(moved)
            uow.commit()
        with new_uow() as uow:
            assert uow.categories.get_by_slug("mugs") is None
            assert uow.categories.get_by_slug("cups") == moved
            assert len(uow.categories.all()) == 4

    def test_a_slug_is_one_categorys_and_a_parent_must_exist(self, new_uow: NewUow) -> None:
        _tree(new_uow)
        with new_uow() as uow:
            _raises(Conflict, lambda: uow.categories.save(Category("cat_other", "mugs", "Mugs")))
            orphan = Category("cat_orphan", "orphan", "Orphan", parent_id="cat_missing")
            _raises(Conflict, lambda: uow.categories.save(orphan))
            # The transaction goes on after a refused save.
            uow.categories.save(Category("cat_lamps", "lamps", "Lamps", parent_id="cat_home"))
            uow.commit()
        with new_uow() as uow:
            assert [c.slug for c in uow.categories.all()].count("mugs") == 1
            assert uow.categories.get_by_slug("orphan") is None
            assert uow.categories.get_by_slug("lamps") is not None

    def test_products_are_put_in_categories_and_found_by_them(self, new_uow: NewUow) -> None:
        _tree(new_uow)
        mug, carafe, lamp = _products(new_uow, 3)
        with new_uow() as uow:
            uow.categories.set_product_categories(mug.id, ["cat_mugs", "cat_kitchen"])
            uow.categories.set_product_categories(carafe.id, ["cat_carafes"])
            uow.commit()
        with new_uow() as uow:
            assert uow.categories.categories_of([mug.id, carafe.id, lamp.id, "prod_x"]) == {
                mug.id: ["cat_kitchen", "cat_mugs"],
                carafe.id: ["cat_carafes"],
            }
            assert uow.categories.product_ids_in(["cat_mugs", "cat_carafes"]) == {
                mug.id,
                carafe.id,
            }
            assert uow.categories.product_ids_in(["cat_kitchen"]) == {mug.id}
            assert uow.categories.product_ids_in([]) == set()
            # Replaced, not added to; and emptied.
            uow.categories.set_product_categories(mug.id, ["cat_home"])
            uow.categories.set_product_categories(carafe.id, [])
            uow.commit()
        with new_uow() as uow:
            assert uow.categories.categories_of([mug.id, carafe.id]) == {mug.id: ["cat_home"]}

    def test_an_unknown_category_or_product_is_a_conflict(self, new_uow: NewUow) -> None:
        _tree(new_uow)
        (mug,) = _products(new_uow, 1)
        with new_uow() as uow:
            uow.categories.set_product_categories(mug.id, ["cat_mugs"])
            uow.commit()
        with new_uow() as uow:
            _raises(
                Conflict,
                lambda: uow.categories.set_product_categories(mug.id, ["cat_mugs", "cat_nope"]),
            )
            _raises(
                Conflict, lambda: uow.categories.set_product_categories("prod_nope", ["cat_mugs"])
            )
        with new_uow() as uow:
            assert uow.categories.categories_of([mug.id]) == {mug.id: ["cat_mugs"]}

    def test_a_category_with_children_is_not_deleted(self, new_uow: NewUow) -> None:
        _tree(new_uow)
        (mug,) = _products(new_uow, 1)
        with new_uow() as uow:
            uow.categories.set_product_categories(mug.id, ["cat_mugs", "cat_home"])
            uow.commit()
        with new_uow() as uow:
            _raises(Conflict, lambda: uow.categories.delete("cat_kitchen"))
            assert uow.categories.delete("cat_mugs") is True
            assert uow.categories.delete("cat_mugs") is False
            assert uow.categories.delete("cat_nope") is False
            uow.commit()
        with new_uow() as uow:
            assert uow.categories.categories_of([mug.id]) == {mug.id: ["cat_home"]}
            assert uow.categories.delete("cat_carafes") is True
            assert uow.categories.delete("cat_kitchen") is True
            uow.commit()
        with new_uow() as uow:
            assert uow.categories.all() == [HOME]

    def test_category_changes_not_committed_are_rolled_back(self, new_uow: NewUow) -> None:
        _tree(new_uow)
        (mug,) = _products(new_uow, 1)
        with new_uow() as uow:
            uow.categories.save(Category("cat_lamps", "lamps", "Lamps"))
            uow.categories.set_product_categories(mug.id, ["cat_mugs"])
            uow.categories.delete("cat_carafes")
        with new_uow() as uow:
            assert uow.categories.all() == [CARAFES, MUGS, KITCHEN, HOME]
            assert uow.categories.categories_of([mug.id]) == {}


class AttributeContract:
    def test_definitions_are_saved_replaced_and_listed_by_code(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            for definition in (MATERIAL, COLOUR, CAPACITY):
                uow.attributes.save_definition(definition)
            uow.commit()
        renamed = AttributeDefinition(
            "material", "Made of", AttributeKind.CHOICE, choices=("Glass", "Stoneware", "Oak")
        )
        with new_uow() as uow:
            assert uow.attributes.definitions() == [CAPACITY, COLOUR, MATERIAL]
            uow.attributes.save_definition(renamed)
            uow.commit()
        with new_uow() as uow:
            assert uow.attributes.definitions() == [CAPACITY, COLOUR, renamed]

    def test_values_are_set_replaced_and_read_per_product(self, new_uow: NewUow) -> None:
        mug, carafe, lamp = _products(new_uow, 3)
        mug_values = {
            "material": MATERIAL.parse("stoneware"),
            "capacity": CAPACITY.parse("350.25"),
            "colour": COLOUR.parse("Speckled blue"),
        }
        with new_uow() as uow:
            for definition in (MATERIAL, CAPACITY, COLOUR):
                uow.attributes.save_definition(definition)
            uow.attributes.set_values(mug.id, mug_values)
            uow.attributes.set_values(carafe.id, {"material": MATERIAL.parse("Glass")})
            uow.commit()
        with new_uow() as uow:
            assert uow.attributes.values_of([mug.id, carafe.id, lamp.id]) == {
                mug.id: mug_values,
                carafe.id: {"material": AttributeValue("material", "Glass")},
            }
            assert uow.attributes.values_of([mug.id])[mug.id]["capacity"] == AttributeValue(
                "capacity", "350.25", 3_502_500
            )
            uow.attributes.set_values(mug.id, {"capacity": CAPACITY.parse(-12)})
            uow.attributes.set_values(carafe.id, {})
            uow.commit()
        with new_uow() as uow:
            assert uow.attributes.values_of([mug.id, carafe.id]) == {
                mug.id: {"capacity": AttributeValue("capacity", "-12", -120_000)}
            }

    def test_value_counts_count_products_per_value(self, new_uow: NewUow) -> None:
        products = _products(new_uow, 3)
        with new_uow() as uow:
            uow.attributes.save_definition(MATERIAL)
            for product, material in zip(products, ("Glass", "Glass", "Brass"), strict=True):
                uow.attributes.set_values(product.id, {"material": MATERIAL.parse(material)})
            uow.commit()
        with new_uow() as uow:
            assert uow.attributes.value_counts("material") == {"Glass": 2, "Brass": 1}
            assert uow.attributes.value_counts("capacity") == {}

    def test_an_unknown_attribute_or_product_is_a_conflict(self, new_uow: NewUow) -> None:
        (mug,) = _products(new_uow, 1)
        with new_uow() as uow:
            uow.attributes.save_definition(MATERIAL)
            uow.attributes.set_values(mug.id, {"material": MATERIAL.parse("Glass")})
            uow.commit()
        with new_uow() as uow:
            stray = {"size": AttributeValue("size", "L")}
            _raises(Conflict, lambda: uow.attributes.set_values(mug.id, stray))
            glass = {"material": MATERIAL.parse("Glass")}
            _raises(Conflict, lambda: uow.attributes.set_values("prod_nope", glass))
        with new_uow() as uow:
            assert uow.attributes.values_of([mug.id]) == {
                mug.id: {"material": AttributeValue("material", "Glass")}
            }

    def test_deleting_a_definition_deletes_its_values_and_only_them(self, new_uow: NewUow) -> None:
        (mug,) = _products(new_uow, 1)
        with new_uow() as uow:
            uow.attributes.save_definition(MATERIAL)
            uow.attributes.save_definition(CAPACITY)
            uow.attributes.set_values(
                mug.id, {"material": MATERIAL.parse("Glass"), "capacity": CAPACITY.parse(1000)}
            )
            uow.commit()
        with new_uow() as uow:
            assert uow.attributes.delete_definition("material") is True
            assert uow.attributes.delete_definition("material") is False
            assert uow.attributes.delete_definition("nope") is False
            uow.commit()
        with new_uow() as uow:
            assert uow.attributes.definitions() == [CAPACITY]
            assert uow.attributes.values_of([mug.id]) == {
                mug.id: {"capacity": CAPACITY.parse(1000)}
            }
            # The code is free again, and its old values do not come back with it.
            uow.attributes.save_definition(MATERIAL)
            uow.commit()
        with new_uow() as uow:
            assert set(uow.attributes.values_of([mug.id])[mug.id]) == {"capacity"}

    def test_attribute_changes_not_committed_are_rolled_back(self, new_uow: NewUow) -> None:
        (mug,) = _products(new_uow, 1)
        with new_uow() as uow:
            uow.attributes.save_definition(MATERIAL)
            uow.commit()
        with new_uow() as uow:
            uow.attributes.save_definition(CAPACITY)
            uow.attributes.set_values(mug.id, {"material": MATERIAL.parse("Brass")})
            uow.attributes.delete_definition("material")
        with new_uow() as uow:
            assert uow.attributes.definitions() == [MATERIAL]
            assert uow.attributes.values_of([mug.id]) == {}
