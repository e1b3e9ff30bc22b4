"""Bad input against the real SQL adapter, on SQLite and on PostgreSQL: every malformed body on
every JSON route that changes state gets a 4xx problem document and changes nothing; and the
hold-expiry job run from the command line gives held stock back on either database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from flask import Flask

from tests.webapp.browser import Shopper
from tests.webapp.conftest import Catalog
from webapp.app import create_app
from webapp.bootstrap import Container
from webapp.cli import cli
from webapp.config import Settings

HUGE = 10**30
NOT_AN_OBJECT: list[Any] = [None, [], ["a"], "text", 1, 1.5, True]


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    """The webapp fixtures (``container``, ``app``, ``catalog`` ...) on either database."""
    return settings_on_both_databases


def _bad_carts(mug: str) -> list[Any]:
    def line(**changes: Any) -> dict[str, Any]:
        return {"items": [{"product_id": mug, "quantity": 1, **changes}]}

    return [
        *NOT_AN_OBJECT,
        {},
        {"items": None},
        {"items": "mug"},
        {"items": {"product_id": mug, "quantity": 1}},
        {"items": []},
        {"items": [None]},
        {"items": [[mug, 1]]},
        {"items": [{"product_id": mug}]},
        {"items": [{"quantity": 1}]},
        line(quantity=1.5),
        line(quantity=1.0),
        line(quantity="1"),
        line(quantity=None),
        line(quantity=True),
        line(quantity=0),
        line(quantity=-1),
        line(quantity=HUGE),
        line(quantity=2**63),
        line(quantity=2**31),
        line(product_id=None),
        line(product_id=7),
        line(product_id=""),
        line(product_id="no-such-product"),
        line(product_id="x" * 10_000),
        {"items": [{"product_id": mug, "quantity": 1}] * 2_000},
    ]


def _bad_confirms(intent_id: str) -> list[Any]:
    return [
        *NOT_AN_OBJECT,
        {},
        {"payment_method": "pm_card_visa"},
        {"intent_id": None, "payment_method": "pm_card_visa"},
        {"intent_id": HUGE, "payment_method": "pm_card_visa"},
        {"intent_id": 1.5, "payment_method": "pm_card_visa"},
        {"intent_id": [intent_id], "payment_method": "pm_card_visa"},
        {"intent_id": "pi_unknown", "payment_method": "pm_card_visa"},
        {"intent_id": "x" * 10_000, "payment_method": "pm_card_visa"},
        {"intent_id": intent_id, "payment_method": HUGE},
        {"intent_id": intent_id, "payment_method": {"card": "4242"}},
        {"intent_id": intent_id, "payment_method": "x" * 10_000},
    ]


def test_a_confirm_without_a_payment_method_is_the_clients_error_not_the_gateways(
    shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug)

    response = shopper.post("/api/checkout/confirm", {"intent_id": intent["intent_id"]}, key="k")

    assert shopper.order(intent["order_id"])["status"] == "awaiting_payment"
    _assert_refused(response, "no payment_method")


def _bad_refunds(order_id: str) -> list[Any]:
    def amount(value: Any) -> dict[str, Any]:
        return {"order_id": order_id, "amount": value}

    return [
        *NOT_AN_OBJECT,
        {},
        {"amount": 100},
        {"order_id": None},
        {"order_id": 5},
        {"order_id": "no-such-order"},
        amount(1.5),
        amount(10.0),
        amount("100"),
        amount(0),
        amount(-100),
        amount(True),
        amount(HUGE),
        amount(2**63),
        amount([100]),
        amount({"amount": 1.5, "currency": "USD"}),
        amount({"amount": 100}),
        amount({"currency": "USD"}),
        amount({"amount": 100, "currency": "XXX"}),
        amount({"amount": 100, "currency": "usd "}),
        amount({"amount": HUGE, "currency": "USD"}),
        {"order_id": order_id, "amount": 100, "reason": 5},
        {"order_id": order_id, "amount": 100, "reason": "x" * 60_000},
    ]


def _bad_sign_ups() -> list[Any]:
    good = {"email": "new@example.com", "password": "a long enough passphrase", "name": "Sam"}
    return [
        *NOT_AN_OBJECT,
        {},
        {**good, "email": None},
        {**good, "email": 5},
        {**good, "email": "not-an-email"},
        {**good, "email": ["new@example.com"]},
        {**good, "password": HUGE},
        {**good, "password": 1.5},
        {**good, "password": "short"},
        {**good, "name": {"first": "Sam"}},
        {**good, "email": "x" * 70_000 + "@example.com"},
    ]


def _assert_refused(response: Any, sent: Any) -> None:
    assert 400 <= response.status_code < 500, (sent, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/problem+json", sent
    body = response.get_json()
    assert {"type", "title", "status", "code"} <= set(body), body
    assert "Traceback" not in response.get_data(as_text=True)


def _orders(shopper: Shopper) -> list[dict[str, Any]]:
    return list(shopper.get("/api/orders").get_json()["items"])


def test_malformed_carts_get_a_problem_and_hold_nothing(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()
    for n, body in enumerate(_bad_carts(catalog.mug)):
        _assert_refused(shopper.post("/api/checkout/intent", body, key=f"cart-{n}"), body)
        _assert_refused(shopper.post("/api/checkout/intent", body), body)
    assert (stock("mug"), stock("lamp")) == (5, 1)
    assert _orders(shopper) == []


def test_malformed_confirms_get_a_problem_and_charge_nothing(
    shopper: Shopper, catalog: Catalog, stock: Any
) -> None:
    shopper.register()
    intent = shopper.intent(catalog.mug, quantity=2)
    for n, body in enumerate(_bad_confirms(intent["intent_id"])):
        _assert_refused(shopper.post("/api/checkout/confirm", body, key=f"confirm-{n}"), body)
    for key in ("", "x" * 10_000):
        sent = {"intent_id": intent["intent_id"], "payment_method": "pm_card_visa"}
        _assert_refused(shopper.post("/api/checkout/confirm", sent, key=key), key[:10])
    assert shopper.order(intent["order_id"])["status"] == "awaiting_payment"
    assert stock("mug") == 3  # still held, not taken and not given back


def test_malformed_refunds_get_a_problem_and_refund_nothing(
    shopper: Shopper, admin: Shopper, catalog: Catalog
) -> None:
    shopper.register()
    order = shopper.buy(catalog.mug, quantity=2)
    for n, body in enumerate(_bad_refunds(order["id"])):
        _assert_refused(admin.post("/api/payments/refund", body, key=f"refund-{n}"), body)
    after = shopper.order(order["id"])
    assert after["status"] == "paid"
    assert after["refunds"] == []


def test_malformed_sign_ups_and_logins_get_a_problem_and_create_no_one(shopper: Shopper) -> None:
    for body in _bad_sign_ups():
        _assert_refused(shopper.post("/api/auth/register", body), body)
        _assert_refused(shopper.post("/api/auth/login", body), body)
    assert shopper.get("/api/auth/me").status_code == 401
    login = shopper.log_in("new@example.com")
    _assert_refused(login, "login of the never-created account")


def test_the_release_expired_holds_job_gives_held_stock_back(
    settings: Settings,
    container: Container,
    catalog: Catalog,
    stock: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Holds that expire the moment they are made: the job finds them to release.
    app: Flask = create_app(settings, container=attrs.evolve(container, hold_for=timedelta(0)))
    shopper = Shopper(app.test_client())
    shopper.register()
    lamp = shopper.intent(catalog.lamp)
    mugs = shopper.intent(catalog.mug, quantity=3)
    assert (stock("mug"), stock("lamp")) == (2, 0)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")

    first = CliRunner().invoke(cli, ["jobs", "release-expired-holds"])
    again = CliRunner().invoke(cli, ["jobs", "release-expired-holds"])

    assert first.exit_code == 0, first.output
    assert "released=2 settled=0 failed=0" in first.output
    assert "released=0 settled=0 failed=0" in again.output
    assert (stock("mug"), stock("lamp")) == (5, 1)
    assert shopper.order(lamp["order_id"])["status"] == "cancelled"
    assert shopper.order(mugs["order_id"])["status"] == "cancelled"
