"""The JSON API through Flask's test client, on the real SQL adapter (a migrated SQLite file per
test) and the database-backed fake Stripe gateway: everything but the network is real."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.observability import configure_logging
from adapters.passwords import Argon2PasswordHasher
from adapters.payments.fake_gateway import FakeStripeGateway
from commerce_core import (
    Money,
    NewProduct,
    Register,
    Role,
    configure_shipping,
    create_staff_user,
    get_product,
    stock_catalog,
)
from tests.support.shipping import FREE_DOMESTIC
from tests.webapp.browser import PASSWORD, Shopper
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings

ADMIN_EMAIL = "admin@example.com"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(app_env="test", database_url=f"sqlite:///{tmp_path / 'shop.db'}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings_on_both_databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Settings]:
    """For a module to run the webapp fixtures on either database, by overriding ``settings``
    with this one."""
    if request.param == "sqlite":
        yield Settings(app_env="test", database_url=f"sqlite:///{tmp_path / 'shop.db'}")
        return
    request.getfixturevalue("pg_engine")  # an emptied, migrated database
    yield Settings(app_env="test", database_url=request.getfixturevalue("pg_url"))


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    migrate_database(settings)
    # Real Argon2id, at the cheapest parameters: the production ones would slow every test.
    container = attrs.evolve(
        build_container(settings), hasher=Argon2PasswordHasher.fast_for_tests()
    )
    yield container
    container.close()


@pytest.fixture
def app(settings: Settings, container: Container) -> Flask:
    return create_app(settings, container=container)


@pytest.fixture
def log_lines(app: Flask) -> Any:
    """The JSON log lines written from now on (the real pipeline, redirected to a buffer)."""
    buffer = io.StringIO()
    configure_logging(json=True, level="INFO", stream=buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.fixture
def gateway(container: Container) -> FakeStripeGateway:
    return cast(FakeStripeGateway, container.gateways.default)


@attrs.frozen
class Catalog:
    mug: str  # product ids
    lamp: str


@pytest.fixture
def catalog(container: Container) -> Catalog:
    configure_shipping(container.new_uow(), FREE_DOMESTIC)
    stock_catalog(
        container.new_uow(),
        container.clock,
        [
            NewProduct("mug", "Mug", "A mug.", Money(1800, "USD"), "/static/products/m.svg", 5),
            NewProduct("lamp", "Lamp", "A lamp.", Money(8900, "USD"), "/static/products/l.svg", 1),
        ],
    )
    return Catalog(
        mug=get_product(container.new_uow(), "mug").id,
        lamp=get_product(container.new_uow(), "lamp").id,
    )


@pytest.fixture
def stock(container: Container) -> Any:
    """``stock(slug)``: what the catalog can still sell, read straight from the database."""
    return lambda slug: get_product(container.new_uow(), slug).stock


@pytest.fixture
def app_client(app: Flask) -> FlaskClient:
    """A client without cookies or CSRF header: a gateway, a probe, a stranger."""
    return app.test_client()


@pytest.fixture
def shopper(app: Flask) -> Shopper:
    return Shopper(app.test_client())


@pytest.fixture
def new_shopper(app: Flask) -> Any:
    """A factory of further browsers (other users)."""
    return lambda: Shopper(app.test_client())


@pytest.fixture
def admin(app: Flask, container: Container) -> Shopper:
    create_staff_user(
        Register(email=ADMIN_EMAIL, password=PASSWORD, name="Ada", role=Role.ADMIN),
        uow=container.new_uow(),
        hasher=container.hasher,
        clock=container.clock,
        events=container.events,
    )
    browser = Shopper(app.test_client())
    response = browser.log_in(ADMIN_EMAIL)
    assert response.status_code == 200, response.get_data(as_text=True)
    return browser
