"""Accounts: register, log in and out, who am I, and the CSRF token.

Every sign-in gets a brand-new server session token and a CSRF token bound to it, and ends the
session this browser held before, so a session id planted before login is worth nothing after.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g

from commerce_core import LogIn, Register, SignedIn, log_in, log_out, register
from webapp.api.responses import json_response
from webapp.csrf import mint_token
from webapp.payloads import BodyReader, json_body
from webapp.request_ports import account_ports, request_uow
from webapp.sessions import (
    cookie_policy,
    new_anonymous_id,
    require_user,
    session_binding,
    session_token,
)

__all__ = ["bp"]

bp = Blueprint("auth", __name__, url_prefix="/api/auth")

# Long enough for any passphrase, short enough that hashing it cannot be used to burn our CPU.
MAX_PASSWORD_INPUT = 1024
MAX_EMAIL_INPUT = 320


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
def register_account() -> Response:
    body = BodyReader(json_body())
    email = body.text("email", max_length=MAX_EMAIL_INPUT)
    password = body.text("password", max_length=MAX_PASSWORD_INPUT)
    name = body.text("name", max_length=200)
    body.finish()
    # The role is never read from the request: self-registration always makes a customer.
    signed_in = register(
        Register(email=email, password=password, name=name, previous_session_token=session_token()),
        **account_ports(),
    )
    return _signed_in(signed_in, status=201)


@bp.post("/login")
def log_in_account() -> Response:
    body = BodyReader(json_body())
    email = body.text("email", max_length=MAX_EMAIL_INPUT)
    password = body.text("password", max_length=MAX_PASSWORD_INPUT)
    body.finish()
    # Unknown email, wrong password and disabled account raise the same AuthenticationFailed,
    # rendered as one identical 401 body.
    signed_in = log_in(
        LogIn(email=email, password=password, previous_session_token=session_token()),
        **account_ports(),
    )
    return _signed_in(signed_in, status=200)


@bp.post("/logout")
def log_out_account() -> Response:
    token = session_token()
    if token is not None:
        log_out(token, uow=request_uow())
    response = Response(status=204)
    cookie_policy().clear(response)
    return response


@bp.get("/me")
def who_am_i() -> Response:
    return json_response({"user": require_user().to_primitive()})


def _signed_in(signed_in: SignedIn, *, status: int) -> Response:
    g.user = signed_in.user  # for this request's log line
    policy = cookie_policy()
    response = json_response({"user": signed_in.user.to_primitive()}, status)
    policy.set_session(response, signed_in.session_token)
    policy.set_csrf(response, mint_token(current_app.config["SECRET_KEY"], signed_in.session_token))
    return response
