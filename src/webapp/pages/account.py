"""``/account``: the signed-in shopper's name and email, orders, saved addresses and password.

Everything goes through the core's use cases, as the JSON API's routes do (``webapp.api.account``,
``webapp.api.orders``, ``webapp.api.auth``): ``list_orders`` (newest first, a page at a time),
``list_saved_addresses``, ``save_address`` (the address checked by ``Address.parse``, its errors
shown beside the fields they name), ``delete_saved_address`` (another account's address is a
404, like a missing one) and ``change_password``, which ends every other session of the account
and signs this browser in afresh.

Forms post to their own routes and, once done, answer 303 back to ``/account`` with a notice
(a reload then posts nothing again); a refused form is the page again with its messages (422,
409 for a full address book). An anonymous visitor is sent to ``/login?next=/account``.
Every answer is ``Cache-Control: private, no-store``: the page is one shopper's alone.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, abort, flash, g, get_flashed_messages, render_template
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from commerce_core import (
    ADDRESS_FIELDS,
    Address,
    AddressBookFull,
    AuthenticationFailed,
    ChangePassword,
    InvalidInput,
    PageRequest,
    SaveAddress,
    User,
    change_password,
    delete_saved_address,
    list_orders,
    list_saved_addresses,
    save_address,
)
from webapp.api.auth import set_sign_in_cookies
from webapp.pages.auth import MAX_PASSWORD_INPUT, PageForm, _forget_form_token, _see_other
from webapp.pages.countries import COUNTRY_NAMES, country_name
from webapp.pages.money_format import format_price
from webapp.payloads import query_int
from webapp.request_ports import account_ports, container, request_uow
from webapp.sessions import current_user, session_token

__all__ = ["ORDERS_PER_PAGE", "AddressForm", "PasswordForm", "bp", "format_price"]

bp = Blueprint("pages_account", __name__)

ORDERS_PER_PAGE = 10
ACCOUNT_PATH = "/account"
CACHE_CONTROL = "private, no-store"
WRONG_CURRENT_PASSWORD = "The current password is wrong."  # noqa: S105 - a message
PASSWORDS_DIFFER = "The two new passwords are not the same."
# The prefix of each form's fields: two forms on one page, no two inputs with one id.
_ADDRESS_PREFIX = "address"
_PASSWORD_PREFIX = "password"  # noqa: S105 - a form prefix, not a password
_NOTICE = "notice"


class AddressForm(PageForm):
    """An ``Address`` and its label; checked by the core (``Address.parse``), not here, so the
    page and the API refuse exactly the same addresses."""

    label = StringField("Label (optional)")
    name = StringField("Full name")
    line1 = StringField("Address line 1")
    line2 = StringField("Address line 2 (optional)")
    city = StringField("City or town")
    region = StringField("State, province or region (optional)")
    postal_code = StringField("Postal code")
    country = StringField("Country")  # a <select> of COUNTRY_NAMES


class PasswordForm(PageForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired(), Length(max=MAX_PASSWORD_INPUT)]
    )
    new_password = PasswordField(
        "New password", validators=[InputRequired(), Length(max=MAX_PASSWORD_INPUT)]
    )
    confirm_password = PasswordField(
        "New password, again", validators=[InputRequired(), Length(max=MAX_PASSWORD_INPUT)]
    )


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _sign_in_first() -> Response:
    return _see_other(f"/login?next={ACCOUNT_PATH}")


def _back_to_account(notice: str, anchor: str) -> Response:
    flash(notice, _NOTICE)
    return _see_other(f"{ACCOUNT_PATH}#{anchor}")


def _account_page(
    user: User,
    *,
    address_form: FlaskForm | None = None,
    password_form: FlaskForm | None = None,
    address_errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    """The whole page; a refused form comes back filled in and marked, the other one empty."""
    paging = PageRequest(page=query_int("page", 1), per_page=ORDERS_PER_PAGE)
    orders = list_orders(request_uow(), user.id, paging)
    if paging.page > 1 and not orders.items:
        abort(404)  # past the last page
    addresses = list_saved_addresses(request_uow(), user.id)
    body = render_template(
        "account/account.html",
        user=user,
        orders=orders,
        last_page=max(1, math.ceil(orders.total / ORDERS_PER_PAGE)),
        addresses=addresses,
        address_form=address_form or AddressForm(formdata=None, prefix=_ADDRESS_PREFIX),
        password_form=password_form or PasswordForm(formdata=None, prefix=_PASSWORD_PREFIX),
        address_errors=address_errors or [],
        notices=get_flashed_messages(category_filter=[_NOTICE]),
        countries=COUNTRY_NAMES.items(),
        country_name=country_name,
    )
    return Response(body, status=status)


@bp.get(ACCOUNT_PATH)
def account() -> Response:
    user = current_user()
    if user is None:
        return _sign_in_first()
    return _account_page(user)


@bp.post(f"{ACCOUNT_PATH}/addresses")
def add_address() -> Response:
    user = current_user()
    if user is None:
        return _sign_in_first()
    form = AddressForm(prefix=_ADDRESS_PREFIX)
    fields = {name: form[name].data or "" for name in ADDRESS_FIELDS}
    try:
        address = Address.parse(fields, field="address")
        result = save_address(
            SaveAddress(user.id, address, form.label.data or ""),
            uow=request_uow(),
            clock=container().clock,
        )
    except InvalidInput as refused:
        unplaced = _mark_fields(form, refused, prefix="address.")
        return _account_page(user, address_form=form, address_errors=unplaced, status=422)
    except AddressBookFull as full:
        return _account_page(user, address_form=form, address_errors=[full.detail], status=409)
    notice = "Address saved." if result.created else "You already keep this address."
    return _back_to_account(notice, "addresses")


@bp.post(f"{ACCOUNT_PATH}/addresses/<address_id>/delete")
def delete_address(address_id: str) -> Response:
    user = current_user()
    if user is None:
        return _sign_in_first()
    # NotFound (another account's address, or none) becomes the 404 page.
    delete_saved_address(request_uow(), user.id, address_id)
    return _back_to_account("Address deleted.", "addresses")


@bp.post(f"{ACCOUNT_PATH}/password")
def change_own_password() -> Response:
    user = current_user()
    if user is None:
        return _sign_in_first()
    form = PasswordForm(prefix=_PASSWORD_PREFIX)
    if not form.validate_on_submit():
        return _account_page(user, password_form=form, status=422)
    if form.new_password.data != form.confirm_password.data:
        form.confirm_password.errors = [PASSWORDS_DIFFER]
        return _account_page(user, password_form=form, status=422)
    try:
        signed_in = change_password(
            ChangePassword(
                user_id=user.id,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                previous_session_token=session_token(),
            ),
            **account_ports(),
        )
    except AuthenticationFailed:
        form.current_password.errors = [WRONG_CURRENT_PASSWORD]
        return _account_page(user, password_form=form, status=422)
    except InvalidInput as refused:
        _mark_fields(form, refused, renamed={"password": "new_password"})
        return _account_page(user, password_form=form, status=422)
    g.user = signed_in.user  # for this request's log line
    _forget_form_token()  # a new form token with the new session
    response = _back_to_account(
        "Your password was changed. Every other session of your account was signed out.",
        "password",
    )
    set_sign_in_cookies(response, signed_in)
    return response


def _mark_fields(
    form: FlaskForm,
    refused: InvalidInput,
    *,
    prefix: str = "",
    renamed: dict[str, str] | None = None,
) -> list[str]:
    """Put each of the core's field errors on the input it names; the messages no input
    takes (answered above the form instead)."""
    unplaced: list[str] = []
    errors = refused.errors
    for error in errors:
        name = error.field.removeprefix(prefix)
        name = (renamed or {}).get(name, name)
        if name in form:
            form[name].errors = [*form[name].errors, _sentence(form[name], error.message)]
        else:
            unplaced.append(f"{error.field}: {error.message}")
    if not errors:
        unplaced.append(refused.detail)
    return unplaced


def _sentence(field: Field, message: str) -> str:
    """The core's "is required" as a sentence naming its field: "City or town is required."."""
    label = str(field.label.text).removesuffix(" (optional)")
    return f"{label} {message.rstrip('.')}."
