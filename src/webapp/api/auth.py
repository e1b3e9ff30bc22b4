"""Accounts: register, log in, refresh, log out, change password, who am I, and the CSRF token.

Every sign-in gets a brand-new server session token, a new refresh-token family and a CSRF
token bound to the session, and ends the session this browser held before, so a session id
planted before login is worth nothing after. The refresh token travels only in its own cookie,
sent only to ``/api/auth``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g, request

from commerce_core import (
    ChangePassword,
    LimitedOperation,
    LogIn,
    RefreshRejected,
    RefreshSession,
    Register,
    RequestPasswordReset,
    ResetPassword,
    SignedIn,
    change_password,
    log_in,
    log_out,
    refresh_session,
    register,
    request_password_reset,
    reset_password,
)
from webapp.api.responses import json_response
from webapp.csrf import mint_token
from webapp.payloads import BodyReader, json_body
from webapp.problems import commerce_problem
from webapp.rate_limiting import email_in_body, rate_limited
from webapp.request_ports import account_ports, container, request_uow
from webapp.sessions import (
    cookie_policy,
    new_anonymous_id,
    refresh_cookie,
    require_user,
    session_binding,
    session_token,
)

__all__ = ["SIGN_IN_HOOKS", "bp", "on_sign_in", "set_sign_in_cookies"]

bp = Blueprint("auth", __name__, url_prefix="/api/auth")

# Long enough for any passphrase, short enough that hashing it cannot be used to burn our CPU.
MAX_PASSWORD_INPUT = 1024
MAX_EMAIL_INPUT = 320
MAX_TOKEN_INPUT = 200
# What else a browser's sign-in does, registered by the modules it concerns (``on_sign_in``).
SIGN_IN_HOOKS = "commerce.sign_in_hooks"


@bp.get("/csrf")
def csrf_token() -> Response:
    """A fresh CSRF token bound to this browser's session (or to a new pre-login id)."""
    policy = cookie_policy()
    binding = session_binding()
    token_binding = binding or new_anonymous_id()
    token = mint_token(current_app.config["SECRET_KEY"], token_binding)
    response = json_response({"csrf_token": token})
    if binding is None:
        policy.set_session(response, token_binding)
    policy.set_csrf(response, token)
    return response


@bp.post("/register")
@rate_limited(LimitedOperation.REGISTER)
def register_account() -> Response:
    body = BodyReader(json_body())
    email = body.text("email", max_length=MAX_EMAIL_INPUT)
    password = body.text("password", max_length=MAX_PASSWORD_INPUT)
    name = body.text("name", max_length=200)
    body.finish()
    # The role is never read from the request: self-registration always makes a customer.
    # An email that already has an account gets this very answer too (see ``register``).
    signed_in = register(
        Register(
            email=email,
            password=password,
            name=name,
            previous_session_token=session_token(),
            ip=request.remote_addr,
        ),
        **account_ports(),
    )
    return _signed_in(signed_in, status=201)


@bp.post("/login")
@rate_limited(LimitedOperation.LOG_IN, account=email_in_body)
def log_in_account() -> Response:
    body = BodyReader(json_body())
    email = body.text("email", max_length=MAX_EMAIL_INPUT)
    password = body.text("password", max_length=MAX_PASSWORD_INPUT)
    body.finish()
    # Unknown email, wrong password and disabled account raise the same AuthenticationFailed,
    # rendered as one identical 401 body; a lock is one 429 for known and unknown emails alike.
    signed_in = log_in(
        LogIn(
            email=email,
            password=password,
            previous_session_token=session_token(),
            ip=request.remote_addr,
        ),
        **account_ports(),
    )
    return _signed_in(signed_in, status=200)


@bp.post("/refresh")
@rate_limited(LimitedOperation.REFRESH)
def refresh() -> Response:
    """Rotate the refresh cookie into its successor and start a new session. 401
    ``refresh_rejected`` for a missing, unknown, expired, revoked or reused token (a reused one
    also revokes its whole family); the cookies are cleared then."""
    token = refresh_cookie() or ""
    try:
        signed_in = refresh_session(
            RefreshSession(
                refresh_token=token,
                rotation_key=_rotation_key(),
                previous_session_token=session_token(),
                ip=request.remote_addr,
            ),
            **account_ports(),
        )
    except RefreshRejected as rejected:
        response = commerce_problem(rejected)
        cookie_policy().clear(response)  # dead cookies: the browser signs in again
        return response
    return _signed_in(signed_in, status=200)


@bp.post("/logout")
def log_out_account() -> Response:
    log_out(
        session_token(),
        uow=request_uow(),
        clock=container().clock,
        refresh_token=refresh_cookie(),
    )
    response = Response(status=204)
    cookie_policy().clear(response)
    return response


@bp.post("/password")
def change_own_password() -> Response:
    """Change one's password: every other session and refresh token of the account ends, and
    this browser is signed in afresh. 401 ``invalid_credentials`` for a wrong current password."""
    user = require_user()
    body = BodyReader(json_body())
    current = body.text("current_password", max_length=MAX_PASSWORD_INPUT)
    new = body.text("new_password", max_length=MAX_PASSWORD_INPUT)
    body.finish()
    signed_in = change_password(
        ChangePassword(
            user_id=user.id,
            current_password=current,
            new_password=new,
            previous_session_token=session_token(),
        ),
        **account_ports(),
    )
    return _signed_in(signed_in, status=200)


@bp.post("/password-reset")
@rate_limited(LimitedOperation.PASSWORD_RESET, account=email_in_body)
def request_reset() -> Response:
    """Email a reset link if the address has an account; 202 alike either way (the email
    leaves with the outbox, so the answer never waits on the mail server)."""
    body = BodyReader(json_body())
    email = body.text("email", max_length=MAX_EMAIL_INPUT)
    body.finish()
    public_url = current_app.config["COMMERCE_SETTINGS"].public_url
    request_password_reset(
        RequestPasswordReset(
            email=email, link_base=f"{public_url}/reset-password", ip=request.remote_addr
        ),
        **account_ports(),
    )
    return json_response(
        {"detail": "If this email has an account, a link to reset its password is on its way."},
        202,
    )


@bp.post("/password-reset/confirm")
@rate_limited(LimitedOperation.PASSWORD_RESET_CONFIRM)
def confirm_reset() -> Response:
    """Set a new password with the emailed token; every session of the account ends. 400
    ``reset_token_invalid`` for an unknown, expired, used or superseded token."""
    body = BodyReader(json_body())
    token = body.text("token", max_length=MAX_TOKEN_INPUT)
    password = body.text("password", max_length=MAX_PASSWORD_INPUT)
    body.finish()
    reset_password(
        ResetPassword(token=token, new_password=password, ip=request.remote_addr),
        **account_ports(),
    )
    return Response(status=204)


@bp.get("/me")
def who_am_i() -> Response:
    return json_response({"user": require_user().to_primitive()})


def set_sign_in_cookies(response: Response, signed_in: SignedIn) -> None:
    """The cookies of a signed-in browser: session, refresh token, and a CSRF token bound to
    the new session (for the HTML pages' sign-in as for the API's)."""
    policy = cookie_policy()
    policy.set_session(response, signed_in.session_token)
    policy.set_refresh(response, signed_in.refresh_token)
    policy.set_csrf(response, mint_token(current_app.config["SECRET_KEY"], signed_in.session_token))
    for hook in current_app.extensions.get(SIGN_IN_HOOKS, ()):
        hook(response, signed_in)


def on_sign_in(app: Flask, hook: Callable[[Response, SignedIn], None]) -> None:
    """Have every sign-in of ``app`` (API and pages alike) call ``hook`` with its response,
    once the cookies are set: the cart's merge (``webapp.pages.cart``)."""
    app.extensions.setdefault(SIGN_IN_HOOKS, []).append(hook)


def _signed_in(signed_in: SignedIn, *, status: int) -> Response:
    g.user = signed_in.user  # for this request's log line
    response = json_response({"user": signed_in.user.to_primitive()}, status)
    set_sign_in_cookies(response, signed_in)
    return response


def _rotation_key() -> bytes:
    """The key refresh-token successors are derived with: from SECRET_KEY, for this use only."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hashlib.sha256(b"commerce refresh-token rotation\x1f" + secret).digest()
