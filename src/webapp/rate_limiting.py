"""Request rate limits on the API's routes: ``@rate_limited(LimitedOperation.LOG_IN)``.

The limits are the core's data (``RateLimitPolicy``, in the container); this module only says
who is asking. A request is counted per client address - ``request.remote_addr``, which
``ProxyFix`` sets from ``X-Forwarded-For`` only as far as ``TRUSTED_PROXIES`` hops are trusted, so
a client-written left-most entry never changes it - and per account: the signed-in user, or for
a login the email it names. An IPv6 client is counted per /64, the block one subscriber gets,
or it could walk through 2**64 addresses, each with a fresh limit.

A refused request answers 429 problem JSON ``rate_limited`` with ``Retry-After``; every answer
of a limited route, refused or not, carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds) for the tightest of its limits.

The check runs inside the view's decorators, so after the CSRF check (a request without a valid
token costs nothing and is not counted) and before the body is read.
"""

from __future__ import annotations

import functools
import ipaddress
import unicodedata
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Response, after_this_request, g, request

from commerce_core import (
    InvalidInput,
    LimitedOperation,
    RateDecision,
    RateKeyKind,
    normalise_email,
)
from webapp.payloads import json_body
from webapp.problems import ApiProblem
from webapp.request_ports import container
from webapp.sessions import current_user

__all__ = [
    "RATE_LIMITED_ATTRIBUTE",
    "client_address",
    "email_in_body",
    "enforce_rate_limits",
    "rate_limit_headers",
    "rate_limited",
    "signed_in_account",
]

P = ParamSpec("P")
R = TypeVar("R")

# Marked on the view function (as ``csrf_exempt`` is), so tests can find every limited route.
RATE_LIMITED_ATTRIBUTE = "rate_limited_operation"
_DECISION = "rate_limit_decision"
# Longer than any email; a longer "email" is refused by the view and not worth a key.
_MAX_EMAIL = 320
_IPV6_SUBSCRIBER_PREFIX = 64

AccountKey = Callable[[], str | None]


def client_address() -> str:
    """The key of this request's client: its address, an IPv6 one as its /64 network."""
    raw = request.remote_addr
    if not raw:
        return "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:100]  # not an IP (a unix socket's peer): still one key per peer
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, _IPV6_SUBSCRIBER_PREFIX), strict=False)
        return str(network)
    return str(address)


def signed_in_account() -> str | None:
    """The signed-in user's id, if any (an anonymous request is counted per address only)."""
    user = current_user()
    return None if user is None else user.id


def email_in_body() -> str | None:
    """The email a login names, normalised as the view and the core will (NFC, trimmed, lower
    case), so no spelling of one address gets a count of its own. Read before the view runs,
    so a refused login costs no password hash. ``None`` if the body names none; the view then
    answers the problem with the body, as it would have anyway."""
    try:
        data = json_body()
    except (ApiProblem, InvalidInput):
        return None
    email = data.get("email")
    if not isinstance(email, str) or not 0 < len(email) <= _MAX_EMAIL:
        return None
    return normalise_email(unicodedata.normalize("NFC", email))


def rate_limited(
    operation: LimitedOperation, *, account: AccountKey = signed_in_account
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Guard a view with ``operation``'s limits; ``account`` says which account the request is
    about (default: the signed-in user)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def limited(*args: P.args, **kwargs: P.kwargs) -> R:
            enforce_rate_limits(operation, account=account)
            return view(*args, **kwargs)

        setattr(limited, RATE_LIMITED_ATTRIBUTE, operation)
        return limited

    return decorate


def enforce_rate_limits(
    operation: LimitedOperation, *, account: AccountKey = signed_in_account
) -> RateDecision | None:
    """Count this request against ``operation``'s limits, address first; raise the 429 problem
    if one refuses (the limits after it are then not counted). The tightest decision, also put
    on the response's headers; ``None`` if the policy does not limit ``operation``."""
    shop = container()
    decisions: list[RateDecision] = []
    for kind, limit in shop.rate_limits.limits_for(operation):
        key = client_address() if kind is RateKeyKind.CLIENT_ADDRESS else account()
        if key is None:
            continue
        decision = shop.rate_limiter.hit(limit, key)
        decisions.append(decision)
        if not decision.allowed:
            break
    if not decisions:
        return None
    tightest = min(decisions, key=lambda d: (d.allowed, d.remaining, -d.reset_seconds))
    _report(tightest)
    if not tightest.allowed:
        seconds = tightest.retry_after_seconds
        raise ApiProblem(
            429,
            "rate_limited",
            "Too many requests",
            f"too many requests; try again in {seconds} seconds",
            extra={"retry_after": seconds},
            headers={**rate_limit_headers(tightest), "Retry-After": str(seconds)},
        )
    return tightest


def rate_limit_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
    }


def _report(decision: RateDecision) -> None:
    """Put ``decision`` on whatever answers this request - the view's response, or the problem
    an error handler makes of what the view raised."""
    first = _DECISION not in g
    setattr(g, _DECISION, decision)
    if first:
        after_this_request(_with_headers)


def _with_headers(response: Response) -> Response:
    decision: RateDecision | None = g.get(_DECISION)
    if decision is not None:
        for name, value in rate_limit_headers(decision).items():
            response.headers.setdefault(name, value)
    return response
