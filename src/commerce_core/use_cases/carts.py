"""The cart: add, change and view what a shopper means to buy, then check it out.

Whose cart a call is about is a ``CartOwner``: a signed-in shopper's (by account), or an
anonymous visitor's (by the cart id their browser keeps; none yet is fine - the first add makes
one). An anonymous id that names an account's cart is no cart at all: an id never opens
someone's account cart. Signing in folds the anonymous cart into the account's
(``merge_carts``).

A cart holds what checkout takes (``MAX_LINES`` variants, ``MAX_QUANTITY`` of each) and only
what the catalogue sells: adding an archived variant, a product whose option must be chosen, or
more than the stock is refused. What changes later is shown, never dropped: ``view_cart`` prices
every line from the catalogue now and flags a line whose variant is no longer sold, out of
stock or short (``CartProblem``), and such a cart cannot be checked out until the shopper
fixes it.

``checkout_cart`` places the order for the cart (``create_checkout_intent``) and links it to the
cart; a new checkout of the same cart ends the one before (its hold goes back, its intent is
cancelled), so going back and forth holds the stock once. Once the linked order is paid, what it
bought leaves the cart; a declined card leaves the cart as it was. Carts untouched for
``CART_RETENTION`` are purged by the periodic job (``purge_stale_carts``).

>>> from commerce_core.testing import InMemoryShop
>>> shop = InMemoryShop.with_demo_product(stock=3)
>>> cart = add_to_cart(AddToCart(CartOwner(), 2, product_id=shop.product_id),
...                    uow=shop.uow, clock=shop.clock)
>>> view_cart(CartOwner(cart_id=cart.id), uow=shop.uow).units
2
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from commerce_core.domain.addresses import Address
from commerce_core.domain.carts import Cart, CartLimits
from commerce_core.domain.catalog import Product, Variant
from commerce_core.domain.hold_limits import HoldLimits
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.errors import Conflict, FieldError, InvalidInput, NotFound, OutOfStock
from commerce_core.ports import Clock, EventSink, GatewayRegistry, UnitOfWork
from commerce_core.use_cases._idempotent import Result
from commerce_core.use_cases._publishing import publishing
from commerce_core.use_cases.checkout import (
    DEFAULT_HOLD,
    DEFAULT_HOLD_LIMITS,
    MAX_LINES,
    MAX_QUANTITY,
    CartItem,
    CreateCheckoutIntent,
    create_checkout_intent,
)
from commerce_core.use_cases.outcomes import IntentOutcome
from commerce_core.use_cases.settlement import end_unpaid, settle_gateway_work

__all__ = [
    "CART_LIMITS",
    "CART_RETENTION",
    "AddToCart",
    "CartContents",
    "CartEntry",
    "CartMerge",
    "CartOwner",
    "CartProblem",
    "CheckoutCart",
    "SetCartQuantity",
    "add_to_cart",
    "cart_units",
    "checkout_cart",
    "merge_carts",
    "purge_stale_carts",
    "remove_from_cart",
    "set_cart_quantity",
    "settle_cart",
    "view_cart",
]

CART_LIMITS = CartLimits(max_lines=MAX_LINES, max_quantity=MAX_QUANTITY)
CART_RETENTION = timedelta(days=30)
MAX_REF = 64  # our ids are "<prefix>_" + 32 hex digits
# Why the order a new checkout of the same cart ends was cancelled.
REPLACED = "replaced_by_new_checkout"


@attrs.frozen
class CartOwner:
    """Whose cart: the signed-in ``user_id``'s, else the anonymous cart ``cart_id`` names."""

    user_id: str | None = None
    cart_id: str | None = None


@attrs.frozen
class AddToCart:
    """``quantity`` units of the variant ``variant_id``, or of the product ``product_id``'s one
    variant (a product without options)."""

    owner: CartOwner
    quantity: int
    variant_id: str | None = None
    product_id: str | None = None


@attrs.frozen
class SetCartQuantity:
    owner: CartOwner
    variant_id: str
    quantity: int  # 0 removes the line


@attrs.frozen
class CheckoutCart:
    user_id: str
    shipping_address: Address
    shipping_method: str
    # The client's address, as the driver trusts it (unpaid holds are capped per address).
    ip: str | None = None


class CartProblem(enum.StrEnum):
    """Why a line cannot be bought as it is."""

    NO_LONGER_SOLD = "no_longer_sold"  # archived, or gone from the catalogue
    OUT_OF_STOCK = "out_of_stock"
    NOT_ENOUGH_STOCK = "not_enough_stock"  # fewer units left than the line asks
    OTHER_CURRENCY = "other_currency"  # priced in another currency than the rest


@attrs.frozen
class CartEntry:
    """One line as the catalogue prices it now."""

    variant_id: str
    quantity: int
    # None when the variant is gone from the catalogue altogether.
    product_id: str | None
    slug: str | None
    name: str
    options: tuple[tuple[str, str], ...]
    image_url: str
    unit_price: Money | None
    # Units the catalogue can sell now (0 for a line no longer sold).
    available: int
    problem: CartProblem | None

    @property
    def options_label(self) -> str:
        """``"M / blue"``; ``""`` without options."""
        return " / ".join(value for _, value in self.options)

    @property
    def line_total(self) -> Money | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


@attrs.frozen
class CartContents:
    cart_id: str | None
    lines: tuple[CartEntry, ...]
    # The lines that can be bought, at today's prices; None for none.
    subtotal: Money | None

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def problems(self) -> tuple[CartEntry, ...]:
        return tuple(line for line in self.lines if line.problem is not None)

    @property
    def can_check_out(self) -> bool:
        return bool(self.lines) and not self.problems

    @property
    def items(self) -> tuple[CartItem, ...]:
        """The cart as checkout takes it."""
        return tuple(
            CartItem(product_id=None, quantity=line.quantity, variant_id=line.variant_id)
            for line in self.lines
        )


@attrs.frozen
class CartMerge:
    """The account's cart after signing in, and the units that did not fit in it."""

    cart: Cart
    left_out: int


# -- reading -----------------------------------------------------------------------------------


def view_cart(owner: CartOwner, *, uow: UnitOfWork) -> CartContents:
    """The cart priced from the catalogue now, every line kept and flagged if it cannot be
    bought as it is; an empty ``CartContents`` if the owner has no cart."""
    with uow:
        cart = _find(uow, owner)
        if cart is None:
            return CartContents(None, (), None)
        _settle(uow, cart, cart.updated_at)  # as it will be stored at its next change
        return _priced(uow, cart)


def cart_units(owner: CartOwner, *, uow: UnitOfWork) -> int:
    """How many units the cart holds (the header's count), without pricing it."""
    with uow:
        cart = _find(uow, owner)
        if cart is None:
            return 0
        _settle(uow, cart, cart.updated_at)
        return cart.units


# -- changing ----------------------------------------------------------------------------------


def add_to_cart(command: AddToCart, *, uow: UnitOfWork, clock: Clock) -> Cart:
    """Add units of a variant on sale; the cart (a new anonymous one if the owner had none:
    its id is for the browser to keep). ``InvalidInput`` for a bad quantity, an unknown or
    archived variant, a product whose option must be chosen, or a full cart; ``OutOfStock``
    when the line would ask more than the stock."""
    _check_quantity(command.quantity, least=1)
    named = [
        (field, value)
        for field, value in (("variant_id", command.variant_id), ("product_id", command.product_id))
        if value is not None
    ]
    if len(named) != 1:
        raise InvalidInput.for_field("variant_id", "give exactly one of variant_id and product_id")
    field, ref = named[0]
    _check_ref(field, ref)

    def change(cart: Cart, now: datetime) -> None:
        product, variant = _sellable(uow, field, ref)
        wanted = cart.quantity_of(variant.id) + command.quantity
        if wanted > variant.stock:
            raise _short(product, variant)
        cart.add(variant.id, command.quantity, now, CART_LIMITS)

    cart = _changing(uow, clock, command.owner, change, create=True)
    if cart is None:  # pragma: no cover - create=True always answers a cart
        raise NotFound("no cart")
    return cart


def set_cart_quantity(command: SetCartQuantity, *, uow: UnitOfWork, clock: Clock) -> Cart | None:
    """Make a line ``quantity`` units (0 removes it); the cart, None if the owner has none.
    ``NotFound`` for a line the cart does not hold; more units than before must be on sale
    and in stock (``InvalidInput``, ``OutOfStock``), fewer are always fine."""
    _check_quantity(command.quantity, least=0)
    _check_ref("variant_id", command.variant_id)

    def change(cart: Cart, now: datetime) -> None:
        held = cart.quantity_of(command.variant_id)
        if held == 0:
            if command.quantity == 0:
                return
            raise NotFound("the cart holds no such item")
        if command.quantity > held:
            product, variant = _sellable(uow, "variant_id", command.variant_id)
            if command.quantity > variant.stock:
                raise _short(product, variant)
        cart.set_quantity(command.variant_id, command.quantity, now, CART_LIMITS)

    return _changing(uow, clock, command.owner, change, create=False)


def remove_from_cart(
    owner: CartOwner, variant_id: str, *, uow: UnitOfWork, clock: Clock
) -> Cart | None:
    """Take a line out (nothing to do if it is not there); the cart, None if there is none."""
    _check_ref("variant_id", variant_id)

    def change(cart: Cart, now: datetime) -> None:
        cart.remove(variant_id, now)

    return _changing(uow, clock, owner, change, create=False)


def merge_carts(user_id: str, cart_id: str, *, uow: UnitOfWork, clock: Clock) -> CartMerge | None:
    """At sign-in: fold the anonymous cart ``cart_id`` into ``user_id``'s (quantities add up,
    capped by ``CART_LIMITS``) and delete it; it simply becomes theirs if they had none. None if
    there is no such anonymous cart."""
    if not _plausible(cart_id):
        return None
    for attempt in range(2):
        try:
            with uow:
                anonymous = uow.carts.get(cart_id, for_update=True)
                if anonymous is None or anonymous.user_id is not None:
                    return None
                now = clock.now()
                mine = uow.carts.get_for_user(user_id, for_update=True)
                if mine is None:
                    anonymous.user_id = user_id
                    anonymous.updated_at = now
                    _save(uow, anonymous, created=False)
                    uow.commit()
                    return CartMerge(anonymous, 0)
                _settle(uow, mine, now)
                left_out = mine.absorb(anonymous, now, CART_LIMITS)
                uow.carts.save(mine)
                uow.carts.delete(anonymous.id)
                uow.commit()
                return CartMerge(mine, left_out)
        except _CartRaced:
            if attempt:
                raise Conflict("the cart changed meanwhile; try again") from None
    raise AssertionError("unreachable")  # pragma: no cover


def settle_cart(user_id: str, *, uow: UnitOfWork, clock: Clock) -> None:
    """Store what ``view_cart`` shows: once the order placed from the cart is paid, what it
    bought leaves the cart (a driver calls this when it learns the order is paid)."""
    with uow:
        cart = uow.carts.get_for_user(user_id, for_update=True)
        if cart is not None and _settle(uow, cart, clock.now()):
            uow.carts.save(cart)
            uow.commit()


def purge_stale_carts(
    *, uow: UnitOfWork, clock: Clock, retention: timedelta = CART_RETENTION
) -> int:
    """Delete carts untouched for ``retention``; how many (a periodic job's work)."""
    with uow:
        purged = uow.carts.purge_untouched(clock.now() - retention)
        uow.commit()
    return purged


# -- checking out ------------------------------------------------------------------------------


def checkout_cart(
    command: CheckoutCart,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
    hold_for: timedelta = DEFAULT_HOLD,
    hold_limits: HoldLimits = DEFAULT_HOLD_LIMITS,
    prices_include_tax: bool = False,
) -> Result[IntentOutcome]:
    """Place the order for the shopper's cart as it is now (``create_checkout_intent``: its
    answer, and its errors) and link it to the cart. The order an earlier checkout of this cart
    placed, if still unpaid, is ended first. ``InvalidInput`` on ``cart`` for an empty cart or
    one with lines that cannot be bought (``view_cart`` says which)."""
    contents = view_cart(CartOwner(user_id=command.user_id), uow=uow)
    if not contents.lines:
        raise InvalidInput.for_field("cart", "is empty")
    if contents.problems:
        raise InvalidInput(
            errors=[
                FieldError("cart", f"{line.name}: {str(line.problem).replace('_', ' ')}")
                for line in contents.problems
            ]
        )
    _end_earlier_checkout(command.user_id, uow=uow, gateways=gateways, clock=clock, events=events)
    result = create_checkout_intent(
        CreateCheckoutIntent(
            user_id=command.user_id,
            items=contents.items,
            ip=command.ip,
            shipping_address=command.shipping_address,
            shipping_method=command.shipping_method,
        ),
        uow=uow,
        gateways=gateways,
        clock=clock,
        events=events,
        hold_for=hold_for,
        hold_limits=hold_limits,
        prices_include_tax=prices_include_tax,
    )
    with uow:
        cart = uow.carts.get_for_user(command.user_id, for_update=True)
        if cart is not None:
            cart.order_id = str(result.body["order_id"])
            uow.carts.save(cart)
            uow.commit()
    return result


def _end_earlier_checkout(
    user_id: str,
    *,
    uow: UnitOfWork,
    gateways: GatewayRegistry,
    clock: Clock,
    events: EventSink,
) -> None:
    with publishing(uow, events, clock):
        with uow:
            cart = uow.carts.get_for_user(user_id)
            if cart is None or cart.order_id is None:
                return
            order = uow.orders.get(cart.order_id, for_update=True)
            if order is None or order.user_id != user_id or not order.is_payable:
                return
            end_unpaid(uow, order, REPLACED, clock.now(), failed=False, cancel_intent=True)
            uow.orders.save(order)
            uow.commit()
        if order.owes_gateway_work:
            # Its intent is cancelled at the gateway, outside the transaction; what cannot be
            # done now the reconciliation job does.
            settle_gateway_work(order.id, uow=uow, gateways=gateways, clock=clock, events=events)


# -- inside ------------------------------------------------------------------------------------


class _CartRaced(Exception):
    """Another request made the account's cart at the same moment: read it again."""


def _plausible(cart_id: object) -> bool:
    return isinstance(cart_id, str) and 1 <= len(cart_id) <= MAX_REF and cart_id.isprintable()


def _check_ref(field: str, ref: object) -> None:
    if not _plausible(ref):
        raise InvalidInput.for_field(field, f"must be a {field.removesuffix('_id')} id")


def _check_quantity(quantity: object, *, least: int) -> None:
    if type(quantity) is not int or not (least <= quantity <= MAX_QUANTITY):
        raise InvalidInput.for_field(
            "quantity", f"must be a whole number from {least} to {MAX_QUANTITY}"
        )


def _find(uow: UnitOfWork, owner: CartOwner, *, for_update: bool = False) -> Cart | None:
    if owner.user_id is not None:
        return uow.carts.get_for_user(owner.user_id, for_update=for_update)
    if not _plausible(owner.cart_id):
        return None
    cart = uow.carts.get(str(owner.cart_id), for_update=for_update)
    # An anonymous id never opens an account's cart.
    return cart if cart is not None and cart.user_id is None else None


def _changing(
    uow: UnitOfWork,
    clock: Clock,
    owner: CartOwner,
    change: Callable[[Cart, datetime], None],
    *,
    create: bool,
) -> Cart | None:
    """Apply ``change`` to the owner's cart (locked) in one transaction and store it; a new
    cart first if there is none and ``create``."""
    for attempt in range(2):
        try:
            with uow:
                now = clock.now()
                cart = _find(uow, owner, for_update=True)
                created = cart is None
                if cart is None:
                    if not create:
                        return None
                    cart = Cart.new(new_id("cart"), owner.user_id, now)
                else:
                    _settle(uow, cart, now)
                change(cart, now)
                _save(uow, cart, created=created)
                uow.commit()
                return cart
        except _CartRaced:
            if attempt:
                raise Conflict("the cart changed meanwhile; try again") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _save(uow: UnitOfWork, cart: Cart, *, created: bool) -> None:
    try:
        if created:
            uow.carts.add(cart)
        else:
            uow.carts.save(cart)
    except Conflict:
        if cart.user_id is None:
            raise
        raise _CartRaced from None


def _settle(uow: UnitOfWork, cart: Cart, now: datetime) -> bool:
    """Apply the fate of the order linked to the cart: paid, what it bought leaves the cart;
    ended unpaid, the link goes. Whether the cart changed."""
    if cart.order_id is None:
        return False
    order = uow.orders.get(cart.order_id)
    if order is not None and order.user_id == cart.user_id and order.is_payable:
        return False
    if order is not None and order.user_id == cart.user_id and order.status.is_paid:
        bought: dict[str, int] = {}
        for line in order.lines:
            bought[line.variant_id] = bought.get(line.variant_id, 0) + line.quantity
        cart.forget_bought(bought, now)
    else:
        cart.order_id = None
        cart.updated_at = now
    return True


def _sellable(uow: UnitOfWork, field: str, ref: str) -> tuple[Product, Variant]:
    """The product and variant a line names, if the catalogue sells it."""
    if field == "variant_id":
        owner_id = uow.products.owners([ref]).get(ref)
        product = None if owner_id is None else uow.products.get(owner_id)
        variant = None if product is None else product.variant(ref)
    else:
        product = uow.products.get(ref)
        variant = None if product is None else product.default_variant
        if product is not None and variant is None:
            raise InvalidInput.for_field(field, "choose one of the product's options first")
    if product is None or variant is None:
        raise InvalidInput.for_field(field, "is not an item of the catalogue")
    if product.archived or variant.archived:
        raise InvalidInput.for_field(field, "is no longer sold")
    return product, variant


def _short(product: Product, variant: Variant) -> OutOfStock:
    name = f"{product.name} ({variant.label})" if variant.label else product.name
    if variant.stock == 0:
        return OutOfStock(f"{name} is out of stock", variant_ids=[variant.id])
    return OutOfStock(f"only {variant.stock} of {name} left", variant_ids=[variant.id])


def _priced(uow: UnitOfWork, cart: Cart) -> CartContents:
    owners = uow.products.owners([line.variant_id for line in cart.lines])
    products: dict[str, Product] = {}
    for product_id in sorted(set(owners.values())):
        product = uow.products.get(product_id)
        if product is not None:
            products[product_id] = product
    entries: list[CartEntry] = []
    subtotal: Money | None = None
    for line in cart.lines:
        product = products.get(owners.get(line.variant_id, ""))
        variant = None if product is None else product.variant(line.variant_id)
        if product is None or variant is None:
            entries.append(
                CartEntry(
                    variant_id=line.variant_id,
                    quantity=line.quantity,
                    product_id=None,
                    slug=None,
                    name="An item no longer in the catalogue",
                    options=(),
                    image_url="",
                    unit_price=None,
                    available=0,
                    problem=CartProblem.NO_LONGER_SOLD,
                )
            )
            continue
        problem = _problem(product, variant, line.quantity)
        if problem is None and subtotal is not None and subtotal.currency != variant.price.currency:
            problem = CartProblem.OTHER_CURRENCY
        if problem is None:
            line_total = variant.price * line.quantity
            subtotal = line_total if subtotal is None else subtotal + line_total
        entries.append(
            CartEntry(
                variant_id=line.variant_id,
                quantity=line.quantity,
                product_id=product.id,
                slug=product.slug,
                name=product.name,
                options=variant.options,
                image_url=variant.image_url or product.image_url,
                unit_price=variant.price,
                available=0 if problem is CartProblem.NO_LONGER_SOLD else variant.stock,
                problem=problem,
            )
        )
    return CartContents(cart.id, tuple(entries), subtotal)


def _problem(product: Product, variant: Variant, quantity: int) -> CartProblem | None:
    if product.archived or variant.archived:
        return CartProblem.NO_LONGER_SOLD
    if variant.stock == 0:
        return CartProblem.OUT_OF_STOCK
    if variant.stock < quantity:
        return CartProblem.NOT_ENOUGH_STOCK
    return None
