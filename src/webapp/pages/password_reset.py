"""A forgotten password, from HTML forms: ``/forgot-password`` emails a link to
``/reset-password?token=...``, which sets a new password.

The same core use cases and limits as the API's routes (``webapp.api.auth``):
``request_password_reset`` counted as ``PASSWORD_RESET`` per client address and per the email
named, ``reset_password`` as ``PASSWORD_RESET_CONFIRM`` per address; a limited attempt is the form
again, 429 with ``Retry-After``. Asking for a link always gets one answer, "if an account exists,
we sent a link", whether or not one does. The link is ``PUBLIC_URL`` + this blueprint's reset path
(``reset_link_base``), so the email can only point at this page.

The token travels from the link into a hidden field; an unknown, expired, used or superseded one
is one message (the core tells them apart for nobody) with a way to ask again. Success ends every
session of the account (the core) and lands on the sign-in page with a notice.
"""

from __future__ import annotations

import unicodedata

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    get_flashed_messages,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from commerce_core import (
    InvalidInput,
    LimitedOperation,
    PasswordResetTokenInvalid,
    RequestPasswordReset,
    ResetPassword,
    normalise_email,
    request_password_reset,
    reset_password,
)
from webapp.pages.auth import MAX_EMAIL_INPUT, MAX_PASSWORD_INPUT, PageForm, _see_other
from webapp.problems import ApiProblem
from webapp.rate_limiting import enforce_rate_limits
from webapp.request_ports import account_ports

__all__ = ["LINK_DOES_NOT_WORK", "LINK_SENT", "RESET_DONE", "bp", "reset_link_base"]

bp = Blueprint("pages_password_reset", __name__)

MAX_TOKEN_INPUT = 200  # as the API's: longer than any token we mint
LINK_SENT = (
    "If an account exists for that email, we sent it a link to reset the password. "
    "The link works once, for 30 minutes."
)
LINK_DOES_NOT_WORK = (
    "This password-reset link does not work: it may have expired (a link works for 30 minutes), "
    "been used already, or been replaced by a newer one."
)
RESET_DONE = "Your password was reset. Sign in with your new password."
PASSWORDS_DIFFER = "The two passwords are not the same."
_NOTICE = "notice"


class ForgotPasswordForm(PageForm):
    email = StringField("Email", validators=[InputRequired(), Length(max=MAX_EMAIL_INPUT)])


class ResetPasswordForm(PageForm):
    token = HiddenField(validators=[InputRequired(), Length(max=MAX_TOKEN_INPUT)])
    password = PasswordField(
        "New password", validators=[InputRequired(), Length(max=MAX_PASSWORD_INPUT)]
    )
    confirm = PasswordField(
        "New password, again", validators=[InputRequired(), Length(max=MAX_PASSWORD_INPUT)]
    )


def reset_link_base() -> str:
    """Where the emailed link points (the token is appended): this site's reset page."""
    public_url: str = current_app.config["COMMERCE_SETTINGS"].public_url
    return public_url.rstrip("/") + url_for("pages_password_reset.reset")


def _page(template: str, *, status: int = 200, **context: object) -> Response:
    body = render_template(template, link_does_not_work=LINK_DOES_NOT_WORK, **context)
    response = Response(body, status=status)
    # A form token, maybe a reset token: no cache may keep it.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _limited(operation: LimitedOperation, email: str | None = None) -> ApiProblem | None:
    """Count this attempt as the API counts it; the refusal if a limit says no."""
    try:
        enforce_rate_limits(operation, account=lambda: email)
    except ApiProblem as refused:
        if refused.status != 429:
            raise
        return refused
    return None


def _too_many(template: str, refused: ApiProblem, **context: object) -> Response:
    seconds = int(refused.extra.get("retry_after", 60))
    minutes = max(1, -(-seconds // 60))
    unit = "minute" if minutes == 1 else "minutes"
    response = _page(
        template,
        status=429,
        form_errors=[f"Too many attempts. Try again in {minutes} {unit}."],
        **context,
    )
    response.headers.update(refused.headers)
    return response


def _email_key(email: str) -> str | None:
    """The email as the API's limiter keys it (NFC, trimmed, lower case)."""
    if not 0 < len(email) <= MAX_EMAIL_INPUT:
        return None
    return normalise_email(unicodedata.normalize("NFC", email))


def _mark_field(form: FlaskForm, refused: InvalidInput, field: str) -> list[str]:
    """The core's errors about ``field`` beside it; any other, above the form."""
    unplaced: list[str] = []
    for error in refused.errors:
        if error.field == field:
            label = str(form[field].label.text)
            form[field].errors = [*form[field].errors, f"{label} {error.message}."]
        else:
            unplaced.append(f"{error.field}: {error.message}")
    return unplaced if refused.errors else [refused.detail]


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot() -> Response:
    form = ForgotPasswordForm()
    template = "auth/forgot.html"
    if request.method == "GET":
        return _page(template, form=form, notices=get_flashed_messages(category_filter=[_NOTICE]))
    if not form.validate_on_submit():
        return _page(template, form=form, status=422)
    email: str = form.email.data
    refused = _limited(LimitedOperation.PASSWORD_RESET, _email_key(email))
    if refused is not None:
        return _too_many(template, refused, form=form)
    try:
        request_password_reset(
            RequestPasswordReset(email=email, link_base=reset_link_base(), ip=request.remote_addr),
            **account_ports(),
        )
    except InvalidInput as invalid:
        unplaced = _mark_field(form, invalid, "email")
        return _page(template, form=form, form_errors=unplaced, status=422)
    flash(LINK_SENT, _NOTICE)
    return _see_other(url_for("pages_password_reset.forgot"))


@bp.route("/reset-password", methods=["GET", "POST"])
def reset() -> Response:
    form = ResetPasswordForm()
    template = "auth/reset.html"
    if request.method == "GET":
        token = request.args.get("token", "")
        if not 0 < len(token) <= MAX_TOKEN_INPUT:
            return _page(template, form=form, invalid=True, status=400)
        form.token.data = token
        return _page(template, form=form)
    valid = form.validate_on_submit()
    if form.token.errors:  # no token, or none we could have minted: no link works
        return _page(template, form=form, invalid=True, status=400)
    if not valid:
        return _page(template, form=form, status=422)
    if form.password.data != form.confirm.data:
        form.confirm.errors = [PASSWORDS_DIFFER]
        return _page(template, form=form, status=422)
    refused = _limited(LimitedOperation.PASSWORD_RESET_CONFIRM)
    if refused is not None:
        return _too_many(template, refused, form=form)
    try:
        reset_password(
            ResetPassword(
                token=form.token.data, new_password=form.password.data, ip=request.remote_addr
            ),
            **account_ports(),
        )
    except PasswordResetTokenInvalid:
        return _page(template, form=form, invalid=True, status=400)
    except InvalidInput as invalid:
        unplaced = _mark_field(form, invalid, "password")
        return _page(template, form=form, form_errors=unplaced, status=422)
    flash(RESET_DONE, _NOTICE)
    return _see_other(url_for("pages_auth.login"))
