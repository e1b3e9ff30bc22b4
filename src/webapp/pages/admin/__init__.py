"""The admin console under ``/admin``: server-rendered pages for everything the admin JSON API
offers, on the same core use cases (which check permissions and audit every change).

One blueprint (``console.bp``) and one module per area - ``dashboard`` (the sales chart),
``orders`` (list, detail, fulfil, refund, cancel), ``products`` (list, new), ``product`` (one
product's page), ``variants``, ``categories``, ``attributes``, ``catalog_csv`` (import and
export), ``shipping`` (zones, methods, tax rates), ``users`` (roles, disabling, unlocking) and
``security`` (the audit log and alerts) - on the frame they share: ``console`` (guard,
navigation, answers), ``forms``, ``display`` and ``chart``.
"""

# Each area module adds its routes to the blueprint as it is imported.
from webapp.pages.admin import (  # noqa: F401
    attributes,
    catalog_csv,
    categories,
    dashboard,
    orders,
    product,
    products,
    security,
    shipping,
    users,
    variants,
)
from webapp.pages.admin.console import bp

__all__ = ["bp"]
