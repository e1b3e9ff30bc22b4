"""``PaymentGatewayContract``: what every ``PaymentGateway`` does, in the shop's terms.

The suite speaks of scenarios - a card that succeeds, one that declines, one that needs the
buyer's action, a payment method the gateway does not know, the gateway out of reach - never of
one provider's test card ids, decline codes or currencies. An adapter's test maps each scenario
to its provider's own test instruments::

    class TestMyGateway(PaymentGatewayContract):
        amount = Money(4200, "EUR")  # any amount its sandbox accepts

        @pytest.fixture
        def gateway(self) -> MyGateway:
            return MyGateway(base_url=local_fake.url, ...)

        def payment_method(self, scenario: PaymentScenario) -> str:
            return {PaymentScenario.SUCCEEDS: "tok_ok", ...}[scenario]

        @contextmanager
        def outage(self, gateway: MyGateway) -> Iterator[None]:
            local_fake.answer_every_request_with(503)  # or a timeout, a refused connection
            try:
                yield
            finally:
                local_fake.recover()

Each test tells, in its name, a promise the core builds on; several exist because a
deliberately broken adapter passed an earlier, weaker suite (an outage reported as a refusal,
an unknown payment method reported as a decline, a confirm that ignored its idempotency key).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from contextlib import AbstractContextManager

import attrs

from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money, exponent_of
from commerce_core.domain.payments import GatewayRefundStatus, IntentStatus, PaymentIntent
from commerce_core.errors import GatewayError, GatewayUnavailable, InvalidInput
from commerce_core.ports import PaymentGateway
from commerce_core.testing.contracts._support import new_key, raises

__all__ = ["BuyerStep", "PaymentGatewayContract", "PaymentScenario"]


@attrs.frozen
class BuyerStep:
    """What the provider's client step produced: how the buyer pays, and its proof (if any)."""

    payment_method: str | None
    proof: str | None = None


class PaymentScenario(enum.Enum):
    SUCCEEDS = "a payment method that succeeds"
    DECLINES = "a card that the issuer declines"
    NEEDS_ACTION = "a payment that needs the buyer's action (3-D Secure, approval)"
    UNKNOWN_METHOD = "a payment method the gateway does not know"


def _refused(call: Callable[[], object]) -> GatewayError:
    """A definitive refusal: ``GatewayError``, and not the "try again" of an outage."""
    error = raises(GatewayError, call)
    assert not isinstance(error, GatewayUnavailable), (
        f"a definitive refusal was reported as an outage: {error!r}"
    )
    return error


class PaymentGatewayContract:
    """Every ``PaymentGateway`` behaves like this. Subclasses provide the fixture ``gateway``,
    ``payment_method(scenario)`` and ``outage(gateway)``, and may set ``amount``."""

    amount = Money(4200, "EUR")

    # -- what an adapter's test provides ---------------------------------------------------

    def payment_method(self, scenario: PaymentScenario) -> str:
        """The provider's test instrument for ``scenario``."""
        raise NotImplementedError("map each PaymentScenario to a test payment method")

    def buyer_step(
        self, gateway: PaymentGateway, intent_id: str, scenario: PaymentScenario
    ) -> BuyerStep:
        """What the buyer's client step produces for ``scenario`` on ``intent_id``. By default
        ``payment_method(scenario)`` without proof; a provider whose buyer pays in its own page
        first (Razorpay Checkout, PayPal's approval) overrides it to do that step against its
        test instance and return what the page hands back."""
        return BuyerStep(self.payment_method(scenario))

    def outage(self, gateway: PaymentGateway) -> AbstractContextManager[None]:
        """Within the block, every call finds the provider out of reach (refused connection,
        timeout, 5xx, 429): whatever the adapter's transport sees when the provider is down."""
        raise NotImplementedError("simulate the provider being out of reach")

    # -- helpers ---------------------------------------------------------------------------

    @property
    def _part(self) -> Money:
        """About a third of ``amount``, a multiple of 10 minor units for three-decimal
        currencies (card networks want their last digit 0)."""
        step = 10 if exponent_of(self.amount.currency) == 3 else 1
        return Money(max(step, self.amount.amount // 3 // step * step), self.amount.currency)

    def _intent(self, gateway: PaymentGateway) -> PaymentIntent:
        return gateway.create_intent(
            amount=self.amount, order_id=new_id("ord"), idempotency_key=new_key()
        )

    def _confirm(
        self,
        gateway: PaymentGateway,
        intent_id: str,
        scenario: PaymentScenario,
        key: str | None = None,
        step: BuyerStep | None = None,
    ) -> PaymentIntent:
        step = step or self.buyer_step(gateway, intent_id, scenario)
        return gateway.confirm_intent(
            intent_id,
            payment_method=step.payment_method,
            idempotency_key=key or new_key(),
            proof=step.proof,
        )

    def _captured(self, gateway: PaymentGateway) -> str:
        intent = self._intent(gateway)
        assert self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS).status is (
            IntentStatus.SUCCEEDED
        )
        return intent.id

    # -- creating ---------------------------------------------------------------------------

    def test_the_gateway_has_a_stable_name(self, gateway: PaymentGateway) -> None:
        assert isinstance(gateway.name, str)
        assert gateway.name
        assert gateway.name == gateway.name

    def test_a_new_intent_awaits_a_payment_method_for_its_amount(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self._intent(gateway)
        assert intent.id
        assert intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD
        assert intent.amount == self.amount
        assert not intent.declined
        assert intent.action is None

    def test_creating_again_with_the_same_key_gives_the_same_intent(
        self, gateway: PaymentGateway
    ) -> None:
        key, order_id = new_key(), new_id("ord")
        first = gateway.create_intent(amount=self.amount, order_id=order_id, idempotency_key=key)
        again = gateway.create_intent(amount=self.amount, order_id=order_id, idempotency_key=key)
        assert again.id == first.id

    def test_creating_with_another_key_gives_another_intent(self, gateway: PaymentGateway) -> None:
        assert self._intent(gateway).id != self._intent(gateway).id

    # -- confirming -------------------------------------------------------------------------

    def test_a_payment_method_that_succeeds_captures_the_amount(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self._intent(gateway)
        result = self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS)
        assert result.id == intent.id
        assert result.status is IntentStatus.SUCCEEDED
        assert result.amount == self.amount
        assert not result.declined

    def test_confirming_a_captured_intent_again_answers_it_captured(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._captured(gateway)
        again = self._confirm(gateway, intent_id, PaymentScenario.SUCCEEDS)
        assert again.status is IntentStatus.SUCCEEDED

    def test_a_declined_card_is_an_answer_not_an_error(self, gateway: PaymentGateway) -> None:
        intent = self._intent(gateway)
        result = self._confirm(gateway, intent.id, PaymentScenario.DECLINES)
        assert result.declined
        assert result.decline_code
        assert result.status is IntentStatus.REQUIRES_PAYMENT_METHOD

    def test_a_payment_needing_the_buyers_action_says_what_the_buyer_must_do(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self._intent(gateway)
        result = self._confirm(gateway, intent.id, PaymentScenario.NEEDS_ACTION)
        assert result.status is IntentStatus.REQUIRES_ACTION
        assert result.action is not None
        assert result.action.client_secret or result.action.redirect_url
        assert not result.declined

    def test_a_repeated_confirm_answers_the_first_answer_without_acting_again(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self._intent(gateway)
        key = new_key()
        declining = self.buyer_step(gateway, intent.id, PaymentScenario.DECLINES)
        first = self._confirm(gateway, intent.id, PaymentScenario.DECLINES, key, declining)
        assert first.declined
        paid = self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS)
        assert paid.status is IntentStatus.SUCCEEDED
        # The same request under the same key: the stored first answer, not a new attempt
        # (which would now answer "captured").
        again = self._confirm(gateway, intent.id, PaymentScenario.DECLINES, key, declining)
        assert (again.status, again.decline_code) == (first.status, first.decline_code)

    def test_an_unknown_payment_method_is_invalid_input_and_attempts_nothing(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self._intent(gateway)
        error = raises(
            InvalidInput,
            lambda: self._confirm(gateway, intent.id, PaymentScenario.UNKNOWN_METHOD),
        )
        assert [e.field for e in error.errors] == ["payment_method"]
        # Nothing was declined or canceled: the buyer can still pay with a good method.
        paid = self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS)
        assert paid.status is IntentStatus.SUCCEEDED

    def test_a_canceled_intent_cannot_be_confirmed(self, gateway: PaymentGateway) -> None:
        intent = self._intent(gateway)
        canceled = gateway.cancel_intent(intent.id, idempotency_key=new_key())
        assert canceled.status is IntentStatus.CANCELED
        _refused(lambda: self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS))

    def test_an_unknown_intent_is_refused(self, gateway: PaymentGateway) -> None:
        missing = f"{self._intent(gateway).id}x"
        _refused(lambda: self._confirm(gateway, missing, PaymentScenario.SUCCEEDS))

    # -- cancelling -------------------------------------------------------------------------

    def test_cancelling_a_captured_intent_answers_it_captured(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._captured(gateway)
        answer = gateway.cancel_intent(intent_id, idempotency_key=new_key())
        assert answer.status is IntentStatus.SUCCEEDED

    def test_cancelling_twice_answers_canceled(self, gateway: PaymentGateway) -> None:
        intent = self._intent(gateway)
        gateway.cancel_intent(intent.id, idempotency_key=new_key())
        again = gateway.cancel_intent(intent.id, idempotency_key=new_key())
        assert again.status is IntentStatus.CANCELED

    # -- refunding --------------------------------------------------------------------------

    def test_partial_refunds_up_to_the_captured_amount_then_a_refusal(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._captured(gateway)
        part, rest = self._part, self.amount - self._part
        first = gateway.refund(intent_id, amount=part, idempotency_key=new_key())
        assert first.status is GatewayRefundStatus.SUCCEEDED
        assert first.amount == part
        assert first.intent_id == intent_id
        second = gateway.refund(intent_id, amount=rest, idempotency_key=new_key())
        assert second.id != first.id
        one = Money(10 if exponent_of(part.currency) == 3 else 1, part.currency)
        _refused(lambda: gateway.refund(intent_id, amount=one, idempotency_key=new_key()))

    def test_a_repeated_refund_refunds_once(self, gateway: PaymentGateway) -> None:
        intent_id = self._captured(gateway)
        key, rest = new_key(), self.amount - self._part
        first = gateway.refund(intent_id, amount=rest, idempotency_key=key)
        again = gateway.refund(intent_id, amount=rest, idempotency_key=key)
        assert again.id == first.id
        # What remains is exactly the part: had the retry refunded again, this would fail.
        assert gateway.refund(intent_id, amount=self._part, idempotency_key=new_key()).id

    def test_a_refund_before_capture_is_refused(self, gateway: PaymentGateway) -> None:
        intent = self._intent(gateway)
        _refused(lambda: gateway.refund(intent.id, amount=self._part, idempotency_key=new_key()))

    # -- reading back ------------------------------------------------------------------------

    def test_an_intent_reads_back_as_the_gateway_sees_it(self, gateway: PaymentGateway) -> None:
        intent = self._intent(gateway)
        fresh = gateway.get_intent(intent.id)
        assert (fresh.id, fresh.status, fresh.amount) == (
            intent.id,
            IntentStatus.REQUIRES_PAYMENT_METHOD,
            self.amount,
        )
        self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS)
        assert gateway.get_intent(intent.id).status is IntentStatus.SUCCEEDED
        _refused(lambda: gateway.get_intent(f"{intent.id}x"))

    def test_a_refund_reads_back_as_the_gateway_sees_it(self, gateway: PaymentGateway) -> None:
        intent_id = self._captured(gateway)
        refund = gateway.refund(intent_id, amount=self._part, idempotency_key=new_key())
        fresh = gateway.get_refund(intent_id, refund.id)
        assert (fresh.id, fresh.intent_id, fresh.amount) == (refund.id, intent_id, self._part)
        assert fresh.status in (GatewayRefundStatus.PENDING, GatewayRefundStatus.SUCCEEDED)
        _refused(lambda: gateway.get_refund(intent_id, f"{refund.id}x"))

    # -- the provider out of reach ------------------------------------------------------------

    def test_an_outage_while_reading_back_is_unavailability(self, gateway: PaymentGateway) -> None:
        intent = self._intent(gateway)
        with self.outage(gateway):
            raises(GatewayUnavailable, lambda: gateway.get_intent(intent.id))
        assert gateway.get_intent(intent.id).id == intent.id

    def test_an_outage_while_creating_is_unavailability_and_a_retry_works(
        self, gateway: PaymentGateway
    ) -> None:
        key, order_id = new_key(), new_id("ord")
        with self.outage(gateway):
            raises(
                GatewayUnavailable,
                lambda: gateway.create_intent(
                    amount=self.amount, order_id=order_id, idempotency_key=key
                ),
            )
        intent = gateway.create_intent(amount=self.amount, order_id=order_id, idempotency_key=key)
        assert intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD

    def test_an_outage_while_confirming_is_unavailability_never_a_decline(
        self, gateway: PaymentGateway
    ) -> None:
        intent, key = self._intent(gateway), new_key()
        step = self.buyer_step(gateway, intent.id, PaymentScenario.SUCCEEDS)
        with self.outage(gateway):
            raises(
                GatewayUnavailable,
                lambda: self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS, key, step),
            )
        paid = self._confirm(gateway, intent.id, PaymentScenario.SUCCEEDS, key, step)
        assert paid.status is IntentStatus.SUCCEEDED

    def test_an_outage_while_cancelling_is_unavailability_and_a_retry_works(
        self, gateway: PaymentGateway
    ) -> None:
        intent = self._intent(gateway)
        with self.outage(gateway):
            raises(
                GatewayUnavailable,
                lambda: gateway.cancel_intent(intent.id, idempotency_key=new_key()),
            )
        assert gateway.cancel_intent(intent.id, idempotency_key=new_key()).status is (
            IntentStatus.CANCELED
        )

    def test_an_outage_while_refunding_is_unavailability_and_the_retry_refunds_once(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id, key = self._captured(gateway), new_key()
        with self.outage(gateway):
            raises(
                GatewayUnavailable,
                lambda: gateway.refund(intent_id, amount=self.amount, idempotency_key=key),
            )
        refund = gateway.refund(intent_id, amount=self.amount, idempotency_key=key)
        assert refund.amount == self.amount
        assert gateway.refund(intent_id, amount=self.amount, idempotency_key=key).id == refund.id
