"""Checkout: create a payment intent for a cart, then confirm it.

``create_checkout_intent`` prices the cart from the catalog (never from the client), takes the
stock into a hold and creates an order ``awaiting_payment``, then asks the gateway for an intent
outside any transaction. ``confirm_order`` confirms that intent at the gateway - again outside any
transaction - and records the result under a row lock on the order. Both the confirm call and the
gateway's webhook end in ``settle_order``, which is idempotent: one paid order, stock taken once.

>>> from commerce_core.testing import InMemoryShop
>>> shop = InMemoryShop.with_demo_product(stock=3)
>>> intent = create_checkout_intent(
...     CreateCheckoutIntent(user_id="usr_1", items=(CartItem(shop.product_id, 2),)), **shop.ports)
>>> result = confirm_order(
...     ConfirmOrder(user_id="usr_1", intent_id=intent.body["intent_id"],
...                  payment_method="pm_card_visa", idempotency_key="k1"), **shop.ports)
>>> result.outcome, result.body["order"]["status"]
(<ConfirmOutcome.PAID: 'paid'>, 'paid')
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import attrs

from commerce_core.domain.addresses import Address
from commerce_core.domain.catalog import Product
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.hold_limits import HoldLimits
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, OrderLine
from commerce_core.domain.payments import IntentStatus, PaymentIntent
from commerce_core.domain.shipping import ShippingQuote, choose_shipping
from commerce_core.domain.tax import PriceBreakdown, price_order, rate_for
from commerce_core.errors import (
    FieldError,
    GatewayError,
    InvalidInput,
    NotFound,
    OrderNotPayable,
)
from commerce_core.ports import Clock, EventSink, GatewayRegistry, PaymentGateway, UnitOfWork
from commerce_core.use_cases._idempotent import IdempotentRequest, Result
from commerce_core.use_cases._publishing import publish_committed, publishing
from commerce_core.use_cases.outcomes import ConfirmOutcome, IntentOutcome
from commerce_core.use_cases.settlement import apply_intent, end_unpaid, settle_gateway_work
from commerce_core.use_cases.stock import take_locked
from commerce_core.views import order_view, timestamp

__all__ = [
    "DEFAULT_HOLD",
    "DEFAULT_HOLD_LIMITS",
    "MAX_LINES",
    "MAX_QUANTITY",
    "CartItem",
    "ConfirmOrder",
    "CreateCheckoutIntent",
    "confirm_order",
    "create_checkout_intent",
]

DEFAULT_HOLD = timedelta(minutes=15)
MAX_LINES = 50
MAX_QUANTITY = 100
MAX_CLIENT_IP = 64
DEFAULT_HOLD_LIMITS = HoldLimits()


@attrs.frozen
class CartItem:
    """A cart line: ``quantity`` of the variant ``variant_id``, or of the product
    ``product_id``'s default variant (a product with several variants needs the variant)."""

    product_id: str | None
    quantity: int
    variant_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """("variant", id) or ("product", id): what the line names."""
        if self.variant_id is not None:
            return ("variant", self.variant_id)
        return ("product", self.product_id or "")


@attrs.frozen
class CreateCheckoutIntent:
    user_id: str
    items: tuple[CartItem, ...]
    idempotency_key: str | None = None
    # The client's address, as the driver trusts it: unpaid holds are capped per address too.
    ip: str | None = None
    # Where the parcel goes and the shipping method's id (both, or neither: an order with
    # nothing to ship, which pays no shipping and no tax).
    shipping_address: Address | None = None
    shipping_method: str | None = None


@attrs.frozen
class ConfirmOrder:
    user_id: str
    intent_id: str
    payment_method: str | None
    idempotency_key: str
    # What the gateway's client step returned to vouch for the payment method (Razorpay's
    # checkout signature); None for gateways that have none.
    proof: str | None = None
    # The client's address, as the driver trusts it: declines are counted per address too
    # (the suspicious activity monitor's card-testing rule).
    ip: str | None = None


def _validated_cart(items: tuple[CartItem, ...]) -> Counter[tuple[str, str]]:
    """What the cart names -> units: ``("variant", id)`` or ``("product", id)`` keys."""
    errors: list[FieldError] = []
    if not items:
        errors.append(FieldError("items", "must contain at least one item"))
    if len(items) > MAX_LINES:
        errors.append(FieldError("items", f"must contain at most {MAX_LINES} items"))
    wanted: Counter[tuple[str, str]] = Counter()
    for i, item in enumerate(items):
        named = [value for value in (item.product_id, item.variant_id) if value is not None]
        if len(named) != 1:
            errors.append(
                FieldError(f"items[{i}]", "give exactly one of variant_id and product_id")
            )
        elif not isinstance(named[0], str) or not (1 <= len(named[0]) <= 64):
            field = "variant_id" if item.variant_id is not None else "product_id"
            errors.append(FieldError(f"items[{i}].{field}", f"must be a {field[:-3]} id"))
        if type(item.quantity) is not int or not (1 <= item.quantity <= MAX_QUANTITY):
            errors.append(FieldError(f"items[{i}].quantity", f"must be 1 to {MAX_QUANTITY}"))
        if not errors:
            wanted[item.key] += item.quantity
    if any(q > MAX_QUANTITY for q in wanted.values()):
        errors.append(FieldError("items", f"at most {MAX_QUANTITY} of one variant"))
    if errors:
        raise InvalidInput(errors=errors)
    return wanted


def resolve_cart(
    wanted: Counter[tuple[str, str]], uow: UnitOfWork, *, lock: bool = True
) -> tuple[dict[str, Product], Counter[tuple[str, str]]]:
    """Load (and ``lock``) the products the cart names and resolve each line to its variant:
    the products, and (product id, variant id) -> units. ``InvalidInput`` names every line
    that is unknown, no longer sold, or a product whose variant must be chosen."""
    variant_ids = sorted(ref for kind, ref in wanted if kind == "variant")
    owners = uow.products.owners(variant_ids) if variant_ids else {}
    product_ids = sorted({ref for kind, ref in wanted if kind == "product"} | set(owners.values()))
    if lock:
        products = uow.products.lock(product_ids)
    else:
        products = {p.id: p for pid in product_ids if (p := uow.products.get(pid)) is not None}
    errors: list[FieldError] = []
    resolved: Counter[tuple[str, str]] = Counter()
    for (kind, ref), qty in sorted(wanted.items()):
        product = products.get(owners.get(ref, "") if kind == "variant" else ref)
        if product is None:
            errors.append(FieldError("items", f"unknown {kind} {ref}"))
            continue
        variant = product.variant(ref) if kind == "variant" else product.default_variant
        if variant is None:
            errors.append(
                FieldError(
                    "items",
                    f"product {ref} has several variants: name the one wanted by variant_id",
                )
            )
        elif product.archived or variant.archived:
            errors.append(FieldError("items", f"{kind} {ref} is no longer sold"))
        else:
            resolved[(product.id, variant.id)] += qty
    if any(q > MAX_QUANTITY for q in resolved.values()):
        errors.append(FieldError("items", f"at most {MAX_QUANTITY} of one variant"))
    if errors:
        raise InvalidInput(errors=errors)
    return products, resolved


def _validated_shipping(command: CreateCheckoutIntent) -> None:
    if (command.shipping_address is None) != (command.shipping_method is None):
        missing = "shipping_method" if command.shipping_method is None else "shipping_address"
        raise InvalidInput.for_field(missing, "is required with the other")
    method = command.shipping_method
    if method is not None and not (isinstance(method, str) and 1 <= len(method) <= 64):
        raise InvalidInput.for_field("shipping_method", "must be a shipping method id")


def intent_body(order: Order, intent: PaymentIntent) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "intent_id": intent.id,
        "client_secret": intent.client_secret,
        "amount": order.total.to_primitive(),
        "subtotal": order.subtotal.to_primitive(),
        "shipping": order.shipping.to_primitive(),
        "tax": order.tax.to_primitive(),
        "prices_include_tax": order.prices_include_tax,
        "status": order.status.value,
        "hold_expires_at": timestamp(order.hold_expires_at),
    }


def create_checkout_intent(
    command: CreateCheckoutIntent,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
    hold_for: timedelta = DEFAULT_HOLD,
    hold_limits: HoldLimits = DEFAULT_HOLD_LIMITS,
    prices_include_tax: bool = False,
) -> Result[IntentOutcome]:
    """Price the cart, hold its stock, create the order and the gateway's intent.

    With a shipping address and method, the order is charged that method's price for the cart
    (``shipping.choose_shipping``) and the destination's tax (``tax.price_order``; the shop's
    prices include tax if ``prices_include_tax``); the gateway is asked for exactly the total.

    Outcome ``CREATED`` with body ``{order_id, intent_id, client_secret, amount, subtotal,
    shipping, tax, prices_include_tax, status}``. Raises ``InvalidInput`` (bad cart, unknown
    product, a method that does not ship there), ``OutOfStock``, ``HoldLimitReached`` (the
    shopper, or the address, holds as much unpaid stock as one may), ``GatewayError``.
    """
    wanted = _validated_cart(command.items)
    _validated_shipping(command)
    idem: IdempotentRequest[IntentOutcome] | None = None
    if command.idempotency_key is not None:
        idem = IdempotentRequest(
            uow,
            clock,
            IntentOutcome,
            user_id=command.user_id,
            scope="checkout_intent",
            key=command.idempotency_key,
            request={
                "items": [[kind, ref, qty] for (kind, ref), qty in sorted(wanted.items())],
                "shipping_address": (
                    None
                    if command.shipping_address is None
                    else command.shipping_address.to_primitive()
                ),
                "shipping_method": command.shipping_method,
            },
        )
        replay = idem.begin()
        if replay is not None:
            return replay
    gateway = gateways.default
    try:
        order = _resumed_order(uow, idem) or _place_order(
            command, wanted, uow, gateway, clock, hold_for, hold_limits, idem, prices_include_tax
        )
    except Exception as error:
        if idem is not None:
            idem.release_after(error)
        raise

    try:
        intent = gateway.create_intent(
            amount=order.total, order_id=order.id, idempotency_key=f"intent-{order.id}"
        )
    except GatewayError:
        _cancel_unpaid(uow, clock, order.id, "gateway_error")
        if idem is not None:
            idem.abandon()
        raise

    with uow:
        locked = uow.orders.get(order.id, for_update=True)
        if locked is None:  # pragma: no cover - orders are never deleted
            raise NotFound(f"order {order.id} vanished")
        locked.attach_intent(intent.id, clock.now())
        uow.orders.save(locked)
        body = intent_body(locked, intent)
        created = IntentOutcome.CREATED
        result = idem.finish(uow, created, body) if idem else Result(created, body)
        uow.announce(
            DomainEvent.of(
                "checkout.intent_created",
                clock.now(),
                order_id=order.id,
                amount=order.total.amount,
                currency=order.currency,
                user_id=command.user_id,
            )
        )
        uow.commit()
    publish_committed(uow, events, clock)
    return result


def _resumed_order(uow: UnitOfWork, idem: IdempotentRequest[IntentOutcome] | None) -> Order | None:
    """On a takeover of an abandoned request, the order the first attempt placed (if it got
    that far): resuming it - same gateway key, same intent - avoids a second order and hold."""
    if idem is None or idem.record.resource_id is None:
        return None
    with uow:
        order = uow.orders.get(idem.record.resource_id)
    if order is None or not order.is_payable:
        raise OrderNotPayable("the checkout this key started has ended; use a new key")
    return order


def _place_order(
    command: CreateCheckoutIntent,
    wanted: Counter[tuple[str, str]],
    uow: UnitOfWork,
    gateway: PaymentGateway,
    clock: Clock,
    hold_for: timedelta,
    hold_limits: HoldLimits,
    idem: IdempotentRequest[IntentOutcome] | None,
    prices_include_tax: bool,
) -> Order:
    now = clock.now()
    user_id, client_ip = command.user_id, _client_ip(command.ip)
    with uow:
        # The user's row first (then products by id, as everywhere): two checkouts of one user
        # at once are counted one after the other, so they cannot both slip under the cap.
        uow.users.lock(user_id)
        hold_limits.check(
            uow.orders.held_unpaid(user_id=user_id),
            None if client_ip is None else uow.orders.held_unpaid(client_ip=client_ip),
            sum(wanted.values()),
        )
        products, resolved = resolve_cart(wanted, uow)
        lines = []
        for (pid, vid), qty in sorted(resolved.items()):
            product = products[pid]
            variant = product.must_variant(vid)
            lines.append(
                OrderLine(
                    product_id=pid,
                    slug=product.slug,
                    name=product.name,
                    unit_price=variant.price,
                    quantity=qty,
                    variant_id=vid,
                    sku=variant.sku,
                    options=variant.options,
                )
            )
        pricing, quote = _priced(command, lines, products, uow, prices_include_tax)
        order = Order.place(
            order_id=new_id("ord"),
            user_id=user_id,
            lines=lines,
            gateway=gateway.name,
            now=now,
            hold_expires_at=now + hold_for,
            client_ip=client_ip,
            shipping_address=command.shipping_address,
            shipping_method=quote,
            pricing=pricing,
        )
        take_locked(uow, products, resolved, now)  # the rows locked above, not locked again
        uow.orders.add(order)
        if idem is not None:
            idem.record.resource_id = order.id
            uow.idempotency.save(idem.record)
        uow.commit()
    return order


def _priced(
    command: CreateCheckoutIntent,
    lines: list[OrderLine],
    products: dict[str, Product],
    uow: UnitOfWork,
    prices_include_tax: bool,
) -> tuple[PriceBreakdown | None, ShippingQuote | None]:
    """The order's breakdown and shipping quote; (None, None) with nothing to ship."""
    address, method_id = command.shipping_address, command.shipping_method
    if address is None or method_id is None:
        return None, None
    if len({line.unit_price.currency for line in lines}) != 1:
        raise InvalidInput.for_field("items", "all products of one order must share a currency")
    subtotal = Money.zero(lines[0].unit_price.currency)
    for line in lines:
        subtotal += line.total
    weight = 0
    for line in lines:
        variant = products[line.product_id].variant(line.variant_id)
        weight += (0 if variant is None else variant.weight_grams or 0) * line.quantity
    quote = choose_shipping(
        uow.shipping.zones(),
        uow.shipping.methods(),
        method_id,
        country=address.country,
        subtotal=subtotal,
        weight_grams=weight,
    )
    rate = rate_for(uow.tax_rates.list(), address.country, address.region)
    pricing = price_order(
        [(line.variant_id, line.total) for line in lines],
        quote,
        rate=rate,
        prices_include_tax=prices_include_tax,
    )
    return pricing, quote


def _client_ip(ip: str | None) -> str | None:
    """The address as stored: an address is short; anything longer is not one we can count by."""
    if ip is None or not ip or len(ip) > MAX_CLIENT_IP or not ip.isprintable():
        return None
    return ip


def _cancel_unpaid(uow: UnitOfWork, clock: Clock, order_id: str, code: str) -> None:
    with uow:
        order = uow.orders.get(order_id, for_update=True)
        if order is None:  # pragma: no cover - orders are never deleted
            raise NotFound(f"order {order_id} vanished")
        now = clock.now()
        if end_unpaid(uow, order, code, now, failed=False):
            uow.orders.save(order)
        uow.commit()


def confirm_order(
    command: ConfirmOrder,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
) -> Result[ConfirmOutcome]:
    """Confirm the payment of one's own order; idempotent by ``idempotency_key``.

    Outcomes (``ConfirmOutcome``): ``PAID`` (body ``{order}``), ``ALREADY_PAID`` (the webhook or
    an earlier confirm got there first), ``REQUIRES_ACTION`` (body adds ``client_secret``),
    ``PROCESSING``, ``DECLINED`` (body adds ``decline_code``, ``message``; the order is
    ``payment_failed`` and its stock given back), ``CANCELED``, ``REFUNDING`` (the gateway took
    the money after the order had ended and its stock was sold: the money is refunded).
    Raises ``NotFound`` for an unknown intent or another user's order, ``OrderNotPayable``,
    ``IdempotencyKeyReused``, ``IdempotencyRequestInProgress``, ``InvalidInput`` (a payment
    method the gateway does not know) and ``GatewayError`` - after each of which the key is
    free again, and a retry repeats the same gateway call, which cannot charge twice.
    """
    if command.payment_method is not None and not (
        isinstance(command.payment_method, str) and 1 <= len(command.payment_method) <= 255
    ):
        raise InvalidInput.for_field("payment_method", "must be a payment method id")
    if command.proof is not None and not (
        isinstance(command.proof, str) and 1 <= len(command.proof) <= 512
    ):
        raise InvalidInput.for_field("payment_proof", "must be the gateway's proof")
    request = {"intent_id": command.intent_id, "payment_method": command.payment_method}
    if command.proof is not None:
        request["proof"] = command.proof
    idem = IdempotentRequest(
        uow,
        clock,
        ConfirmOutcome,
        user_id=command.user_id,
        scope="confirm",
        key=command.idempotency_key,
        request=request,
    )
    replay = idem.begin()
    if replay is not None:
        return replay

    try:
        with uow:
            order = uow.orders.get_by_intent(command.intent_id)
            if order is None or order.user_id != command.user_id:
                raise NotFound("no such checkout intent")
            if order.status.is_paid:
                result = idem.finish(uow, ConfirmOutcome.ALREADY_PAID, {"order": order_view(order)})
                uow.commit()
                return result
            order.ensure_payable()
        gateway = gateways.get(order.gateway)
    except Exception as error:
        # Only reads so far (or an answer that the commit failed to store): nothing happened.
        idem.release_after(error)
        raise

    try:
        intent = gateway.confirm_intent(
            command.intent_id,
            payment_method=command.payment_method,
            idempotency_key=idem.record.derived_key("confirm"),
            proof=command.proof,
        )
    except (GatewayError, InvalidInput):
        # A payment method the gateway will not take is the client's error (422), nothing was
        # charged. Otherwise whether the gateway charged is unknown; a retry with the same key
        # repeats the same gateway call (same derived key), which does not charge twice.
        idem.abandon()
        raise
    closed = False
    if intent.declined:
        intent, closed = _cancel_after_decline(gateway, intent, idem, events)

    with publishing(uow, events, clock), uow:
        locked = uow.orders.get(order.id, for_update=True)
        if locked is None:  # pragma: no cover - orders are never deleted
            raise NotFound(f"order {order.id} vanished")
        outcome, extra = apply_intent(
            uow, locked, intent, clock.now(), intent_closed=closed, ip=command.ip
        )
        uow.orders.save(locked)
        result = idem.finish(uow, outcome, {"order": order_view(locked), **extra})
        uow.commit()
    if locked.owes_gateway_work:
        # An intent to cancel, or a capture to refund: done now, outside the transaction. What
        # the gateway cannot do now, the reconciliation job does; the answer stands either way.
        settle_gateway_work(order.id, uow=uow, gateways=gateways, clock=clock, events=events)
    return result


def _cancel_after_decline(
    gateway: PaymentGateway,
    declined: PaymentIntent,
    idem: IdempotentRequest[ConfirmOutcome],
    events: EventSink,
) -> tuple[PaymentIntent, bool]:
    """Cancel a declined intent, which could otherwise still be confirmed with another card
    behind our back; returns the intent to record and whether it is closed at the gateway."""
    try:
        canceled = gateway.cancel_intent(
            declined.id, idempotency_key=idem.record.derived_key("cancel")
        )
    except GatewayError as exc:
        # The order is still failed; it stays marked so that the cancel is tried again.
        events.emit("payment.cancel_after_decline_failed", intent_id=declined.id, error=str(exc))
        return declined, False
    if canceled.status is IntentStatus.SUCCEEDED:
        return canceled, True  # someone else's confirm won the race: it is paid after all
    return declined, True
