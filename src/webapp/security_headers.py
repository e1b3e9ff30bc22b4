"""Security headers on every response: pages, JSON, static files, errors and refusals alike.

One ``after_request`` hook, so that nothing a view, an error handler or ``abort`` produces can
leave without them (Flask runs the hook for error responses too). The policy depends on what the
body *is*, not on where it came from:

- An HTML document gets ``PAGE_POLICY``: scripts, styles, images, fonts and connections from our
  own origin only, no inline script or style (pages use files under ``/static/``), no plugins,
  no ``<base>``, forms posting only to us, and no framing by anyone.
- Everything else - JSON, problem JSON, CSS, SVG, plain text - gets ``RESOURCE_POLICY``,
  ``default-src 'none'``: such a response is never meant to run anything, so if a browser is
  tricked into rendering one as a document (a crafted SVG, a sniffed JSON body) it can load and
  run nothing.

``Permissions-Policy`` denies powerful features no page of a shop needs and allows the Payment
Request API to our own origin only. Gateways' client SDKs are loaded by no page yet; the
checkout page that loads one must extend both policies for exactly that gateway's hosts - for
Stripe.js ``script-src``/``frame-src https://js.stripe.com``, ``connect-src
https://api.stripe.com`` and, for its wallet buttons (Apple Pay, Google Pay through the Payment
Request API inside Stripe's frame), ``payment=(self "https://js.stripe.com")``; PayPal's and
Razorpay's buttons open their own windows or frames and need script, frame and connect sources
but not ``payment``. Widening them for every page now would hand those hosts rights on pages that
never use them.

``Referrer-Policy: strict-origin-when-cross-origin`` rather than ``no-referrer``: other sites
see our origin only, never a path (which may carry an order id), while our own same-origin form
posts keep their ``Referer``, which Flask-WTF's strict HTTPS check requires.

HSTS only in production: on a laptop it would pin ``127.0.0.1`` to https for two years.

One page may need more than ``PAGE_POLICY`` (the API docs viewer's ``data:`` icons): its view
says so with ``@page_policy(...)`` and its docstring says why; every other page keeps the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from flask import Flask, Response, current_app, request

__all__ = [
    "HSTS",
    "PAGE_POLICY",
    "PERMISSIONS_POLICY",
    "RESOURCE_POLICY",
    "install_security_headers",
    "page_policy",
    "security_headers",
]

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
RESOURCE_POLICY = "; ".join(
    (
        "default-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    )
)
PERMISSIONS_POLICY = ", ".join(
    (
        "accelerometer=()",
        "camera=()",
        "geolocation=()",
        "gyroscope=()",
        "magnetometer=()",
        "microphone=()",
        "payment=(self)",
        "usb=()",
    )
)
HSTS = "max-age=63072000; includeSubDomains"
# Marked on a view by ``page_policy`` (as ``csrf_exempt`` marks one): no registry to keep.
_PAGE_POLICY_ATTRIBUTE = "content_security_policy"

F = TypeVar("F", bound=Callable[..., object])

_ALWAYS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def page_policy(policy: str | Callable[[], str | None]) -> Callable[[F], F]:
    """The Content-Security-Policy of this one view's HTML pages, instead of ``PAGE_POLICY``;
    a callable is asked per request (the checkout's depends on the configured gateway; None:
    ``PAGE_POLICY``)."""

    def mark(view: F) -> F:
        setattr(view, _PAGE_POLICY_ATTRIBUTE, policy)
        return view

    return mark


def _view_page_policy() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    policy = getattr(view, _PAGE_POLICY_ATTRIBUTE, None)
    if callable(policy):
        policy = policy()
    return policy if isinstance(policy, str) else None


def security_headers(
    *, mimetype: str | None, production: bool, page: str | None = None
) -> dict[str, str]:
    """The headers a response whose body is of ``mimetype`` must carry (``page``: the policy of
    an HTML page whose view sets its own)."""
    headers = dict(_ALWAYS)
    headers["Content-Security-Policy"] = (
        (page or PAGE_POLICY) if mimetype == "text/html" else RESOURCE_POLICY
    )
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def install_security_headers(app: Flask, *, production: bool) -> None:
    """Register the hook. Register it early: Flask runs ``after_request`` hooks in reverse, so
    an early one runs late and sees the response as every other hook left it (an API problem
    turned into an HTML error page gets the page policy)."""

    def add_security_headers(response: Response) -> Response:
        # Set, never setdefault: a view cannot weaken the policy by setting its own header.
        headers = security_headers(
            mimetype=response.mimetype, production=production, page=_view_page_policy()
        )
        response.headers.update(headers)
        return response

    app.after_request(add_security_headers)
