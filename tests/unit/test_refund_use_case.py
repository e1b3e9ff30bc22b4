"""refund_order edge to edge: idempotent by key, audited, never past the capture, outage-safe."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from commerce_core import (
    AuditEntry,
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InvalidInput,
    Money,
    NotFound,
    Order,
    OrderNotRefundable,
    OrderStatus,
    RefundExceedsCaptured,
    RefundOrder,
    RefundStatus,
    Result,
    confirm_order,
    create_checkout_intent,
    refund_gateway_key,
    refund_order,
    verify_chain,
)
from commerce_core.testing import InMemoryShop
from tests.unit.hooked_gateway import HookedGateway, ProcessDied

ALICE = "usr_alice"
STAFF = "usr_staff"
OTHER_STAFF = "usr_staff_2"
PAST_LEASE = timedelta(seconds=31)


def paid_order_id(shop: InMemoryShop) -> str:
    """An order of two units ($39.98), paid."""
    body = create_checkout_intent(
        CreateCheckoutIntent(ALICE, (CartItem(shop.product_id, 2),)), **shop.ports
    ).body
    confirm_order(ConfirmOrder(ALICE, body["intent_id"], "pm_card_visa", "pay"), **shop.ports)
    return str(body["order_id"])


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def refund(
    shop: InMemoryShop,
    order_id: str,
    cents: int | None = None,
    *,
    key: str = "refund-1",
    actor: str = STAFF,
    reason: str = "",
) -> Result:
    amount = None if cents is None else usd(cents)
    return refund_order(
        RefundOrder(actor, order_id, amount, key, reason=reason, ip="203.0.113.9"), **shop.ports
    )


def order_of(shop: InMemoryShop, order_id: str) -> Order:
    with shop.uow as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


def audit_trail(shop: InMemoryShop) -> list[AuditEntry]:
    with shop.uow as uow:
        return list(uow.audit.all())


def test_a_full_refund_succeeds_and_refunds_the_order(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    result = refund(shop, order_id, reason="damaged")
    assert result.outcome == "succeeded"
    assert result.body["refund"]["amount"] == {"amount": 3998, "currency": "USD"}
    assert result.body["refund"]["status"] == "succeeded"
    assert result.body["refund"]["reason"] == "damaged"
    assert result.body["order"]["status"] == "refunded"
    order = order_of(shop, order_id)
    assert order.status is OrderStatus.REFUNDED
    assert order.refunded == usd(3998)
    [gateway_refund] = shop.gateway.refunds.values()
    assert gateway_refund.amount == usd(3998)
    assert order.refunds[0].gateway_refund_id == gateway_refund.id
    # A refund never puts stock back on the shelf by itself.
    assert shop.product(shop.product_id).stock == 3


def test_partial_refunds_add_up_to_the_capture_and_no_further(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    assert refund(shop, order_id, 1000, key="a").body["order"]["status"] == "partially_refunded"
    assert refund(shop, order_id, 2998, key="b").body["order"]["status"] == "refunded"
    with pytest.raises(RefundExceedsCaptured):
        refund(shop, order_id, 1, key="c")
    assert order_of(shop, order_id).refunded == usd(3998)
    assert len(shop.gateway.refunds) == 2


def test_second_refund_with_same_key_replays_and_refunds_once(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    first = refund(shop, order_id, 1000)
    again = refund(shop, order_id, 1000)
    assert again.replayed
    assert (again.outcome, again.body) == (first.outcome, first.body)
    assert len(shop.gateway.refunds) == 1
    assert order_of(shop, order_id).refunded == usd(1000)


def test_a_refund_key_reused_for_another_amount_is_refused(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    refund(shop, order_id, 1000)
    with pytest.raises(IdempotencyKeyReused):
        refund(shop, order_id, 2000)
    with pytest.raises(IdempotencyKeyReused):
        refund(shop, order_id, 1000, reason="another reason")
    assert order_of(shop, order_id).refunded == usd(1000)


def test_refund_keys_are_scoped_per_staff_member(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    refund(shop, order_id, 1000, actor=STAFF)
    second = refund(shop, order_id, 1000, actor=OTHER_STAFF)
    assert not second.replayed
    assert order_of(shop, order_id).refunded == usd(2000)


def test_an_amount_may_be_given_as_minor_units_of_the_order_currency(
    shop: InMemoryShop,
) -> None:
    order_id = paid_order_id(shop)
    command = RefundOrder(STAFF, order_id, 1000, "int-amount")
    result = refund_order(command, **shop.ports)
    assert result.body["refund"]["amount"] == {"amount": 1000, "currency": "USD"}
    assert refund_order(command, **shop.ports).replayed


@pytest.mark.parametrize("amount", [True, 10.5, "1000"])
def test_an_amount_that_is_not_money_nor_whole_minor_units_is_invalid(
    shop: InMemoryShop, amount: object
) -> None:
    order_id = paid_order_id(shop)
    with pytest.raises(InvalidInput):
        refund_order(RefundOrder(STAFF, order_id, amount, "bad"), **shop.ports)  # type: ignore[arg-type]
    assert order_of(shop, order_id).refunds == []


def test_an_over_refund_raises_and_records_nothing(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    with pytest.raises(RefundExceedsCaptured):
        refund(shop, order_id, 3999)
    assert order_of(shop, order_id).refunds == []
    assert shop.gateway.refunds == {}
    assert audit_trail(shop) == []


def test_an_unpaid_order_cannot_be_refunded(shop: InMemoryShop) -> None:
    body = create_checkout_intent(
        CreateCheckoutIntent(ALICE, (CartItem(shop.product_id, 1),)), **shop.ports
    ).body
    with pytest.raises(OrderNotRefundable):
        refund(shop, body["order_id"])
    assert "refund" not in shop.gateway.calls


def test_an_unknown_order_is_not_found(shop: InMemoryShop) -> None:
    with pytest.raises(NotFound):
        refund(shop, "ord_missing")


def test_a_too_long_reason_is_invalid_input(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    with pytest.raises(InvalidInput):
        refund(shop, order_id, 100, reason="x" * 501)


def test_every_refund_is_audited_on_a_verifiable_chain(shop: InMemoryShop) -> None:
    order_id = paid_order_id(shop)
    first = refund(shop, order_id, 1000, key="a")
    refund(shop, order_id, None, key="b")
    refund(shop, order_id, None, key="b")  # a replay is not a new action

    trail = audit_trail(shop)
    assert [e.action for e in trail] == [
        "refund.requested",
        "refund.succeeded",
        "refund.requested",
        "refund.succeeded",
    ]
    assert {e.actor for e in trail} == {STAFF}
    assert {e.target for e in trail} == {f"order:{order_id}"}
    assert {e.ip for e in trail} == {"203.0.113.9"}
    assert trail[0].details["refund_id"] == first.body["refund"]["id"]
    assert trail[0].details["amount"] == 1000
    assert verify_chain(trail) == (True, None)

    tampered = [*trail]
    tampered[1] = attrs.evolve(trail[1], details={**trail[1].details, "amount": 1})
    assert verify_chain(tampered) == (False, trail[1].id)
    assert verify_chain([trail[0], trail[2], trail[3]]) == (False, trail[2].id)


def test_gateway_outage_leaves_the_refund_pending_and_its_amount_reserved(
    shop: InMemoryShop,
) -> None:
    order_id = paid_order_id(shop)
    shop.gateway.fail_next()
    with pytest.raises(GatewayUnavailable):
        refund(shop, order_id, 3000, key="r1")
    order = order_of(shop, order_id)
    [pending] = order.refunds
    assert pending.status is RefundStatus.PENDING
    assert order.refundable == usd(998)
    assert order.refunded == usd(0)
    assert order.status is OrderStatus.PAID
    with pytest.raises(RefundExceedsCaptured):
        refund(shop, order_id, 999, key="r2")  # the reserved amount cannot be spent twice
    assert [e.action for e in audit_trail(shop)] == ["refund.requested"]


def test_a_retry_after_the_lease_resumes_the_same_refund_with_the_same_gateway_key(
    shop: InMemoryShop,
) -> None:
    order_id = paid_order_id(shop)
    shop.gateway.fail_next()
    with pytest.raises(GatewayUnavailable):
        refund(shop, order_id, 3000)
    [pending] = order_of(shop, order_id).refunds

    with pytest.raises(IdempotencyRequestInProgress):
        refund(shop, order_id, 3000)  # too soon: the first might still be running
    shop.clock.advance(PAST_LEASE)
    resumed = refund(shop, order_id, 3000)

    assert resumed.outcome == "succeeded"
    assert resumed.body["refund"]["id"] == pending.id
    [gateway_refund] = shop.gateway.refunds.values()
    assert gateway_refund.idempotency_key == refund_gateway_key(pending.id)
    order = order_of(shop, order_id)
    assert [r.status for r in order.refunds] == [RefundStatus.SUCCEEDED]
    assert order.refunded == usd(3000)
    assert refund(shop, order_id, 3000).replayed


def test_a_refund_whose_worker_died_after_the_gateway_refunded_is_not_refunded_twice(
    hooked_shop: InMemoryShop,
) -> None:
    shop = hooked_shop
    order_id = paid_order_id(shop)

    def die() -> None:
        raise ProcessDied

    assert isinstance(shop.gateway, HookedGateway)
    shop.gateway.after_refund = die
    with pytest.raises(ProcessDied):
        refund(shop, order_id, None)
    assert len(shop.gateway.refunds) == 1

    shop.clock.advance(PAST_LEASE)
    resumed = refund(shop, order_id, None)

    assert resumed.outcome == "succeeded"
    assert len(shop.gateway.refunds) == 1
    assert shop.gateway.intents[order_of(shop, order_id).intent_id or ""].amount_refunded == 3998
    order = order_of(shop, order_id)
    assert order.status is OrderStatus.REFUNDED
    assert len(order.refunds) == 1


def test_a_refund_the_gateway_refuses_does_not_stay_reserved_forever(
    shop: InMemoryShop,
) -> None:
    # Regression: a definitive GatewayError used to leave the refund pending for good.
    order_id = paid_order_id(shop)
    intent_id = order_of(shop, order_id).intent_id or ""
    # Someone refunded $10 from the gateway's dashboard; our ledger does not know.
    shop.gateway.refund(intent_id, amount=usd(1000), idempotency_key="dashboard")
    with pytest.raises(GatewayError) as refused:
        refund(shop, order_id, None)  # the gateway refuses: only $29.98 remain there
    assert not isinstance(refused.value, GatewayUnavailable)

    order = order_of(shop, order_id)
    assert [r.status for r in order.refunds] == [RefundStatus.FAILED]
    assert order.refundable == usd(3998)
    assert [e.action for e in audit_trail(shop)] == ["refund.requested", "refund.refused"]
    assert verify_chain(audit_trail(shop)) == (True, None)
    # The key is free again: the same request now asks the gateway anew (and is refused anew).
    with pytest.raises(GatewayError):
        refund(shop, order_id, None)
    # A refund that fits what the gateway still holds goes through.
    assert refund(shop, order_id, 2998, key="refund-2").outcome == "succeeded"
