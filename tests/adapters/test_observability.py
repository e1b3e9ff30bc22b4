"""Logs are JSON lines with ISO UTC timestamps and merged context, stdlib records included; no
secret and no full email reaches a log line or Sentry; alerts are warnings."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import sentry_sdk
import structlog
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from adapters.observability import (
    REDACTED,
    StructlogEventSink,
    configure_logging,
    init_sentry,
    mask_emails,
    scrub,
)
from commerce_core import EventSink
from commerce_core.testing.contracts import EventSinkContract


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Logging configured as JSON into a buffer; everything restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    configure_logging(json=True, level="INFO", stream=buffer)
    yield buffer
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_scrub_redacts_secret_keys_at_any_depth_and_masks_emails() -> None:
    scrubbed = scrub(
        {
            "password": "hunter2",
            "headers": {"Authorization": "Bearer abc", "Cookie": "session=xyz", "Accept": "*/*"},
            "form": [{"card_number": 4242424242424242, "cvc": "123"}],
            "refresh_token": "r",
            "X-CSRF-Token": "c",
            "client_secret": "pi_1_secret_2",
            "note": "mail ada@example.com or Bob.Smith+tag@mail.example.co.uk",
            "password_hint": None,
            "count": 3,
        }
    )
    assert scrubbed == {
        "password": REDACTED,
        "headers": {"Authorization": REDACTED, "Cookie": REDACTED, "Accept": "*/*"},
        "form": [{"card_number": REDACTED, "cvc": REDACTED}],
        "refresh_token": REDACTED,
        "X-CSRF-Token": REDACTED,
        "client_secret": REDACTED,
        "note": "mail a***@example.com or B***@mail.example.co.uk",
        "password_hint": None,
        "count": 3,
    }


def test_mask_emails_keeps_the_first_letter_and_the_domain() -> None:
    assert mask_emails("jane.doe@example.com") == "j***@example.com"
    assert mask_emails("no email here @ all") == "no email here @ all"


def test_log_lines_are_json_with_iso_utc_time_level_and_context(stream: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-1")
    structlog.get_logger("test").info("order.paid", order_id="ord_1", amount=4200)
    [line] = _lines(stream)
    assert line["event"] == "order.paid"
    assert (line["order_id"], line["amount"], line["request_id"]) == ("ord_1", 4200, "req-1")
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")
    assert "T" in line["timestamp"]


def test_secrets_and_emails_never_reach_a_line(stream: io.StringIO) -> None:
    structlog.get_logger("test").info(
        "user ada@example.com registered",
        email="ada@example.com",
        password="hunter2",
        token="tok_123",
        cookie="session=abc",
    )
    output = stream.getvalue()
    for secret in ("hunter2", "tok_123", "session=abc", "ada@example.com"):
        assert secret not in output
    [line] = _lines(stream)
    assert line["email"] == "a***@example.com"
    assert line["event"] == "user a***@example.com registered"
    assert line["password"] == REDACTED


def test_standard_library_records_become_scrubbed_json_too(stream: io.StringIO) -> None:
    logging.getLogger("werkzeug").info("login by %s", "bob@example.com")
    logging.getLogger("gunicorn.error").warning("worker timeout")
    logging.getLogger("sqlalchemy.engine").debug("below the level: dropped")
    lines = _lines(stream)
    assert [(x["logger"], x["level"], x["event"]) for x in lines] == [
        ("werkzeug", "info", "login by b***@example.com"),
        ("gunicorn.error", "warning", "worker timeout"),
    ]


def test_exceptions_are_structured_without_local_variables(stream: io.StringIO) -> None:
    def fail(password: str) -> None:
        raise RuntimeError("payment for carol@example.com failed")

    try:
        fail("hunter2")
    except RuntimeError:
        structlog.get_logger("test").exception("checkout.crashed")
    output = stream.getvalue()
    assert "hunter2" not in output
    assert "carol@example.com" not in output
    [line] = _lines(stream)
    [exception] = line["exception"]
    assert exception["exc_type"] == "RuntimeError"
    assert exception["exc_value"] == "payment for c***@example.com failed"
    assert all("locals" not in frame for frame in exception["frames"])


def test_console_format_for_development() -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        configure_logging(json=False, level="debug", stream=buffer)
        structlog.get_logger("test").debug("hello", password="hunter2")
    finally:
        root.handlers[:] = saved
        structlog.reset_defaults()
    output = buffer.getvalue()
    assert "hello" in output
    assert "hunter2" not in output
    assert not output.startswith("{")


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="level"):
        configure_logging(level="chatty")


def test_the_event_sink_logs_events_and_alerts_as_warnings(stream: io.StringIO) -> None:
    sink: EventSink = StructlogEventSink()
    sink.emit("auth.login_failed", reason="wrong_password", email="eve@example.com")
    sink.emit("alert.card_testing", ip="203.0.113.9", declines=12, event="overlapping name")
    first, alert = _lines(stream)
    assert (first["event"], first["level"], first["email"]) == (
        "auth.login_failed",
        "info",
        "e***@example.com",
    )
    assert (alert["event"], alert["level"], alert["declines"]) == (
        "alert.card_testing",
        "warning",
        12,
    )
    assert alert["event_"] == "overlapping name"


class _Captured(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        found = [e.get_event() for e in self.envelopes]
        return [dict(e) for e in found if e is not None]


@pytest.fixture
def sentry() -> Iterator[_Captured]:
    transport = _Captured()
    init_sentry("https://public@sentry.example.invalid/1", "test", "1.0", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # an inactive client: nothing is sent by later tests


def test_sentry_sends_no_personal_data_by_default(sentry: _Captured) -> None:
    client = sentry_sdk.get_client()
    assert client.is_active()
    assert client.should_send_default_pii() is False
    assert client.options["include_local_variables"] is False
    assert client.options["max_request_body_size"] == "never"


def test_sentry_events_are_scrubbed(sentry: _Captured) -> None:
    # A local variable that must not travel with the stack trace (built at run time, because
    # Sentry does send the source lines around the failing one, and this one is among them).
    password = "".join(["hun", "ter2"])
    try:
        raise ValueError(f"bad login for dan@example.com ({len(password)})")
    except ValueError as exc:
        with sentry_sdk.new_scope() as scope:
            scope.set_extra("authorization", "Bearer " + "abc" * 3)
            sentry_sdk.capture_exception(exc)
    [event] = sentry.events()
    text = json.dumps(event)
    assert "hunter2" not in text
    assert "Bearer abcabcabc" not in text
    assert event["extra"]["authorization"] == REDACTED
    assert "dan@example.com" not in text
    assert event["exception"]["values"][0]["value"] == "bad login for d***@example.com (7)"


def test_alerts_reach_sentry_as_scrubbed_warnings(sentry: _Captured) -> None:
    StructlogEventSink().emit("alert.credential_stuffing", ip="198.51.100.7", email="x@example.com")
    [event] = sentry.events()
    assert (event["message"], event["level"]) == ("alert.credential_stuffing", "warning")
    assert event["contexts"]["alert"] == {"ip": "198.51.100.7", "email": "x***@example.com"}


def test_sentry_privacy_settings_cannot_be_loosened() -> None:
    with pytest.raises(ValueError, match="privacy"):
        init_sentry("https://public@sentry.example.invalid/1", "test", send_default_pii=True)


class TestStructlogEventSinkContract(EventSinkContract):
    """The port's contract, read back from the JSON lines the real logging pipeline writes."""

    @pytest.fixture
    def sink(self, stream: io.StringIO) -> StructlogEventSink:
        self._stream = stream
        return StructlogEventSink()

    def recorded(self, sink: EventSink) -> list[tuple[str, Mapping[str, object]]]:
        return [(line.pop("event"), line) for line in _lines(self._stream)]
