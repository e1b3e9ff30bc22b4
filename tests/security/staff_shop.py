"""A real app on SQLite or PostgreSQL, with a signed-in browser per role, for the tests that
walk the staff routes and watch the monitor's alerts.

Rate limits are off: these tests make more sign-ins from one address than the limits allow, and
what they check is the permission table and the monitor, which the limits have no say in.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest
from flask import Flask

from adapters.passwords import Argon2PasswordHasher
from commerce_core import RateLimitPolicy, Register, Role, create_staff_user
from tests.webapp.browser import PASSWORD, Shopper
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@attrs.frozen
class StaffShop:
    app: Flask
    container: Container

    def browser(self) -> Shopper:
        return Shopper(self.app.test_client())

    def signed_in(self, role: Role) -> Shopper:
        """A browser signed in as a new account of ``role``."""
        browser = self.browser()
        if role is Role.CUSTOMER:
            browser.register()
            return browser
        email = f"{role.value}-{secrets.token_hex(4)}@example.com"
        create_staff_user(
            Register(email=email, password=PASSWORD, name="Staff", role=role),
            uow=self.container.new_uow(),
            hasher=self.container.hasher,
            clock=self.container.clock,
            events=self.container.events,
        )
        response = browser.log_in(email)
        assert response.status_code == 200, response.get_data(as_text=True)
        return browser


@contextmanager
def staff_shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StaffShop]:
    """The shop on the database ``request.param`` names (``DATABASES``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        request.getfixturevalue("pg_engine")  # an emptied, migrated database
        url = request.getfixturevalue("pg_url")
    settings = Settings(app_env="test", database_url=url)
    migrate_database(settings)
    container = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        rate_limits=RateLimitPolicy({}),
    )
    try:
        yield StaffShop(create_app(settings, container=container), container)
    finally:
        container.close()
