"""The in-memory fakes are held to the same contracts as the real adapters."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from commerce_core import UnitOfWork
from commerce_core.testing import FakeGateway, InMemoryStore, InMemoryUnitOfWork
from commerce_core.testing.contracts import PaymentGatewayContract, UnitOfWorkContract


class TestFakeGateway(PaymentGatewayContract):
    @pytest.fixture
    def gateway(self) -> FakeGateway:
        return FakeGateway()


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def new_uow(self) -> Callable[[], UnitOfWork]:
        store = InMemoryStore()
        return lambda: InMemoryUnitOfWork(store)
