"""The `commerce` command line against a real SQLite database."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources

import attrs
import pytest
from click.testing import CliRunner
from sqlalchemy import update

from adapters.sql.tables import audit_log
from commerce_core import REST_OF_WORLD, Money
from tests.webapp.browser import Shopper
from tests.webapp.conftest import Catalog
from webapp.app import create_app
from webapp.bootstrap import Container
from webapp.cli import cli
from webapp.config import Settings
from webapp.demo_shop import load_demo_shop

ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return CliRunner()


@pytest.fixture
def app_for_cli(settings: Settings, container: Container) -> Shopper:
    return Shopper(create_app(settings, container=container).test_client())


def test_db_upgrade_then_seed_demo_is_idempotent(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0

    first = runner.invoke(cli, ["seed", "--demo"])
    again = runner.invoke(cli, ["seed", "--demo"])

    assert first.exit_code == 0, first.output
    assert "Added 15 products" in first.output
    assert "Added 9 shipping zones, methods and tax rates (0 were" in first.output
    assert "Added 0 products (15 were already" in again.output
    assert "Added 0 shipping zones, methods and tax rates (9 were already" in again.output
    assert "Added 13 categories and 3 attributes (0 and 0 were" in first.output
    assert "filled in 15 products." in first.output
    assert "Added 0 categories and 0 attributes (13 and 3 were already" in again.output
    assert "filled in 0 products." in again.output


def test_the_seeded_demo_sells_sizes_and_colours_with_one_variant_sold_out(
    runner: CliRunner, app_for_cli: Shopper
) -> None:
    assert runner.invoke(cli, ["seed", "--demo"]).exit_code == 0

    shirt = app_for_cli.get("/api/products/linen-shirt").json
    assert shirt["option_names"] == ["size", "colour"]
    assert len(shirt["variants"]) == 6
    assert {v["options"]["size"] for v in shirt["variants"]} == {"S", "M", "L"}
    assert shirt["price"]["amount"] == min(v["price"]["amount"] for v in shirt["variants"])
    apron = app_for_cli.get("/api/products/cotton-apron").json
    stock = {v["sku"]: v["in_stock"] for v in apron["variants"]}
    assert stock == {"APRON-NATURAL": True, "APRON-INDIGO": True, "APRON-RUST": False}
    assert apron["in_stock"] is True
    shirts = app_for_cli.get("/api/products?category=clothing").json
    assert [p["slug"] for p in shirts["items"]] == ["linen-shirt"]


def test_the_seeded_demo_has_categories_two_levels_deep_and_typed_attributes(
    runner: CliRunner, app_for_cli: Shopper
) -> None:
    assert runner.invoke(cli, ["seed", "--demo"]).exit_code == 0

    tree = app_for_cli.get("/api/categories").json["items"]
    assert [root["slug"] for root in tree] == ["kitchen", "home", "stationery", "clothing"]
    assert [child["slug"] for child in tree[0]["children"]] == [
        "mugs",
        "carafes-and-jugs",
        "kitchen-textiles",
    ]
    assert all(child["children"] == [] for root in tree for child in root["children"])
    mugs = app_for_cli.get("/api/categories/mugs").json
    assert mugs["path"] == [
        {"slug": "kitchen", "name": "Kitchen"},
        {"slug": "mugs", "name": "Mugs"},
    ]

    mug = app_for_cli.get("/api/products/ceramic-mug").json
    assert mug["categories"] == [{"slug": "mugs", "name": "Mugs"}]
    assert mug["attributes"] == {
        "capacity": {"name": "Capacity", "value": "350", "unit": "ml"},
        "colour": {"name": "Colour", "value": "White"},
        "material": {"name": "Material", "value": "Stoneware"},
    }
    codes = {a["code"]: a["kind"] for a in app_for_cli.get("/api/attributes").json["items"]}
    assert codes == {"capacity": "number", "colour": "choice", "material": "choice"}


def test_the_seeded_demo_ships_at_home_and_abroad_priced_by_cart_and_weight(
    runner: CliRunner, app_for_cli: Shopper
) -> None:
    assert runner.invoke(cli, ["seed", "--demo"]).exit_code == 0
    slugs = {p["slug"]: p["id"] for p in app_for_cli.get("/api/products?per_page=50").json["items"]}
    mug, throw = slugs["ceramic-mug"], slugs["merino-throw"]

    def quotes(query: str) -> dict[str, int]:
        response = app_for_cli.get(f"/api/shipping/methods?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return {q["id"]: q["price"]["amount"] for q in response.json["items"]}

    # $18 of mugs: standard and express at their flat rates; over $50: standard is free.
    assert quotes(f"country=US&item={mug}:1") == {"standard": 500, "express": 1500}
    assert quotes(f"country=US&item={mug}:3") == {"standard": 0, "express": 1500}
    # Abroad: 25 dollars and 8 for every started kilogram (one 1.3 kg throw: 2 kg).
    assert quotes(f"country=DE&item={throw}:1") == {"international": 2500 + 2 * 800}
    # Over 20 kg nothing ships abroad.
    assert quotes(f"country=JP&item={throw}:16") == {}


def test_seed_without_demo_is_a_usage_error(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["seed"]).exit_code == 2


def test_the_demo_catalog_is_one_currency_with_images_and_some_scarce_stock() -> None:
    package = resources.files("webapp")
    data = json.loads(package.joinpath("demo_catalog.json").read_text(encoding="utf-8"))
    products = data["products"]

    assert data["currency"] == "USD"
    assert len(products) >= 12
    assert len({p["slug"] for p in products}) == len(products)
    assert all(type(p["price"]) is int and p["price"] > 0 for p in products)
    assert sum(1 <= p["stock"] <= 3 for p in products) >= 3
    for product in products:
        assert type(product["weight_grams"]) is int
        assert 10 <= product["weight_grams"] <= 5_000
        assert product["image_url"] == f"/static/products/{product['slug']}.svg"
        image = package.joinpath("static", "products", f"{product['slug']}.svg")
        assert image.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_the_demo_shop_ships_domestic_and_international_and_taxes_some_us_states() -> None:
    shop = load_demo_shop()
    usd = "USD"

    zones = {zone.id: zone.countries for zone in shop.shipping.zones}
    assert zones == {"domestic": frozenset({"US"}), "international": frozenset({REST_OF_WORLD})}
    methods = {method.id: method for method in shop.shipping.methods}
    assert methods["standard"].zone_id == "domestic"
    assert methods["standard"].price == Money(500, usd)
    assert methods["standard"].free_above == Money(5000, usd)
    assert methods["express"].price == Money(1500, usd)
    assert methods["express"].free_above is None
    assert methods["international"].zone_id == "international"
    assert methods["international"].price == Money(2500, usd)
    assert methods["international"].per_kg == Money(800, usd)
    assert methods["international"].max_weight_grams == 20_000
    rates = {rate.region: rate for rate in shop.shipping.tax_rates if rate.country == "US"}
    assert (rates["CA"].basis_points, rates["CA"].shipping_taxable) == (725, False)
    assert (rates["NY"].basis_points, rates["NY"].shipping_taxable) == (400, True)
    assert (rates["TX"].basis_points, rates["TX"].shipping_taxable) == (625, True)
    assert all(product.weight_grams for product in shop.products)


def test_create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in(
    runner: CliRunner, app_for_cli: Shopper
) -> None:
    result = runner.invoke(
        cli, ["users", "create-admin", "boss@example.com"], input=ADMIN_PASSWORD + "\n"
    )

    assert result.exit_code == 0, result.output
    assert ADMIN_PASSWORD not in result.output
    login = app_for_cli.log_in("boss@example.com", ADMIN_PASSWORD)
    assert login.get_json()["user"]["role"] == "admin"


def test_create_admin_refuses_a_weak_password(runner: CliRunner, app_for_cli: Shopper) -> None:
    result = runner.invoke(cli, ["users", "create-admin", "boss@example.com"], input="short\n")

    assert result.exit_code == 1
    assert "password" in result.output


def test_release_expired_holds_gives_the_stock_back(
    runner: CliRunner, settings: Settings, container: Container, catalog: Catalog
) -> None:
    # Holds that expire the moment they are made: the job finds one to release.
    app = create_app(settings, container=attrs.evolve(container, hold_for=timedelta(0)))
    shopper = Shopper(app.test_client())
    shopper.register()
    intent = shopper.intent(catalog.lamp)

    result = runner.invoke(cli, ["jobs", "release-expired-holds"])

    assert result.exit_code == 0, result.output
    assert "released=1 settled=0 failed=0" in result.output
    order = shopper.order(intent["order_id"])
    assert order["status"] == "cancelled"


def test_audit_verify_passes_an_intact_chain_and_fails_a_tampered_one(
    runner: CliRunner, container: Container, admin: Shopper, shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug)
    assert (
        admin.post("/api/payments/refund", {"order_id": order["id"]}, key="audit").status_code
        == 201
    )

    intact = runner.invoke(cli, ["audit", "verify"])
    assert container.engine is not None
    with container.engine.begin() as connection:
        connection.execute(update(audit_log).values(ip="203.0.113.99"))
    broken = runner.invoke(cli, ["audit", "verify"])

    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output
    assert broken.exit_code == 1
    assert "BROKEN" in broken.output


def test_a_bad_configuration_is_reported_without_a_traceback(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")

    result = runner.invoke(cli, ["db", "upgrade"])

    assert result.exit_code == 1
    assert "STRIPE_SECRET_KEY: required for the stripe gateway" in result.output
    assert "Traceback" not in result.output
