"""Fixtures for the core's unit tests: an in-memory shop with every port faked."""

from __future__ import annotations

import pytest

from commerce_core import Money
from commerce_core.testing import InMemoryShop


@pytest.fixture
def shop() -> InMemoryShop:
    """A shop selling one product (``shop.product_id``) at $19.99, five in stock."""
    return InMemoryShop.with_demo_product(stock=5, price=Money(1999, "USD"))
