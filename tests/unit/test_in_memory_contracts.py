"""The in-memory fakes are held to the same contracts as the real adapters."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from commerce_core import EventKind, GatewayEvent, UnitOfWork
from commerce_core.testing import (
    FakeClock,
    FakeGateway,
    FakePasswordHasher,
    InMemoryStore,
    InMemoryUnitOfWork,
    RecordingEventSink,
)
from commerce_core.testing.contracts import (
    EventSinkContract,
    EventSpec,
    GatewayEventParserContract,
    PasswordHasherContract,
    PaymentGatewayContract,
    UnitOfWorkContract,
)
from tests.support.simulated_scenarios import FakeGatewayOutage, SimulatedGatewayScenarios


class TestFakeGateway(SimulatedGatewayScenarios, FakeGatewayOutage, PaymentGatewayContract):
    @pytest.fixture
    def gateway(self) -> FakeGateway:
        return FakeGateway()


class TestFakeGatewayEvents(GatewayEventParserContract):
    gateway_name = "fake"

    @pytest.fixture
    def parser(self) -> FakeGateway:
        self._gateway = FakeGateway(FakeClock())
        return self._gateway

    def event_body(self, spec: EventSpec) -> bytes:
        return self._gateway.encode_event(
            GatewayEvent(
                id=spec.event_id,
                kind=spec.kind,
                gateway="fake",
                intent_id=spec.intent_id,
                created_at=FakeClock().now(),
                raw_type=f"simulated.{spec.kind.value}",
                amount=spec.amount,
                refund_id=spec.refund_id,
                refund_key=spec.refund_key,
                decline_code=spec.decline_code,
            )
        )

    def ignored_event_body(self) -> bytes:
        spec = EventSpec(EventKind.IGNORED, "pi_1", self.amounts[0])
        return self.event_body(spec).replace(b'"kind": "ignored"', b'"kind": "customer_created"')

    def signed(self, body: bytes) -> dict[str, str]:
        return self._gateway.sign(body)


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def new_uow(self) -> Callable[[], UnitOfWork]:
        store = InMemoryStore()
        return lambda: InMemoryUnitOfWork(store)


class TestFakePasswordHasher(PasswordHasherContract):
    @pytest.fixture
    def hasher(self) -> FakePasswordHasher:
        return FakePasswordHasher()


class TestRecordingEventSink(EventSinkContract):
    @pytest.fixture
    def sink(self) -> RecordingEventSink:
        return RecordingEventSink()

    def recorded(self, sink: RecordingEventSink) -> list[tuple[str, Mapping[str, object]]]:  # type: ignore[override]
        return [(name, fields) for name, fields in sink.events]
