"""The frame of the admin console: its blueprint, the guard on every page, the side navigation,
and how its pages answer.

- ``staff_page(permission)``: an anonymous visitor is sent to ``/login?next=<this page>``; a
  signed-in one without ``permission`` gets the 403 page (``permission_required``, the core's
  own check - and the use cases a view calls check again, and audit). The permission is recorded
  on the view, so a test can walk every page with every role.
- The side navigation lists the areas the signed-in staff member may use, by permission.
- Every answer is ``Cache-Control: private, no-store`` and ``X-Robots-Tag: noindex``: a staff
  page is one person's, and never a search result.
- A done form answers 303 to a page that shows a notice (``done``): a reload posts nothing again.
- An upload (an image, a CSV file) is bigger than the app's 64 KiB body limit. For a view marked
  ``accepts_upload(max_bytes)``, and a staff member who may use it, the limit is raised before
  anything reads the body: Flask-WTF's CSRF check reads the form in a ``before_request`` hook, so
  the raise happens in a URL value preprocessor, which Flask runs before every such hook.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

import attrs
from flask import Blueprint, Response, current_app, flash, render_template, request, url_for
from markupsafe import Markup
from werkzeug.urls import iri_to_uri

from commerce_core import (
    MAX_PER_PAGE,
    SYSTEM_ACTOR,
    Page,
    PageRequest,
    Permission,
    User,
    has_permission,
)
from webapp.pages.admin.display import day, details, major, moment
from webapp.sessions import current_user, declared_permission, permission_required, require_user

__all__ = [
    "AREAS",
    "CACHE_CONTROL",
    "NOTICE",
    "PROBLEM",
    "Area",
    "accepts_upload",
    "bp",
    "done",
    "every_item",
    "may",
    "page",
    "see_other",
    "staff",
    "staff_page",
]

bp = Blueprint("pages_admin", __name__, url_prefix="/admin")

CACHE_CONTROL = "private, no-store"
NOTICE = "notice"  # a flashed message's category: done
PROBLEM = "problem"  # ... or done, but not as hoped (a refund the gateway refused)
# What a multipart form carries besides its file (boundaries, the token, a few fields).
_FORM_OVERHEAD = 64 * 1024
_UPLOAD_LIMIT = "admin_upload_limit"

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


@attrs.frozen
class Area:
    group: str
    label: str
    path: str
    permission: Permission


AREAS = (
    Area("Sales", "Dashboard", "/admin", Permission.ORDERS_READ),
    Area("Sales", "Orders", "/admin/orders", Permission.ORDERS_READ),
    Area("Catalogue", "Products", "/admin/products", Permission.CATALOG_WRITE),
    Area("Catalogue", "Categories", "/admin/categories", Permission.CATALOG_WRITE),
    Area("Catalogue", "Attributes", "/admin/attributes", Permission.CATALOG_WRITE),
    Area("Catalogue", "Import and export", "/admin/catalog", Permission.CATALOG_WRITE),
    Area("Shop setup", "Shipping", "/admin/shipping", Permission.SHIPPING_MANAGE),
    Area("Shop setup", "Tax rates", "/admin/tax-rates", Permission.SHIPPING_MANAGE),
    Area("People", "Users", "/admin/users", Permission.USERS_MANAGE),
    Area("People", "Unlock a sign-in", "/admin/logins/unlock", Permission.LOGINS_UNLOCK),
    Area("Security", "Audit log", "/admin/audit-log", Permission.AUDIT_READ),
    Area("Security", "Alerts", "/admin/alerts", Permission.ALERTS_READ),
)


def staff() -> User:
    """The signed-in staff member (a guarded view runs only for one)."""
    return require_user()


def may(permission: Permission) -> bool:
    """Whether the signed-in staff member holds ``permission`` (what a page offers them)."""
    user = current_user()
    return user is not None and user.is_active and has_permission(user.role, permission)


def _navigation() -> list[tuple[str, list[tuple[Area, bool]]]]:
    """The areas this staff member may use, by group, each with whether it is this page's."""
    visible = [area for area in AREAS if may(area.permission)]
    here = max(
        (a for a in visible if request.path == a.path or request.path.startswith(a.path + "/")),
        key=lambda a: len(a.path),
        default=None,
    )
    groups: dict[str, list[tuple[Area, bool]]] = {}
    for area in visible:
        groups.setdefault(area.group, []).append((area, area is here))
    return list(groups.items())


def page_url(number: int) -> str:
    """This page of a list again, at page ``number``, with its filters."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    args["page"] = number
    return url_for(str(request.endpoint), **(request.view_args or {}), **args)


def who(actor_id: str | None) -> Markup:
    """Who did something, as the audit log names them: "you", "the shop" or an account id."""
    if actor_id is None or actor_id == SYSTEM_ACTOR:
        return Markup("the shop")
    user = current_user()
    if user is not None and user.id == actor_id:
        return Markup("you")
    return Markup('<code class="id">{}</code>').format(actor_id)


def pairs(values: Iterable[str]) -> list[tuple[str, str]]:
    """Options of a select whose values are what they show."""
    return [(value, value) for value in values]


@bp.context_processor
def _console_context() -> dict[str, Any]:
    return {
        "pairs": pairs,
        "who": who,
        "details": details,
        "admin_navigation": _navigation,
        "page_url": page_url,
        "may": may,
        "Permission": Permission,
        "major": major,
        "moment": moment,
        "day": day,
    }


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.url_value_preprocessor
def _allow_upload(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    if endpoint is None or request.method != "POST":
        return
    view = current_app.view_functions.get(endpoint)
    limit = getattr(view, _UPLOAD_LIMIT, None)
    permission = declared_permission(view) if view is not None else None
    if limit is not None and permission is not None and may(permission):
        request.max_content_length = limit + _FORM_OVERHEAD


def staff_page(permission: Permission) -> Callable[[Callable[P, Response]], Callable[P, Response]]:
    """Guard a console page (the module's docstring says how)."""

    def decorate(view: Callable[P, Response]) -> Callable[P, Response]:
        guarded = permission_required(permission)(view)

        @functools.wraps(guarded)
        def console_page(*args: P.args, **kwargs: P.kwargs) -> Response:
            if current_user() is None:
                return _sign_in_first()
            return guarded(*args, **kwargs)

        return console_page

    return decorate


def accepts_upload(max_bytes: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a view that takes a file of up to ``max_bytes`` (put it outside ``staff_page``)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        setattr(view, _UPLOAD_LIMIT, max_bytes)
        return view

    return decorate


def _sign_in_first() -> Response:
    # After signing in, back to this page; a form's post cannot be replayed, so to the console.
    target = request.full_path.rstrip("?") if request.method in ("GET", "HEAD") else bp.url_prefix
    return see_other(f"/login?next={quote(target or '/admin', safe='/')}")


def every_item(fetch: Callable[[PageRequest], Page[T]]) -> list[T]:
    """Every item of a paged list (categories, attributes, zones: a few hundred at most), for a
    page that shows them all or offers them in a form."""
    items: list[T] = []
    number = 1
    while True:
        found = fetch(PageRequest(page=number, per_page=MAX_PER_PAGE))
        items.extend(found.items)
        if len(items) >= found.total or not found.items:
            return items
        number += 1


def page(template: str, *, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def see_other(path: str) -> Response:
    """303: the browser GETs ``path`` next (a reload of it posts nothing again)."""
    return Response(status=303, headers={"Location": iri_to_uri(path)})


def done(path: str, message: str, category: str = NOTICE) -> Response:
    """A form did its work: say so on the next page, and go there."""
    flash(message, category)
    return see_other(path)
