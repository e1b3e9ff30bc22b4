"""``FakeGateway``: an in-memory Stripe-like payment gateway (the ``PaymentGateway`` and
``GatewayEventParser`` ports), applying the rules of ``commerce_core.simulated_gateway``."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime

from commerce_core.domain.money import Money
from commerce_core.domain.payments import EventKind, GatewayEvent, GatewayRefund, PaymentIntent
from commerce_core.errors import CommerceError, GatewayError, GatewayUnavailable, InvalidWebhook
from commerce_core.simulated_gateway import SimulatedEvent, SimulatedIntent, SimulatedRefund
from commerce_core.testing.clock import FakeClock

__all__ = ["FakeGateway", "to_gateway_event"]


class FakeGateway:
    """An in-memory Stripe-like gateway (``PaymentGateway`` and ``GatewayEventParser``).

    Idempotent like Stripe: a repeated idempotency key returns the first answer. Every state
    change appends the event a real gateway would send to ``outbox``; ``parse_event`` accepts
    ``event_payload(event)`` bytes signed with ``secret``. Knobs for tests: ``fail_next`` makes
    the next calls raise ``GatewayUnavailable``; ``name`` tells two fakes apart in a registry.
    """

    def __init__(
        self,
        clock: FakeClock | None = None,
        secret: str = "whsec_test",  # noqa: S107 - a test fake
        name: str = "fake",
    ) -> None:
        self.name = name
        self._clock = clock
        self.secret = secret
        self.intents: dict[str, SimulatedIntent] = {}
        self.refunds: dict[str, SimulatedRefund] = {}
        self.outbox: list[GatewayEvent] = []
        self.calls: list[str] = []
        self._answers: dict[tuple[str, str], object] = {}
        self._failures = 0
        self._lock = threading.RLock()

    def _now(self) -> datetime:
        return self._clock.now() if self._clock else datetime.now(UTC)

    def fail_next(self, times: int = 1) -> None:
        with self._lock:
            self._failures = times

    def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        if self._failures > 0:
            self._failures -= 1
            raise GatewayUnavailable(f"simulated outage during {operation}")

    def _remember(self, operation: str, key: str) -> object | None:
        return self._answers.get((operation, key))

    def _publish(self, events: list[SimulatedEvent]) -> None:
        self.outbox.extend(to_gateway_event(e, self.name) for e in events)

    def _intent(self, intent_id: str) -> SimulatedIntent:
        try:
            return self.intents[intent_id]
        except KeyError:
            raise GatewayError(f"no such payment intent: {intent_id}") from None

    def create_intent(self, *, amount: Money, order_id: str, idempotency_key: str) -> PaymentIntent:
        with self._lock:
            self._enter("create_intent")
            if (answer := self._remember("create", idempotency_key)) is not None:
                return self.intents[str(answer)].to_intent()
            intent = SimulatedIntent.create(amount, order_id)
            self.intents[intent.id] = intent
            self._answers[("create", idempotency_key)] = intent.id
            return intent.to_intent()

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        with self._lock:
            self._enter("confirm_intent")
            if (answer := self._remember("confirm", idempotency_key)) is not None:
                assert isinstance(answer, PaymentIntent)
                return answer
            intent = self._intent(intent_id)
            self._publish(intent.confirm(payment_method, self._now()))
            result = intent.to_intent()
            self._answers[("confirm", idempotency_key)] = result
            return result

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        with self._lock:
            self._enter("cancel_intent")
            intent = self._intent(intent_id)
            self._publish(intent.cancel(self._now()))
            return intent.to_intent()

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        with self._lock:
            self._enter("refund")
            if (answer := self._remember("refund", idempotency_key)) is not None:
                return self.refunds[str(answer)].to_refund()
            refund, events = self._intent(intent_id).refund(amount, idempotency_key, self._now())
            self.refunds[refund.id] = refund
            self._answers[("refund", idempotency_key)] = refund.id
            self._publish(events)
            return refund.to_refund()

    def get_intent(self, intent_id: str) -> PaymentIntent:
        with self._lock:
            self._enter("get_intent")
            return self._intent(intent_id).to_intent()

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        with self._lock:
            self._enter("get_refund")
            refund = self.refunds.get(refund_id)
            if refund is None or refund.intent_id != intent_id:
                raise GatewayError(f"no refund {refund_id} of payment intent {intent_id}")
            return refund.to_refund()

    def authenticate(self, intent_id: str, *, success: bool = True) -> PaymentIntent:
        """The shopper passes (or fails) the 3-D Secure challenge on the gateway's page."""
        with self._lock:
            intent = self._intent(intent_id)
            self._publish(intent.authenticate(success, self._now()))
            return intent.to_intent()

    def take_events(self) -> list[GatewayEvent]:
        with self._lock:
            events, self.outbox = self.outbox, []
            return events

    # -- GatewayEventParser: events as JSON, signed with HMAC-SHA256 over the raw body -------

    def encode_event(self, event: GatewayEvent) -> bytes:
        """The body this gateway would send for ``event``."""
        document = {
            "id": event.id,
            "kind": event.kind.value,
            "type": event.raw_type,
            "intent_id": event.intent_id,
            "created": event.created_at.isoformat(),
            "amount": None if event.amount is None else event.amount.to_primitive(),
            "refund_id": event.refund_id,
            "refund_key": event.refund_key,
            "decline_code": event.decline_code,
        }
        return json.dumps(document, sort_keys=True).encode()

    def sign(self, body: bytes) -> dict[str, str]:
        """The headers this gateway sends with ``body``."""
        return {SIGNATURE_HEADER: _hmac(self.secret, body)}

    def event_payload(self, event: GatewayEvent) -> tuple[bytes, dict[str, str]]:
        """``event`` as it would arrive: its body and headers."""
        body = self.encode_event(event)
        return body, self.sign(body)

    def parse_event(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        wanted = SIGNATURE_HEADER.lower()
        signature = next((v for k, v in headers.items() if k.lower() == wanted), "")
        if not hmac.compare_digest(signature.encode(), _hmac(self.secret, payload).encode()):
            raise InvalidWebhook("bad signature")
        try:
            document = json.loads(payload)
            kind = document["kind"]
            amount = document["amount"]
            return GatewayEvent(
                id=_text(document["id"]),
                kind=EventKind(kind) if kind in _KINDS else EventKind.IGNORED,
                gateway=self.name,
                intent_id=_optional_text(document["intent_id"]),
                created_at=datetime.fromisoformat(_text(document["created"])),
                raw_type=_text(document["type"]),
                amount=None if amount is None else Money(amount["amount"], amount["currency"]),
                refund_id=_optional_text(document["refund_id"]),
                refund_key=_optional_text(document["refund_key"]),
                decline_code=_optional_text(document["decline_code"]),
            )
        except (ValueError, KeyError, TypeError, CommerceError) as exc:
            raise InvalidWebhook(f"not an event: {exc}") from None


SIGNATURE_HEADER = "Fake-Signature"
_KINDS = frozenset(kind.value for kind in EventKind)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def to_gateway_event(event: SimulatedEvent, gateway: str) -> GatewayEvent:
    return GatewayEvent(
        id=event.id,
        kind=event.kind,
        gateway=gateway,
        intent_id=event.intent_id,
        created_at=event.created_at,
        raw_type=event.raw_type,
        amount=event.amount,
        refund_id=event.refund_id,
        refund_key=event.refund_key,
        decline_code=event.decline_code,
    )
