"""A checkout with an address and a shipping method charges the lines, the method's price and
the destination's tax - and the gateway is asked for exactly that total; staff then ship the
order (tracking, audit, shipping notice) or cancel it before it ships (refund, restock)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core import (
    IDEMPOTENCY_LEASE,
    Address,
    CancelPaidOrder,
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    FulfilOrder,
    IllegalTransition,
    InvalidInput,
    Money,
    OrderStatus,
    PermissionDenied,
    Register,
    Role,
    ShippingMethod,
    ShippingSetup,
    ShippingZone,
    StockState,
    TaxRate,
    cancel_paid_order,
    configure_shipping,
    confirm_order,
    create_checkout_intent,
    create_staff_user,
    fulfil_order,
    reconcile_payments,
    register,
    shipping_options,
)
from commerce_core.testing import InMemoryShop

PASSWORD = "a long enough passphrase"
SETUP = ShippingSetup(
    zones=(
        ShippingZone("domestic", "Domestic", frozenset({"US"})),
        ShippingZone("world", "Rest of the world", frozenset({"*"})),
    ),
    methods=(
        ShippingMethod(
            "standard", "domestic", "Standard", Money(500, "USD"), free_above=Money(5000, "USD")
        ),
        ShippingMethod(
            "international", "world", "International", Money(2500, "USD"), per_kg=Money(800, "USD")
        ),
    ),
    tax_rates=(TaxRate("US", "NY", 400, "New York", shipping_taxable=True),),
)
NEW_YORK = Address("Ada", "1 Broadway", "New York", "10004", "US", region="NY")
TOKYO = Address("Aiko", "1-1 Chiyoda", "Tokyo", "100-0001", "JP")


@pytest.fixture
def shop() -> InMemoryShop:
    shop = InMemoryShop()
    shop.product_id = shop.add_product(price=Money(1800, "USD"), stock=10).id
    configure_shipping(shop.uow, SETUP)
    return shop


def _customer(shop: InMemoryShop) -> str:
    signed_in = register(Register("ada@example.com", PASSWORD, "Ada"), **shop.account_ports)
    return signed_in.user.id


def _staff(shop: InMemoryShop, role: Role) -> str:
    user = create_staff_user(
        Register(f"{role.value}@example.com", PASSWORD, "Staff", role=role), **shop.account_ports
    )
    return user.id


def _checkout(shop: InMemoryShop, user: str, address: Address, method: str, qty: int = 2) -> dict:
    result = create_checkout_intent(
        CreateCheckoutIntent(
            user,
            (CartItem(shop.product_id, qty),),
            shipping_address=address,
            shipping_method=method,
        ),
        **shop.ports,
    )
    return result.body


def _paid(shop: InMemoryShop, user: str) -> dict:
    body = _checkout(shop, user, NEW_YORK, "standard")
    confirm_order(ConfirmOrder(user, body["intent_id"], "pm_card_visa", "k-1"), **shop.ports)
    return body


def test_the_intent_shows_and_the_gateway_is_asked_for_the_whole_total(shop: InMemoryShop) -> None:
    user = _customer(shop)
    body = _checkout(shop, user, NEW_YORK, "standard")
    # 2 x 18.00 + 5.00 shipping, 4 % New York tax on both lines: 144 + 20.
    assert body["subtotal"] == {"amount": 3600, "currency": "USD"}
    assert body["shipping"] == {"amount": 500, "currency": "USD"}
    assert body["tax"] == {"amount": 164, "currency": "USD"}
    assert body["prices_include_tax"] is False
    assert body["amount"] == {"amount": 4264, "currency": "USD"}
    assert shop.gateway.get_intent(body["intent_id"]).amount == Money(4264, "USD")
    paid = confirm_order(ConfirmOrder(user, body["intent_id"], "pm_card_visa", "k-1"), **shop.ports)
    order = paid.body["order"]
    assert order["status"] == "paid"
    assert order["total"] == body["amount"]
    assert order["amount_captured"] == body["amount"]
    assert order["shipping_address"]["postal_code"] == "10004"
    assert order["shipping_method"] == {"id": "standard", "name": "Standard"}
    variant_id = shop.product(shop.product_id).variants[0].id
    assert [line["line"] for line in order["tax_lines"]] == [variant_id, "shipping"]


def test_prices_that_include_tax_are_charged_as_listed(shop: InMemoryShop) -> None:
    user = _customer(shop)
    result = create_checkout_intent(
        CreateCheckoutIntent(
            user,
            (CartItem(shop.product_id, 2),),
            shipping_address=NEW_YORK,
            shipping_method="standard",
        ),
        **shop.ports,
        prices_include_tax=True,
    )
    assert result.body["amount"]["amount"] == 3600 + 500
    assert result.body["tax"]["amount"] == 138 + 19  # inside 36.00 and 5.00 at 4 %


def test_weight_prices_international_shipping(shop: InMemoryShop) -> None:
    heavy = shop.add_product(price=Money(1000, "USD"), stock=5)
    with shop.uow as uow:
        product = uow.products.get(heavy.id)
        assert product is not None
        product.variants[0].weight_grams = 1200
        uow.products.save(product)
        uow.commit()
    quotes = shipping_options(shop.uow, "jp", [CartItem(heavy.id, 1)])
    assert [(q.method_id, q.price.amount) for q in quotes] == [("international", 2500 + 2 * 800)]
    user = _customer(shop)
    result = create_checkout_intent(
        CreateCheckoutIntent(
            user, (CartItem(heavy.id, 1),), shipping_address=TOKYO, shipping_method="international"
        ),
        **shop.ports,
    )
    assert result.body["amount"]["amount"] == 1000 + 4100  # no tax rate for Japan


@pytest.mark.parametrize(
    ("address", "method", "field"),
    [
        (TOKYO, "standard", "shipping_method"),  # domestic only
        (NEW_YORK, "teleport", "shipping_method"),
        (NEW_YORK, None, "shipping_method"),
        (None, "standard", "shipping_address"),
    ],
)
def test_a_method_that_does_not_ship_there_holds_nothing(
    shop: InMemoryShop, address: Address | None, method: str | None, field: str
) -> None:
    user = _customer(shop)
    with pytest.raises(InvalidInput) as refused:
        create_checkout_intent(
            CreateCheckoutIntent(
                user,
                (CartItem(shop.product_id, 1),),
                shipping_address=address,
                shipping_method=method,
            ),
            **shop.ports,
        )
    assert refused.value.errors[0].field == field
    assert shop.product(shop.product_id).stock == 10


def test_support_ships_a_paid_order_the_shopper_sees_the_tracking_and_it_is_audited(
    shop: InMemoryShop,
) -> None:
    user = _customer(shop)
    body = _paid(shop, user)
    support = _staff(shop, Role.SUPPORT)
    order = fulfil_order(
        FulfilOrder(support, body["order_id"], "UPS", "1Z999AA10123456784", ip="203.0.113.9"),
        uow=shop.uow,
        clock=shop.clock,
        events=shop.events,
    )
    assert order["status"] == "fulfilled"
    assert order["fulfilment"]["tracking_number"] == "1Z999AA10123456784"
    with shop.uow as uow:
        (entry,) = [e for e in uow.audit.all() if e.action == "order.fulfilled"]
        assert entry.actor == support
        assert entry.target == f"order:{body['order_id']}"
    # A double click is harmless; another parcel is refused.
    again = fulfil_order(
        FulfilOrder(support, body["order_id"], "UPS", "1Z999AA10123456784"),
        uow=shop.uow,
        clock=shop.clock,
        events=shop.events,
    )
    assert again["status"] == "fulfilled"
    with pytest.raises(IllegalTransition):
        fulfil_order(
            FulfilOrder(support, body["order_id"], "DHL", "JD1"),
            uow=shop.uow,
            clock=shop.clock,
            events=shop.events,
        )


def test_customers_cannot_ship_and_unpaid_orders_cannot_be_shipped(shop: InMemoryShop) -> None:
    user = _customer(shop)
    body = _checkout(shop, user, NEW_YORK, "standard")
    with pytest.raises(PermissionDenied):
        fulfil_order(
            FulfilOrder(user, body["order_id"], "UPS", "1Z"),
            uow=shop.uow,
            clock=shop.clock,
            events=shop.events,
        )
    admin = _staff(shop, Role.ADMIN)
    with pytest.raises(IllegalTransition):
        fulfil_order(
            FulfilOrder(admin, body["order_id"], "UPS", "1Z"),
            uow=shop.uow,
            clock=shop.clock,
            events=shop.events,
        )


def test_cancelling_a_paid_order_refunds_it_in_full_and_returns_its_stock(
    shop: InMemoryShop,
) -> None:
    user = _customer(shop)
    body = _paid(shop, user)
    assert shop.product(shop.product_id).stock == 8
    admin = _staff(shop, Role.ADMIN)
    order = cancel_paid_order(
        CancelPaidOrder(admin, body["order_id"], "customer changed their mind"), **shop.ports
    )
    assert order["status"] == "cancelled"
    assert order["amount_refunded"] == body["amount"]
    assert shop.product(shop.product_id).stock == 10
    with shop.uow as uow:
        stored = uow.orders.get(body["order_id"])
        assert stored is not None
        assert stored.status is OrderStatus.CANCELLED
        assert stored.stock_state is StockState.RELEASED
        actions = [e.action for e in uow.audit.all()]
    assert "order.cancelled_by_staff" in actions


def test_support_cannot_cancel_and_a_shipped_order_cannot_be_cancelled(
    shop: InMemoryShop,
) -> None:
    user = _customer(shop)
    body = _paid(shop, user)
    support = _staff(shop, Role.SUPPORT)
    with pytest.raises(PermissionDenied):
        cancel_paid_order(CancelPaidOrder(support, body["order_id"]), **shop.ports)
    fulfil_order(
        FulfilOrder(support, body["order_id"], "UPS", "1Z"),
        uow=shop.uow,
        clock=shop.clock,
        events=shop.events,
    )
    admin = _staff(shop, Role.ADMIN)
    with pytest.raises(IllegalTransition):
        cancel_paid_order(CancelPaidOrder(admin, body["order_id"]), **shop.ports)
    assert shop.product(shop.product_id).stock == 8


def test_a_cancel_the_gateway_cannot_refund_now_is_finished_later(shop: InMemoryShop) -> None:
    user = _customer(shop)
    body = _paid(shop, user)
    admin = _staff(shop, Role.ADMIN)
    shop.gateway.fail_next(1)  # type: ignore[attr-defined]
    order = cancel_paid_order(CancelPaidOrder(admin, body["order_id"]), **shop.ports)
    assert order["status"] == "needs_refund"
    assert shop.product(shop.product_id).stock == 10  # the stock is back at once
    reconcile_payments(**shop.ports)  # within the lease a retry is not started: nothing yet
    with shop.uow as uow:
        assert uow.orders.get(body["order_id"]).status is OrderStatus.NEEDS_REFUND  # type: ignore[union-attr]
    shop.clock.advance(IDEMPOTENCY_LEASE + timedelta(seconds=1))
    reconcile_payments(**shop.ports)
    with shop.uow as uow:
        stored = uow.orders.get(body["order_id"])
        assert stored is not None
        assert stored.status is OrderStatus.CANCELLED
