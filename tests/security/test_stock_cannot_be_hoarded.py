"""Stock cannot be hoarded: one account may hold at most 3 unpaid checkouts (100 units), one
client address at most 10 (300 units); paying or a hold's expiry frees the room. In memory,
through the HTTP API, and with concurrent checkouts of one account on PostgreSQL (the user's
row lock makes the cap exact there)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from adapters.passwords import Argon2PasswordHasher
from adapters.sql import SqlUnitOfWork
from commerce_core import (
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    GatewayRegistry,
    HoldLimitReached,
    Money,
    PaymentPorts,
    RateLimitPolicy,
    Role,
    User,
    configure_shipping,
    confirm_order,
    create_checkout_intent,
    release_expired_holds,
)
from commerce_core.testing import (
    FakeClock,
    FakeGateway,
    InMemoryShop,
    RecordingEventSink,
    make_product,
)
from tests.support.shipping import FREE_DOMESTIC, shipped
from tests.webapp.browser import Shopper, assert_problem
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings


@pytest.fixture
def shop() -> InMemoryShop:
    return InMemoryShop.with_demo_product(stock=1000, price=Money(500, "USD"))


def _checkout(
    shop: InMemoryShop, user: str = "usr_a", quantity: int = 1, ip: str | None = None
) -> dict[str, str]:
    return create_checkout_intent(
        CreateCheckoutIntent(user, (CartItem(shop.product_id, quantity),), ip=ip), **shop.ports
    ).body


def test_an_account_holds_at_most_three_unpaid_checkouts(shop: InMemoryShop) -> None:
    for _ in range(3):
        _checkout(shop)
    with pytest.raises(HoldLimitReached):
        _checkout(shop)
    _checkout(shop, user="usr_b")  # someone else is not held back
    with shop.uow as uow:
        product = uow.products.get(shop.product_id)
    assert product is not None
    assert product.stock == 1000 - 4  # the refused checkout took nothing


def test_an_account_holds_at_most_100_units(shop: InMemoryShop) -> None:
    _checkout(shop, quantity=60)
    with pytest.raises(HoldLimitReached):
        _checkout(shop, quantity=41)
    _checkout(shop, quantity=40)


def test_paying_frees_the_room(shop: InMemoryShop) -> None:
    intents = [_checkout(shop) for _ in range(3)]
    confirm_order(
        ConfirmOrder("usr_a", intents[0]["intent_id"], "pm_card_visa", "pay-1"), **shop.ports
    )
    _checkout(shop)


def test_an_expired_hold_frees_the_room(shop: InMemoryShop) -> None:
    for _ in range(3):
        _checkout(shop)
    shop.clock.advance(timedelta(minutes=16))
    release_expired_holds(**shop.ports)
    _checkout(shop)


def test_one_address_holds_at_most_ten_unpaid_checkouts_across_accounts(
    shop: InMemoryShop,
) -> None:
    for n in range(10):
        _checkout(shop, user=f"usr_{n}", ip="203.0.113.9")
    with pytest.raises(HoldLimitReached):
        _checkout(shop, user="usr_fresh", ip="203.0.113.9")
    _checkout(shop, user="usr_fresh", ip="198.51.100.1")
    _checkout(shop, user="usr_fresh")  # an unknown address is counted per account only


def test_an_absurd_address_is_not_stored_and_not_counted(shop: InMemoryShop) -> None:
    body = _checkout(shop, ip="x" * 500)
    with shop.uow as uow:
        order = uow.orders.get(body["order_id"])
    assert order is not None
    assert order.client_ip is None


# -- concurrent checkouts of one account on PostgreSQL ----------------------------------------


def test_concurrent_checkouts_of_one_account_stop_exactly_at_the_cap(pg_engine: Engine) -> None:
    clock = FakeClock()
    product = make_product(stock=100, price=Money(500, "USD"), now=clock.now())
    racer = User("usr_racer", "racer@example.com", "R", "x", Role.CUSTOMER, True, clock.now())
    with SqlUnitOfWork(pg_engine) as uow:
        uow.products.add(product)
        uow.users.add(racer)
        uow.commit()
    gateway = FakeGateway(clock)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def checkout() -> None:
        ports = PaymentPorts(
            uow=SqlUnitOfWork(pg_engine),
            gateways=GatewayRegistry(gateway),
            clock=clock,
            events=RecordingEventSink(),
        )
        barrier.wait()
        try:
            create_checkout_intent(
                CreateCheckoutIntent("usr_racer", (CartItem(product.id, 1),)), **ports
            )
            outcome = "created"
        except HoldLimitReached:
            outcome = "refused"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=checkout) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] * 3 + ["refused"] * 5


# -- through the HTTP API ---------------------------------------------------------------------


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    settings = Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret="whsec_" + "h" * 32,
    )
    migrate_database(settings)
    built = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        rate_limits=RateLimitPolicy({}),
    )
    yield built
    built.close()


@pytest.fixture
def app(tmp_path: Path, container: Container) -> Flask:
    settings = Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret="whsec_" + "h" * 32,
    )
    return create_app(settings, container=container)


def test_over_http_the_fourth_unpaid_checkout_is_409(app: Flask, container: Container) -> None:
    configure_shipping(container.new_uow(), FREE_DOMESTIC)
    product = make_product(stock=50, price=Money(500, "USD"), now=container.clock.now())
    with container.new_uow() as uow:
        uow.products.add(product)
        uow.commit()
    shopper = Shopper(app.test_client())
    shopper.register()
    for _ in range(3):
        shopper.intent(product.id)
    refused = shopper.post(
        "/api/checkout/intent", shipped({"items": [{"product_id": product.id, "quantity": 1}]})
    )
    assert_problem(refused, 409, "hold_limit_reached")
