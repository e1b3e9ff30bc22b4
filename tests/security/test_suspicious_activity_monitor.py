"""The suspicious activity monitor: rules over the event stream raise stored alerts - listed to
staff, published to the logs - once per window when a threshold is crossed, and never break the
request whose event they watch.

In memory, edge to edge (the real use cases emitting the real events, counted in the
``InMemoryAttemptStore`` under a ``FakeClock``, with thresholds lowered to keep the tests
short); then once through the real app on SQLite and PostgreSQL, with the shop's own policy.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from commerce_core import (
    AuthenticationFailed,
    CartItem,
    ConfirmOrder,
    ConfirmOutcome,
    CreateCheckoutIntent,
    DomainEvent,
    EventKind,
    GatewayEvent,
    LogIn,
    Money,
    MonitoringEventSink,
    MonitoringPolicy,
    PageRequest,
    RefreshRejected,
    RefreshSession,
    RefundOrder,
    Register,
    Role,
    Threshold,
    User,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
    list_alerts,
    log_in,
    refresh_session,
    refund_order,
    register,
)
from commerce_core.testing import InMemoryAttemptStore, InMemoryShop, InMemoryUnitOfWork
from commerce_core.testing.contracts import EventSinkContract
from tests.security.staff_shop import DATABASES, StaffShop, staff_shop
from tests.webapp.browser import PASSWORD

ADMIN = User("usr_admin", "admin@example.com", "Ada", "-", Role.ADMIN, True, datetime.now(UTC))
STAFF, OTHER_STAFF = "usr_staff", "usr_staff_2"
SMALL = MonitoringPolicy(
    credential_stuffing=Threshold(3, timedelta(minutes=15)),
    card_testing_per_account=Threshold(3, timedelta(hours=1)),
    card_testing_per_address=Threshold(4, timedelta(hours=1)),
    refund_velocity=Threshold(3, timedelta(hours=1)),
)


@attrs.define
class Monitored:
    """An in-memory shop whose use cases emit to the monitor (wrapping the shop's recorder)."""

    shop: InMemoryShop
    sink: MonitoringEventSink

    @property
    def ports(self) -> Any:
        return {**self.shop.ports, "events": self.sink}

    @property
    def account_ports(self) -> Any:
        return {**self.shop.account_ports, "events": self.sink}

    def stored_alerts(self) -> list[DomainEvent]:
        return list(list_alerts(self.shop.uow, ADMIN, PageRequest(per_page=100)).items)

    def published(self, name: str) -> list[dict[str, object]]:
        return self.shop.events.of(name)


def monitored(
    shop: InMemoryShop | None = None,
    *,
    attempts: InMemoryAttemptStore | None = None,
    new_uow: Any = None,
) -> Monitored:
    shop = shop or InMemoryShop.with_demo_product(stock=100)
    sink = MonitoringEventSink(
        shop.events,
        attempts=attempts or shop.attempts,
        new_uow=new_uow or (lambda: shop.uow),
        clock=shop.clock,
        policy=SMALL,
    )
    return Monitored(shop, sink)


@pytest.fixture
def m() -> Monitored:
    return monitored()


def fail_login(m: Monitored, email: str, ip: str | None) -> None:
    with pytest.raises(AuthenticationFailed):
        log_in(LogIn(email, "not the password at all", ip=ip), **m.account_ports)


def decline(m: Monitored, user_id: str, ip: str | None) -> None:
    intent = create_checkout_intent(
        CreateCheckoutIntent(user_id, (CartItem(m.shop.product_id, 1),)), **m.ports
    ).body
    result = confirm_order(
        ConfirmOrder(
            user_id, intent["intent_id"], "pm_card_chargeDeclined", secrets.token_hex(6), ip=ip
        ),
        **m.ports,
    )
    assert result.outcome is ConfirmOutcome.DECLINED


def paid_order(m: Monitored) -> str:
    intent = create_checkout_intent(
        CreateCheckoutIntent("usr_buyer", (CartItem(m.shop.product_id, 1),)), **m.ports
    ).body
    confirm_order(
        ConfirmOrder("usr_buyer", intent["intent_id"], "pm_card_visa", secrets.token_hex(6)),
        **m.ports,
    )
    return str(intent["order_id"])


def refund_as(m: Monitored, actor: str, order_id: str) -> None:
    refund_order(RefundOrder(actor, order_id, 100, secrets.token_hex(6)), **m.ports)


def names(alerts: list[DomainEvent]) -> list[str]:
    return [alert.name for alert in alerts]


# -- credential stuffing -----------------------------------------------------------------------


def test_many_distinct_emails_failing_from_one_address_raise_one_stored_alert(
    m: Monitored,
) -> None:
    for n in range(3):
        fail_login(m, f"victim{n}@example.com", "203.0.113.7")
    (alert,) = m.stored_alerts()
    assert alert.name == "alert.credential_stuffing"
    assert alert.fields == {"ip": "203.0.113.7", "distinct_emails": 3, "window_seconds": 900}
    assert m.published("alert.credential_stuffing") == [alert.fields]  # logged, once

    for n in range(3, 8):  # the same burst goes on: still one alert for this window
        fail_login(m, f"victim{n}@example.com", "203.0.113.7")
    assert names(m.stored_alerts()) == ["alert.credential_stuffing"]
    # Every event reached the inner sink, whatever the monitor made of it.
    assert len(m.published("auth.login_failed")) == 8


def test_one_email_retried_from_one_address_is_the_lockouts_business_not_stuffing(
    m: Monitored,
) -> None:
    for _ in range(4):
        fail_login(m, "owner@example.com", "203.0.113.7")
    assert m.stored_alerts() == []


def test_distinct_emails_from_different_addresses_are_not_stuffing(m: Monitored) -> None:
    for n in range(5):
        fail_login(m, f"user{n}@example.com", f"198.51.100.{n}")
    assert m.stored_alerts() == []


def test_a_new_window_alerts_again(m: Monitored) -> None:
    for n in range(3):
        fail_login(m, f"first{n}@example.com", "203.0.113.7")
    m.shop.clock.advance(timedelta(minutes=16))
    for n in range(2):
        fail_login(m, f"second{n}@example.com", "203.0.113.7")
    assert len(m.stored_alerts()) == 1
    fail_login(m, "second2@example.com", "203.0.113.7")
    assert names(m.stored_alerts()) == ["alert.credential_stuffing"] * 2


# -- card testing ------------------------------------------------------------------------------


def test_declines_of_one_account_raise_a_card_testing_alert(m: Monitored) -> None:
    for n in range(3):  # from three addresses: only the account's count crosses
        decline(m, "usr_tester", f"198.51.100.{n}")
    (alert,) = m.stored_alerts()
    assert alert.name == "alert.card_testing"
    assert alert.fields["by"] == "account"
    assert alert.fields["user_id"] == "usr_tester"
    assert alert.fields["declines"] == 3
    assert [event["ip"] for event in m.published("payment.declined")] == [
        "198.51.100.0",
        "198.51.100.1",
        "198.51.100.2",
    ]


def test_declines_from_one_address_raise_a_card_testing_alert(m: Monitored) -> None:
    for n in range(4):  # four accounts, one decline each, all from one address
        decline(m, f"usr_{n}", "203.0.113.9")
    (alert,) = m.stored_alerts()
    assert alert.fields["by"] == "address"
    assert alert.fields["ip"] == "203.0.113.9"
    assert alert.fields["declines"] == 4


# -- refund velocity ---------------------------------------------------------------------------


def test_one_staff_member_refunding_fast_raises_a_refund_velocity_alert(m: Monitored) -> None:
    orders = [paid_order(m) for _ in range(4)]
    refund_as(m, OTHER_STAFF, orders[3])
    for order_id in orders[:3]:
        refund_as(m, STAFF, order_id)
    (alert,) = m.stored_alerts()
    assert alert.name == "alert.refund_velocity"
    assert alert.fields == {"actor_id": STAFF, "refunds": 3, "window_seconds": 3600}
    assert len(m.published("refund.requested")) == 4


def test_the_shops_own_refunds_are_nobodys_velocity(m: Monitored) -> None:
    for _ in range(5):
        m.sink.emit("refund.requested", order_id="ord_1", actor_id="system")
    assert m.stored_alerts() == []


# -- what the monitor must never do ------------------------------------------------------------


class CounterStoreDown(InMemoryAttemptStore):
    def add_failure(self, key: str, now: datetime, window: timedelta) -> Any:
        raise ConnectionError("the counters are out of reach")


class DatabaseDown(InMemoryUnitOfWork):
    def commit(self) -> None:
        raise ConnectionError("the database is out of reach")


def test_a_failing_counter_store_never_breaks_the_request() -> None:
    m = monitored(attempts=CounterStoreDown())
    fail_login(m, "someone@example.com", "203.0.113.7")  # still the login's own answer
    assert m.published("auth.login_failed") != []
    assert m.published("monitoring.failed") == [
        {"on_event": "auth.login_failed", "error": "ConnectionError"}
    ]


def test_an_alert_that_cannot_be_stored_is_still_logged_and_the_request_answers() -> None:
    shop = InMemoryShop.with_demo_product(stock=100)
    m = monitored(shop, new_uow=lambda: DatabaseDown(shop.store))
    for _ in range(3):
        decline(m, "usr_tester", None)  # each still answered DECLINED
    assert m.stored_alerts() == []
    assert m.published("monitoring.alert_not_stored") == [
        {"alert": "alert.card_testing", "error": "ConnectionError"}
    ]
    assert len(m.published("alert.card_testing")) == 1


def test_odd_fields_on_watched_events_count_nothing_and_never_raise(m: Monitored) -> None:
    for _ in range(5):
        m.sink.emit("auth.login_failed", ip=b"\x00", email_digest=10**40)
        m.sink.emit("payment.declined", user_id=None, ip=["203.0.113.7"])
        m.sink.emit("refund.requested", actor_id={"id": STAFF})
    assert m.stored_alerts() == []
    assert m.published("monitoring.failed") == []


def test_a_forged_address_of_any_length_is_counted_under_a_short_key(m: Monitored) -> None:
    forged = "203.0.113.7, " * 1000 + "\x00"
    for _ in range(4):
        m.sink.emit("payment.declined", user_id=None, ip=forged)
    (alert,) = m.stored_alerts()
    assert alert.fields["ip"] == forged  # the alert says what came; the key only hashed it
    assert all(len(key) < 100 for key in m.shop.attempts._counters)


class TestTheMonitorIsAnEventSink(EventSinkContract):
    @pytest.fixture
    def sink(self) -> MonitoringEventSink:
        return monitored().sink

    def recorded(self, sink: MonitoringEventSink) -> Any:  # type: ignore[override]
        return list(sink.inner.events)  # type: ignore[attr-defined]


# -- alerts the core already raises are listed and counted with the rest ------------------------


def test_refresh_token_reuse_is_listed_with_the_alerts(m: Monitored) -> None:
    register(Register("tab@example.com", PASSWORD, "Tab"), **m.account_ports)
    signed_in = log_in(LogIn("tab@example.com", PASSWORD), **m.account_ports)
    key = b"k" * 32
    refresh_session(RefreshSession(signed_in.refresh_token, rotation_key=key), **m.account_ports)
    m.shop.clock.advance(timedelta(minutes=5))  # long past the two-tabs grace
    with pytest.raises(RefreshRejected):
        refresh_session(
            RefreshSession(signed_in.refresh_token, rotation_key=key), **m.account_ports
        )
    page = list_alerts(m.shop.uow, ADMIN, PageRequest())
    assert names(list(page.items)) == ["alert.refresh_token_reused"]
    assert page.total == 1


def test_a_webhook_amount_mismatch_is_listed_with_the_alerts(m: Monitored) -> None:
    intent = create_checkout_intent(
        CreateCheckoutIntent("usr_buyer", (CartItem(m.shop.product_id, 1),)), **m.ports
    ).body
    wrong = GatewayEvent(
        id="evt_wrong",
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway=m.shop.gateway.name,
        intent_id=intent["intent_id"],
        created_at=m.shop.clock.now(),
        amount=Money(1, "USD"),
    )
    handle_gateway_event(wrong, **m.ports)
    page = list_alerts(m.shop.uow, ADMIN, PageRequest())
    assert names(list(page.items)) == ["alert.webhook_amount_mismatch"]
    assert page.total == 1


# -- through the real app ----------------------------------------------------------------------


@pytest.fixture(params=DATABASES)
def shop_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StaffShop]:
    with staff_shop(request, tmp_path) as running:
        yield running


def test_credential_stuffing_through_the_app_is_listed_at_the_admin_alerts(
    shop_app: StaffShop,
) -> None:
    watcher = shop_app.signed_in(Role.SUPPORT)
    attacker = shop_app.browser()
    for n in range(10):  # the shop's own policy: ten distinct emails from one address
        assert attacker.log_in(f"list-entry-{n}@example.com").status_code == 401
    attacker.log_in("list-entry-10@example.com")  # the burst goes on: still one alert

    response = watcher.get("/api/admin/alerts")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 1)
    (alert,) = body["items"]
    assert alert["name"] == "alert.credential_stuffing"
    assert alert["fields"] == {"ip": "127.0.0.1", "distinct_emails": 10, "window_seconds": 900}
    assert not any("list-entry" in str(value) for value in alert["fields"].values())
