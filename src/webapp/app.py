"""The Flask app factory.

``create_app()`` reads the settings from the environment and wires the real adapters;
tests pass their own ``Settings`` and, when they want in-memory fakes, their own ``Container``.
Nothing is created at import time, so any number of independent apps can live in one process.
Process-wide set-up (logging, Sentry) is not the app's to do: the process that serves it does
that once (``webapp.server``, ``webapp.cli``, via ``bootstrap.configure_process``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.api import register_blueprints
from webapp.assets import install_assets
from webapp.bootstrap import Container, build_container
from webapp.catalog_cache import CATALOG_CACHE_KEY, CatalogCache
from webapp.config import Settings
from webapp.csrf import CSRF_HEADER, check_csrf
from webapp.media import install_media
from webapp.origins import install_origin_check
from webapp.pages import install_pages
from webapp.payloads import PathSegment
from webapp.problems import install_error_handlers
from webapp.request_log import install_request_logging
from webapp.request_ports import CONTAINER_KEY, release_request_uow
from webapp.security_headers import install_security_headers
from webapp.sessions import COOKIE_POLICY_KEY, CookiePolicy

__all__ = ["create_app"]

MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("webapp")
    secure = settings.is_production
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.app_env == "test",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        # Our own `session` cookie holds the server-side session; Flask's signed cookie session
        # (only Flask-WTF's form token, for the HTML pages) must never overwrite it.
        SESSION_COOKIE_NAME="__Host-flask" if secure else "flask",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Strict",
        # Flask-WTF: its CSRF check covers the HTML pages only (webapp.pages); the JSON API has
        # its own (webapp.csrf, bound to our server-side session). Forms may send the token in
        # the header the API uses.
        WTF_CSRF_HEADERS=[CSRF_HEADER, "X-CSRFToken"],
        WTF_CSRF_SSL_STRICT=True,
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(hours=1),
        COMMERCE_SETTINGS=settings,
    )
    if settings.trusted_proxies:
        # Trust exactly N hops: the client address is then the N-th entry from the right of
        # X-Forwarded-For, so a spoofed left-most entry is ignored.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )

    # Every `<segment>` of every route, before any route is added: control characters or an
    # absurd length match no route (404) instead of reaching a view or the database.
    app.url_map.converters.update(default=PathSegment, string=PathSegment)
    # An empty segment names nothing: `/api/admin/orders//fulfil` is a 404, not a merged
    # `/api/admin/orders/fulfil` that another route would read as an order id.
    app.url_map.merge_slashes = False
    app.extensions[CONTAINER_KEY] = container or build_container(settings)
    app.extensions[COOKIE_POLICY_KEY] = CookiePolicy(secure=secure)
    app.extensions[CATALOG_CACHE_KEY] = CatalogCache()

    install_request_logging(app)  # first: every later refusal still gets an id and a log line
    # Early, so it runs late: after_request hooks run in reverse (see webapp.security_headers).
    install_security_headers(app, production=secure)
    app.teardown_request(release_request_uow)
    install_origin_check(app, public_url=settings.public_url)  # before the CSRF check
    app.before_request(check_csrf)
    app.after_request(_harden)
    install_error_handlers(app)
    register_blueprints(app)
    install_assets(app)
    install_pages(app)
    install_media(app)
    return app


def _harden(response: Response) -> Response:
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        # API answers are personal unless a view says otherwise (the catalog does).
        response.headers["Cache-Control"] = "no-store"
    return response
