"""``InMemoryShop``: every port faked and wired, for a one-line setup in tests and examples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs

from commerce_core.domain.catalog import Product
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.ports import AccountPorts, GatewayRegistry, PaymentGateway, PaymentPorts
from commerce_core.testing.attempts import InMemoryAttemptStore
from commerce_core.testing.clock import FakeClock
from commerce_core.testing.events import RecordingEventSink
from commerce_core.testing.gateway import FakeGateway
from commerce_core.testing.passwords import FakePasswordHasher
from commerce_core.testing.store import InMemoryStore, InMemoryUnitOfWork

__all__ = ["InMemoryShop", "make_product"]


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
    return Product.single(
        product_id=product_id,
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        description=f"A fine {slug}.",
        price=price or Money(1999, "USD"),
        image_url=f"/static/products/{slug}.svg",
        stock=stock,
        now=moment,
    )


@attrs.define
class InMemoryShop:
    """Every port faked and wired: ``use_case(command, **shop.ports)``.

    ``gateway`` is any ``PaymentGateway`` - the in-memory ``FakeGateway`` unless you bring your
    own (``InMemoryShop(gateway=MyGateway())``) to run the core's use cases against it; ``others``
    are further gateways the registry knows, for orders taken through them.
    """

    store: InMemoryStore = attrs.Factory(InMemoryStore)
    clock: FakeClock = attrs.Factory(FakeClock)
    gateway: PaymentGateway = attrs.Factory(lambda self: FakeGateway(self.clock), takes_self=True)
    events: RecordingEventSink = attrs.Factory(RecordingEventSink)
    hasher: FakePasswordHasher = attrs.Factory(FakePasswordHasher)
    attempts: InMemoryAttemptStore = attrs.Factory(InMemoryAttemptStore)
    product_id: str = ""
    others: tuple[PaymentGateway, ...] = ()

    @property
    def uow(self) -> InMemoryUnitOfWork:
        """A fresh unit of work over the shared store (one per caller/thread)."""
        return InMemoryUnitOfWork(self.store)

    @property
    def gateways(self) -> GatewayRegistry:
        return GatewayRegistry(self.gateway, *self.others)

    @property
    def ports(self) -> PaymentPorts:
        """What the payment use cases take, over a fresh unit of work."""
        return PaymentPorts(
            uow=self.uow, gateways=self.gateways, clock=self.clock, events=self.events
        )

    @property
    def account_ports(self) -> AccountPorts:
        """What the account use cases take, over a fresh unit of work."""
        return AccountPorts(
            uow=self.uow,
            hasher=self.hasher,
            clock=self.clock,
            events=self.events,
            attempts=self.attempts,
        )

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
