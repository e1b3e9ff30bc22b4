"""Every route under /api/admin declares the permission it needs, and answers every role as the
one permission table says: anonymous 401, a role without the permission 403 ``forbidden``, a
role with it never 401 or 403 (it may still fail validation or find nothing - that is fine).

The routes come from the app's own ``url_map``, not from a list kept by hand: a staff route
added later is walked the day it appears, and one that forgets ``permission_required`` fails
here before any customer can call it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from commerce_core import ROLE_PERMISSIONS, Permission, Role
from tests.security.staff_shop import DATABASES, StaffShop, staff_shop
from tests.webapp.browser import Shopper
from webapp.sessions import declared_permission

ADMIN_PREFIX = "/api/admin/"
# What every path segment of a walked route is filled with: it names nothing, so no call can
# change anything (a role with the permission gets 404 or 422, never an effect).
NOTHING = "walked-with-every-role"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The routes of the staff's read API, which the walk must find (so an empty walk cannot pass).
READ_ROUTES = {
    ("GET", "/api/admin/orders"),
    ("GET", "/api/admin/orders/<order_id>"),
    ("GET", "/api/admin/users"),
    ("GET", "/api/admin/audit-log"),
    ("GET", "/api/admin/alerts"),
    ("GET", "/api/admin/categories"),
    ("PUT", "/api/admin/products/<slug>/categories"),
    ("GET", "/api/admin/attributes"),
    ("PUT", "/api/admin/products/<slug>/attributes"),
}


def admin_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every route under /api/admin."""
    return sorted(
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(ADMIN_PREFIX)
        for method in rule.methods or ()
        if method in METHODS
    )


def call(browser: Shopper, method: str, rule: str) -> TestResponse:
    path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", NOTHING, rule)
    if method == "GET":
        return browser.get(path)
    headers = {"X-CSRF-Token": browser.csrf(), "Idempotency-Key": f"walk-{secrets.token_hex(6)}"}
    return browser.client.open(path, method=method, json={}, headers=headers)


@pytest.fixture(params=DATABASES)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StaffShop]:
    with staff_shop(request, tmp_path) as running:
        yield running


@pytest.fixture
def app(shop: StaffShop) -> Flask:
    return shop.app


@pytest.fixture
def browsers(shop: StaffShop) -> dict[Role | None, Shopper]:
    """A signed-in browser for every role, and an anonymous one (``None``)."""
    signed_in: dict[Role | None, Shopper] = {None: shop.browser()}
    signed_in.update({role: shop.signed_in(role) for role in Role})
    return signed_in


def test_the_walk_finds_the_staff_routes(app: Flask) -> None:
    walked = {(method, rule) for method, rule, _ in admin_routes(app)}
    assert walked >= READ_ROUTES


def test_every_admin_route_declares_the_permission_it_needs(app: Flask) -> None:
    undeclared = [
        f"{method} {rule}"
        for method, rule, endpoint in admin_routes(app)
        if declared_permission(app.view_functions[endpoint]) is None
    ]
    assert undeclared == [], "guard these with webapp.sessions.permission_required"


def test_every_admin_route_answers_every_role_as_the_permission_table_says(
    app: Flask, browsers: dict[Role | None, Shopper]
) -> None:
    wrong = []
    for method, rule, endpoint in admin_routes(app):
        needed = declared_permission(app.view_functions[endpoint])
        assert needed is not None, f"{method} {rule} declares no permission"
        for role, browser in browsers.items():
            response = call(browser, method, rule)
            body = response.get_json(silent=True) or {}
            if role is None:
                expected = "401 unauthenticated"
                ok = response.status_code == 401 and body.get("code") == "unauthenticated"
            elif needed in ROLE_PERMISSIONS[role]:
                expected = "neither 401 nor 403"
                ok = response.status_code not in (401, 403)
            else:
                expected = "403 forbidden"
                ok = response.status_code == 403 and body.get("code") == "forbidden"
            if not ok:
                who = role.value if role else "anonymous"
                wrong.append(
                    f"{method} {rule} ({needed.value}) as {who}: {response.status_code} "
                    f"{body.get('code')}, expected {expected}"
                )
    assert wrong == []


def test_the_permission_table_is_the_one_in_the_design() -> None:
    designed = {
        Role.CUSTOMER: frozenset(),
        Role.SUPPORT: frozenset(
            {
                Permission.ORDERS_READ,
                Permission.ORDERS_FULFIL,
                Permission.ALERTS_READ,
                Permission.LOGINS_UNLOCK,
            }
        ),
        Role.ADMIN: frozenset(Permission),
    }
    assert designed == ROLE_PERMISSIONS
    # The permissions the design names, by their stable names, are all there.
    assert {
        "orders:read",
        "orders:refund",
        "orders:fulfil",
        "audit:read",
        "users:manage",
        "alerts:read",
        "logins:unlock",
        "catalog:write",
    } <= {permission.value for permission in Permission}
