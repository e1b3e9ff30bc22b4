"""Fixtures for the adapter tests: the fake Stripe gateway on each real database."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from adapters.payments.fake_gateway import FakeStripeGateway
from commerce_core.testing import FakeClock

WEBHOOK_SECRET = "whsec_adapter_tests_" + "k" * 24


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database: a SQLite file, then the session's PostgreSQL (emptied per test)."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway(engine: Engine, clock: FakeClock) -> FakeStripeGateway:
    return FakeStripeGateway(engine, webhook_secret=WEBHOOK_SECRET, clock=clock)
