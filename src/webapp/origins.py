"""Refusing state changes that a browser was made to send from another site.

Defence in depth beside the CSRF tokens (``webapp.csrf`` for the API, Flask-WTF for pages): should
a token leak, or a new route forget its check, a browser still cannot be driven from another site
to change anything. Browsers say where a request comes from, and a page cannot forge either header:

- ``Sec-Fetch-Site`` (Fetch Metadata): ``cross-site`` means another site made the browser send it.
- ``Origin``: sent with every cross-origin request and with every ``POST``. When present it must
  be the shop's own origin: ``PUBLIC_URL``'s, or the one the request was addressed to (the same
  app reached by another name, ``localhost`` beside ``127.0.0.1``, a preview host). ``Origin:
  null`` (sandboxed frames, ``file:`` pages, some redirect chains) is nobody's origin: refused.

A request with neither header (curl, a server, an old browser) is left to the CSRF token, which
it must carry anyway.

The refusal is a 403 problem with its own code, ``cross_site_request``, rather than
``csrf_failed``: the remedy differs - a fresh CSRF token will not help, the request has to come
from the shop's own pages - and telling them apart in logs tells an attack from an expired token.

Exempt: the payment webhooks (``/api/payments/webhook`` and ``/api/payments/webhook/<gateway>``),
which providers post from their servers and which authenticate by signature.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from webapp.csrf import UNSAFE_METHODS
from webapp.problems import ApiProblem

__all__ = [
    "CROSS_SITE_CODE",
    "WEBHOOK_PATH",
    "Origin",
    "install_origin_check",
    "parse_origin",
]

CROSS_SITE_CODE = "cross_site_request"
WEBHOOK_PATH = "/api/payments/webhook"
# A serialised origin is scheme, host and port; anything longer is not one.
MAX_ORIGIN_LENGTH = 300
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """``(scheme, host, port)`` of a serialised origin (``https://shop.example:8443``), with
    the scheme and host lower-cased and the default port filled in; ``None`` for anything that
    is not exactly an http(s) origin (``null``, a URL with a path, credentials, garbage)."""
    if len(value) > MAX_ORIGIN_LENGTH:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # an out-of-range or non-numeric port
        return None
    scheme = parts.scheme
    if (
        scheme not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        return None
    return scheme, parts.hostname, port or _DEFAULT_PORTS[scheme]


def _origin_of_url(url: str) -> Origin | None:
    parts = urlsplit(url)
    return parse_origin(f"{parts.scheme}://{parts.netloc}")


def _is_webhook(path: str) -> bool:
    return path == WEBHOOK_PATH or path.startswith(WEBHOOK_PATH + "/")


def _refuse(detail: str) -> ApiProblem:
    return ApiProblem(403, CROSS_SITE_CODE, "Cross-site request refused", detail)


def install_origin_check(app: Flask, *, public_url: str) -> None:
    """Register the check as a ``before_request`` hook; register it before the CSRF check, so
    that a cross-site request is named as such rather than as a token failure."""
    shop = _origin_of_url(public_url)

    def refuse_cross_site_state_changes() -> None:
        if request.method not in UNSAFE_METHODS:
            return
        if request.routing_exception is not None or _is_webhook(request.path):
            return  # an unknown route answers 404/405; gateways post webhooks from servers
        if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
            raise _refuse("the browser reports that another site sent this request")
        origin = request.headers.get("Origin")
        if origin is None:
            return
        allowed = {shop, parse_origin(f"{request.scheme}://{request.host}")} - {None}
        if parse_origin(origin.strip()) not in allowed:
            raise _refuse("state changes are accepted from the shop's own pages only")

    app.before_request(refuse_cross_site_state_changes)
