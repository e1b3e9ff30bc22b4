"""The contract's payment scenarios mapped onto the simulated gateway's test payment methods
(Stripe's), shared by the tests of both fakes built on ``commerce_core.simulated_gateway``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from commerce_core.testing import FakeGateway
from commerce_core.testing.contracts import PaymentScenario

SIMULATED_METHODS = {
    PaymentScenario.SUCCEEDS: "pm_card_visa",
    PaymentScenario.DECLINES: "pm_card_chargeDeclinedInsufficientFunds",
    PaymentScenario.NEEDS_ACTION: "pm_card_threeDSecure2Required",
    PaymentScenario.UNKNOWN_METHOD: "pm_card_that_does_not_exist",
}


class SimulatedGatewayScenarios:
    """``payment_method`` for a ``PaymentGatewayContract`` over a simulated gateway."""

    def payment_method(self, scenario: PaymentScenario) -> str:
        return SIMULATED_METHODS[scenario]


class FakeGatewayOutage:
    """``outage`` for a ``PaymentGatewayContract`` over the in-memory ``FakeGateway``."""

    @contextmanager
    def outage(self, gateway: FakeGateway) -> Iterator[None]:
        gateway.fail_next(1_000_000)
        try:
            yield
        finally:
            gateway.fail_next(0)
