"""Staff import and export the catalogue as CSV, over HTTP and from the command line, on SQLite
and PostgreSQL: an import creates products and variants shoppers then see, the same file twice
changes nothing the second time, one bad row refuses the whole file (422, ``row <n>.<column>``),
and the export is a download that imports back unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.test import TestResponse

from commerce_core import Register, Role, create_staff_user
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from tests.webapp.conftest import ADMIN_EMAIL, Catalog
from webapp.bootstrap import Container
from webapp.cli import cli
from webapp.config import Settings

IMPORT = "/api/admin/catalog/import"
EXPORT = "/api/admin/catalog/export"
SHIRTS = (
    "sku,product_slug,product_name,description,price,currency,stock,weight_grams,"
    "option:size,option:colour\n"
    'SHIRT-S-WHITE,linen-shirt,Linen shirt,"Washed linen, relaxed fit.",4500,USD,3,300,S,white\n'
    'SHIRT-M-WHITE,linen-shirt,Linen shirt,"Washed linen, relaxed fit.",4500,USD,0,320,M,white\n'
    'SHIRT-M-BLUE,linen-shirt,Linen shirt,"Washed linen, relaxed fit.",4700,USD,5,320,M,blue\n'
    "TOTE,tote-bag,Tote bag,,1200,USD,7,,,\n"
)


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


def send(browser: Shopper, body: str | bytes, query: str = "", **headers: str) -> TestResponse:
    sent = {"X-CSRF-Token": browser.csrf(), "Content-Type": "text/csv", **headers}
    data = body.encode() if isinstance(body, str) else body
    return browser.client.post(IMPORT + query, data=data, headers=sent)


def report_of(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    report: dict[str, Any] = response.get_json()["report"]
    return report


def test_an_import_creates_products_and_variants_shoppers_see(
    admin: Shopper, shopper: Shopper
) -> None:
    report = report_of(send(admin, SHIRTS))

    assert {k: v for k, v in report.items() if k != "rows"} == {
        "products_created": 2,
        "products_updated": 0,
        "variants_created": 4,
        "variants_updated": 0,
        "unchanged": 0,
        "dry_run": False,
    }
    assert report["rows"][0] == {"line": 2, "sku": "SHIRT-S-WHITE", "action": "created"}
    shirt = shopper.get("/api/products/linen-shirt").get_json()
    assert shirt["name"] == "Linen shirt"
    assert shirt["option_names"] == ["size", "colour"]
    assert shirt["price"] == {"amount": 4500, "currency": "USD"}
    assert shirt["stock"] == 8
    assert [(v["sku"], v["options"], v["stock"], v["weight_grams"]) for v in shirt["variants"]] == [
        ("SHIRT-S-WHITE", {"size": "S", "colour": "white"}, 3, 300),
        ("SHIRT-M-WHITE", {"size": "M", "colour": "white"}, 0, 320),
        ("SHIRT-M-BLUE", {"size": "M", "colour": "blue"}, 5, 320),
    ]
    tote = shopper.get("/api/products/tote-bag").get_json()
    assert [(v["sku"], v["options"], v["weight_grams"]) for v in tote["variants"]] == [
        ("TOTE", {}, None)
    ]
    entries = admin.get("/api/admin/audit-log?per_page=100").get_json()["items"]
    imports = [e for e in entries if e["action"] == "catalog.import"]
    assert len(imports) == 2
    assert {e["target"] for e in imports} == {f"product:{shirt['id']}", f"product:{tote['id']}"}


def test_the_same_file_twice_changes_nothing_the_second_time(admin: Shopper) -> None:
    report_of(send(admin, SHIRTS))
    audited = admin.get("/api/admin/audit-log?per_page=100").get_json()["total"]

    again = report_of(send(admin, SHIRTS))

    assert {row["action"] for row in again["rows"]} == {"unchanged"}
    assert (again["unchanged"], again["products_updated"], again["variants_updated"]) == (4, 0, 0)
    assert admin.get("/api/admin/audit-log?per_page=100").get_json()["total"] == audited


def test_an_update_by_sku_and_a_dry_run(admin: Shopper, shopper: Shopper) -> None:
    report_of(send(admin, SHIRTS))
    changed = SHIRTS.replace(",4700,USD,5,", ",4900,USD,,")  # a new price; stock as it is

    dry = report_of(send(admin, changed, "?dry_run=true"))
    assert (dry["dry_run"], dry["variants_updated"], dry["unchanged"]) == (True, 1, 3)
    assert shopper.get("/api/products/linen-shirt").get_json()["variants"][2]["price"] == {
        "amount": 4700,
        "currency": "USD",
    }

    real = report_of(send(admin, changed, "?dry_run=false"))
    assert {k: v for k, v in real.items() if k != "dry_run"} == {
        k: v for k, v in dry.items() if k != "dry_run"
    }
    blue = shopper.get("/api/products/linen-shirt").get_json()["variants"][2]
    assert (blue["price"]["amount"], blue["stock"]) == (4900, 5)


def test_one_bad_row_refuses_the_whole_file_and_changes_nothing(
    admin: Shopper, catalog: Catalog
) -> None:
    report_of(send(admin, SHIRTS))
    before = admin.get(EXPORT).get_data()
    bad = (
        SHIRTS.replace("4500,USD,3,300", "45.00,USD,3,300")
        .replace("TOTE,tote-bag", "mug,tote-bag")  # the mug's SKU, on another product
        .replace("Tote bag,,1200", "Tote bag,,1300")
        + "NEW-1,new-thing,New thing,,100,USD,1,,,\n"  # fine on its own: not applied either
    )

    response = send(admin, bad)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"field": "row 2.price", "message": "must be a whole number from 1 to 10000000000"},
        {
            "field": "row 5.sku",
            "message": "belongs to product 'mug', not 'tote-bag': a SKU never moves to another "
            "product",
        },
    ]
    assert admin.get(EXPORT).get_data() == before
    assert admin.get("/api/products/new-thing").status_code == 404


def test_the_body_must_be_utf8_csv(admin: Shopper) -> None:
    as_json = admin.post(IMPORT, {"rows": []})
    assert_problem(as_json, 415, "unsupported_media_type")
    latin1 = send(admin, SHIRTS, **{"Content-Type": "text/csv; charset=latin-1"})
    assert_problem(latin1, 415, "unsupported_media_type")
    not_utf8 = send(
        admin, "sku,product_slug,product_name,price,currency\nC,c,Café,1,EUR\n".encode("latin-1")
    )
    body = assert_problem(not_utf8, 422, "validation_error")
    assert body["errors"][0]["field"] == "file"
    too_big = send(admin, b"x" * (2 * 1024 * 1024 + 1))
    assert_problem(too_big, 413, "payload_too_large")
    with_bom = send(admin, b"\xef\xbb\xbf" + SHIRTS.encode(), "?dry_run=true")
    assert report_of(with_bom)["variants_created"] == 4


def test_the_export_is_a_download_that_imports_back_unchanged(
    admin: Shopper, catalog: Catalog
) -> None:
    report_of(send(admin, SHIRTS))

    response = admin.get(EXPORT)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="catalog.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert [r["sku"] for r in rows] == [
        "lamp",
        "SHIRT-S-WHITE",
        "SHIRT-M-WHITE",
        "SHIRT-M-BLUE",
        "mug",
        "TOTE",
    ]
    assert rows[1]["description"] == "Washed linen, relaxed fit."
    again = report_of(send(admin, response.get_data()))
    assert again["unchanged"] == 6


def test_only_catalogue_writers_import_or_export(
    app: Any, container: Container, shopper: Shopper
) -> None:
    create_staff_user(
        Register(email="support@example.com", password=PASSWORD, name="Sam", role=Role.SUPPORT),
        uow=container.new_uow(),
        hasher=container.hasher,
        clock=container.clock,
        events=container.events,
    )
    support = Shopper(app.test_client())
    assert support.log_in("support@example.com").status_code == 200
    assert_problem(support.get(EXPORT), 403, "forbidden")
    assert_problem(send(support, SHIRTS), 403, "forbidden")
    assert_problem(shopper.get(EXPORT), 401, "unauthenticated")


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return CliRunner()


def test_the_command_line_imports_and_exports(
    runner: CliRunner, admin: Shopper, shopper: Shopper, tmp_path: Path
) -> None:
    source = tmp_path / "catalog.csv"
    source.write_text(SHIRTS, encoding="utf-8")

    dry = runner.invoke(
        cli, ["catalog", "import", str(source), "--dry-run", "--actor", ADMIN_EMAIL]
    )
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("Dry run, nothing written: products created=2")
    assert shopper.get("/api/products/tote-bag").status_code == 404

    done = runner.invoke(cli, ["catalog", "import", str(source), "--actor", ADMIN_EMAIL])
    assert done.exit_code == 0, done.output
    assert done.output == (
        "products created=2 updated=0; variants created=4 updated=0 unchanged=0\n"
    )
    assert shopper.get("/api/products/tote-bag").get_json()["stock"] == 7

    printed = runner.invoke(cli, ["catalog", "export", "--actor", ADMIN_EMAIL])
    assert printed.exit_code == 0, printed.output
    assert printed.output.splitlines()[1].startswith("SHIRT-S-WHITE,linen-shirt,Linen shirt,")
    target = tmp_path / "out" / "export.csv"
    target.parent.mkdir()
    written = runner.invoke(cli, ["catalog", "export", str(target), "--actor", ADMIN_EMAIL])
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8") == printed.output

    again = runner.invoke(cli, ["catalog", "import", str(target), "--actor", ADMIN_EMAIL])
    assert again.output.endswith("unchanged=4\n"), again.output


def test_the_command_line_lists_every_problem_and_exits_1(
    runner: CliRunner, admin: Shopper, shopper: Shopper, tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(SHIRTS.replace(",4500,USD,3,", ",0,USD,-3,"), encoding="utf-8")

    result = runner.invoke(cli, ["catalog", "import", str(source), "--actor", ADMIN_EMAIL])

    assert result.exit_code == 1
    assert "row 2.price: must be a whole number from 1 to 10000000000\n" in result.stderr
    assert "row 2.stock: must be a whole number from 0 to 1000000000\n" in result.stderr
    assert "Error: nothing was imported from bad.csv" in result.stderr
    assert shopper.get("/api/products/tote-bag").status_code == 404
    stranger = runner.invoke(cli, ["catalog", "export", "--actor", "nobody@example.com"])
    assert stranger.exit_code == 1
    assert "catalog:write is required" in stranger.stderr
