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
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response

__all__ = [
    "HSTS",
    "PAGE_POLICY",
    "PERMISSIONS_POLICY",
    "RESOURCE_POLICY",
    "install_security_headers",
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

_ALWAYS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def security_headers(*, mimetype: str | None, production: bool) -> dict[str, str]:
    """The headers a response whose body is of ``mimetype`` must carry."""
    headers = dict(_ALWAYS)
    headers["Content-Security-Policy"] = PAGE_POLICY if mimetype == "text/html" else RESOURCE_POLICY
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def install_security_headers(app: Flask, *, production: bool) -> None:
    """Register the hook. Register it early: Flask runs ``after_request`` hooks in reverse, so
    an early one runs late and sees the response as every other hook left it (an API problem
    turned into an HTML error page gets the page policy)."""

    def add_security_headers(response: Response) -> Response:
        # Set, never setdefault: a view cannot weaken the policy by setting its own header.
        response.headers.update(security_headers(mimetype=response.mimetype, production=production))
        return response

    app.after_request(add_security_headers)
