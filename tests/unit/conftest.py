"""Fixtures for the core's unit tests: an in-memory shop with every port faked."""

from __future__ import annotations

import pytest

from commerce_core import Money
from commerce_core.testing import InMemoryShop
from tests.unit.hooked_gateway import HookedGateway


@pytest.fixture
def shop() -> InMemoryShop:
    """A shop selling one product (``shop.product_id``) at $19.99, five in stock."""
    return InMemoryShop.with_demo_product(stock=5, price=Money(1999, "USD"))


@pytest.fixture
def hooked_shop() -> InMemoryShop:
    """The same shop, its gateway a ``HookedGateway``."""
    shop = InMemoryShop()
    shop.gateway = HookedGateway(shop.clock)
    shop.product_id = shop.add_product(stock=5, price=Money(1999, "USD")).id
    return shop
