"""The category tree's pure rules (order, breadcrumb, sub-categories, no cycles, no orphans) and
typed attribute values (text, exact numbers, choices), hostile values included."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core import (
    MAX_CATEGORY_DEPTH,
    AttributeDefinition,
    AttributeKind,
    AttributeValue,
    Category,
    InvalidInput,
    category_path,
    category_tree,
    check_placement,
    descendant_ids,
    parse_attribute_values,
)

KITCHEN = Category("cat_k", "kitchen", "Kitchen", position=1)
HOME = Category("cat_h", "home", "Home", position=1)  # same position: by name
MUGS = Category("cat_m", "mugs", "Mugs", parent_id="cat_k", position=2)
CARAFES = Category("cat_c", "carafes", "Carafes", parent_id="cat_k", position=1)
ESPRESSO = Category("cat_e", "espresso-cups", "Espresso cups", parent_id="cat_m")
TREE = [MUGS, ESPRESSO, KITCHEN, CARAFES, HOME]

MATERIAL = AttributeDefinition(
    "material", "Material", AttributeKind.CHOICE, choices=("Stoneware", "Glass")
)
CAPACITY = AttributeDefinition("capacity", "Capacity", AttributeKind.NUMBER, unit="ml")
COLOUR = AttributeDefinition("colour", "Colour", AttributeKind.TEXT)


def fields(error: InvalidInput) -> set[str]:
    return {e.field for e in error.errors}


# -- the tree ------------------------------------------------------------------------------------


def test_the_tree_orders_siblings_by_position_then_name() -> None:
    tree = category_tree(TREE)
    assert [node.category.slug for node in tree] == ["home", "kitchen"]
    kitchen = tree[1]
    assert [node.category.slug for node in kitchen.children] == ["carafes", "mugs"]
    assert [node.category.slug for node in kitchen.children[1].children] == ["espresso-cups"]


def test_a_breadcrumb_runs_from_the_root_to_the_category() -> None:
    assert [c.slug for c in category_path(TREE, "cat_e")] == ["kitchen", "mugs", "espresso-cups"]
    assert category_path(TREE, "cat_h") == (HOME,)
    assert category_path(TREE, "cat_missing") == ()


def test_a_category_filter_takes_in_every_sub_category() -> None:
    assert descendant_ids(TREE, ["cat_k"]) == {"cat_k", "cat_m", "cat_c", "cat_e"}
    assert descendant_ids(TREE, ["cat_m", "cat_h"]) == {"cat_m", "cat_e", "cat_h"}
    assert descendant_ids(TREE, ["cat_missing"]) == frozenset()


def test_a_parent_must_exist() -> None:
    orphan = Category("cat_o", "orphan", "Orphan", parent_id="cat_missing")
    with pytest.raises(InvalidInput) as refused:
        check_placement(TREE, orphan)
    assert fields(refused.value) == {"parent"}


@pytest.mark.parametrize("new_parent", ["cat_m", "cat_e"])
def test_a_category_cannot_move_under_its_own_sub_categories(new_parent: str) -> None:
    moved = Category("cat_k", "kitchen", "Kitchen", parent_id=new_parent)
    with pytest.raises(InvalidInput) as refused:
        check_placement(TREE, moved)
    assert fields(refused.value) == {"parent"}


def test_a_category_cannot_be_its_own_parent() -> None:
    with pytest.raises(InvalidInput) as refused:
        Category("cat_k", "kitchen", "Kitchen", parent_id="cat_k")
    assert fields(refused.value) == {"parent"}


def test_a_category_may_move_elsewhere_and_to_the_top() -> None:
    check_placement(TREE, Category("cat_m", "mugs", "Mugs", parent_id="cat_h"))
    check_placement(TREE, Category("cat_m", "mugs", "Mugs"))


def test_the_tree_has_a_depth_limit() -> None:
    chain = [Category("cat_0", "level-0", "Level 0")]
    for level in range(1, MAX_CATEGORY_DEPTH):
        chain.append(Category(f"cat_{level}", f"level-{level}", "L", parent_id=f"cat_{level - 1}"))
    deepest = chain[-1].id
    with pytest.raises(InvalidInput):
        check_placement(chain, Category("cat_x", "too-deep", "Too deep", parent_id=deepest))
    # Moving a sub-tree under another counts its own levels too.
    lamps = Category("cat_l", "lamps", "Lamps", parent_id="cat_h")
    moved = Category("cat_1", "level-1", "L", parent_id="cat_l")  # with its 6 levels below
    with pytest.raises(InvalidInput):
        check_placement([*chain, HOME, lamps], moved)
    check_placement([*chain, HOME, lamps], Category("cat_1", "level-1", "L", parent_id="cat_h"))


def test_a_cycle_in_stored_data_does_not_hang_the_tree_rules() -> None:
    looped = [
        Category("cat_a", "a", "A", parent_id="cat_b"),
        Category("cat_b", "b", "B", parent_id="cat_a"),
    ]
    assert category_tree(looped) == ()  # no root: nothing shown
    assert len(category_path(looped, "cat_a")) <= MAX_CATEGORY_DEPTH + 1
    assert descendant_ids(looped, ["cat_a"]) == {"cat_a", "cat_b"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "Mugs"}, "slug"),
        ({"slug": "mugs\n"}, "slug"),
        ({"slug": "a" * 101}, "slug"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Mu\x00gs"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"description": "bad \x07 bell"}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"position": -1}, "position"),
        ({"position": True}, "position"),
        ({"position": 10**7}, "position"),
    ],
)
def test_a_category_refuses_bad_fields(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"id": "cat_m", "slug": "mugs", "name": "Mugs", **changes}
    with pytest.raises(InvalidInput) as refused:
        Category(**values)  # type: ignore[arg-type]
    assert field in fields(refused.value)


def test_a_description_may_have_line_breaks() -> None:
    assert Category("cat_m", "mugs", "Mugs", description="One.\nTwo.").description == "One.\nTwo."


# -- attributes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text", "scaled"),
    [
        (350, "350", 3_500_000),
        ("350", "350", 3_500_000),
        ("350.50", "350.5", 3_505_000),
        (" 0.25 ", "0.25", 2_500),
        ("-12", "-12", -120_000),
        ("-0", "0", 0),
        ("0.0001", "0.0001", 1),
        ("999999999999", "999999999999", 9_999_999_999_990_000),
    ],
)
def test_numbers_are_exact_and_canonical(raw: object, text: str, scaled: int) -> None:
    assert CAPACITY.parse(raw) == AttributeValue("capacity", text, scaled)


@pytest.mark.parametrize(
    "raw",
    [
        1.5,  # a float: never
        True,
        None,
        "0.00001",  # more than four decimals
        "1e3",
        "1,5",
        "١٢",  # Arabic-Indic digits
        "12 ml",
        "",
        "NaN",
        "Infinity",
        "1000000000000",
        10**12,
        -(10**12),
        "9" * 5000,
        [1],
        {"value": 1},
    ],
)
def test_a_number_refuses_anything_but_an_integer_or_a_decimal_string(raw: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        CAPACITY.parse(raw)
    assert fields(refused.value) == {"values.capacity"}


def test_a_choice_is_one_of_the_choices_in_any_case_stored_as_spelled() -> None:
    assert MATERIAL.parse("  glass ") == AttributeValue("material", "Glass")
    for raw in ("Oak", "", 1, "Glass\x00"):
        with pytest.raises(InvalidInput):
            MATERIAL.parse(raw)


@pytest.mark.parametrize(
    "raw", ["", "   ", "x" * 201, "a\x00b", "bell\x07", "line\nbreak", "\ud800", "\u202e", 12]
)
def test_text_is_bounded_and_printable(raw: object) -> None:
    with pytest.raises(InvalidInput):
        COLOUR.parse(raw)


@given(st.text(max_size=300))
def test_any_text_either_parses_to_printable_bounded_text_or_is_refused(raw: str) -> None:
    try:
        value = COLOUR.parse(raw)
    except InvalidInput:
        return
    assert 1 <= len(value.text) <= 200
    assert value.text.isprintable()


@given(st.integers(min_value=-(10**12) + 1, max_value=10**12 - 1), st.integers(0, 9999))
def test_a_decimal_string_round_trips_through_its_scaled_integer(whole: int, frac: int) -> None:
    raw = f"{whole}.{frac:04d}"
    value = CAPACITY.parse(raw)
    sign = -1 if raw.startswith("-") else 1
    assert value.scaled == whole * 10_000 + sign * frac
    assert CAPACITY.parse(value.text) == value


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "Material"}, "code"),
        ({"code": "material\n"}, "code"),
        ({"code": "1st"}, "code"),
        ({"code": "a" * 41}, "code"),
        ({"name": ""}, "name"),
        ({"kind": AttributeKind.CHOICE, "choices": ()}, "choices"),
        ({"kind": AttributeKind.CHOICE, "choices": ("Glass", "glass")}, "choices"),
        ({"kind": AttributeKind.CHOICE, "choices": ("ok", "")}, "choices[1]"),
        ({"choices": ("Glass",)}, "choices"),
        ({"unit": "ml"}, "unit"),  # a text attribute has no unit
    ],
)
def test_a_definition_refuses_bad_fields(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "code": "material",
        "name": "Material",
        "kind": AttributeKind.TEXT,
        **changes,
    }
    with pytest.raises(InvalidInput) as refused:
        AttributeDefinition(**values)  # type: ignore[arg-type]
    assert field in fields(refused.value)


def test_values_are_checked_together_and_unknown_codes_are_refused() -> None:
    definitions = {d.code: d for d in (MATERIAL, CAPACITY, COLOUR)}
    parsed = parse_attribute_values(definitions, {"material": "glass", "capacity": "1000"})
    assert parsed == {
        "material": AttributeValue("material", "Glass"),
        "capacity": AttributeValue("capacity", "1000", 10_000_000),
    }
    with pytest.raises(InvalidInput) as refused:
        parse_attribute_values(definitions, {"material": "oak", "capacity": 1.5, "size": "L"})
    assert fields(refused.value) == {"values.material", "values.capacity", "values.size"}


@pytest.mark.parametrize("slug", ["mug\n", "mug-", "-mug", "Mug", "mug--cup", "", "m" * 101])
def test_a_product_slug_is_lowercase_words_and_nothing_after_them(slug: str) -> None:
    from commerce_core import validate_slug

    with pytest.raises(InvalidInput):
        validate_slug(slug)
