"""The gateway contract is worth passing: deliberately broken adapters fail it, each on the very
promise it breaks, while the same adapter unbroken passes. (Each of these three passed the
contract as it stood before, written in Stripe's test ids.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from commerce_core import GatewayError, GatewayUnavailable, IntentStatus, Money, PaymentIntent
from commerce_core.simulated_gateway import DECLINES, SUCCEEDING_METHODS, THREE_DS_METHODS
from commerce_core.testing import FakeGateway
from commerce_core.testing.contracts import PaymentGatewayContract
from tests.support.simulated_scenarios import FakeGatewayOutage, SimulatedGatewayScenarios


class OutageReportedAsRefusal(FakeGateway):
    """Reports an unreachable provider as a definitive refusal: the core would then free a
    refund's reserved amount, or forget a confirm, whose outcome is in fact unknown."""

    def _enter(self, operation: str) -> None:
        try:
            super()._enter(operation)
        except GatewayUnavailable as down:
            raise GatewayError(str(down)) from None


class UnknownMethodReportedAsDecline(FakeGateway):
    """Answers a payment method it does not know with a decline: the core would fail the order
    and give its stock back for what is the client's typo, and tell the shopper "declined"."""

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        known = SUCCEEDING_METHODS | THREE_DS_METHODS | DECLINES.keys()
        if payment_method not in known:
            payment_method = "pm_card_chargeDeclined"
        return super().confirm_intent(
            intent_id, payment_method=payment_method, idempotency_key=idempotency_key
        )


class ConfirmIgnoringItsKey(FakeGateway):
    """Confirms afresh whatever key it is given: a retried confirm is a second attempt."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        self.attempts += 1
        return super().confirm_intent(
            intent_id,
            payment_method=payment_method,
            idempotency_key=f"{idempotency_key}-{self.attempts}",
        )


class Contract(SimulatedGatewayScenarios, FakeGatewayOutage, PaymentGatewayContract):
    """The contract over the in-memory fake gateway's instruments."""


OUTAGE_TESTS = [
    Contract.test_an_outage_while_creating_is_unavailability_and_a_retry_works,
    Contract.test_an_outage_while_confirming_is_unavailability_never_a_decline,
    Contract.test_an_outage_while_cancelling_is_unavailability_and_a_retry_works,
    Contract.test_an_outage_while_refunding_is_unavailability_and_the_retry_refunds_once,
]

BROKEN: list[tuple[type[FakeGateway], Callable[[Contract, FakeGateway], None]]] = [
    *((OutageReportedAsRefusal, test) for test in OUTAGE_TESTS),
    (
        UnknownMethodReportedAsDecline,
        Contract.test_an_unknown_payment_method_is_invalid_input_and_attempts_nothing,
    ),
    (
        ConfirmIgnoringItsKey,
        Contract.test_a_repeated_confirm_answers_the_first_answer_without_acting_again,
    ),
]


@pytest.mark.parametrize(
    ("broken", "test"), BROKEN, ids=[f"{b.__name__}-{t.__name__}" for b, t in BROKEN]
)
def test_the_contract_fails_a_broken_adapter_where_it_breaks(
    broken: type[FakeGateway], test: Callable[[Contract, FakeGateway], None]
) -> None:
    with pytest.raises(AssertionError):
        test(Contract(), broken())
    test(Contract(), FakeGateway())  # the same test passes the adapter unbroken


@pytest.mark.parametrize("broken", [OutageReportedAsRefusal, UnknownMethodReportedAsDecline])
def test_apart_from_its_flaw_each_broken_adapter_behaves(broken: type[FakeGateway]) -> None:
    # The breakages are narrow, not a gateway that does nothing right.
    gateway = broken()
    intent = gateway.create_intent(amount=Money(500, "EUR"), order_id="ord_1", idempotency_key="k")
    paid = gateway.confirm_intent(intent.id, payment_method="pm_card_visa", idempotency_key="c")
    assert paid.status is IntentStatus.SUCCEEDED
