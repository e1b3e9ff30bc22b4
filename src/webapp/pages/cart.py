"""``/cart``: the shopper's cart, kept by the shop (``commerce_core``'s cart use cases).

Whose cart a request is about (``cart_owner``): a signed-in shopper's account cart, else the
anonymous cart whose id the ``cart`` cookie holds (``__Host-cart`` in production). The id is 128
random bits and the cookie is HttpOnly and ``SameSite=Lax``, not Strict like the session's: a
shopper arriving from another site's link sees their cart at once, and a cross-site post still
carries neither the cookie nor, more to the point, a form token - every post here needs one.
Signing in (page or API, wherever ``set_sign_in_cookies`` runs) folds that cart into the
account's and drops the cookie (``merge_on_sign_in``).

Plain forms, no script needed: ``POST /cart/add`` (``variant_id`` or ``product_id``, ``quantity``,
``next`` optional - the product page's form), ``/cart/update`` and ``/cart/remove`` answer 303 to
the cart (or a same-site ``next``) with a notice; a refused change shows the cart with its
message instead (409 out of stock, 422 invalid, 404 a line the cart does not hold).
The context processor puts the cart's size in every page's header (``cart_count``).
Every answer is ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    g,
    get_flashed_messages,
    render_template,
    request,
)

from commerce_core import (
    MAX_QUANTITY,
    AddToCart,
    Cart,
    CartOwner,
    CartProblem,
    CommerceError,
    Conflict,
    InvalidInput,
    NotFound,
    SetCartQuantity,
    SignedIn,
    add_to_cart,
    cart_units,
    merge_carts,
    remove_from_cart,
    set_cart_quantity,
    view_cart,
)
from webapp.api.auth import on_sign_in
from webapp.pages.auth import _see_other
from webapp.pages.redirects import safe_next
from webapp.request_ports import container, request_uow
from webapp.sessions import cookie_policy, current_user

__all__ = [
    "CACHE_CONTROL",
    "CART_COOKIE_MAX_AGE",
    "PROBLEM_TEXT",
    "bp",
    "cart_cookie_name",
    "cart_owner",
    "install_cart",
    "merge_on_sign_in",
]

bp = Blueprint("pages_cart", __name__)

CACHE_CONTROL = "private, no-store"
CART_PATH = "/cart"
# As long as an untouched cart is kept (``CART_RETENTION``); renewed with every change.
CART_COOKIE_MAX_AGE = 30 * 24 * 3600
MAX_FORM_ID = 200  # longer than any id: not worth a lookup
_NOTICE = "cart"

PROBLEM_TEXT = {
    CartProblem.NO_LONGER_SOLD: "No longer sold. Remove it to check out.",
    CartProblem.OUT_OF_STOCK: "Out of stock. Remove it to check out.",
    CartProblem.NOT_ENOUGH_STOCK: "Only {available} left. Lower the quantity to check out.",
    CartProblem.OTHER_CURRENCY: "Priced in another currency than the rest of your cart.",
}

# -- whose cart ---------------------------------------------------------------------------------


def cart_cookie_name() -> str:
    return "__Host-cart" if cookie_policy().secure else "cart"


def _cookie_cart_id() -> str | None:
    value = request.cookies.get(cart_cookie_name())
    if not value or len(value) > MAX_FORM_ID:
        return None
    return value


def cart_owner() -> CartOwner:
    user = current_user()
    if user is not None:
        return CartOwner(user_id=user.id)
    return CartOwner(cart_id=_cookie_cart_id())


def _keep_cookie(response: Response, cart: Cart | None) -> None:
    """An anonymous cart's id goes (back) into the cookie, renewing its life."""
    if cart is None or cart.user_id is not None:
        return
    secure = cookie_policy().secure
    response.set_cookie(
        cart_cookie_name(),
        cart.id,
        max_age=CART_COOKIE_MAX_AGE,
        path="/",
        secure=secure,
        httponly=True,
        samesite="Lax",
    )


def _drop_cookie(response: Response) -> None:
    response.delete_cookie(
        cart_cookie_name(), path="/", secure=cookie_policy().secure, httponly=True, samesite="Lax"
    )


def merge_on_sign_in(response: Response, signed_in: SignedIn) -> None:
    """A browser signs in: its anonymous cart joins the account's, and the cookie goes. Never
    fails the sign-in: should the merge fail, the cookie stays and the next sign-in retries."""
    cart_id = _cookie_cart_id()
    if cart_id is None:
        return
    shop = container()
    try:
        merged = merge_carts(signed_in.user.id, cart_id, uow=request_uow(), clock=shop.clock)
    except CommerceError as error:
        shop.events.emit("cart.merge_failed", user_id=signed_in.user.id, error=error.code)
        return
    if merged is not None and merged.left_out:
        shop.events.emit("cart.merge_capped", user_id=signed_in.user.id, units=merged.left_out)
    _drop_cookie(response)


def _cart_count() -> dict[str, Any]:
    """``cart_count`` for every page's header, read once per request."""
    if "cart_count" not in g:
        g.cart_count = cart_units(cart_owner(), uow=request_uow())
    return {"cart_count": g.cart_count}


# -- pages --------------------------------------------------------------------------------------


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _cart_page(*, status: int = 200, errors: tuple[str, ...] = ()) -> Response:
    contents = view_cart(cart_owner(), uow=request_uow())
    g.cart_count = contents.units  # the header shows what the page shows
    body = render_template(
        "cart/cart.html",
        contents=contents,
        problem_text=PROBLEM_TEXT,
        max_quantity=MAX_QUANTITY,
        errors=errors,
        notices=get_flashed_messages(category_filter=[_NOTICE]),
    )
    return Response(body, status=status, mimetype="text/html")


def _refused(error: CommerceError) -> Response:
    """The cart with the reason a change was refused."""
    if isinstance(error, InvalidInput):
        messages = tuple(_sentence(e.message) for e in error.errors) or (error.detail,)
        return _cart_page(status=422, errors=messages)
    if isinstance(error, NotFound):
        return _cart_page(status=404, errors=("That item is not in your cart.",))
    if isinstance(error, Conflict):
        return _cart_page(status=409, errors=(_sentence(error.detail),))
    raise error


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _form_text(name: str) -> str | None:
    value = request.form.get(name)
    if value is None or value == "":
        return None
    return value[:MAX_FORM_ID]


def _form_quantity(*, least: int, default: int | None = None) -> int:
    """The form's ``quantity`` as a whole number (its bounds are the core's to check)."""
    raw = request.form.get("quantity")
    if raw is None or raw.strip() == "":
        if default is None:
            raise InvalidInput.for_field("quantity", "is required")
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise InvalidInput.for_field(
            "quantity", f"must be a whole number from {least} to {MAX_QUANTITY}"
        )
    return int(text)


def _done(notice: str, cart: Cart | None) -> Response:
    flash(notice, _NOTICE)
    response = _see_other(safe_next(request.form.get("next"), default=CART_PATH))
    _keep_cookie(response, cart)
    return response


def _line_name(ref: str, owner: CartOwner) -> str:
    """The name of the line ``ref`` (a variant id, or a product id for its one variant) names."""
    contents = view_cart(owner, uow=request_uow())
    line = next(
        (line for line in contents.lines if ref in (line.variant_id, line.product_id)), None
    )
    if line is None:
        return "The item"
    return f"{line.name} ({line.options_label})" if line.options_label else line.name


@bp.get(CART_PATH)
def cart() -> Response:
    return _cart_page()


@bp.post("/cart/add")
def add() -> Response:
    shop = container()
    try:
        added = add_to_cart(
            AddToCart(
                cart_owner(),
                _form_quantity(least=1, default=1),
                variant_id=_form_text("variant_id"),
                product_id=_form_text("product_id"),
            ),
            uow=request_uow(),
            clock=shop.clock,
        )
    except CommerceError as error:
        return _refused(error)
    ref = _form_text("variant_id") or _form_text("product_id") or ""
    # The cart itself: a new one's id is not in this request's cookie yet.
    owner = CartOwner(user_id=added.user_id, cart_id=added.id)
    return _done(f"{_line_name(ref, owner)} is in your cart.", added)


@bp.post("/cart/update")
def update() -> Response:
    variant_id = _form_text("variant_id") or ""
    try:
        changed = set_cart_quantity(
            SetCartQuantity(cart_owner(), variant_id, _form_quantity(least=0)),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _refused(error)
    return _done("Your cart is updated.", changed)


@bp.post("/cart/remove")
def remove() -> Response:
    variant_id = _form_text("variant_id") or ""
    name = _line_name(variant_id, cart_owner()) if variant_id else "The item"
    try:
        changed = remove_from_cart(
            cart_owner(), variant_id, uow=request_uow(), clock=container().clock
        )
    except CommerceError as error:
        return _refused(error)
    return _done(f"{name} was removed from your cart.", changed)


def install_cart(app: Flask) -> None:
    """The cart's pages, the header's count, and the merge at every sign-in."""
    app.register_blueprint(bp)
    app.context_processor(_cart_count)
    on_sign_in(app, merge_on_sign_in)
