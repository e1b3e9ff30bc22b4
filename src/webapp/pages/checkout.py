"""``/checkout``: where the cart ships, how, what it all costs, and paying for it.

Signed-in shoppers only (anyone else is sent to ``/login?next=/checkout``), and only for a cart
that can be bought as it is (else the page says why and links to the cart). Three steps, plain
forms posting to ``/checkout``:

1. the address: one of the shopper's saved addresses (``list_saved_addresses``) or a new one,
   checked by the core (``Address.parse``; its errors beside the fields), optionally saved;
2. the shipping method, priced for this cart and country (``shipping_options``);
3. the review: the core places the order for the cart (``checkout_cart``: stock held, intent
   created; a new checkout of the same cart ends the one before) and the page shows its
   breakdown - subtotal, shipping, tax, total, exactly the intent's answer - and the payment.

Paying depends on the gateway of the order:

- ``fake``: Stripe's test cards as radio buttons, confirmed here (``POST /checkout/pay``,
  ``confirm_order`` with a new idempotency key per rendered form, so a double click pays once).
  A card needing 3-D Secure goes to the fake gateway's own page (``webapp.pages.three_d_secure``).
- ``stripe``: Stripe.js mounts the Payment Element on the intent's client secret and confirms
  in the browser (``static/js/checkout-stripe.js``); Stripe lands the shopper on the order's
  page, which the webhook then marks paid.
- ``paypal`` / ``razorpay``: their buttons / Checkout (``checkout-paypal.js``,
  ``checkout-razorpay.js``) hand what the buyer approved (PayPal's approval, Razorpay's payment
  id and signature as ``payment_proof``) to the same ``POST /checkout/pay``.

A declined card is the review again with the gateway's message (402): the core gave the stock
back, and the page places the cart's order anew so that another card can be tried at once. Out
of stock, too many unpaid checkouts, an unreachable gateway: a clear message, never a 500. The
page's Content-Security-Policy admits the order's gateway's hosts and no others
(``gateway_page_policy``). Every answer is ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from flask import Blueprint, Flask, Response, current_app, render_template, request

from commerce_core import (
    Address,
    AddressBookFull,
    CartContents,
    CartOwner,
    CheckoutCart,
    CommerceError,
    ConfirmOrder,
    ConfirmOutcome,
    GatewayError,
    HoldLimitReached,
    IdempotencyRequestInProgress,
    InvalidInput,
    NotFound,
    Order,
    OrderNotPayable,
    OutOfStock,
    SaveAddress,
    SavedAddress,
    ShippingQuote,
    User,
    checkout_cart,
    confirm_order,
    get_order,
    list_saved_addresses,
    save_address,
    settle_cart,
    shipping_options,
    view_cart,
)
from webapp.config import Settings
from webapp.pages import cart, orders, three_d_secure
from webapp.pages.auth import _see_other
from webapp.pages.countries import COUNTRY_NAMES, country_name
from webapp.request_ports import container, payment_ports, request_uow
from webapp.security_headers import PAGE_POLICY, page_policy
from webapp.sessions import current_user

__all__ = [
    "ADDRESS_INPUTS",
    "CHECKOUT_PATH",
    "GATEWAY_SOURCES",
    "TEST_CARDS",
    "bp",
    "gateway_page_policy",
    "install_checkout",
]

bp = Blueprint("pages_checkout", __name__)

CHECKOUT_PATH = "/checkout"
CACHE_CONTROL = "private, no-store"
# The address form's inputs, in the order shown, and what each is called there.
ADDRESS_INPUTS: Mapping[str, str] = {
    "name": "Full name",
    "line1": "Address line 1",
    "line2": "Address line 2 (optional)",
    "city": "City or town",
    "region": "State, province or region (optional for some countries)",
    "postal_code": "Postal code",
    "country": "Country",
}
# How an error names each field: "The postal code is not a postal code of US."
_FIELD_NAMES = {
    "name": "The name",
    "line1": "Address line 1",
    "line2": "Address line 2",
    "city": "The city",
    "region": "The region",
    "postal_code": "The postal code",
    "country": "The country",
}
AUTOCOMPLETE = {
    "name": "shipping name",
    "line1": "shipping address-line1",
    "line2": "shipping address-line2",
    "city": "shipping address-level2",
    "region": "shipping address-level1",
    "postal_code": "shipping postal-code",
    "country": "shipping country",
}
_PREFIX = "address-"
MAX_INPUT = 300  # longer than any field of an address: the core refuses it, we only cut it
MAX_ID = 255
DEFAULT_COUNTRY = "US"


@attrs.frozen
class TestCard:
    payment_method: str
    label: str
    outcome: str


# The fake gateway's payment methods (Stripe's test cards), as the shopper picks them.
TEST_CARDS = (
    TestCard("pm_card_visa", "Visa ending in 4242", "the payment succeeds"),
    TestCard("pm_card_chargeDeclined", "Visa ending in 0002", "the card is declined"),
    TestCard(
        "pm_card_threeDSecure2Required",
        "Visa ending in 3220",
        "the bank asks for 3-D Secure authentication",
    ),
)

# The hosts each gateway's client SDK loads from, frames and calls, as their documentation
# lists them; the checkout page's policy admits its gateway's and no others.
GATEWAY_SOURCES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "stripe": {
        "script-src": ("https://js.stripe.com",),
        "frame-src": ("https://js.stripe.com", "https://hooks.stripe.com"),
        "connect-src": ("https://api.stripe.com",),
    },
    "paypal": {
        "script-src": ("https://www.paypal.com", "https://www.paypalobjects.com"),
        "frame-src": ("https://www.paypal.com", "https://www.sandbox.paypal.com"),
        "connect-src": ("https://www.paypal.com", "https://www.sandbox.paypal.com"),
        "img-src": ("https://www.paypalobjects.com",),
    },
    "razorpay": {
        "script-src": ("https://checkout.razorpay.com",),
        "frame-src": ("https://api.razorpay.com",),
        "connect-src": ("https://api.razorpay.com",),
        "img-src": ("https://cdn.razorpay.com",),
    },
}

_DECLINED = "Your card was declined."
_UNREACHABLE = (
    "The payment service could not be reached, and nothing was charged. Please try again."
)


def gateway_page_policy() -> str | None:
    """``PAGE_POLICY`` widened for the shop's gateway's client SDK (None: nothing to widen)."""
    sources = GATEWAY_SOURCES.get(container().gateways.default.name)
    if sources is None:
        return None
    directives: dict[str, list[str]] = {}
    for directive in PAGE_POLICY.split(";"):
        name, _, value = directive.strip().partition(" ")
        directives[name] = value.split()
    fallback = directives.get("default-src", ["'self'"])
    for name, hosts in sources.items():
        directives.setdefault(name, list(fallback)).extend(hosts)
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _settings() -> Settings:
    settings: Settings = current_app.config["COMMERCE_SETTINGS"]
    return settings


# -- reading the forms --------------------------------------------------------------------------


def _text(name: str, limit: int = MAX_INPUT) -> str:
    return (request.form.get(name) or "")[:limit]


def _address_values() -> dict[str, str]:
    return {key: _text(_PREFIX + key) for key in ADDRESS_INPUTS}


def _parsed(values: Mapping[str, str]) -> tuple[Address | None, dict[str, str]]:
    """The address, or the core's complaint about each field."""
    try:
        return Address.parse(dict(values), "address"), {}
    except InvalidInput as refused:
        errors: dict[str, str] = {}
        for error in refused.errors:
            key = error.field.removeprefix("address.")
            key = key if key in ADDRESS_INPUTS else "name"
            errors.setdefault(key, f"{_FIELD_NAMES[key]} {error.message.rstrip('.')}.")
        return None, errors


def _as_values(address: Address) -> dict[str, str]:
    return {key: getattr(address, key) for key in ADDRESS_INPUTS}


# -- rendering ----------------------------------------------------------------------------------


def _page(template: str, *, status: int = 200, **context: Any) -> Response:
    steps = ("Address", "Shipping", "Review and pay")
    body = render_template(
        template, steps=steps, country_names=COUNTRY_NAMES, country_name=country_name, **context
    )
    return Response(body, status=status, mimetype="text/html")


def _blocked(contents: CartContents, *, status: int = 200, message: str | None = None) -> Response:
    """The cart cannot be checked out: why, and the way back to it."""
    return _page(
        "checkout/blocked.html",
        status=status,
        contents=contents,
        message=message,
        problem_text=cart.PROBLEM_TEXT,
    )


def _address_step(
    user: User,
    contents: CartContents,
    values: Mapping[str, str],
    *,
    errors: Mapping[str, str] | None = None,
    messages: Sequence[str] = (),
    saved_id: str = "",
    status: int = 200,
) -> Response:
    return _page(
        "checkout/address.html",
        status=status,
        step=1,
        contents=contents,
        saved=list_saved_addresses(request_uow(), user.id),
        saved_id=saved_id,
        values=values,
        errors=errors or {},
        messages=messages,
        inputs=ADDRESS_INPUTS,
        autocomplete=AUTOCOMPLETE,
        prefix=_PREFIX,
    )


def _shipping_step(
    contents: CartContents,
    address: Address,
    quotes: Sequence[ShippingQuote],
    *,
    chosen: str | None = None,
    messages: Sequence[str] = (),
    status: int = 200,
) -> Response:
    return _page(
        "checkout/shipping.html",
        status=status,
        step=2,
        contents=contents,
        address=address,
        values=_as_values(address),
        quotes=quotes,
        chosen=chosen or quotes[0].method_id,
        messages=messages,
        prefix=_PREFIX,
    )


def _review(
    user: User,
    order: Order,
    *,
    client_secret: str | None = None,
    messages: Sequence[str] = (),
    status: int = 200,
) -> Response:
    settings = _settings()
    gateway = order.gateway
    if gateway == "stripe" and client_secret is None and order.intent_id is not None:
        try:
            intent = payment_ports()["gateways"].get(gateway).get_intent(order.intent_id)
            client_secret = intent.client_secret
        except GatewayError:
            messages = [*messages, _UNREACHABLE]
    remaining = order.hold_expires_at - container().clock.now()
    return _page(
        "checkout/review.html",
        status=status,
        step=3,
        user=user,
        order=order,
        gateway=gateway,
        test_cards=TEST_CARDS,
        # A new key for every form shown: a double click repeats one attempt, a retry is new.
        attempt=secrets.token_urlsafe(16),
        client_secret=client_secret,
        hold_minutes=max(1, int(remaining.total_seconds() // 60)),
        messages=messages,
        stripe_key=settings.stripe_publishable_key,
        paypal_client_id=settings.paypal_client_id,
        razorpay_key_id=settings.razorpay_key_id,
        return_url=f"{settings.public_url}{orders.order_path(order.id)}",
    )


# -- the steps ----------------------------------------------------------------------------------


def _address_submitted(user: User, contents: CartContents) -> Response:
    values = _address_values()
    saved_id = _text("saved_address", MAX_ID)
    if saved_id:
        saved = _saved_address(user, saved_id)
        if saved is None:
            return _address_step(
                user,
                contents,
                values,
                messages=["Choose one of your saved addresses, or enter a new one."],
                status=422,
            )
        address = saved.address
    else:
        parsed, errors = _parsed(values)
        if parsed is None:
            return _address_step(user, contents, values, errors=errors, status=422)
        address = parsed
    messages: list[str] = []
    if not saved_id and request.form.get("save_address") == "yes":
        try:
            save_address(SaveAddress(user.id, address), uow=request_uow(), clock=container().clock)
        except (AddressBookFull, InvalidInput) as refused:
            messages.append(f"The address was not saved to your account: {refused.detail}")
    return _quoted(user, contents, address, messages=messages)


def _quoted(
    user: User,
    contents: CartContents,
    address: Address,
    *,
    chosen: str | None = None,
    messages: Sequence[str] = (),
    status: int = 200,
) -> Response:
    """The shipping step for ``address``, or the address step if nothing ships there."""
    try:
        quotes = shipping_options(request_uow(), address.country, contents.items)
    except InvalidInput as refused:
        return _blocked(contents, status=422, message=refused.detail)
    if not quotes:
        message = f"Sorry, we do not ship to {country_name(address.country)} yet."
        return _address_step(
            user, contents, _as_values(address), errors={"country": message}, status=422
        )
    return _shipping_step(
        contents, address, quotes, chosen=chosen, messages=messages, status=status
    )


def _shipping_submitted(user: User, contents: CartContents) -> Response:
    values = _address_values()
    address, errors = _parsed(values)
    if address is None:
        return _address_step(user, contents, values, errors=errors, status=422)
    if request.form.get("change") == "address":
        return _address_step(user, contents, values)
    method = _text("shipping_method", MAX_ID)
    if not method:
        return _quoted(user, contents, address, messages=["Choose a shipping method."], status=422)
    try:
        placed = _place(user, address, method)
    except OutOfStock as short:
        return _blocked(
            view_cart(CartOwner(user_id=user.id), uow=request_uow()),
            status=409,
            message=f"Sorry, {short.detail}. Please update your cart.",
        )
    except HoldLimitReached:
        return _quoted(
            user,
            contents,
            address,
            chosen=method,
            messages=[
                "You have too many unpaid orders waiting. Pay for one, or wait a few minutes "
                "for them to expire, then try again."
            ],
            status=409,
        )
    except InvalidInput as refused:
        return _quoted(
            user,
            contents,
            address,
            chosen=method,
            messages=[e.message for e in refused.errors] or [refused.detail],
            status=422,
        )
    except GatewayError:
        return _quoted(user, contents, address, chosen=method, messages=[_UNREACHABLE], status=503)
    order, client_secret = placed
    return _review(user, order, client_secret=client_secret)


def _place(user: User, address: Address, method: str) -> tuple[Order, str | None]:
    """The cart's order, placed now; and its intent's client secret."""
    shop = container()
    result = checkout_cart(
        CheckoutCart(user.id, address, method, ip=request.remote_addr),
        **payment_ports(),
        hold_for=shop.hold_for,
        hold_limits=shop.hold_limits,
        prices_include_tax=shop.prices_include_tax,
    )
    order = get_order(request_uow(), user.id, str(result.body["order_id"]))
    secret = result.body.get("client_secret")
    return order, None if secret is None else str(secret)


def _again(user: User, ended: Order, message: str, *, status: int) -> Response:
    """The order ended unpaid (declined, expired): place the cart's order anew and show its
    review with ``message``, so that the shopper can try again at once."""
    contents = view_cart(CartOwner(user_id=user.id), uow=request_uow())
    if not contents.can_check_out or ended.shipping_address is None:
        return _blocked(contents, status=status, message=message)
    method = ended.shipping_method.method_id if ended.shipping_method else ""
    try:
        order, client_secret = _place(user, ended.shipping_address, method)
    except CommerceError as refused:
        return _blocked(contents, status=status, message=f"{message} {refused.detail}")
    return _review(user, order, client_secret=client_secret, messages=[message], status=status)


def _saved_address(user: User, address_id: str) -> SavedAddress | None:
    return next(
        (a for a in list_saved_addresses(request_uow(), user.id) if a.id == address_id), None
    )


def _initial_values(user: User) -> dict[str, str]:
    return dict.fromkeys(ADDRESS_INPUTS, "") | {"name": user.name, "country": DEFAULT_COUNTRY}


# -- routes -------------------------------------------------------------------------------------


@bp.route(CHECKOUT_PATH, methods=["GET", "POST"])
@page_policy(gateway_page_policy)
def checkout() -> Response:
    user = current_user()
    if user is None:
        return _see_other(f"/login?next={CHECKOUT_PATH}")
    contents = view_cart(CartOwner(user_id=user.id), uow=request_uow())
    if not contents.can_check_out:
        return _blocked(contents, status=200 if request.method == "GET" else 409)
    if request.method == "GET":
        return _address_step(user, contents, _initial_values(user))
    if request.form.get("step") == "shipping":
        return _shipping_submitted(user, contents)
    return _address_submitted(user, contents)


@bp.post("/checkout/pay")
@page_policy(gateway_page_policy)
def pay() -> Response:
    user = current_user()
    if user is None:
        return _see_other(f"/login?next={CHECKOUT_PATH}")
    order = get_order(request_uow(), user.id, _text("order_id", MAX_ID))
    intent_id = _text("intent_id", MAX_ID)
    if order.intent_id is None or order.intent_id != intent_id:
        raise NotFound("no such checkout")
    if order.status.is_paid:
        return _see_other(orders.order_path(order.id))
    try:
        result = confirm_order(
            ConfirmOrder(
                user_id=user.id,
                intent_id=intent_id,
                payment_method=_text("payment_method", MAX_ID) or None,
                idempotency_key=f"checkout-{_text('attempt', 64)}",
                proof=_text("payment_proof", 512) or None,
                ip=request.remote_addr,
            ),
            **payment_ports(),
        )
    except IdempotencyRequestInProgress:
        return _see_other(orders.order_path(order.id))  # a double click: the first one pays
    except OrderNotPayable:
        ended = get_order(request_uow(), user.id, order.id)
        if ended.status.is_paid:
            return _see_other(orders.order_path(order.id))
        return _again(
            user,
            ended,
            "Your reservation ran out before the payment. Please pay again.",
            status=409,
        )
    except InvalidInput as refused:
        return _review(user, order, messages=[refused.detail], status=422)
    except GatewayError:
        return _review(user, order, messages=[_UNREACHABLE], status=503)
    return _confirmed(user, order, result.outcome, result.body)


def _confirmed(
    user: User, order: Order, outcome: ConfirmOutcome, body: Mapping[str, Any]
) -> Response:
    match outcome:
        case ConfirmOutcome.PAID | ConfirmOutcome.ALREADY_PAID:
            settle_cart(user.id, uow=request_uow(), clock=container().clock)
            return _see_other(orders.order_path(order.id))
        case ConfirmOutcome.DECLINED:
            ended = get_order(request_uow(), user.id, order.id)
            message = str(body.get("message") or _DECLINED)
            return _again(
                user, ended, f"{message} Nothing was charged; try another card.", status=402
            )
        case ConfirmOutcome.REQUIRES_ACTION if order.gateway == "fake":
            return _see_other(three_d_secure.challenge_path(order))
        case ConfirmOutcome.REQUIRES_ACTION:
            return _review(
                user,
                order,
                messages=["Approve the payment in the payment window first."],
                status=409,
            )
        case _:
            # Processing, cancelled, refunding: the order's page says where it stands.
            return _see_other(orders.order_path(order.id))


def install_checkout(app: Flask) -> None:
    """The shopping path: the cart, the checkout, order pages, and - with the fake gateway
    only - its 3-D Secure page."""
    cart.install_cart(app)
    app.register_blueprint(bp)
    orders.install_orders(app)
    three_d_secure.install_three_d_secure(app)
