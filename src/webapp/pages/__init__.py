"""The server-rendered HTML pages: the storefront, the account pages and the admin console.

``install_pages(app)`` registers them with what every page needs:

- Flask-WTF's CSRF check on every state-changing request outside the JSON API. The API has its
  own check (``webapp.csrf``, bound to the server-side session) and must not get a second one, so
  Flask-WTF's default "check everything" is off and this package calls ``protect()`` for exactly
  the requests ``webapp.csrf`` does not take: no list of exempt API blueprints to keep in step
  as blueprints are added. The form token also arrives in the ``X-CSRF-Token`` header if a page
  script posts a form (``WTF_CSRF_HEADERS``, set by ``webapp.app``).
- Failures shown as HTML pages (``webapp.pages.errors``).

- What every template may use (``page_context``): ``shop_name``, ``signed_in_user`` (or None),
  ``cart_count`` (0 unless a cart module says more) and ``asset_url`` (``webapp.assets``).

Templates live in ``webapp/templates`` (autoescaped; no inline script or style, which the
Content-Security-Policy forbids - styles are ``webapp/static/css``, scripts ``webapp/static/js``,
both served under content-hashed names).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

from webapp.csrf import UNSAFE_METHODS, is_api_path
from webapp.pages import account, api_docs, auth, checkout, password_reset, shop
from webapp.pages.admin import bp as admin_console
from webapp.pages.errors import install_error_pages, is_page_path
from webapp.pages.money_format import format_price
from webapp.sessions import current_user

__all__ = ["SHOP_NAME", "install_pages", "is_page_path"]

SHOP_NAME = "Shop"


def page_context() -> dict[str, Any]:
    """What every page's template may use (a module may add more: the cart's size)."""
    return {"shop_name": SHOP_NAME, "signed_in_user": current_user(), "cart_count": 0}


def install_pages(app: Flask) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    forms_csrf = CSRFProtect(app)

    def protect_page_forms() -> None:
        if request.method not in UNSAFE_METHODS or is_api_path(request.path):
            return
        if request.routing_exception is not None:
            return  # an unknown page answers 404/405 rather than a misleading 400
        forms_csrf.protect()

    app.before_request(protect_page_forms)
    app.context_processor(page_context)
    app.jinja_env.filters["price"] = format_price  # {{ money | price }} on every page
    install_error_pages(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin_console)  # /admin: the staff console
    app.register_blueprint(account.bp)
    app.register_blueprint(password_reset.bp)
    api_docs.install_api_docs(app)
    shop.install(app)  # the catalogue, sitemap.xml, robots.txt, resized images
    checkout.install_checkout(app)  # cart, checkout, order pages, the fake gateway's 3DS
