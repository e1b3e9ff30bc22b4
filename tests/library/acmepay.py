"""AcmePay: a third-party payment gateway written against ``commerce_core``'s public surface only,
as a library user would write one for a provider the shop does not ship.

AcmePay is imaginary and has its own vocabulary - charges, not intents; instruments named
``acme-...``; a redirect for the buyer's challenge, not a client secret; its own webhook
format and ``Acme-Signature`` header. It keeps its ledger in memory: the provider's servers,
for the purpose of this example.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime

from commerce_core import (
    BuyerAction,
    EventKind,
    FieldError,
    GatewayError,
    GatewayEvent,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayUnavailable,
    IntentStatus,
    InvalidInput,
    InvalidWebhook,
    Money,
    PaymentIntent,
)

SIGNATURE_HEADER = "Acme-Signature"
INSTRUMENTS = {"acme-ok": "ok", "acme-insufficient": "insufficient", "acme-challenge": "challenge"}
# AcmePay's webhook vocabulary, in the core's terms.
WHAT = {
    "charge.settled": EventKind.PAYMENT_SUCCEEDED,
    "charge.rejected": EventKind.PAYMENT_FAILED,
    "charge.voided": EventKind.PAYMENT_CANCELED,
    "refund.done": EventKind.REFUND_SUCCEEDED,
    "refund.bounced": EventKind.REFUND_FAILED,
}
_STATUS = {
    "open": IntentStatus.REQUIRES_PAYMENT_METHOD,
    "challenge": IntentStatus.REQUIRES_ACTION,
    "settled": IntentStatus.SUCCEEDED,
    "void": IntentStatus.CANCELED,
}


class AcmePay:
    """``PaymentGateway`` and ``GatewayEventParser`` for AcmePay."""

    name = "acmepay"

    def __init__(self, webhook_key: str = "acme-webhook-key") -> None:
        self._key = webhook_key.encode()
        self.offline = False  # the provider's servers out of reach
        self.charges: dict[str, dict[str, object]] = {}
        self.refunds: dict[str, GatewayRefund] = {}
        self.outbox: list[tuple[bytes, dict[str, str]]] = []  # webhooks it would POST
        self._answers: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    # -- PaymentGateway ------------------------------------------------------------------------

    def create_intent(self, *, amount: Money, order_id: str, idempotency_key: str) -> PaymentIntent:
        with self._call("create", idempotency_key) as remember:
            if remember.answer is None:
                charge_id = f"ch_{secrets.token_hex(8)}"
                self.charges[charge_id] = {
                    "state": "open", "amount": amount, "reference": order_id, "refunded": 0,
                    "last_error": None,
                }  # fmt: skip
                remember.answer = charge_id
            return self._intent(str(remember.answer))

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        with self._call("confirm", idempotency_key) as remember:
            if remember.answer is None:
                charge = self._charge(intent_id)
                if payment_method not in INSTRUMENTS:
                    raise InvalidInput(errors=[FieldError("payment_method", "unknown to AcmePay")])
                if charge["state"] == "void":
                    raise GatewayError(f"charge {intent_id} is void")
                if charge["state"] == "open":
                    outcome = INSTRUMENTS[payment_method]
                    charge["last_error"] = (
                        "insufficient_funds" if outcome == "insufficient" else None
                    )
                    if outcome == "ok":
                        self._settle(intent_id)
                    elif outcome == "challenge":
                        charge["state"] = "challenge"
                    else:
                        self._send("charge.rejected", intent_id)
                remember.answer = self._intent(intent_id)
            assert isinstance(remember.answer, PaymentIntent)
            return remember.answer

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        with self._call("cancel", idempotency_key):
            charge = self._charge(intent_id)
            if charge["state"] in ("open", "challenge"):
                charge["state"] = "void"
                self._send("charge.voided", intent_id)
            return self._intent(intent_id)

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        with self._call("refund", idempotency_key) as remember:
            if remember.answer is None:
                charge = self._charge(intent_id)
                captured = charge["amount"]
                assert isinstance(captured, Money)
                refunded = int(str(charge["refunded"]))
                if charge["state"] != "settled":
                    raise GatewayError(f"charge {intent_id} has nothing to refund")
                if (
                    amount.currency != captured.currency
                    or refunded + amount.amount > captured.amount
                ):
                    raise GatewayError("refund exceeds what remains of the charge")
                charge["refunded"] = refunded + amount.amount
                refund_id = f"rf_{secrets.token_hex(8)}"
                remember.answer = GatewayRefund(
                    refund_id, intent_id, amount, GatewayRefundStatus.SUCCEEDED
                )
                self.refunds[refund_id] = remember.answer
                self._send("refund.done", intent_id, refund=refund_id, cents=amount.amount)
            assert isinstance(remember.answer, GatewayRefund)
            return remember.answer

    def get_intent(self, intent_id: str) -> PaymentIntent:
        with self._call("look", f"{intent_id}-{secrets.token_hex(4)}"):
            return self._intent(intent_id)

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        with self._call("look", f"{refund_id}-{secrets.token_hex(4)}"):
            refund = self.refunds.get(refund_id)
            if refund is None or refund.intent_id != intent_id:
                raise GatewayError(f"no refund {refund_id} of charge {intent_id}")
            return refund

    # -- the buyer, on AcmePay's challenge page -------------------------------------------------

    def pass_challenge(self, intent_id: str) -> None:
        with self._lock:  # reentrant use is not needed: the buyer is not an API call
            if self._charge(intent_id)["state"] == "challenge":
                self._settle(intent_id)

    # -- GatewayEventParser --------------------------------------------------------------------

    def parse_event(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        if not hmac.compare_digest(given.encode(), self.signature(payload).encode()):
            raise InvalidWebhook("AcmePay signature does not match")
        try:
            note = json.loads(payload)
            what, currency, cents = note["what"], note["currency"], note["cents"]
            return GatewayEvent(
                id=str(note["event_uid"]),
                kind=WHAT.get(what, EventKind.IGNORED),
                gateway=self.name,
                intent_id=note["charge"],
                created_at=datetime.fromtimestamp(int(note["at"]), UTC),
                raw_type=what,
                amount=None if cents is None else Money(cents, currency),
                refund_id=note.get("refund"),
                decline_code=note.get("error"),
            )
        except (ValueError, KeyError, TypeError, InvalidInput) as exc:
            raise InvalidWebhook(f"not an AcmePay notification: {exc!r}") from None

    def signature(self, payload: bytes) -> str:
        return "sha256=" + hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def notification(self, what: str, charge_id: str, cents: int | None, currency: str,
                     **extra: str | None) -> bytes:  # fmt: skip
        """The body AcmePay POSTs for a notification."""
        note = {
            "event_uid": f"ev_{secrets.token_hex(8)}", "what": what, "charge": charge_id,
            "cents": cents, "currency": currency, "at": 1_770_000_000, **extra,
        }  # fmt: skip
        return json.dumps(note).encode()

    # -- AcmePay's insides --------------------------------------------------------------------

    class _Call:
        """One API call: refused while AcmePay is offline; answered once per (operation, key)."""

        def __init__(self, gateway: AcmePay, operation: str, key: str) -> None:
            self.gateway, self.slot = gateway, (operation, key)
            self.answer: object | None = None

        def __enter__(self) -> AcmePay._Call:
            self.gateway._lock.acquire()
            if self.gateway.offline:
                self.gateway._lock.release()
                raise GatewayUnavailable("AcmePay is not answering")
            self.answer = self.gateway._answers.get(self.slot)
            return self

        def __exit__(self, exc_type: object, *_: object) -> None:
            if exc_type is None and self.answer is not None:
                self.gateway._answers[self.slot] = self.answer
            self.gateway._lock.release()

    def _call(self, operation: str, key: str) -> AcmePay._Call:
        return AcmePay._Call(self, operation, key)

    def _charge(self, charge_id: str) -> dict[str, object]:
        try:
            return self.charges[charge_id]
        except KeyError:
            raise GatewayError(f"no such charge {charge_id}") from None

    def _intent(self, charge_id: str) -> PaymentIntent:
        charge = self._charge(charge_id)
        amount = charge["amount"]
        assert isinstance(amount, Money)
        status = _STATUS[str(charge["state"])]
        error = charge["last_error"]
        return PaymentIntent(
            id=charge_id,
            status=status,
            amount=amount,
            decline_code=str(error) if error and status is IntentStatus.REQUIRES_PAYMENT_METHOD
            else None,
            action=BuyerAction(redirect_url=f"https://acmepay.example/challenge/{charge_id}")
            if status is IntentStatus.REQUIRES_ACTION
            else None,
        )  # fmt: skip

    def _settle(self, charge_id: str) -> None:
        self.charges[charge_id]["state"] = "settled"
        self._send("charge.settled", charge_id)

    def _send(self, what: str, charge_id: str, **extra: object) -> None:
        charge = self.charges[charge_id]
        amount = charge["amount"]
        assert isinstance(amount, Money)
        cents = extra.pop("cents", amount.amount)
        error = charge["last_error"] if what == "charge.rejected" else None
        body = self.notification(
            what, charge_id, int(str(cents)), amount.currency, error=error,
            refund=str(extra["refund"]) if "refund" in extra else None,
        )  # fmt: skip
        self.outbox.append((body, {SIGNATURE_HEADER: self.signature(body)}))
