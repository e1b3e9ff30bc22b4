"""Captured money ends in a paid order or a refund, through HTTP, the database-backed fake
gateway and the command line, on SQLite and on PostgreSQL: a capture that arrives after its
order failed and its stock sold is refunded through the gateway - at once, or by `commerce jobs
reconcile` when the gateway could not be reached."""

from __future__ import annotations

from typing import Any, cast

import attrs
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from adapters.payments.fake_gateway import FakeStripeGateway
from adapters.sql.tables import event_outbox
from commerce_core import (
    GatewayRefund,
    GatewayRegistry,
    GatewayUnavailable,
    Money,
    PaymentIntent,
)
from tests.webapp.browser import Shopper, deliver_gateway_event
from tests.webapp.conftest import Catalog
from webapp.app import create_app
from webapp.bootstrap import Container
from webapp.cli import cli
from webapp.config import Settings


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


class ReachableOrNot:
    """The real (database-backed) fake gateway, behind a switch that makes cancels and refunds
    find it out of reach, as during a provider's outage."""

    def __init__(self, gateway: FakeStripeGateway) -> None:
        self.inner = gateway
        self.down = False

    @property
    def name(self) -> str:
        return self.inner.name

    def create_intent(self, *, amount: Money, order_id: str, idempotency_key: str) -> PaymentIntent:
        return self.inner.create_intent(
            amount=amount, order_id=order_id, idempotency_key=idempotency_key
        )

    def confirm_intent(
        self,
        intent_id: str,
        *,
        payment_method: str | None,
        idempotency_key: str,
        proof: str | None = None,
    ) -> PaymentIntent:
        return self.inner.confirm_intent(
            intent_id, payment_method=payment_method, idempotency_key=idempotency_key
        )

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        self._reach()
        return self.inner.cancel_intent(intent_id, idempotency_key=idempotency_key)

    def refund(self, intent_id: str, *, amount: Money, idempotency_key: str) -> GatewayRefund:
        self._reach()
        return self.inner.refund(intent_id, amount=amount, idempotency_key=idempotency_key)

    def get_intent(self, intent_id: str) -> PaymentIntent:
        return self.inner.get_intent(intent_id)

    def get_refund(self, intent_id: str, refund_id: str) -> GatewayRefund:
        return self.inner.get_refund(intent_id, refund_id)

    def _reach(self) -> None:
        if self.down:
            raise GatewayUnavailable("the provider does not answer")


@pytest.fixture
def flaky(container: Container, gateway: FakeStripeGateway) -> ReachableOrNot:
    return ReachableOrNot(gateway)


@pytest.fixture
def client(settings: Settings, container: Container, flaky: ReachableOrNot) -> FlaskClient:
    app = create_app(settings, container=attrs.evolve(container, gateways=GatewayRegistry(flaky)))
    return app.test_client()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return CliRunner()


def _deliver(
    client: FlaskClient, gateway: FakeStripeGateway, event_type: str, intent_id: str
) -> dict[str, Any]:
    """Post to the webhook, signed as the gateway signs it, its event of ``event_type`` about
    ``intent_id``; the status the shop answered."""
    for event_id in gateway.event_ids(event_type):
        payload, headers = gateway.signed_event(event_id)
        if intent_id.encode() in payload:
            response = client.post("/api/payments/webhook", data=payload, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            return cast(dict[str, Any], response.get_json())
    raise AssertionError(f"no {event_type} for {intent_id}")


def _late_capture_without_stock(
    client: FlaskClient, gateway: FakeStripeGateway, flaky: ReachableOrNot, catalog: Catalog
) -> dict[str, Any]:
    """Ann's card is declined in her browser; the failure webhook cannot cancel her intent
    (the gateway is down); Ben buys the last lamp; Ann's browser retries with another card on
    the same intent and the gateway captures it."""
    ann, ben = Shopper(client), Shopper(client)
    ann.register()
    ben.register()
    intent = ann.intent(catalog.lamp)
    gateway.confirm_intent(
        intent["intent_id"], payment_method="pm_card_chargeDeclined", idempotency_key="tab-1"
    )
    flaky.down = True
    failed = deliver_gateway_event(client, gateway, "payment_intent.payment_failed")
    assert failed.get_json() == {"status": "processed"}
    assert ann.order(intent["order_id"])["status"] == "payment_failed"
    ben.buy(catalog.lamp)
    gateway.confirm_intent(
        intent["intent_id"], payment_method="pm_card_visa", idempotency_key="tab-2"
    )
    return {"shopper": ann, **intent}


def test_a_late_capture_without_stock_is_refunded_at_once(
    client: FlaskClient, gateway: FakeStripeGateway, flaky: ReachableOrNot, catalog: Catalog
) -> None:
    ann = _late_capture_without_stock(client, gateway, flaky, catalog)
    flaky.down = False

    paid = _deliver(client, gateway, "payment_intent.succeeded", ann["intent_id"])

    assert paid == {"status": "processed"}
    order = ann["shopper"].order(ann["order_id"])
    assert order["status"] == "cancelled"
    assert order["amount_captured"] == {"amount": 8900, "currency": "USD"}
    assert order["amount_refunded"] == {"amount": 8900, "currency": "USD"}
    assert [r["status"] for r in order["refunds"]] == ["succeeded"]
    (refund_event,) = gateway.event_ids("refund.created")
    assert refund_event


def test_a_refund_owed_while_the_gateway_is_down_is_finished_by_the_job(
    client: FlaskClient,
    gateway: FakeStripeGateway,
    flaky: ReachableOrNot,
    catalog: Catalog,
    container: Container,
    cli_env: CliRunner,
) -> None:
    ann = _late_capture_without_stock(client, gateway, flaky, catalog)

    paid = _deliver(client, gateway, "payment_intent.succeeded", ann["intent_id"])

    assert paid == {"status": "processed"}
    owed = ann["shopper"].order(ann["order_id"])
    assert owed["status"] == "needs_refund"  # what staff and the job see meanwhile
    assert owed["amount_refunded"]["amount"] == 0
    assert gateway.event_ids("refund.created") == []
    assert container.engine is not None
    with container.engine.connect() as connection:
        alerts = connection.execute(select(event_outbox.c.name)).scalars().all()
    assert "alert.captured_payment_needs_refund" in alerts

    first = cli_env.invoke(cli, ["jobs", "reconcile"])
    again = cli_env.invoke(cli, ["jobs", "reconcile"])

    assert first.exit_code == 0, first.output
    assert "orders_followed_up=1 still_owing=0" in first.output
    assert "orders_followed_up=0 still_owing=0" in again.output
    done = ann["shopper"].order(ann["order_id"])
    assert done["status"] == "cancelled"
    assert done["amount_refunded"] == done["amount_captured"]
    assert len(gateway.event_ids("refund.created")) == 1
    assert cli_env.invoke(cli, ["audit", "verify"]).exit_code == 0


def test_the_job_cancels_an_intent_the_failure_webhook_could_not(
    client: FlaskClient,
    gateway: FakeStripeGateway,
    flaky: ReachableOrNot,
    catalog: Catalog,
    cli_env: CliRunner,
) -> None:
    ann = Shopper(client)
    ann.register()
    intent = ann.intent(catalog.mug)
    gateway.confirm_intent(
        intent["intent_id"], payment_method="pm_card_chargeDeclined", idempotency_key="tab-1"
    )
    flaky.down = True
    deliver_gateway_event(client, gateway, "payment_intent.payment_failed")
    assert gateway.get_intent(intent["intent_id"]).status.value == "requires_payment_method"

    result = cli_env.invoke(cli, ["jobs", "reconcile"])

    assert result.exit_code == 0, result.output
    assert gateway.get_intent(intent["intent_id"]).status.value == "canceled"
