"""``PaymentGatewayContract``: what every ``PaymentGateway`` does."""

from __future__ import annotations

from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.payments import GatewayRefundStatus, IntentStatus
from commerce_core.errors import GatewayError
from commerce_core.ports import PaymentGateway
from commerce_core.testing.contracts._support import new_key as _key
from commerce_core.testing.contracts._support import raises as _raises

__all__ = ["PaymentGatewayContract"]


class PaymentGatewayContract:
    """Every ``PaymentGateway`` behaves like this."""

    amount = Money(4200, "USD")

    def _intent(self, gateway: PaymentGateway) -> str:
        intent = gateway.create_intent(
            amount=self.amount, order_id=new_id("ord"), idempotency_key=_key()
        )
        return intent.id

    def test_created_intent_awaits_a_payment_method_for_the_amount(
        self, gateway: PaymentGateway
    ) -> None:
        intent = gateway.create_intent(amount=self.amount, order_id="ord_1", idempotency_key=_key())
        assert intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD
        assert intent.amount == self.amount
        assert intent.client_secret
        assert not intent.declined

    def test_create_with_the_same_key_returns_the_same_intent(
        self, gateway: PaymentGateway
    ) -> None:
        key = _key()
        first = gateway.create_intent(amount=self.amount, order_id="ord_1", idempotency_key=key)
        again = gateway.create_intent(amount=self.amount, order_id="ord_1", idempotency_key=key)
        assert again.id == first.id

    def test_confirm_with_a_good_card_succeeds(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        result = gateway.confirm_intent(
            intent_id, payment_method="pm_card_visa", idempotency_key=_key()
        )
        assert result.status is IntentStatus.SUCCEEDED
        assert result.amount == self.amount

    def test_confirming_a_succeeded_intent_again_is_success_not_error(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        again = gateway.confirm_intent(
            intent_id, payment_method="pm_card_visa", idempotency_key=_key()
        )
        assert again.status is IntentStatus.SUCCEEDED

    def test_confirm_with_the_same_key_returns_the_first_answer(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._intent(gateway)
        key = _key()
        first = gateway.confirm_intent(
            intent_id, payment_method="pm_card_chargeDeclined", idempotency_key=key
        )
        again = gateway.confirm_intent(
            intent_id, payment_method="pm_card_chargeDeclined", idempotency_key=key
        )
        assert (again.status, again.decline_code) == (first.status, first.decline_code)

    def test_a_declined_card_is_an_answer_not_an_error(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        result = gateway.confirm_intent(
            intent_id, payment_method="pm_card_chargeDeclined", idempotency_key=_key()
        )
        assert result.declined
        assert result.decline_code == "card_declined"

    def test_a_3ds_card_requires_action(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        result = gateway.confirm_intent(
            intent_id, payment_method="pm_card_threeDSecure2Required", idempotency_key=_key()
        )
        assert result.status is IntentStatus.REQUIRES_ACTION
        assert result.client_secret

    def test_a_canceled_intent_cannot_be_confirmed(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        assert (
            gateway.cancel_intent(intent_id, idempotency_key=_key()).status is IntentStatus.CANCELED
        )
        _raises(
            GatewayError,
            lambda: gateway.confirm_intent(
                intent_id, payment_method="pm_card_visa", idempotency_key=_key()
            ),
        )

    def test_cancelling_a_succeeded_intent_reports_it_succeeded(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        assert (
            gateway.cancel_intent(intent_id, idempotency_key=_key()).status
            is IntentStatus.SUCCEEDED
        )

    def test_partial_refunds_up_to_the_captured_amount(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        first = gateway.refund(intent_id, amount=Money(1200, "USD"), idempotency_key=_key())
        assert first.status is GatewayRefundStatus.SUCCEEDED
        assert first.amount == Money(1200, "USD")
        rest = gateway.refund(intent_id, amount=Money(3000, "USD"), idempotency_key=_key())
        assert rest.id != first.id
        _raises(
            GatewayError,
            lambda: gateway.refund(intent_id, amount=Money(1, "USD"), idempotency_key=_key()),
        )

    def test_refund_with_the_same_key_refunds_once(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        key = _key()
        first = gateway.refund(intent_id, amount=Money(4000, "USD"), idempotency_key=key)
        again = gateway.refund(intent_id, amount=Money(4000, "USD"), idempotency_key=key)
        assert again.id == first.id
        # Only 200 remain: had the retry refunded again, this would have failed already above.
        assert gateway.refund(intent_id, amount=Money(200, "USD"), idempotency_key=_key()).id

    def test_refund_before_capture_is_refused(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        _raises(
            GatewayError,
            lambda: gateway.refund(intent_id, amount=Money(100, "USD"), idempotency_key=_key()),
        )

    def test_unknown_intent_is_refused(self, gateway: PaymentGateway) -> None:
        _raises(
            GatewayError,
            lambda: gateway.confirm_intent(
                "pi_does_not_exist", payment_method="pm_card_visa", idempotency_key=_key()
            ),
        )
