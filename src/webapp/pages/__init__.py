"""The server-rendered HTML pages: for now signing in, signing up and signing out.

``install_pages(app)`` registers them with what every page needs:

- Flask-WTF's CSRF check on every state-changing request outside the JSON API. The API has its
  own check (``webapp.csrf``, bound to the server-side session) and must not get a second one, so
  Flask-WTF's default "check everything" is off and this package calls ``protect()`` for exactly
  the requests ``webapp.csrf`` does not take: no list of exempt API blueprints to keep in step
  as blueprints are added. The form token also arrives in the ``X-CSRF-Token`` header if a page
  script posts a form (``WTF_CSRF_HEADERS``, set by ``webapp.app``).
- Failures shown as HTML pages (``webapp.pages.errors``).

Templates live in ``webapp/templates`` (autoescaped; no inline script or style, which the
Content-Security-Policy forbids - styles are ``webapp/static/css``).
"""

from __future__ import annotations

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

from webapp.csrf import UNSAFE_METHODS, is_api_path
from webapp.pages import auth
from webapp.pages.errors import install_error_pages, is_page_path

__all__ = ["install_pages", "is_page_path"]


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
    install_error_pages(app)
    app.register_blueprint(auth.bp)
