"""Signing in, signing up and signing out from HTML forms.

The same accounts, sessions and cookies as the JSON API (``webapp.api.auth``): the core's
``log_in``, ``register`` and ``log_out`` with the request's ports, and the cookies the API sets at
sign-in (the server-side ``session``, the refresh token, and the API's CSRF token bound to the
session, so that scripts on later pages can call the API).
Forms are Flask-WTF's, their CSRF token checked for every page request by ``webapp.pages``.

The core's use cases are called through ``_sign_in``, ``_sign_up`` and ``_sign_out`` only, and
their refusals are read in one place, ``_refusal``, by kind rather than by exact class: a wrong
password, an invalid field, an address already taken, or a lockout or rate limit (recognised by
its code or by the ``retry_after`` it carries), so that the core can grow its policies without
every page following.

Signing out is a ``POST``; ``GET /logout`` only shows the button, so that no link, prefetch or
image tag can sign anyone out.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import attrs
from flask import Blueprint, Response, g, render_template, request, session
from flask_wtf import FlaskForm
from werkzeug.urls import iri_to_uri
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from commerce_core import (
    AuthenticationFailed,
    CommerceError,
    Conflict,
    InvalidInput,
    LogIn,
    Register,
    SignedIn,
    log_in,
    log_out,
    register,
)
from webapp.api.auth import set_sign_in_cookies
from webapp.pages.redirects import DEFAULT_NEXT, safe_next
from webapp.request_ports import account_ports, container, request_uow
from webapp.sessions import cookie_policy, current_user, session_token

__all__ = ["LOCKOUT_CODES", "WRONG_CREDENTIALS", "bp"]

bp = Blueprint("pages_auth", __name__)

# As the API's: long enough for any passphrase, short enough that hashing cannot burn our CPU.
MAX_PASSWORD_INPUT = 1024
MAX_EMAIL_INPUT = 320
MAX_NAME_INPUT = 200
WRONG_CREDENTIALS = "The email or password is wrong."
# Codes by which the core or a rate limiter says "not now, too many attempts".
LOCKOUT_CODES = frozenset({"locked_out", "rate_limited", "too_many_attempts"})
# Flask-WTF keeps its raw CSRF token in Flask's session and caches it on ``g`` under this name.
_WTF_TOKEN_KEY = "csrf_token"  # noqa: S105 - the name of a session key, not a secret


class PageForm(FlaskForm):  # type: ignore[misc]  # FlaskForm is untyped
    """A page's form. Its CSRF token is not a field of its own: ``webapp.pages`` checks it once
    for every state-changing page request, from the form or the ``X-CSRF-Token`` header."""

    class Meta:
        csrf = False


class LoginForm(PageForm):
    email = StringField("Email", validators=[InputRequired(), Length(max=MAX_EMAIL_INPUT)])
    password = PasswordField(
        "Password", validators=[InputRequired(), Length(max=MAX_PASSWORD_INPUT)]
    )
    next = HiddenField()


class RegisterForm(PageForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=MAX_NAME_INPUT)])
    email = StringField("Email", validators=[InputRequired(), Length(max=MAX_EMAIL_INPUT)])
    password = PasswordField(
        "Password", validators=[InputRequired(), Length(max=MAX_PASSWORD_INPUT)]
    )
    next = HiddenField()


class LogoutForm(PageForm):
    """Nothing but the CSRF token."""


# -- the core, behind one seam -----------------------------------------------------------------


def _sign_in(email: str, password: str) -> SignedIn:
    return log_in(
        LogIn(
            email=email,
            password=password,
            previous_session_token=session_token(),
            ip=request.remote_addr,
        ),
        **account_ports(),
    )


def _sign_up(name: str, email: str, password: str) -> SignedIn:
    # The role is never read from the form: self-registration always makes a customer.
    return register(
        Register(email=email, password=password, name=name, previous_session_token=session_token()),
        **account_ports(),
    )


def _sign_out(token: str) -> None:
    log_out(token, uow=request_uow(), clock=container().clock)


# -- reading the core's refusals ---------------------------------------------------------------


@attrs.frozen
class Refusal:
    """What a form shows for a refused attempt, and with which status."""

    status: int
    message: str | None = None
    field_errors: tuple[tuple[str, str], ...] = ()
    retry_after: int | None = None


def _seconds_until_retry(error: CommerceError) -> int | None:
    raw = getattr(error, "retry_after", None)
    if isinstance(raw, timedelta):
        seconds = raw.total_seconds()
    elif isinstance(raw, datetime):
        seconds = (raw - container().clock.now()).total_seconds()
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = float(raw)
    else:
        return None
    return max(1, math.ceil(seconds))


def _refusal(error: CommerceError) -> Refusal | None:
    """How a page shows ``error``; ``None`` for errors that are not about the attempt (they
    become an error page)."""
    retry_after = _seconds_until_retry(error)
    if error.code in LOCKOUT_CODES or retry_after is not None:
        if retry_after is None:
            return Refusal(429, "Too many attempts. Please try again later.")
        minutes = math.ceil(retry_after / 60)
        unit = "minute" if minutes == 1 else "minutes"
        return Refusal(
            429, f"Too many attempts. Try again in {minutes} {unit}.", retry_after=retry_after
        )
    if isinstance(error, AuthenticationFailed):
        return Refusal(422, WRONG_CREDENTIALS)
    if isinstance(error, InvalidInput):
        fields = tuple((e.field, e.message) for e in error.errors)
        return Refusal(422, None if fields else error.detail, fields)
    if isinstance(error, Conflict):
        return Refusal(409, error.detail)
    return None


# -- rendering ---------------------------------------------------------------------------------


def _page(template: str, form: FlaskForm, *, status: int = 200, **context: object) -> Response:
    if "next" in form:
        # Carried into links and the hidden field only when it is safe to follow.
        form.next.data = safe_next(form.next.data, default="")
    response = Response(render_template(template, form=form, **context), status=status)
    # Personal (a form token, maybe a name): no shared or back-button cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(template: str, form: FlaskForm, error: CommerceError) -> Response:
    refusal = _refusal(error)
    if refusal is None:
        raise error
    form_errors = [refusal.message] if refusal.message else []
    for name, message in refusal.field_errors:
        if name in form and name != "next":
            form[name].errors = [*form[name].errors, message]
        else:
            form_errors.append(f"{name}: {message}")
    response = _page(template, form, status=refusal.status, form_errors=form_errors)
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _signed_in(signed_in: SignedIn, destination: str) -> Response:
    g.user = signed_in.user  # for this request's log line
    _forget_form_token()
    response = _see_other(destination)
    set_sign_in_cookies(response, signed_in)
    return response


def _see_other(path: str) -> Response:
    """303: after a form post, the browser GETs ``path`` (a reload does not post again)."""
    # As an URI: a header carries no raw non-ASCII, and a safe path stays the same path.
    return Response(status=303, headers={"Location": iri_to_uri(path)})


def _forget_form_token() -> None:
    """A new form token with every new session, as the API does with its own."""
    session.pop(_WTF_TOKEN_KEY, None)
    g.pop(_WTF_TOKEN_KEY, None)


# -- routes ------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next")
        return _page("auth/login.html", form, user=current_user())
    if not form.validate_on_submit():
        return _page("auth/login.html", form, status=422)
    try:
        signed_in = _sign_in(form.email.data, form.password.data)
    except CommerceError as error:
        return _refused("auth/login.html", form, error)
    return _signed_in(signed_in, safe_next(form.next.data))


@bp.route("/register", methods=["GET", "POST"])
def register_account() -> Response:
    form = RegisterForm()
    if request.method == "GET":
        form.next.data = request.args.get("next")
        return _page("auth/register.html", form)
    if not form.validate_on_submit():
        return _page("auth/register.html", form, status=422)
    try:
        signed_in = _sign_up(form.name.data, form.email.data, form.password.data)
    except CommerceError as error:
        return _refused("auth/register.html", form, error)
    return _signed_in(signed_in, safe_next(form.next.data))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    form = LogoutForm()
    if request.method == "GET":
        return _page("auth/logout.html", form, user=current_user())
    # The CSRF token was checked before this view ran (webapp.pages); the form has nothing else.
    token = session_token()
    if token is not None:
        _sign_out(token)
    _forget_form_token()
    response = _see_other(DEFAULT_NEXT)
    cookie_policy().clear(response)
    return response
