"""The catalogue as CSV, with in-memory fakes: an import creates and updates by SKU, all or
nothing, reports every problem as ``row <n>.<column>``, writes nothing (not even an audit entry)
for rows that state what is stored, and an export imports back unchanged - formula-looking text
included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from commerce_core import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    CatalogImportReport,
    CreateProduct,
    ImportCatalogCsv,
    InvalidInput,
    Money,
    NewVariant,
    PermissionDenied,
    Product,
    Role,
    User,
    catalog_actor_id,
    create_product,
    export_catalog_csv,
    import_catalog_csv,
)
from commerce_core.testing import InMemoryShop

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ADMIN = "usr_admin"
HEADER = "sku,product_slug,product_name,description,price,currency,stock,weight_grams"
TEES = (
    "sku,product_slug,product_name,price,currency,stock,option:size,option:colour\n"
    "TEE-S-RED,tee,T-shirt,1500,USD,3,S,red\n"
    "TEE-M-RED,tee,T-shirt,1600,USD,,M,red\n"
    "MUG-1,mug,Mug,900,USD,2,,\n"
)


@pytest.fixture
def shop() -> InMemoryShop:
    shop = InMemoryShop()
    with shop.uow as uow:
        for role in Role:
            email = f"{role.value}@example.com"
            uow.users.add(User(f"usr_{role.value}", email, "X", "h", role, True, T0))
        uow.commit()
    return shop


def run(
    shop: InMemoryShop, text: str | bytes, *, dry_run: bool = False, actor: str = ADMIN
) -> CatalogImportReport:
    data = text.encode() if isinstance(text, str) else text
    shop.clock.advance(timedelta(minutes=1))
    return import_catalog_csv(
        ImportCatalogCsv(actor, data, dry_run=dry_run, ip="203.0.113.9"),
        uow=shop.uow,
        clock=shop.clock,
    )


def refused(shop: InMemoryShop, text: str | bytes) -> dict[str, str]:
    """The problems of a refused import, field -> message; asserts nothing was written."""
    commits = shop.store.commits
    with pytest.raises(InvalidInput) as refusal:
        run(shop, text)
    assert shop.store.commits == commits
    return {error.field: error.message for error in refusal.value.errors}


def product(shop: InMemoryShop, slug: str) -> Product:
    with shop.uow as uow:
        found = uow.products.get_by_slug(slug)
    assert found is not None, slug
    return found


def audit(shop: InMemoryShop) -> list[tuple[str, str, dict[str, Any]]]:
    with shop.uow as uow:
        return [(e.action, e.target, e.details) for e in uow.audit.all()]


def export(shop: InMemoryShop) -> str:
    return export_catalog_csv(shop.uow, ADMIN)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_an_import_creates_products_with_their_variants_and_audits_each(
    shop: InMemoryShop,
) -> None:
    report = run(shop, TEES)

    assert (report.products_created, report.products_updated) == (2, 0)
    assert (report.variants_created, report.variants_updated, report.unchanged) == (3, 0, 0)
    assert report.rows == (
        (2, "TEE-S-RED", "created"),
        (3, "TEE-M-RED", "created"),
        (4, "MUG-1", "created"),
    )
    assert report.to_primitive()["rows"][0] == {"line": 2, "sku": "TEE-S-RED", "action": "created"}
    tee = product(shop, "tee")
    assert tee.option_names == ("size", "colour")
    assert [(v.sku, v.options, v.price, v.stock) for v in tee.variants] == [
        ("TEE-S-RED", (("size", "S"), ("colour", "red")), Money(1500, "USD"), 3),
        ("TEE-M-RED", (("size", "M"), ("colour", "red")), Money(1600, "USD"), 0),
    ]
    mug = product(shop, "mug")
    assert mug.default_variant is not None
    assert mug.default_variant.sku == "MUG-1"
    entries = audit(shop)
    assert [(action, target) for action, target, _ in entries] == [
        ("catalog.import", f"product:{tee.id}"),
        ("catalog.import", f"product:{mug.id}"),
    ]
    details = entries[0][2]
    assert details["product"] == "created"
    assert details["created"] == ["TEE-S-RED", "TEE-M-RED"]
    assert details["stock"] == [
        {"sku": "TEE-S-RED", "before": 0, "after": 3, "reason": "catalog import"}
    ]


def test_an_import_updates_by_sku_and_an_empty_stock_cell_keeps_the_stock(
    shop: InMemoryShop,
) -> None:
    run(shop, TEES)
    report = run(
        shop,
        "sku,product_slug,product_name,price,currency,stock,option:size,option:colour\n"
        "TEE-S-RED,tee,Tee,1500,USD,,S,red\n"  # the product renamed; the variant as it is
        "TEE-M-RED,tee,Tee,1700,USD,8,M,red\n"
        "TEE-L-RED,tee,Tee,1700,USD,1,L,red\n"
        "MUG-1,mug,Mug,900,USD,,,\n",
    )

    assert report.rows == (
        (2, "TEE-S-RED", "updated"),
        (3, "TEE-M-RED", "updated"),
        (4, "TEE-L-RED", "created"),
        (5, "MUG-1", "unchanged"),
    )
    assert (report.products_created, report.products_updated) == (0, 1)
    assert (report.variants_created, report.variants_updated, report.unchanged) == (1, 2, 1)
    tee = product(shop, "tee")
    assert tee.name == "Tee"
    assert [(v.sku, v.price.amount, v.stock) for v in tee.variants] == [
        ("TEE-S-RED", 1500, 3),
        ("TEE-M-RED", 1700, 8),
        ("TEE-L-RED", 1700, 1),
    ]
    assert product(shop, "mug").stock == 2
    (_, _, details) = audit(shop)[-1]
    assert details["product"] == "updated"
    assert details["changed"] == {"name": {"before": "T-shirt", "after": "Tee"}}
    assert details["created"] == ["TEE-L-RED"]
    assert details["updated"] == {
        "TEE-M-RED": {
            "price": {"before": 1600, "after": 1700},
            "stock": {"before": 0, "after": 8},
        }
    }
    assert details["stock"] == [
        {"sku": "TEE-M-RED", "before": 0, "after": 8, "reason": "catalog import"},
        {"sku": "TEE-L-RED", "before": 0, "after": 1, "reason": "catalog import"},
    ]
    assert len(audit(shop)) == 3  # the two creations, and this one product changed


def test_the_same_file_twice_changes_nothing_the_second_time(shop: InMemoryShop) -> None:
    run(shop, TEES)
    before = (shop.store.commits, audit(shop), product(shop, "tee"))

    again = run(shop, TEES)

    assert again.rows == (
        (2, "TEE-S-RED", "unchanged"),
        (3, "TEE-M-RED", "unchanged"),
        (4, "MUG-1", "unchanged"),
    )
    assert (again.products_created, again.products_updated, again.unchanged) == (0, 0, 3)
    assert (shop.store.commits, audit(shop), product(shop, "tee")) == before


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(shop: InMemoryShop) -> None:
    dry = run(shop, TEES, dry_run=True)

    assert dry.dry_run is True
    assert shop.store.commits == 1  # the users of the fixture
    assert export(shop).count("\n") == 1  # the header: no product
    assert audit(shop) == []
    real = run(shop, TEES)
    assert attrs.evolve(dry, dry_run=False) == real


def test_any_problem_refuses_the_whole_file_naming_every_row_and_column(
    shop: InMemoryShop,
) -> None:
    run(shop, TEES)
    tee_before = product(shop, "tee")

    problems = refused(
        shop,
        "sku,product_slug,product_name,price,currency,stock,weight_grams,option:size,option:colour\n"
        "TEE-S-RED,tee,T-shirt,1400,USD,4,,S,red\n"  # fine on its own: not applied either
        "TEE-M-RED,tee,T-shirt,15.00,USD,-1,2000000,M,red\n"
        "NEW 1,new-thing,New,100,USD,,,,\n"
        "NEW-2,Not A Slug,,100,XXX,,,,\n"
        "TEE-S-RED,tee,T-shirt,1400,USD,4,,S,red\n",
    )

    assert problems == {
        "row 3.price": "must be a whole number from 1 to 10000000000",
        "row 3.stock": "must be a whole number from 0 to 1000000000",
        "row 3.weight_grams": "must be a whole number from 0 to 1000000",
        "row 4.sku": problems["row 4.sku"],
        "row 5.product_slug": "must be lowercase letters, digits and single dashes",
        "row 5.product_name": "is required",
        "row 5.currency": "must be an ISO 4217 currency code the shop knows, e.g. USD",
        "row 6.sku": "repeats the SKU of row 2",
    }
    assert problems["row 4.sku"].startswith("must be 1 to 64 letters")
    assert product(shop, "tee") == tee_before
    assert len(audit(shop)) == 2


def test_the_refusal_lists_problems_in_row_order_with_a_short_detail(
    shop: InMemoryShop,
) -> None:
    with pytest.raises(InvalidInput) as refusal:
        run(shop, "sku,product_slug,product_name,price,currency\nA,a,A,0,USD\nB,b,B,x,USD\n")
    assert refusal.value.detail == "2 problems in the file; nothing was imported"
    assert [e.field for e in refusal.value.errors] == ["row 2.price", "row 3.price"]


def test_an_export_imports_back_unchanged(shop: InMemoryShop) -> None:
    create_product(
        CreateProduct(
            ADMIN,
            "linen-shirt",
            'Linen shirt, "classic"',
            Money(4500, "EUR"),
            description="Washed linen.\nRelaxed fit; runs large.",
            option_names=("colour", "size"),
            variants=(
                NewVariant("SHIRT-W-M", {"colour": "white", "size": "M"}, 4500, 2, 300),
                NewVariant("SHIRT-B-L", {"colour": "blue", "size": "L"}, 4700, 0, None),
            ),
        ),
        uow=shop.uow,
        clock=shop.clock,
    )
    run(shop, TEES)  # (size, colour): the other order
    run(
        shop,
        "sku,product_slug,product_name,price,currency,product_archived\nOLD,old,Old,5,USD,true\n",
    )
    exported = export(shop)
    commits = shop.store.commits

    report = run(shop, exported)

    assert (report.unchanged, report.variants_created, report.variants_updated) == (6, 0, 0)
    assert shop.store.commits == commits
    assert export(shop) == exported
    header = exported.splitlines()[0].split(",")
    assert header[11:] == ["option:colour", "option:size"]  # by first appearance, by slug
    rows = rows_of(exported)
    assert [r["sku"] for r in rows] == [
        "SHIRT-W-M",
        "SHIRT-B-L",
        "MUG-1",
        "OLD",
        "TEE-S-RED",
        "TEE-M-RED",
    ]
    assert [rows[0]["weight_grams"], rows[1]["weight_grams"]] == ["300", ""]
    assert [rows[3]["product_archived"], rows[3]["archived"]] == ["true", "false"]
    assert [rows[2]["option:size"], rows[4]["option:size"]] == ["", "S"]
    assert product(shop, "tee").option_names == ("size", "colour")


def test_formula_like_text_is_exported_quoted_and_imported_back_as_it_was(
    shop: InMemoryShop,
) -> None:
    texts = [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-minus", "'-minus"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("'=quoted", "''=quoted"),  # a quote before a formula: one more keeps it
        ("'plain", "'plain"),  # no formula after it: as it is
    ]
    descriptions = [("\tTabbed", "'\tTabbed"), ("\rReturned", "'\rReturned")]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "product_slug", "product_name", "description", "price", "currency"])
    # As safely written by hand: each such cell after a quote.
    for i, (_, cell) in enumerate(texts):
        writer.writerow([f"F-{i}", f"f-{i}", cell, "", "100", "USD"])
    for i, (_, cell) in enumerate(descriptions):
        writer.writerow([f"D-{i}", f"d-{i}", "Plain", cell, "100", "USD"])
    run(shop, out.getvalue())
    assert [product(shop, f"f-{i}").name for i in range(len(texts))] == [t for t, _ in texts]
    assert [product(shop, f"d-{i}").description for i in range(2)] == [t for t, _ in descriptions]

    exported = export(shop)

    rows = {row["sku"]: row for row in rows_of(exported)}
    assert [rows[f"F-{i}"]["product_name"] for i in range(len(texts))] == [c for _, c in texts]
    assert [rows[f"D-{i}"]["description"] for i in range(2)] == [c for _, c in descriptions]
    assert run(shop, exported).unchanged == len(texts) + len(descriptions)


def test_a_utf8_byte_order_mark_is_accepted(shop: InMemoryShop) -> None:
    report = run(
        shop, "\ufeffsku,product_slug,product_name,price,currency\nCAFE-1,cafe,Café,350,EUR\n"
    )
    assert report.variants_created == 1
    assert product(shop, "cafe").name == "Café"


def test_a_new_variant_joins_a_product_with_the_same_options(shop: InMemoryShop) -> None:
    run(shop, TEES)
    report = run(
        shop,
        # Columns in another order than the product's options: the same option names.
        "sku,product_slug,product_name,price,currency,option:colour,option:size\n"
        "TEE-S-BLUE,tee,T-shirt,1500,USD,blue,S\n",
    )
    assert report.rows == ((2, "TEE-S-BLUE", "created"),)
    assert product(shop, "tee").variants[-1].options == (("size", "S"), ("colour", "blue"))


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            "sku,product_slug,product_name,price,currency,colour\n",
            "row 1.colour",
            "is not a column of the catalogue",
        ),
        ("sku,product_slug,product_name,price\n", "row 1.currency", "is a required column"),
        ("sku,sku,product_slug,product_name,price,currency\n", "row 1.sku", "appears twice"),
        ("", "file", "is empty"),
        ('sku,product_slug,product_name,price,currency\n"A,a\n', "row 2", "is not valid CSV"),
        (
            "sku,product_slug,product_name,price,currency\nA,a,A,1,USD,extra\n",
            "row 2",
            "has 6 cells, but the header names 5 columns",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(
    shop: InMemoryShop, text: str, field: str, message: str
) -> None:
    problems = refused(shop, text)
    assert problems[field].startswith(message), problems


def test_only_utf8_text_is_read(shop: InMemoryShop) -> None:
    latin1 = "sku,product_slug,product_name,price,currency\nC-1,cafe,Café,350,EUR\n".encode(
        "latin-1"
    )
    assert refused(shop, latin1)["file"].startswith("must be UTF-8 (byte")
    utf16 = "sku,product_slug,product_name,price,currency\n".encode("utf-16")
    assert "NUL bytes" in refused(shop, utf16)["file"]


def test_size_and_row_count_are_bounded(shop: InMemoryShop) -> None:
    header = "sku,product_slug,product_name,price,currency\n"
    too_big = header + "x" * MAX_IMPORT_BYTES
    assert refused(shop, too_big)["file"].startswith(f"must be at most {MAX_IMPORT_BYTES} bytes")
    too_many = header + "".join(f"S-{i},s-{i},S,1,USD\n" for i in range(MAX_IMPORT_ROWS + 1))
    assert refused(shop, too_many)["file"] == (
        f"has more than {MAX_IMPORT_ROWS} rows: split it into several files"
    )


def test_a_sku_never_moves_to_another_product(shop: InMemoryShop) -> None:
    run(shop, TEES)
    problems = refused(
        shop,
        "sku,product_slug,product_name,price,currency\n"
        "MUG-1,cup,Cup,900,USD\n",  # a new product, but MUG-1 is the mug's
    )
    assert problems == {
        "row 2.sku": "belongs to product 'mug', not 'cup': a SKU never moves to another product"
    }


def test_a_variant_is_priced_in_its_products_currency(shop: InMemoryShop) -> None:
    run(shop, TEES)
    problems = refused(
        shop,
        "sku,product_slug,product_name,price,currency\nMUG-1,mug,Mug,900,EUR\n",
    )
    assert problems == {"row 2.currency": "must be the product's currency, USD"}
    mixed = refused(
        shop,
        "sku,product_slug,product_name,price,currency,option:size\n"
        "J-1,jug,Jug,900,USD,S\nJ-2,jug,Jug,900,EUR,M\n",
    )
    assert mixed == {"row 3.currency": "differs from row 2: a product has one currency"}


def test_an_import_does_not_change_a_products_option_names(shop: InMemoryShop) -> None:
    run(shop, TEES)
    problems = refused(
        shop,
        "sku,product_slug,product_name,price,currency,option:size,option:fit\n"
        "TEE-S-RED,tee,T-shirt,1500,USD,S,slim\n",
    )
    assert problems == {
        "row 2.option:fit": "is not an option of product 'tee' (its options: size, colour); "
        "an import does not change a product's option names",
        "row 2.option:colour": "is a required column: product 'tee' has this option",
    }
    second = refused(
        shop,
        "sku,product_slug,product_name,price,currency,option:size\nMUG-2,mug,Mug,900,USD,L\n",
    )
    assert second == {
        "row 2.option:size": "is not an option of product 'mug' (its options: none); "
        "an import does not change a product's option names"
    }


def test_a_product_without_options_keeps_its_one_variant(shop: InMemoryShop) -> None:
    run(shop, TEES)
    assert refused(
        shop, "sku,product_slug,product_name,price,currency\nMUG-2,mug,Mug,900,USD\n"
    ) == {
        "row 2.sku": "product 'mug' has no options, so it has exactly one variant ('MUG-1'): "
        "a second cannot be added"
    }
    problems = refused(
        shop, "sku,product_slug,product_name,price,currency\nP-1,pan,Pan,1,USD\nP-2,pan,Pan,1,USD\n"
    )
    assert problems["row 3.sku"].startswith("product 'pan' has no options")


def test_the_rows_of_a_product_agree_and_each_variant_has_its_own_options(
    shop: InMemoryShop,
) -> None:
    problems = refused(
        shop,
        "sku,product_slug,product_name,price,currency,option:size,option:colour\n"
        "J-1,jug,Jug,900,USD,S,red\n"
        "J-2,jug,Big jug,900,USD,M,\n"
        "J-3,jug,Jug,900,USD,S,red\n",
    )
    assert problems == {
        "row 3.product_name": "differs from row 2: all rows of product 'jug' must agree",
        "row 3.option:colour": "is empty here but not in row 2: every variant of product "
        "'jug' names a value for the same options",
        "row 4.option:size": "the options 'S / red' are those of SKU 'J-1': each variant of "
        "'jug' needs its own",
    }


def test_cell_values_are_checked_as_the_domain_checks_them(shop: InMemoryShop) -> None:
    problems = refused(
        shop,
        "sku,product_slug,product_name,price,currency,archived,image_url,option:size\n"
        "V-1,vase,Vase,100,USD,maybe,javascript:alert(1),S\n"
        f"V-2,vase,Vase,100,USD,false,/media/v.png,{'x' * 51}\n",
    )
    assert problems == {
        "row 2.archived": "must be true or false",
        "row 2.image_url": "must be a path on this site (/media/...) or an http(s) URL, "
        "without spaces",
        "row 3.option:size": "must be 1 to 50 printable characters",
    }


def test_only_catalogue_writers_import_or_export(shop: InMemoryShop) -> None:
    for role in (Role.CUSTOMER, Role.SUPPORT):
        with pytest.raises(PermissionDenied):
            run(shop, TEES, actor=f"usr_{role.value}")
        with pytest.raises(PermissionDenied):
            export_catalog_csv(shop.uow, f"usr_{role.value}")
        with pytest.raises(PermissionDenied):
            catalog_actor_id(shop.uow, f"{role.value}@example.com")
    with pytest.raises(PermissionDenied):
        run(shop, b"\xff not even read", actor="usr_nobody")
    assert catalog_actor_id(shop.uow, " Admin@Example.com ") == ADMIN
    assert audit(shop) == []
    assert shop.store.commits == 1


def test_absent_optional_columns_keep_what_is_stored(shop: InMemoryShop) -> None:
    run(
        shop,
        f"{HEADER},image_url,archived,product_archived\n"
        'LAMP,lamp,Lamp,"A lamp, bright.",8900,USD,4,1200,/media/lamp.png,false,true\n',
    )
    report = run(shop, "sku,product_slug,product_name,price,currency\nLAMP,lamp,Lamp,8900,USD\n")
    assert report.unchanged == 1
    lamp = product(shop, "lamp")
    variant = lamp.variants[0]
    assert (lamp.description, lamp.archived, lamp.image_url) == (
        "A lamp, bright.",
        True,
        "/media/lamp.png",
    )
    assert (variant.stock, variant.weight_grams, variant.image_url) == (4, 1200, "/media/lamp.png")
    # An empty weight cell, where the column is given, is "not weighed".
    run(shop, f'{HEADER}\nLAMP,lamp,Lamp,"A lamp, bright.",8900,USD,4,\n')
    assert product(shop, "lamp").variants[0].weight_grams is None
