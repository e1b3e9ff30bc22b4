"""Who is asking: the session cookie, the current user, and route guards.

The ``session`` cookie holds either a server-side session token (issued by the core at login) or,
for an anonymous visitor, a random pre-login id (``anon_...``) that only exists to bind a CSRF
token to this browser; it has no server row and is never looked up. In production the cookies
get the ``__Host-`` prefix and ``Secure``, so no subdomain or plain-http page can plant them.

The ``refresh`` cookie holds the refresh token: HttpOnly, SameSite=Strict, sent only to
``/api/auth`` (so no other request carries it), kept 30 days. ``__Host-`` requires ``Path=/``,
so in production it is ``__Secure-refresh``: still https-only and unplantable over plain http.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

import attrs
from flask import Response, current_app, g, request

from commerce_core import Permission, User, require_permission, resolve_session
from webapp.problems import ApiProblem
from webapp.request_ports import container, request_uow

__all__ = [
    "ANONYMOUS_PREFIX",
    "COOKIE_POLICY_KEY",
    "CookiePolicy",
    "cookie_policy",
    "current_user",
    "declared_permission",
    "new_anonymous_id",
    "permission_required",
    "refresh_cookie",
    "require_user",
    "session_binding",
    "session_token",
]

ANONYMOUS_PREFIX = "anon_"
REFRESH_PATH = "/api/auth"
REFRESH_MAX_AGE = 30 * 24 * 3600  # the refresh family's lifetime
COOKIE_POLICY_KEY = "commerce.cookies"
# Anything longer than this is not one of our values; do not spend a lookup on it.
MAX_COOKIE_VALUE = 200

# Where ``permission_required`` records the permission on the view it guards.
_REQUIRED_PERMISSION = "required_permission"

P = ParamSpec("P")
R = TypeVar("R")


@attrs.frozen
class CookiePolicy:
    secure: bool

    @property
    def session_name(self) -> str:
        return "__Host-session" if self.secure else "session"

    @property
    def csrf_name(self) -> str:
        return "__Host-csrf_token" if self.secure else "csrf_token"

    @property
    def refresh_name(self) -> str:
        return "__Secure-refresh" if self.secure else "refresh"

    def set_refresh(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.refresh_name,
            token,
            max_age=REFRESH_MAX_AGE,
            path=REFRESH_PATH,
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )

    def set_session(self, response: Response, value: str) -> None:
        # No Max-Age: a browser-session cookie; the server enforces idle and absolute timeouts.
        response.set_cookie(
            self.session_name,
            value,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )

    def set_csrf(self, response: Response, token: str) -> None:
        # Readable by the page's JavaScript, which echoes it in the X-CSRF-Token header.
        response.set_cookie(
            self.csrf_name,
            token,
            path="/",
            secure=self.secure,
            httponly=False,
            samesite="Strict",
        )

    def clear(self, response: Response) -> None:
        for name, httponly in ((self.session_name, True), (self.csrf_name, False)):
            response.delete_cookie(
                name, path="/", secure=self.secure, httponly=httponly, samesite="Strict"
            )
        response.delete_cookie(
            self.refresh_name,
            path=REFRESH_PATH,
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )


def cookie_policy() -> CookiePolicy:
    return cast(CookiePolicy, current_app.extensions[COOKIE_POLICY_KEY])


def new_anonymous_id() -> str:
    return ANONYMOUS_PREFIX + secrets.token_urlsafe(32)


def session_binding() -> str | None:
    """What a CSRF token is bound to: the session cookie's value, session token or pre-login id."""
    value = request.cookies.get(cookie_policy().session_name)
    if not value or len(value) > MAX_COOKIE_VALUE:
        return None
    return value


def refresh_cookie() -> str | None:
    """The refresh token the browser sent (only requests under /api/auth carry it)."""
    value = request.cookies.get(cookie_policy().refresh_name)
    if not value or len(value) > MAX_COOKIE_VALUE:
        return None
    return value


def session_token() -> str | None:
    """The session token, if the cookie holds one (rather than a pre-login id)."""
    value = session_binding()
    if value is None or value.startswith(ANONYMOUS_PREFIX):
        return None
    return value


def current_user() -> User | None:
    """The signed-in user of this request, resolved once (``g.user`` may be ``None``)."""
    if "user" not in g:
        token = session_token()
        g.user = (
            None
            if token is None
            else resolve_session(token, uow=request_uow(), clock=container().clock)
        )
    return cast(User | None, g.user)


def require_user() -> User:
    user = current_user()
    if user is None:
        raise ApiProblem(
            401, "unauthenticated", "Authentication required", "sign in to use this resource"
        )
    return user


def permission_required(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Guard a view: 401 without a session, 403 (``forbidden``) without ``permission``. The
    permission is recorded on the view (``declared_permission``), so a test can walk every
    admin route with every role; decorators outside this one keep it (``functools.wraps``)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            require_permission(require_user(), permission)
            return view(*args, **kwargs)

        setattr(guarded, _REQUIRED_PERMISSION, permission)
        return guarded

    return decorate


def declared_permission(view: Callable[..., object]) -> Permission | None:
    """The permission ``permission_required`` guards ``view`` with, if it does."""
    found = getattr(view, _REQUIRED_PERMISSION, None)
    return found if isinstance(found, Permission) else None
