"""The demo shop ``commerce seed --demo`` sets up, for page tests: the same functions, the same
data (products with sizes and colours, categories, attributes, shipping)."""

from __future__ import annotations

from commerce_core import configure_catalog, configure_shipping, stock_catalog
from webapp.bootstrap import Container
from webapp.demo_shop import load_demo_shop

DEMO_PRODUCTS = 15


def seed_demo_shop(container: Container) -> None:
    shop = load_demo_shop()
    stock_catalog(container.new_uow(), container.clock, list(shop.products))
    configure_shipping(container.new_uow(), shop.shipping)
    configure_catalog(container.new_uow(), shop.catalog)
