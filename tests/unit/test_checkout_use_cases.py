"""Checkout edge to edge with the fakes: create an intent for a cart, then confirm it."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from commerce_core import (
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    EventOutcome,
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    IntentStatus,
    InvalidInput,
    Money,
    NotFound,
    Order,
    OrderNotPayable,
    OrderStatus,
    OutOfStock,
    Result,
    StockState,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
    release_expired_holds,
)
from commerce_core.testing import InMemoryShop

ALICE = "usr_alice"
BOB = "usr_bob"


def start_checkout(
    shop: InMemoryShop, *items: CartItem, user: str = ALICE, key: str | None = None
) -> Result:
    cart = items or (CartItem(shop.product_id, 2),)
    return create_checkout_intent(
        CreateCheckoutIntent(user_id=user, items=cart, idempotency_key=key), **shop.ports
    )


def confirm(
    shop: InMemoryShop,
    intent_id: str,
    payment_method: str = "pm_card_visa",
    *,
    key: str = "confirm-1",
    user: str = ALICE,
) -> Result:
    return confirm_order(ConfirmOrder(user, intent_id, payment_method, key), **shop.ports)


def order_of(shop: InMemoryShop, order_id: str) -> Order:
    with shop.uow as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def all_orders(shop: InMemoryShop) -> list[Order]:
    with shop.uow as uow:
        return uow.orders.list_all(0, 1000)[0]


def stock(shop: InMemoryShop, product_id: str | None = None) -> int:
    return shop.product(product_id or shop.product_id).stock


def deliver_webhooks(shop: InMemoryShop) -> list[EventOutcome]:
    return [handle_gateway_event(event, **shop.ports) for event in shop.gateway.take_events()]


# -- create_checkout_intent ----------------------------------------------------------------


def test_intent_prices_the_cart_from_the_catalog_and_holds_its_stock(shop: InMemoryShop) -> None:
    result = start_checkout(shop)
    body = result.body
    assert result.outcome == "created"
    assert body["amount"] == {"amount": 3998, "currency": "USD"}
    assert body["status"] == "awaiting_payment"
    assert body["client_secret"]
    order = order_of(shop, body["order_id"])
    assert order.intent_id == body["intent_id"]
    assert order.total == Money(3998, "USD")
    assert order.stock_state is StockState.HELD
    assert stock(shop) == 3
    assert shop.gateway.intents[body["intent_id"]].amount == Money(3998, "USD")


def test_the_order_keeps_the_price_it_was_placed_at(shop: InMemoryShop) -> None:
    result = start_checkout(shop)
    with shop.uow as uow:
        product = uow.products.get(shop.product_id)
        assert product is not None
        product.replace_variant(
            attrs.evolve(product.variants[0], price=Money(1, "USD")), shop.clock.now()
        )
        uow.products.save(product)
        uow.commit()
    order = order_of(shop, result.body["order_id"])
    assert order.lines[0].unit_price == Money(1999, "USD")
    assert confirm(shop, result.body["intent_id"]).outcome == "paid"
    assert order_of(shop, order.id).captured == Money(3998, "USD")


def test_lines_for_the_same_product_are_merged(shop: InMemoryShop) -> None:
    other = shop.add_product(price=Money(500, "USD"), stock=3)
    result = start_checkout(
        shop,
        CartItem(shop.product_id, 1),
        CartItem(other.id, 2),
        CartItem(shop.product_id, 2),
    )
    order = order_of(shop, result.body["order_id"])
    assert sorted((li.product_id, li.quantity) for li in order.lines) == sorted(
        [(shop.product_id, 3), (other.id, 2)]
    )
    assert order.total == Money(3 * 1999 + 2 * 500, "USD")
    assert stock(shop) == 2
    assert stock(shop, other.id) == 1


def test_an_unknown_product_is_invalid_input_and_nothing_changes(shop: InMemoryShop) -> None:
    with pytest.raises(InvalidInput) as caught:
        start_checkout(shop, CartItem(shop.product_id, 1), CartItem("prod_missing", 1))
    assert any("prod_missing" in e.message for e in caught.value.errors)
    assert all_orders(shop) == []
    assert stock(shop) == 5
    assert shop.gateway.calls == []


@pytest.mark.parametrize(
    "items",
    [
        (),
        (CartItem("prod_x", 0),),
        (CartItem("prod_x", 101),),
        (CartItem("prod_x", 60), CartItem("prod_x", 60)),
        (CartItem("", 1),),
        tuple(CartItem(f"prod_{i}", 1) for i in range(51)),
    ],
)
def test_a_malformed_cart_is_invalid_input(shop: InMemoryShop, items: tuple[CartItem, ...]) -> None:
    with pytest.raises(InvalidInput):
        create_checkout_intent(CreateCheckoutIntent(ALICE, items), **shop.ports)
    assert all_orders(shop) == []


def test_out_of_stock_raises_and_changes_nothing(shop: InMemoryShop) -> None:
    other = shop.add_product(price=Money(500, "USD"), stock=10)
    with pytest.raises(OutOfStock) as caught:
        start_checkout(shop, CartItem(other.id, 4), CartItem(shop.product_id, 6))
    assert caught.value.product_ids == (shop.product_id,)
    assert stock(shop) == 5
    assert stock(shop, other.id) == 10  # all or nothing
    assert all_orders(shop) == []
    assert shop.gateway.calls == []


def test_the_last_units_can_be_sold_but_not_one_more(shop: InMemoryShop) -> None:
    start_checkout(shop, CartItem(shop.product_id, 5))
    assert stock(shop) == 0
    with pytest.raises(OutOfStock):
        start_checkout(shop, CartItem(shop.product_id, 1), user=BOB)
    assert stock(shop) == 0


def test_gateway_outage_while_creating_the_intent_cancels_the_order_and_restores_stock(
    shop: InMemoryShop,
) -> None:
    shop.gateway.fail_next()
    with pytest.raises(GatewayError):
        start_checkout(shop)
    [order] = all_orders(shop)
    assert order.status is OrderStatus.CANCELLED
    assert order.failure_code == "gateway_error"
    assert order.stock_state is StockState.RELEASED
    assert stock(shop) == 5
    assert shop.gateway.intents == {}


def test_checkout_intent_with_a_key_is_created_once(shop: InMemoryShop) -> None:
    first = start_checkout(shop, key="cart-1")
    again = start_checkout(shop, key="cart-1")
    assert again.replayed
    assert again.body == first.body
    assert len(all_orders(shop)) == 1
    assert stock(shop) == 3
    with pytest.raises(IdempotencyKeyReused):
        start_checkout(shop, CartItem(shop.product_id, 1), key="cart-1")


def test_a_checkout_key_refused_for_lack_of_stock_can_be_used_again(shop: InMemoryShop) -> None:
    with pytest.raises(OutOfStock):
        start_checkout(shop, CartItem(shop.product_id, 6), key="cart-1")
    assert start_checkout(shop, CartItem(shop.product_id, 5), key="cart-1").outcome == "created"


# -- confirm_order -------------------------------------------------------------------------


def test_confirm_with_a_good_card_pays_the_order_and_takes_the_stock(shop: InMemoryShop) -> None:
    intent = start_checkout(shop).body
    result = confirm(shop, intent["intent_id"])
    assert result.outcome == "paid"
    assert not result.replayed
    assert result.body["order"]["status"] == "paid"
    assert result.body["order"]["amount_captured"] == {"amount": 3998, "currency": "USD"}
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAID
    assert order.stock_state is StockState.TAKEN
    assert stock(shop) == 3
    assert shop.gateway.intents[intent["intent_id"]].status is IntentStatus.SUCCEEDED
    assert shop.events.of("order.paid")[0]["order_id"] == order.id


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declined_card_fails_the_order_restores_stock_and_cancels_the_intent(
    shop: InMemoryShop, method: str, code: str
) -> None:
    intent = start_checkout(shop).body
    result = confirm(shop, intent["intent_id"], method)
    assert result.outcome == "declined"
    assert result.body["decline_code"] == code
    assert result.body["message"]
    assert result.body["order"]["status"] == "payment_failed"
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAYMENT_FAILED
    assert order.failure_code == code
    assert order.stock_state is StockState.RELEASED
    assert stock(shop) == 5
    # The declined intent can never be charged behind the failed order's back.
    assert shop.gateway.intents[intent["intent_id"]].status is IntentStatus.CANCELED


def test_a_failed_order_cannot_be_confirmed_again(shop: InMemoryShop) -> None:
    intent = start_checkout(shop).body
    confirm(shop, intent["intent_id"], "pm_card_chargeDeclined", key="k1")
    with pytest.raises(OrderNotPayable):
        confirm(shop, intent["intent_id"], "pm_card_visa", key="k2")
    assert stock(shop) == 5


def test_3ds_requires_action_then_the_webhook_marks_it_paid(shop: InMemoryShop) -> None:
    intent = start_checkout(shop).body
    result = confirm(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    assert result.outcome == "requires_action"
    assert result.body["client_secret"] == intent["client_secret"]
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    assert stock(shop) == 3

    shop.gateway.authenticate(intent["intent_id"], success=True)
    outcomes = deliver_webhooks(shop)

    assert EventOutcome.PROCESSED in outcomes
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAID
    assert order.stock_state is StockState.TAKEN
    assert stock(shop) == 3


def test_failed_3ds_authentication_fails_the_order_by_webhook(shop: InMemoryShop) -> None:
    intent = start_checkout(shop).body
    confirm(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    shop.gateway.authenticate(intent["intent_id"], success=False)
    deliver_webhooks(shop)
    order = order_of(shop, intent["order_id"])
    assert order.status is OrderStatus.PAYMENT_FAILED
    assert order.failure_code == "authentication_failed"
    assert stock(shop) == 5


def test_confirming_another_users_intent_is_not_found(shop: InMemoryShop) -> None:
    intent = start_checkout(shop, user=ALICE).body
    with pytest.raises(NotFound):
        confirm(shop, intent["intent_id"], user=BOB)
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    assert "confirm_intent" not in shop.gateway.calls
    # Bob's failed attempt burnt nothing: Alice pays normally.
    assert confirm(shop, intent["intent_id"], user=ALICE).outcome == "paid"


def test_an_unknown_intent_is_not_found(shop: InMemoryShop) -> None:
    with pytest.raises(NotFound):
        confirm(shop, "pi_does_not_exist")


def test_confirming_a_paid_order_with_a_new_key_answers_already_paid(shop: InMemoryShop) -> None:
    intent = start_checkout(shop).body
    confirm(shop, intent["intent_id"], key="k1")
    again = confirm(shop, intent["intent_id"], key="k2")
    assert again.outcome == "already_paid"
    assert not again.replayed
    assert stock(shop) == 3
    assert shop.gateway.calls.count("confirm_intent") == 1


def test_confirm_after_the_webhook_already_paid_answers_already_paid(shop: InMemoryShop) -> None:
    intent = start_checkout(shop).body
    # The shopper's browser confirmed directly with the gateway (Stripe.js) and the webhook won.
    shop.gateway.confirm_intent(
        intent["intent_id"], payment_method="pm_card_visa", idempotency_key="browser"
    )
    assert deliver_webhooks(shop) == [EventOutcome.PROCESSED]
    result = confirm(shop, intent["intent_id"])
    assert result.outcome == "already_paid"
    assert result.body["order"]["status"] == "paid"
    assert stock(shop) == 3


def test_gateway_outage_during_confirm_raises_and_leaves_the_order_payable(
    shop: InMemoryShop,
) -> None:
    intent = start_checkout(shop).body
    shop.gateway.fail_next()
    with pytest.raises(GatewayUnavailable):
        confirm(shop, intent["intent_id"], key="k1")
    assert order_of(shop, intent["order_id"]).status is OrderStatus.AWAITING_PAYMENT
    assert stock(shop) == 3
    # The same key may be retried: the first attempt left no stored answer behind.
    assert confirm(shop, intent["intent_id"], key="k1").outcome == "paid"


@pytest.mark.parametrize("method", ["", "x" * 256])
def test_a_malformed_payment_method_is_invalid_input(shop: InMemoryShop, method: str) -> None:
    intent = start_checkout(shop).body
    with pytest.raises(InvalidInput):
        confirm(shop, intent["intent_id"], method)


# -- regressions for bugs found by this suite -----------------------------------------------


class _WorkerDied(Exception):
    """The worker died right after the gateway created the intent."""


def _die_after_the_gateway_created_the_intent(shop: InMemoryShop) -> None:
    real_create = shop.gateway.create_intent

    def create_then_die(**kwargs: object) -> object:
        real_create(**kwargs)  # type: ignore[arg-type]
        raise _WorkerDied

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shop.gateway, "create_intent", create_then_die)
        with pytest.raises(_WorkerDied):
            start_checkout(shop, key="cart-1")


def test_a_takeover_of_an_abandoned_checkout_intent_resumes_the_same_order(
    shop: InMemoryShop,
) -> None:
    # Regression: the takeover used to place a second order and hold the stock twice.
    _die_after_the_gateway_created_the_intent(shop)
    with pytest.raises(IdempotencyRequestInProgress):
        start_checkout(shop, key="cart-1")
    shop.clock.advance(timedelta(seconds=31))
    resumed = start_checkout(shop, key="cart-1")

    assert resumed.outcome == "created"
    [order] = all_orders(shop)
    assert order.id == resumed.body["order_id"]
    assert order.intent_id == resumed.body["intent_id"]
    assert len(shop.gateway.intents) == 1  # same gateway key, same intent
    assert stock(shop) == 3
    assert confirm(shop, resumed.body["intent_id"]).outcome == "paid"


def test_a_takeover_of_a_checkout_whose_hold_has_ended_is_refused(shop: InMemoryShop) -> None:
    _die_after_the_gateway_created_the_intent(shop)
    shop.clock.advance(timedelta(minutes=16))
    release_expired_holds(**shop.ports)
    assert stock(shop) == 5
    with pytest.raises(OrderNotPayable):
        start_checkout(shop, key="cart-1")
    assert stock(shop) == 5
    # The refusal freed the key: the shopper starts over with it.
    assert start_checkout(shop, key="cart-1").outcome == "created"
