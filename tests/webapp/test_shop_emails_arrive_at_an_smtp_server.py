"""The shop's emails, end to end: a paid checkout through the API queues an order
confirmation, a refund a refund notice, a sign-in from a new address a notice - and the
scheduler's ``notifications`` job delivers each once to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from commerce_core import MessageStatus
from commerce_core.testing import FakeClock
from tests.support.smtp_server import Inbox, html_of, running_smtp_server, text_of
from tests.webapp.browser import PASSWORD, Shopper
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.scheduler import notification_job


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    with running_smtp_server() as inbox:
        yield inbox


@pytest.fixture
def settings(tmp_path: Path, smtp_server: Inbox) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        smtp_url=smtp_server.url,
        mail_from="Mug Shop <orders@mugs.example>",
    )


def _from(browser: Shopper, address: str, path: str, body: Any) -> Any:
    return browser.client.post(
        path,
        json=body,
        headers={"X-CSRF-Token": browser.csrf()},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_paid_order_gets_one_confirmation_with_its_lines_and_total(
    shopper: Shopper, catalog: Catalog, container: Container, smtp_server: Inbox
) -> None:
    email = shopper.register()["email"]
    order = shopper.buy(catalog.mug, quantity=2)

    assert smtp_server.messages == []  # queued with the payment, sent after commit
    notification_job(container)
    notification_job(container)  # and never twice

    (confirmation,) = smtp_server.to(email)
    assert confirmation["Subject"] == f"Order confirmation {order['id']}"
    assert confirmation["From"] == "Mug Shop <orders@mugs.example>"
    text = text_of(confirmation)
    assert "Mug x 2" in text
    assert f"Total: {_shown(order['total'])}" in text
    assert "Mug" in html_of(confirmation)


def _shown(money: dict[str, Any]) -> str:
    amount = money["amount"]
    return f"{amount // 100}.{amount % 100:02d} {money['currency']}"


def test_a_refund_gets_a_notice_to_the_customer(
    shopper: Shopper, admin: Shopper, catalog: Catalog, container: Container, smtp_server: Inbox
) -> None:
    email = shopper.register()["email"]
    order = shopper.buy(catalog.mug)
    refund = admin.post(
        "/api/payments/refund",
        {"order_id": order["id"], "amount": 500, "reason": "staff-only note"},
        key="refund-1",
    )
    assert refund.status_code == 201, refund.get_data(as_text=True)

    notification_job(container)

    assert smtp_server.subjects(email) == [
        f"Order confirmation {order['id']}",
        f"Refund for order {order['id']}",
    ]
    notice = text_of(smtp_server.to(email)[-1])
    assert "We have refunded 5.00 USD" in notice
    assert "staff-only note" not in notice


def test_a_sign_in_from_a_new_address_gets_a_notice_and_a_known_one_does_not(
    shopper: Shopper, new_shopper: Any, container: Container, smtp_server: Inbox
) -> None:
    email = shopper.register()["email"]  # from 127.0.0.1, the test client's address
    same_place = new_shopper()
    elsewhere = new_shopper()

    assert same_place.log_in(email).status_code == 200
    first = _from(
        elsewhere, "203.0.113.9", "/api/auth/login", {"email": email, "password": PASSWORD}
    )
    again = _from(
        new_shopper(), "203.0.113.9", "/api/auth/login", {"email": email, "password": PASSWORD}
    )
    notification_job(container)

    assert (first.status_code, again.status_code) == (200, 200)
    (notice,) = smtp_server.to(email)
    assert notice["Subject"] == "New sign-in to your account"
    assert "203.0.113.9" in text_of(notice)


def test_a_mail_server_that_is_down_delays_the_email_and_loses_none(
    shopper: Shopper, catalog: Catalog, container: Container, smtp_server: Inbox
) -> None:
    email = shopper.register()["email"]
    order = shopper.buy(catalog.mug)
    smtp_server.defer()

    report = notification_job(container)
    with container.new_uow() as uow:
        waiting = uow.messages.get(f"order-paid:{order['id']}")

    assert report == {"sent": 0, "retried": 1, "gave_up": 0}
    assert waiting is not None
    assert waiting.status is MessageStatus.PENDING
    assert smtp_server.to(email) == []
    assert notification_job(container)["sent"] == 0  # backing off: not due yet
    # A minute later (the first backoff) the server is back, and the email leaves once.
    later = attrs.evolve(container, clock=FakeClock(waiting.next_attempt_at))
    assert notification_job(later) == {"sent": 1, "retried": 0, "gave_up": 0}
    assert notification_job(later)["sent"] == 0
    assert smtp_server.subjects(email) == [f"Order confirmation {order['id']}"]
