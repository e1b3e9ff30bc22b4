"""The order aggregate: priced lines, the payment status machine, the stock hold and refunds.

Status machine::

    awaiting_payment ──> paid ──> partially_refunded ──> refunded
         │    │            │  └─> fulfilled ─┘ ^     ^       (a fulfilled order is refunded on
         │    │            │         └───────┴─────┘        return; its tracking stays)
         │    │            └─> needs_refund (staff cancel a paid order before it ships: the
         │    │                whole remainder is refunded and the stock goes back)
         │    │            ┌──────────────────────────────^
         │    └──> payment_failed ─┐
         └──────> cancelled ───────┤   a late capture (the gateway took money after the order
                     ^             ├──> paid            ended) is paid if its stock can be held
                     │             └──> needs_refund    again; if not, it is owed back
                     └───────────────────────┘          (refunded in full: cancelled)

Captured money always ends in a paid order or a refund: an order the gateway captured but that
cannot be completed is ``needs_refund``, carrying a pending refund of the whole capture that the
shop asks the gateway for; once it succeeded the order is ``cancelled`` with its capture refunded.

Marking an order paid is idempotent: ``settle`` on an order that is already paid (or refunded)
returns ``False`` and changes nothing, so the confirm call and the webhook may both do it, in any
order, any number of times.

``intent_to_cancel`` is set when an order ended unpaid while its gateway intent may still be
payable (a failure reported by webhook; a decline whose cancel call failed): the intent must be
cancelled at the gateway, so that nobody can pay an order that no longer exists.

Refund ledger: ``refundable = captured - sum(refunds that have not failed)``; a pending refund
counts against it, so two concurrent refunds cannot both spend the same remainder.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from commerce_core.domain.addresses import Address
from commerce_core.domain.money import Money
from commerce_core.domain.shipping import ShippingQuote
from commerce_core.domain.tax import PriceBreakdown, TaxLine
from commerce_core.errors import (
    IllegalTransition,
    InvalidInput,
    OrderNotPayable,
    OrderNotRefundable,
    RefundExceedsCaptured,
)

__all__ = [
    "Fulfilment",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Refund",
    "RefundStatus",
    "StockState",
]


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    PAYMENT_FAILED = "payment_failed"
    CANCELLED = "cancelled"
    NEEDS_REFUND = "needs_refund"  # captured, cannot be completed: the capture is owed back
    FULFILLED = "fulfilled"  # paid and shipped

    @property
    def is_paid(self) -> bool:
        """Sold: money was captured for it and its stock taken (whatever was refunded since)."""
        return self in _CAPTURED


_CAPTURED = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.REFUNDED,
        OrderStatus.FULFILLED,
    }
)
# Paid and not shipped: what staff may fulfil, or cancel (refunding it and restocking).
_UNSHIPPED = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED})
_UNPAID_ENDS = frozenset({OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED})


class StockState(enum.StrEnum):
    HELD = "held"  # units reserved for this order, not yet sold
    TAKEN = "taken"  # sold: the order is paid
    RELEASED = "released"  # given back to the catalog


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@attrs.frozen
class OrderLine:
    """A priced snapshot of one product variant at the moment the order was placed."""

    product_id: str
    slug: str
    name: str
    unit_price: Money
    quantity: int
    # The variant sold (its units are what the order holds, takes and gives back), its SKU and
    # option values then.
    variant_id: str = ""
    sku: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@attrs.frozen
class Fulfilment:
    """How a paid order was shipped: the carrier and the parcel's tracking number."""

    carrier: str
    tracking_number: str
    fulfilled_at: datetime

    def to_primitive(self) -> dict[str, str]:
        return {
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "fulfilled_at": self.fulfilled_at.isoformat().replace("+00:00", "Z"),
        }


@attrs.define
class Refund:
    id: str
    amount: Money
    status: RefundStatus
    created_at: datetime
    updated_at: datetime
    reason: str = ""
    gateway_refund_id: str | None = None
    # A staff member's id; None for the shop's own (automatic) refunds and external ones.
    requested_by: str | None = None
    # Made outside the shop (in the provider's dashboard) and learnt from its webhook.
    external: bool = False


@attrs.define
class Order:
    id: str
    user_id: str
    lines: tuple[OrderLine, ...]
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    hold_expires_at: datetime
    stock_state: StockState
    gateway: str
    intent_id: str | None = None
    captured: Money | None = None
    paid_at: datetime | None = None
    failure_code: str | None = None
    refunds: list[Refund] = attrs.Factory(list)
    intent_to_cancel: bool = False
    # The buyer's bank disputes the payment (a chargeback is open): staff must look.
    disputed: bool = False
    # The address the checkout came from, as the driver trusted it (for the per-address cap
    # on unpaid holds); None when unknown.
    client_ip: str | None = None
    # Where it ships and how (None: nothing to ship, an order placed without an address).
    shipping_address: Address | None = None
    shipping_method: ShippingQuote | None = None
    # The tax of each line (and of the shipping line), computed at placing; () if none.
    tax_lines: tuple[TaxLine, ...] = ()
    prices_include_tax: bool = False
    fulfilment: Fulfilment | None = None

    @classmethod
    def place(
        cls,
        *,
        order_id: str,
        user_id: str,
        lines: Sequence[OrderLine],
        gateway: str,
        now: datetime,
        hold_expires_at: datetime,
        client_ip: str | None = None,
        shipping_address: Address | None = None,
        shipping_method: ShippingQuote | None = None,
        pricing: PriceBreakdown | None = None,
    ) -> Order:
        """A new order awaiting payment whose stock the caller has already taken from the
        catalog; ``pricing`` is its breakdown (``tax.price_order``) when it was taxed."""
        if not lines:
            raise InvalidInput.for_field("items", "an order needs at least one line")
        currencies = {line.unit_price.currency for line in lines}
        if len(currencies) != 1:
            raise InvalidInput.for_field("items", "all products of one order must share a currency")
        if (shipping_address is None) != (shipping_method is None):
            raise InvalidInput.for_field("shipping_method", "comes with a shipping address")
        if shipping_method is not None and shipping_method.price.currency not in currencies:
            raise InvalidInput.for_field("shipping_method", "must charge in the order's currency")
        order = cls(
            id=order_id,
            user_id=user_id,
            lines=tuple(lines),
            status=OrderStatus.AWAITING_PAYMENT,
            created_at=now,
            updated_at=now,
            hold_expires_at=hold_expires_at,
            stock_state=StockState.HELD,
            gateway=gateway,
            client_ip=client_ip,
            shipping_address=shipping_address,
            shipping_method=shipping_method,
            tax_lines=() if pricing is None else pricing.tax_lines,
            prices_include_tax=False if pricing is None else pricing.prices_include_tax,
        )
        if pricing is not None and (
            pricing.total != order.total or pricing.subtotal != order.subtotal
        ):
            raise IllegalTransition(f"the pricing of order {order_id} does not add up")
        return order

    # -- money ---------------------------------------------------------------------------------

    @property
    def currency(self) -> str:
        return self.lines[0].unit_price.currency

    @property
    def subtotal(self) -> Money:
        """The lines at their listed prices."""
        total = Money.zero(self.currency)
        for line in self.lines:
            total += line.total
        return total

    @property
    def shipping(self) -> Money:
        if self.shipping_method is None:
            return Money.zero(self.currency)
        return self.shipping_method.price

    @property
    def tax(self) -> Money:
        tax = Money.zero(self.currency)
        for line in self.tax_lines:
            tax += line.tax
        return tax

    @property
    def total(self) -> Money:
        """What the shopper pays: subtotal + shipping, plus tax unless prices include it."""
        total = self.subtotal + self.shipping
        if not self.prices_include_tax:
            total += self.tax
        return total

    @property
    def refunded(self) -> Money:
        """What has been refunded for good (succeeded refunds only)."""
        return self._sum(r for r in self.refunds if r.status is RefundStatus.SUCCEEDED)

    @property
    def refundable(self) -> Money:
        """captured - refunds not failed; zero before capture."""
        if self.captured is None:
            return Money.zero(self.currency)
        return self.captured - self._sum(
            r for r in self.refunds if r.status is not RefundStatus.FAILED
        )

    def _sum(self, refunds: Iterable[Refund]) -> Money:
        total = Money.zero(self.currency)
        for refund in refunds:
            total += refund.amount
        return total

    # -- payment -------------------------------------------------------------------------------

    def attach_intent(self, intent_id: str, now: datetime) -> None:
        if self.intent_id is not None and self.intent_id != intent_id:
            raise IllegalTransition(f"order {self.id} already has payment intent {self.intent_id}")
        self.intent_id = intent_id
        self.updated_at = now

    @property
    def is_payable(self) -> bool:
        return self.status is OrderStatus.AWAITING_PAYMENT

    def settle(self, amount: Money, now: datetime) -> bool:
        """Record that the gateway captured ``amount``. Idempotent: ``False`` if already paid.

        Allowed from ``awaiting_payment``, and from ``payment_failed``/``cancelled`` only when the
        caller has held the stock again (``rehold_stock``): a paid order never lacks its stock.
        """
        if self.status.is_paid or self.captured is not None:
            return False  # this capture, or the one owed back, is already recorded
        if amount != self.total:
            raise IllegalTransition(
                f"captured {amount} does not match order total {self.total} of order {self.id}"
            )
        if self.stock_state is not StockState.HELD:
            raise IllegalTransition(f"order {self.id} has no stock held; it cannot be paid")
        self.status = OrderStatus.PAID
        self.stock_state = StockState.TAKEN
        self.captured = amount
        self.paid_at = now
        self.failure_code = None
        self.intent_to_cancel = False  # captured: there is nothing left to cancel
        self.updated_at = now
        return True

    def capture_without_stock(self, amount: Money, refund_id: str, now: datetime) -> Refund:
        """The gateway captured ``amount`` for this ended order, and its stock is gone: record
        the capture and owe all of it back (``needs_refund``, with a pending refund of
        ``refund_id`` that the caller asks the gateway for)."""
        if self.status not in _UNPAID_ENDS or self.stock_state is StockState.HELD:
            raise IllegalTransition(f"order {self.id} is {self.status.value}; it can be paid")
        if self.captured is not None:
            raise IllegalTransition(f"order {self.id} already recorded a capture")
        if amount.currency != self.currency or not amount.is_positive:
            raise IllegalTransition(f"cannot record a capture of {amount} on order {self.id}")
        self.status = OrderStatus.NEEDS_REFUND
        self.captured = amount
        self.intent_to_cancel = False  # captured: there is nothing left to cancel
        self.updated_at = now
        refund = Refund(
            id=refund_id,
            amount=amount,
            status=RefundStatus.PENDING,
            created_at=now,
            updated_at=now,
            reason="captured after the order had ended",
        )
        self.refunds.append(refund)
        return refund

    def fail_payment(self, code: str, now: datetime, *, cancel_intent: bool = False) -> bool:
        """The payment was declined or failed. ``False`` (no change) unless awaiting payment.

        ``cancel_intent``: the gateway's intent may still be payable and must be cancelled."""
        return self._end_unpaid(OrderStatus.PAYMENT_FAILED, code, now, cancel_intent)

    def cancel(self, code: str, now: datetime, *, cancel_intent: bool = False) -> bool:
        """Cancelled (by the shopper, or because the stock hold expired)."""
        return self._end_unpaid(OrderStatus.CANCELLED, code, now, cancel_intent)

    def _end_unpaid(
        self, status: OrderStatus, code: str, now: datetime, cancel_intent: bool
    ) -> bool:
        if self.status is status:
            return False
        if self.status is not OrderStatus.AWAITING_PAYMENT:
            # Only forward transitions: a stale "failed" never overwrites a paid order.
            return False
        self.status = status
        self.failure_code = code
        self.intent_to_cancel = cancel_intent and self.intent_id is not None
        self.updated_at = now
        return True

    def intent_closed(self, now: datetime) -> bool:
        """The gateway's intent can no longer be paid (canceled, or its capture recorded).
        ``False`` if nothing was waiting for that."""
        if not self.intent_to_cancel:
            return False
        self.intent_to_cancel = False
        self.updated_at = now
        return True

    @property
    def owes_gateway_work(self) -> bool:
        """Something must still be asked of the gateway: cancel the intent of this ended order,
        or a refund whose outcome the gateway has not told (no gateway refund id yet)."""
        return self.intent_to_cancel or any(
            r.status is RefundStatus.PENDING and r.gateway_refund_id is None for r in self.refunds
        )

    def release_stock(self, now: datetime) -> tuple[OrderLine, ...]:
        """Give the held units back; returns the lines whose quantities go back to the catalog."""
        if self.stock_state is not StockState.HELD:
            return ()
        if self.status is OrderStatus.AWAITING_PAYMENT:
            raise IllegalTransition(
                f"order {self.id} still awaits payment; end it before releasing"
            )
        self.stock_state = StockState.RELEASED
        self.updated_at = now
        return self.lines

    def rehold_stock(self, now: datetime) -> tuple[OrderLine, ...]:
        """For a late capture: the caller takes these lines from the catalog again."""
        if self.stock_state is not StockState.RELEASED:
            raise IllegalTransition(f"order {self.id} has no released stock to hold again")
        self.stock_state = StockState.HELD
        self.updated_at = now
        return self.lines

    def ensure_payable(self) -> None:
        if not self.is_payable:
            raise OrderNotPayable(f"order {self.id} is {self.status.value}")

    # -- fulfilment ----------------------------------------------------------------------------

    def fulfil(self, carrier: str, tracking_number: str, now: datetime) -> bool:
        """Shipped: a paid order becomes ``fulfilled`` with its tracking. Idempotent for the same
        tracking (``False``); a different tracking on a fulfilled order is refused."""
        if self.fulfilment is not None:
            if (self.fulfilment.carrier, self.fulfilment.tracking_number) == (
                carrier,
                tracking_number,
            ):
                return False
            raise IllegalTransition(f"order {self.id} was already fulfilled")
        if self.status not in _UNSHIPPED:
            raise IllegalTransition(f"order {self.id} is {self.status.value}; it cannot ship")
        self.fulfilment = Fulfilment(carrier, tracking_number, now)
        self.status = OrderStatus.FULFILLED
        self.updated_at = now
        return True

    def cancel_paid(
        self, refund_id: str, requested_by: str | None, now: datetime
    ) -> tuple[Refund | None, tuple[OrderLine, ...]]:
        """Staff cancel a paid order that has not shipped: all that remains refundable is owed
        back (a pending refund of ``refund_id``, ``needs_refund`` until the gateway refunded it,
        then ``cancelled``) and the sold units go back to the catalog (returned lines)."""
        if self.status not in _UNSHIPPED or self.fulfilment is not None:
            raise IllegalTransition(
                f"order {self.id} is {self.status.value}; only a paid order not yet shipped "
                "can be cancelled"
            )
        if self.stock_state is not StockState.TAKEN:  # pragma: no cover - paid means taken
            raise IllegalTransition(f"order {self.id} holds no sold stock")
        remaining = self.refundable
        refund = None
        if remaining.is_positive:
            refund = Refund(
                id=refund_id,
                amount=remaining,
                status=RefundStatus.PENDING,
                created_at=now,
                updated_at=now,
                reason="order cancelled",
                requested_by=requested_by,
            )
            self.refunds.append(refund)
        self.status = OrderStatus.NEEDS_REFUND
        self.stock_state = StockState.RELEASED
        self.updated_at = now
        if refund is None:
            self._restatus_after_refund(now)  # the pending refunds settle it
        return refund, self.lines

    # -- refunds -------------------------------------------------------------------------------

    def find_refund(self, refund_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.id == refund_id), None)

    def find_refund_by_gateway_id(self, gateway_refund_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.gateway_refund_id == gateway_refund_id), None)

    def request_refund(
        self,
        *,
        refund_id: str,
        amount: Money | None,
        reason: str,
        requested_by: str | None,
        now: datetime,
    ) -> Refund:
        """Add a pending refund of ``amount`` (default: all that remains). Allowed on a sold
        order, and on one that owes its capture back (staff finishing what the gateway refused)."""
        if not (self.status.is_paid or self.status is OrderStatus.NEEDS_REFUND):
            raise OrderNotRefundable(
                f"order {self.id} is {self.status.value}; nothing was captured"
            )
        remaining = self.refundable
        amount = remaining if amount is None else amount
        if amount.currency != self.currency:
            raise InvalidInput.for_field("amount", f"must be in {self.currency}")
        if not amount.is_positive:
            if remaining.is_zero:
                raise RefundExceedsCaptured(f"order {self.id} has nothing left to refund")
            raise InvalidInput.for_field("amount", "must be positive")
        if amount > remaining:
            raise RefundExceedsCaptured(
                f"refund of {amount} exceeds the {remaining} that remains of order {self.id}"
            )
        refund = Refund(
            id=refund_id,
            amount=amount,
            status=RefundStatus.PENDING,
            created_at=now,
            updated_at=now,
            reason=reason,
            requested_by=requested_by,
        )
        self.refunds.append(refund)
        self.updated_at = now
        return refund

    def complete_refund(self, refund_id: str, gateway_refund_id: str, now: datetime) -> bool:
        """The gateway refunded. Idempotent: ``False`` if this refund had already succeeded."""
        refund = self._refund(refund_id)
        if refund.status is RefundStatus.SUCCEEDED:
            return False
        if refund.status is RefundStatus.FAILED:
            raise IllegalTransition(f"refund {refund_id} already failed")
        refund.status = RefundStatus.SUCCEEDED
        refund.gateway_refund_id = gateway_refund_id
        refund.updated_at = now
        self._restatus_after_refund(now)
        return True

    def record_external_refund(
        self, refund_id: str, gateway_refund_id: str, amount: Money, now: datetime
    ) -> Refund:
        """A refund made outside the shop (the provider's dashboard), learnt from a webhook:
        recorded as succeeded, so what remains refundable shrinks. It is the provider's word
        about money already returned, so it is recorded even past what our own pending
        refunds reserved (those will be refused by the provider)."""
        if self.captured is None:
            raise IllegalTransition(f"order {self.id} has no capture to refund")
        if amount.currency != self.currency or not amount.is_positive:
            raise IllegalTransition(f"cannot record an external refund of {amount}")
        refund = Refund(
            id=refund_id,
            amount=amount,
            status=RefundStatus.SUCCEEDED,
            created_at=now,
            updated_at=now,
            reason="made outside the shop",
            gateway_refund_id=gateway_refund_id,
            external=True,
        )
        self.refunds.append(refund)
        self._restatus_after_refund(now)
        return refund

    def open_dispute(self, now: datetime) -> bool:
        if self.disputed:
            return False
        self.disputed = True
        self.updated_at = now
        return True

    def close_dispute(self, now: datetime) -> bool:
        if not self.disputed:
            return False
        self.disputed = False
        self.updated_at = now
        return True

    def fail_refund(
        self, refund_id: str, now: datetime, gateway_refund_id: str | None = None
    ) -> bool:
        """The gateway refused the refund; its amount becomes refundable again."""
        refund = self._refund(refund_id)
        if refund.status is not RefundStatus.PENDING:
            return False
        refund.status = RefundStatus.FAILED
        if gateway_refund_id is not None:
            refund.gateway_refund_id = gateway_refund_id
        refund.updated_at = now
        self.updated_at = now
        return True

    def _refund(self, refund_id: str) -> Refund:
        refund = self.find_refund(refund_id)
        if refund is None:
            raise IllegalTransition(f"order {self.id} has no refund {refund_id}")
        return refund

    def _restatus_after_refund(self, now: datetime) -> None:
        refunded = self.refunded
        if self.status is OrderStatus.NEEDS_REFUND:
            if self.captured is not None and refunded >= self.captured:
                self.status = OrderStatus.CANCELLED  # nothing sold, nothing kept
        elif not self.status.is_paid:
            pass  # an ended order's refund changes what it kept, not what it is
        elif self.captured is not None and refunded >= self.captured:
            self.status = OrderStatus.REFUNDED
        elif refunded.is_positive:
            self.status = OrderStatus.PARTIALLY_REFUNDED
        self.updated_at = now
