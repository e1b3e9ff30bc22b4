"""confirm_order is idempotent by key: replays, reuse, duplicates in flight, abandoned attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core import (
    CartItem,
    ConfirmOrder,
    ConfirmOutcome,
    CreateCheckoutIntent,
    EventKind,
    EventOutcome,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    IntentStatus,
    InvalidInput,
    Money,
    OrderStatus,
    PaymentIntent,
    Result,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
)
from commerce_core.testing import FakeGateway, InMemoryShop
from tests.unit.hooked_gateway import HookedGateway, ProcessDied

ALICE = "usr_alice"
BOB = "usr_bob"
LEASE = timedelta(seconds=30)


def start_checkout(shop: InMemoryShop, user: str = ALICE) -> dict[str, str]:
    result = create_checkout_intent(
        CreateCheckoutIntent(user, (CartItem(shop.product_id, 2),)), **shop.ports
    )
    return result.body


def confirm(
    shop: InMemoryShop,
    intent_id: str,
    payment_method: str | None = "pm_card_visa",
    *,
    key: str = "confirm-1",
    user: str = ALICE,
) -> Result[ConfirmOutcome]:
    return confirm_order(ConfirmOrder(user, intent_id, payment_method, key), **shop.ports)


def succeeded_events(shop: InMemoryShop, intent_id: str) -> int:
    return sum(
        1
        for e in shop.gateway.outbox
        if e.intent_id == intent_id and e.kind is EventKind.PAYMENT_SUCCEEDED
    )


def test_second_confirm_with_same_key_replays_first_response(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    first = confirm(shop, intent["intent_id"])
    shop.clock.advance(timedelta(minutes=3))
    again = confirm(shop, intent["intent_id"])
    assert again.replayed is True
    assert first.replayed is False
    assert (again.outcome, again.body) == (first.outcome, first.body)
    assert shop.gateway.calls.count("confirm_intent") == 1
    assert shop.product(shop.product_id).stock == 3


def test_a_declined_confirm_replays_as_declined(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    first = confirm(shop, intent["intent_id"], "pm_card_chargeDeclined")
    again = confirm(shop, intent["intent_id"], "pm_card_chargeDeclined")
    assert again.replayed
    assert again.outcome == first.outcome == "declined"
    assert again.body == first.body


def test_a_replayed_outcome_is_the_use_cases_enum_not_a_string(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    first = confirm(shop, intent["intent_id"])
    again = confirm(shop, intent["intent_id"])
    # Drivers match on enum members; a replay rebuilt as a bare str would slip past every case.
    assert type(first.outcome) is ConfirmOutcome
    assert type(again.outcome) is ConfirmOutcome
    assert again.outcome is ConfirmOutcome.PAID


def test_a_replay_is_the_first_answer_even_after_the_order_moved_on(shop: InMemoryShop) -> None:
    intent = start_checkout(shop)
    first = confirm(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    shop.gateway.authenticate(intent["intent_id"])
    for event in shop.gateway.take_events():
        handle_gateway_event(event, **shop.ports)
    again = confirm(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    assert again.outcome == "requires_action"
    assert again.body == first.body  # the stored answer, not a fresh look at the order


@pytest.mark.parametrize(
    ("payment_method", "intent_suffix"),
    [("pm_card_mastercard", ""), (None, ""), ("pm_card_visa", "_other")],
)
def test_same_key_with_a_different_request_is_refused(
    shop: InMemoryShop, payment_method: str | None, intent_suffix: str
) -> None:
    intent = start_checkout(shop)
    first = confirm(shop, intent["intent_id"], "pm_card_visa")
    with pytest.raises(IdempotencyKeyReused):
        confirm(shop, intent["intent_id"] + intent_suffix, payment_method)
    # The stored answer is untouched.
    assert confirm(shop, intent["intent_id"], "pm_card_visa").body == first.body


def test_keys_are_scoped_per_user(shop: InMemoryShop) -> None:
    alices = start_checkout(shop, ALICE)
    bobs = start_checkout(shop, BOB)
    assert confirm(shop, alices["intent_id"], key="same", user=ALICE).outcome == "paid"
    bob = confirm(shop, bobs["intent_id"], key="same", user=BOB)
    assert bob.outcome == "paid"
    assert not bob.replayed


def test_two_shops_on_one_gateway_account_do_not_share_gateway_answers() -> None:
    # Staging beside production, or a development database reset: same user id, same key,
    # different orders, one provider account. The second must be charged, not replayed.
    first = InMemoryShop.with_demo_product(stock=5, price=Money(1999, "USD"))
    second = InMemoryShop(clock=first.clock, gateway=first.gateway)
    second.product_id = second.add_product(stock=5, price=Money(1999, "USD")).id
    for each in (first, second):
        intent = start_checkout(each)
        assert confirm(each, intent["intent_id"], key="same").outcome is ConfirmOutcome.PAID
        assert each.gateway.get_intent(intent["intent_id"]).status is IntentStatus.SUCCEEDED


@pytest.mark.parametrize("key", ["", "   ", "k" * 256, "tab\there"])
def test_a_malformed_key_is_invalid_input(shop: InMemoryShop, key: str) -> None:
    intent = start_checkout(shop)
    with pytest.raises(InvalidInput):
        confirm(shop, intent["intent_id"], key=key)
    assert shop.gateway.calls.count("confirm_intent") == 0


def test_a_duplicate_arriving_while_the_first_is_in_flight_is_told_to_retry(
    hooked_shop: InMemoryShop,
) -> None:
    shop = hooked_shop
    intent = start_checkout(shop)
    duplicates: list[BaseException] = []

    def double_click() -> None:
        try:
            confirm(shop, intent["intent_id"])
        except IdempotencyRequestInProgress as exc:
            duplicates.append(exc)

    assert isinstance(shop.gateway, HookedGateway)
    shop.gateway.after_confirm = double_click
    first = confirm(shop, intent["intent_id"])

    assert len(duplicates) == 1
    assert first.outcome == "paid"
    assert shop.gateway.calls.count("confirm_intent") == 1
    # Once the first finished, the duplicate's retry gets its answer.
    assert confirm(shop, intent["intent_id"]) == Result(first.outcome, first.body, replayed=True)


def test_an_abandoned_confirm_is_taken_over_after_the_lease_without_charging_twice(
    hooked_shop: InMemoryShop,
) -> None:
    shop = hooked_shop
    intent = start_checkout(shop)

    def die() -> None:
        raise ProcessDied

    assert isinstance(shop.gateway, HookedGateway)
    shop.gateway.after_confirm = die
    with pytest.raises(ProcessDied):
        confirm(shop, intent["intent_id"])
    # Charged at the gateway, not yet recorded by us.
    assert shop.gateway.intents[intent["intent_id"]].status is IntentStatus.SUCCEEDED
    with shop.uow as uow:
        order = uow.orders.get(intent["order_id"])
    assert order is not None
    assert order.status is OrderStatus.AWAITING_PAYMENT

    shop.clock.advance(LEASE)  # exactly the lease: the first attempt may still be running
    with pytest.raises(IdempotencyRequestInProgress):
        confirm(shop, intent["intent_id"])

    shop.clock.advance(timedelta(seconds=1))
    resumed = confirm(shop, intent["intent_id"])

    assert resumed.outcome == "paid"
    assert not resumed.replayed
    assert succeeded_events(shop, intent["intent_id"]) == 1  # one charge
    assert shop.product(shop.product_id).stock == 3  # stock taken once
    # The gateway's own success event, delivered late, changes nothing.
    outcomes = [handle_gateway_event(e, **shop.ports) for e in shop.gateway.take_events()]
    assert EventOutcome.PROCESSED not in outcomes
    assert shop.product(shop.product_id).stock == 3
    assert confirm(shop, intent["intent_id"]).body == resumed.body


def test_a_takeover_resumes_with_the_same_gateway_idempotency_key(
    hooked_shop: InMemoryShop,
) -> None:
    shop = hooked_shop
    intent = start_checkout(shop)
    seen_keys: list[str] = []
    original = FakeGateway.confirm_intent

    def spy(
        self: FakeGateway, intent_id: str, *, payment_method: str | None, idempotency_key: str
    ) -> PaymentIntent:
        seen_keys.append(idempotency_key)
        return original(
            self, intent_id, payment_method=payment_method, idempotency_key=idempotency_key
        )

    def die() -> None:
        raise ProcessDied

    assert isinstance(shop.gateway, HookedGateway)
    shop.gateway.after_confirm = die
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FakeGateway, "confirm_intent", spy)
        with pytest.raises(ProcessDied):
            confirm(shop, intent["intent_id"])
        shop.clock.advance(LEASE + timedelta(seconds=1))
        confirm(shop, intent["intent_id"])
    assert len(seen_keys) == 2
    assert seen_keys[0] == seen_keys[1]


def test_an_abandoned_3ds_confirm_resumes_as_requires_action(hooked_shop: InMemoryShop) -> None:
    shop = hooked_shop
    intent = start_checkout(shop)

    def die() -> None:
        raise ProcessDied

    assert isinstance(shop.gateway, HookedGateway)
    shop.gateway.after_confirm = die
    with pytest.raises(ProcessDied):
        confirm(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    shop.clock.advance(timedelta(minutes=1))
    resumed = confirm(shop, intent["intent_id"], "pm_card_threeDSecure2Required")
    assert resumed.outcome == "requires_action"
