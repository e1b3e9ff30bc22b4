"""CSRF protection for the JSON API: a signed double-submit token bound to the session.

Token: ``<nonce>.<HMAC-SHA256(SECRET_KEY, "csrf-v1" | binding | nonce)>`` where ``binding`` is the
``session`` cookie's value - the session token once signed in, a pre-login id before. A state-
changing request must send the token in ``X-CSRF-Token``, equal to the ``csrf_token`` cookie, and
its HMAC must match the *current* binding: a token planted in the cookie jar by a sibling domain,
or one minted for another session, is refused. Both comparisons are constant-time.

Flask-WTF's ``CSRFProtect`` is deliberately not applied to the JSON API: it binds its tokens to
Flask's signed cookie session, a second session beside our server-side one, and two checks on one
request would only disagree. This check takes every request under ``/api/``; Flask-WTF's takes
every other one (the HTML pages, see ``webapp.pages``), so each request gets exactly one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

from webapp.problems import ApiProblem
from webapp.sessions import cookie_policy, session_binding

__all__ = [
    "CSRF_HEADER",
    "UNSAFE_METHODS",
    "check_csrf",
    "csrf_exempt",
    "is_api_path",
    "mint_token",
    "token_matches",
]

CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"
MAX_TOKEN_LENGTH = 200
# Marked on the view function itself (as Flask marks ``required_methods``): no registry to keep.
_EXEMPT_ATTRIBUTE = "csrf_exempt"

F = TypeVar("F", bound=Callable[..., object])


def csrf_exempt(view: F) -> F:
    """Exempt a view that authenticates its caller otherwise (the signed gateway webhook)."""
    setattr(view, _EXEMPT_ATTRIBUTE, True)
    return view


def _mac(secret: str, binding: str, nonce: str) -> str:
    # Separators keep ("ab", "c") and ("a", "bc") apart; the label keeps this key use distinct.
    message = f"csrf-v1\x1f{binding}\x1f{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def mint_token(secret: str, binding: str) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_mac(secret, binding, nonce)}"


def token_matches(secret: str, binding: str, token: str) -> bool:
    nonce, dot, mac = token.partition(".")
    if not dot or not nonce:
        return False
    return hmac.compare_digest(mac.encode(), _mac(secret, binding, nonce).encode())


def _is_exempt() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, _EXEMPT_ATTRIBUTE, False) is True


def is_api_path(path: str) -> bool:
    """Whether ``path`` is the JSON API's, whose requests this module checks."""
    return path.startswith(API_PREFIX)


def check_csrf() -> None:
    """``before_request`` hook: refuse a state-changing request without a valid token (403)."""
    if request.method not in UNSAFE_METHODS or not is_api_path(request.path):
        return
    if request.routing_exception is not None or _is_exempt():
        return  # an unknown route answers 404/405 rather than a misleading 403
    header = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(cookie_policy().csrf_name, "")
    binding = session_binding()
    valid = (
        binding is not None
        and 0 < len(header) <= MAX_TOKEN_LENGTH
        and hmac.compare_digest(header.encode(), cookie.encode())
        and token_matches(current_app.config["SECRET_KEY"], binding, header)
    )
    if not valid:
        raise ApiProblem(
            403,
            "csrf_failed",
            "CSRF check failed",
            f"send the {CSRF_HEADER} header with the token from GET /api/auth/csrf",
        )
