"""``EventSinkContract``: what every ``EventSink`` does. Provide a fixture ``sink`` and a hook
``recorded(sink)`` returning what it wrote, as ``(event name, fields)`` pairs in order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from commerce_core.ports import EventSink

__all__ = ["EventSinkContract"]

SECRETS = {
    "password": "hunter2-hunter2",
    "refresh_token": "rt_0123456789abcdef",
    "client_secret": "pi_123_secret_456",
    "card_number": "4242424242424242",
    "authorization": "Bearer sk_live_0123",
}


class EventSinkContract:
    def recorded(self, sink: EventSink) -> list[tuple[str, Mapping[str, object]]]:
        raise NotImplementedError("read back what the sink recorded")

    def test_an_event_is_recorded_with_its_name_and_fields(self, sink: EventSink) -> None:
        sink.emit("order.paid", order_id="ord_1", amount=1999, currency="USD")
        name, fields = self.recorded(sink)[-1]
        assert name == "order.paid"
        assert fields["order_id"] == "ord_1"
        assert fields["amount"] == 1999
        assert fields["currency"] == "USD"

    def test_odd_field_values_never_raise(self, sink: EventSink) -> None:
        odd: dict[str, object] = {
            "none": None,
            "nested": {"a": [1, {"b": (2, 3)}]},
            "when": datetime(2026, 1, 1, tzinfo=UTC),
            "exact": Decimal("19.99"),
            "raw": b"\x00\xff",
            "long": "x" * 100_000,
            "control": "a\x00b\x1bc",
            "surrogate": "\udcff",
            "number": 10**40,
        }
        sink.emit("odd.values", **odd)
        assert self.recorded(sink)[-1][0] == "odd.values"

    def test_fields_that_name_a_secret_are_never_recorded_in_clear(self, sink: EventSink) -> None:
        sink.emit("auth.something", user_id="usr_1", **SECRETS)
        recorded = repr(self.recorded(sink))
        assert "usr_1" in recorded
        for name, value in SECRETS.items():
            assert value not in recorded, f"{name} was recorded in clear"
