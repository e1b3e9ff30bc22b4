"""Over HTTP, on SQLite and PostgreSQL: a checkout with an address and a shipping method shows
and charges the right total (lines + shipping + the destination's tax), the order keeps the
address and the breakdown, staff ship it and the shopper sees the tracking, and a paid order
cancelled before it ships is refunded and restocked."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.payments.fake_gateway import FakeStripeGateway
from commerce_core import (
    Money,
    Register,
    Role,
    ShippingMethod,
    ShippingSetup,
    ShippingZone,
    TaxRate,
    configure_shipping,
    create_staff_user,
)
from tests.support.shipping import US_ADDRESS
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container
from webapp.config import Settings

NEW_YORK = {
    **US_ADDRESS,
    "line1": "1 Broadway",
    "city": "New York",
    "postal_code": "10004",
    "region": "NY",
}
SETUP = ShippingSetup(
    # The test shops' domestic zone (tests.support.shipping) gets two more methods.
    zones=(ShippingZone("domestic", "Domestic", frozenset({"US"})),),
    methods=(
        ShippingMethod(
            "ground", "domestic", "Ground", Money(500, "USD"), free_above=Money(5000, "USD")
        ),
        ShippingMethod("overnight", "domestic", "Overnight", Money(2500, "USD")),
    ),
    tax_rates=(TaxRate("US", "NY", 400, "New York", shipping_taxable=True),),
)


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


@pytest.fixture
def shipping(container: Container, catalog: Catalog) -> None:
    configure_shipping(container.new_uow(), SETUP)


def _intent(shopper: Shopper, catalog: Catalog, address: Any, method: Any) -> Any:
    return shopper.post(
        "/api/checkout/intent",
        {
            "items": [{"product_id": catalog.mug, "quantity": 2}],
            "shipping_address": address,
            "shipping_method": method,
        },
    )


def _staff(app_container: Container, role: Role, app_shopper: Shopper) -> Shopper:
    email = f"{role.value}@example.com"
    create_staff_user(
        Register(email, PASSWORD, "Staff", role=role), **app_container.account_ports()
    )
    assert app_shopper.log_in(email).status_code == 200
    return app_shopper


@pytest.mark.usefixtures("shipping")
def test_the_shopper_sees_and_pays_lines_shipping_and_tax(
    shopper: Shopper, catalog: Catalog, gateway: FakeStripeGateway
) -> None:
    shopper.register()
    response = _intent(shopper, catalog, NEW_YORK, "ground")
    assert response.status_code == 201, response.get_data(as_text=True)
    intent = response.get_json()
    # 2 x 18.00, 5.00 ground, 4 % on 36.00 and on 5.00.
    assert intent["subtotal"]["amount"] == 3600
    assert intent["shipping"]["amount"] == 500
    assert intent["tax"]["amount"] == 144 + 20
    assert intent["amount"] == {"amount": 4264, "currency": "USD"}
    assert gateway.get_intent(intent["intent_id"]).amount == Money(4264, "USD")

    paid = shopper.confirm(intent["intent_id"], "pm_card_visa")
    assert paid.status_code == 201, paid.get_data(as_text=True)
    order = shopper.order(intent["order_id"])
    assert order["total"] == intent["amount"]
    assert order["amount_captured"] == intent["amount"]
    assert (order["subtotal"], order["shipping"], order["tax"]) == (
        intent["subtotal"],
        intent["shipping"],
        intent["tax"],
    )
    assert order["shipping_address"]["city"] == "New York"
    assert order["shipping_method"] == {"id": "ground", "name": "Ground"}
    assert order["fulfilment"] is None


@pytest.mark.usefixtures("shipping")
@pytest.mark.parametrize(
    ("address", "method", "field"),
    [
        (None, "ground", "shipping_address"),
        ({**NEW_YORK, "country": "ZZ"}, "ground", "shipping_address.country"),
        ({**NEW_YORK, "postal_code": "ABC"}, "ground", "shipping_address.postal_code"),
        ({**NEW_YORK, "line1": ""}, "ground", "shipping_address.line1"),
        ({**NEW_YORK, "line1": "1 Broadway\x00"}, "ground", "shipping_address.line1"),
        ("1 Broadway, New York", "ground", "shipping_address"),
        ({**NEW_YORK, "country": "FR", "postal_code": "75001"}, "ground", "shipping_method"),
        (NEW_YORK, "teleport", "shipping_method"),
        (NEW_YORK, None, "shipping_method"),
    ],
)
def test_a_missing_or_invalid_address_or_method_is_a_422_on_the_field_and_holds_nothing(
    shopper: Shopper, catalog: Catalog, stock: Any, address: Any, method: Any, field: str
) -> None:
    shopper.register()
    problem = assert_problem(_intent(shopper, catalog, address, method), 422, "validation_error")
    assert field in {error["field"] for error in problem["errors"]}, problem
    assert stock("mug") == 5
    assert shopper.get("/api/orders").get_json()["total"] == 0


@pytest.mark.usefixtures("shipping")
def test_staff_ship_the_order_and_the_shopper_sees_the_tracking(
    shopper: Shopper, catalog: Catalog, container: Container, new_shopper: Any
) -> None:
    shopper.register()
    intent = _intent(shopper, catalog, NEW_YORK, "ground").get_json()
    assert shopper.confirm(intent["intent_id"], "pm_card_visa").status_code == 201
    path = f"/api/admin/orders/{intent['order_id']}/fulfil"

    assert_problem(
        shopper.post(path, {"carrier": "UPS", "tracking_number": "1Z"}), 403, "forbidden"
    )
    support = _staff(container, Role.SUPPORT, new_shopper())
    assert_problem(support.post(path, {"carrier": "UPS"}), 422, "validation_error")
    shipped = support.post(path, {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})
    assert shipped.status_code == 200, shipped.get_data(as_text=True)
    assert shipped.get_json()["order"]["status"] == "fulfilled"

    order = shopper.order(intent["order_id"])
    assert order["status"] == "fulfilled"
    assert order["fulfilment"]["carrier"] == "UPS"
    assert order["fulfilment"]["tracking_number"] == "1Z999AA10123456784"
    assert order["fulfilment"]["fulfilled_at"]
    assert_problem(
        support.post(path, {"carrier": "DHL", "tracking_number": "JD1"}), 409, "illegal_transition"
    )


@pytest.mark.usefixtures("shipping")
def test_a_paid_order_cancelled_before_it_ships_is_refunded_and_restocked(
    shopper: Shopper, catalog: Catalog, container: Container, new_shopper: Any, stock: Any
) -> None:
    shopper.register()
    intent = _intent(shopper, catalog, NEW_YORK, "ground").get_json()
    assert shopper.confirm(intent["intent_id"], "pm_card_visa").status_code == 201
    assert stock("mug") == 3
    path = f"/api/admin/orders/{intent['order_id']}/cancel"
    support = _staff(container, Role.SUPPORT, new_shopper())
    assert_problem(support.post(path, {}), 403, "forbidden")
    admin = _staff(container, Role.ADMIN, new_shopper())
    cancelled = admin.post(path, {"reason": "out of the colour they wanted"})
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    assert cancelled.get_json()["order"]["status"] == "cancelled"
    assert stock("mug") == 5
    order = shopper.order(intent["order_id"])
    assert order["amount_refunded"] == intent["amount"]
    assert_problem(admin.post(path, {}), 409, "illegal_transition")
