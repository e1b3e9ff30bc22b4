"""Test support for the core and for anyone building on it.

- In-memory fakes of every port: ``InMemoryStore`` + ``InMemoryUnitOfWork``, ``FakeGateway``,
  ``FakeClock``, ``FakePasswordHasher``, ``RecordingEventSink``.
- ``InMemoryShop``: all of them wired together, for a one-line setup.
- ``commerce_core.testing.contracts``: suites an adapter subclasses to prove it conforms
  (``PaymentGatewayContract``, ``UnitOfWorkContract``).
- ``commerce_core.testing.strategies``: hypothesis strategies for the value objects (needs
  hypothesis installed; imported on demand).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs

from commerce_core.catalog import Product
from commerce_core.ids import new_id
from commerce_core.money import Money
from commerce_core.testing.fakes import (
    FakeClock,
    FakeGateway,
    FakePasswordHasher,
    InMemoryStore,
    InMemoryUnitOfWork,
    RecordingEventSink,
    to_gateway_event,
)
from commerce_core.testing.simulated_gateway import SimulatedEvent, SimulatedIntent

__all__ = [
    "FakeClock",
    "FakeGateway",
    "FakePasswordHasher",
    "InMemoryShop",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "RecordingEventSink",
    "SimulatedEvent",
    "SimulatedIntent",
    "make_product",
    "to_gateway_event",
]


def make_product(
    *,
    slug: str | None = None,
    price: Money | None = None,
    stock: int = 10,
    name: str | None = None,
    now: datetime | None = None,
) -> Product:
    """A valid product with sensible defaults."""
    moment = now or datetime(2026, 1, 1, tzinfo=UTC)
    product_id = new_id("prod")
    slug = slug or f"item-{product_id[-8:]}"
    return Product(
        id=product_id,
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        description=f"A fine {slug}.",
        price=price or Money(1999, "USD"),
        image_url=f"/static/products/{slug}.svg",
        stock=stock,
        created_at=moment,
        updated_at=moment,
    )


@attrs.define
class InMemoryShop:
    """Every port faked and wired: ``use_case(command, **shop.ports)``."""

    store: InMemoryStore = attrs.Factory(InMemoryStore)
    clock: FakeClock = attrs.Factory(FakeClock)
    gateway: FakeGateway = attrs.Factory(lambda self: FakeGateway(self.clock), takes_self=True)
    events: RecordingEventSink = attrs.Factory(RecordingEventSink)
    hasher: FakePasswordHasher = attrs.Factory(FakePasswordHasher)
    product_id: str = ""

    @property
    def uow(self) -> InMemoryUnitOfWork:
        """A fresh unit of work over the shared store (one per caller/thread)."""
        return InMemoryUnitOfWork(self.store)

    @property
    def ports(self) -> dict[str, Any]:
        return {
            "uow": self.uow,
            "gateway": self.gateway,
            "clock": self.clock,
            "events": self.events,
        }

    def add_product(self, **kwargs: Any) -> Product:
        product = make_product(now=self.clock.now(), **kwargs)
        with self.uow as uow:
            uow.products.add(product)
            uow.commit()
        return product

    def product(self, product_id: str) -> Product:
        with self.uow as uow:
            found = uow.products.get(product_id)
        if found is None:
            raise LookupError(product_id)
        return found

    @classmethod
    def with_demo_product(cls, *, stock: int = 10, price: Money | None = None) -> InMemoryShop:
        shop = cls()
        shop.product_id = shop.add_product(stock=stock, price=price).id
        return shop
