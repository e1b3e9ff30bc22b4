"""The JSON API, one blueprint per area of the shop.

Views parse input, call one use case with the request's ports and render its result; no SQL,
no gateway call and no business rule lives here.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from webapp.api import (
    account,
    admin,
    admin_catalog,
    admin_catalog_csv,
    admin_categories,
    admin_orders,
    admin_shipping,
    admin_users,
    auth,
    catalog,
    categories,
    checkout,
    docs,
    health,
    orders,
    payments,
    shipping,
)

__all__ = ["BLUEPRINTS", "register_blueprints"]

BLUEPRINTS: tuple[Blueprint, ...] = (
    health.bp,
    docs.bp,
    auth.bp,
    catalog.bp,
    categories.bp,
    shipping.bp,
    checkout.bp,
    orders.bp,
    account.bp,
    payments.bp,
    admin_users.bp,
    admin_catalog.bp,
    admin_catalog_csv.bp,
    admin_categories.bp,
    admin_shipping.bp,
    admin_orders.bp,
    admin.bp,
)


def register_blueprints(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
