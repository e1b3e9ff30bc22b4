"""The whole shop with ``PAYMENT_GATEWAY=stripe`` against ``localstripe``, a stateful Stripe
emulator nobody here wrote, started by the test: checkouts through the shop's HTTP API with
payment methods made on the emulator as Stripe.js would, a 3-D Secure card (202), a declining
card (402), an admin refund that shows on the emulator, and the emulator's own signed webhooks
reaching ``/api/payments/webhook`` and applied once.

Where localstripe differs from Stripe (written down in the project's notes, not bent around in
the adapter): it answers ``500 Not implemented`` to confirming a PaymentIntent *with* a
``payment_method`` - so the test attaches the payment method first (an update, as a client
could) and the shop confirms without one; it lets only secret keys create payment methods,
where Stripe.js uses the publishable key; and its declining test card is ...0341, not ...0002.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Shop, free_port, start_shop
from tests.e2e.test_http_checkout import Client, _intent, _problem, _product

pytestmark = pytest.mark.e2e

SECRET_KEY = "sk_test_localstripe_e2e"
WEBHOOK_SECRET = "whsec_localstripe_e2e_0123456789"
CARDS = {
    "succeeds": "4242424242424242",
    # Stripe declines 4000000000000002 when charged; localstripe only when it is attached to a
    # customer, and declines charges of ...0341 (Stripe's "attaches, then declines" card).
    "declines": "4000000000000341",
    "needs_3ds": "4000002760003184",
}


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("localstripe")
    port = free_port()
    log = (tmp / "localstripe.log").open("w")
    emulator = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        cwd=tmp,  # it saves its store in the working directory
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/v1/balance", auth=(SECRET_KEY, ""), timeout=1)
                break
            except requests.RequestException:
                if emulator.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "localstripe did not start:\n" + (tmp / "localstripe.log").read_text()
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        emulator.terminate()
        emulator.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def shop(localstripe: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    tmp = tmp_path_factory.mktemp("shop-localstripe")
    env = {
        "PAYMENT_GATEWAY": "stripe",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe_e2e",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": localstripe,
    }
    for running in start_shop(f"sqlite:///{tmp / 'shop.db'}", tmp, env):
        registered = requests.post(
            f"{localstripe}/_config/webhooks/shop",
            data={"url": running.url("/api/payments/webhook"), "secret": WEBHOOK_SECRET},
            timeout=5,
        )
        assert registered.status_code == 200, registered.text
        yield running


class StripeJs:
    """What Stripe.js does in the shopper's browser, against the emulator."""

    def __init__(self, base: str) -> None:
        self.base = base

    def payment_method(self, card: str) -> str:
        created = requests.post(
            f"{self.base}/v1/payment_methods",
            auth=(SECRET_KEY, ""),
            data={
                "type": "card",
                "card[number]": card,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
            },
            timeout=5,
        )
        assert created.status_code == 200, created.text
        return str(created.json()["id"])

    def attach(self, intent_id: str, payment_method: str) -> None:
        updated = requests.post(
            f"{self.base}/v1/payment_intents/{intent_id}",
            auth=(SECRET_KEY, ""),
            data={"payment_method": payment_method},
            timeout=5,
        )
        assert updated.status_code == 200, updated.text

    def pass_3ds(self, intent_id: str, client_secret: str) -> None:
        done = requests.post(
            f"{self.base}/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true"},
            data={"key": "pk_test_localstripe_e2e", "client_secret": client_secret},
            timeout=5,
        )
        assert done.status_code == 200, done.text

    def intent(self, intent_id: str) -> dict[str, Any]:
        found = requests.get(
            f"{self.base}/v1/payment_intents/{intent_id}", auth=(SECRET_KEY, ""), timeout=5
        )
        return dict(found.json())


def _pay(shop: Shop, js: StripeJs, card: str) -> tuple[Client, dict[str, Any], requests.Response]:
    client = Client(shop)
    client.register()
    intent = _intent(client, _product(client))
    js.attach(intent["intent_id"], js.payment_method(CARDS[card]))
    confirmed = client.post(
        "/api/checkout/confirm", {"intent_id": intent["intent_id"]}, key=f"confirm-{card}"
    )
    return client, intent, confirmed


def _eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_the_shop_tells_the_browser_it_uses_stripe(shop: Shop) -> None:
    config = requests.get(shop.url("/api/payments/config"), timeout=5).json()
    assert config == {"gateway": "stripe", "publishable_key": "pk_test_localstripe_e2e"}


def _received(shop: Shop, intent_id: str) -> list[str]:
    """The kinds of the gateway events the shop recorded about ``intent_id`` (its own table)."""
    database = shop.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT kind FROM processed_events WHERE gateway = 'stripe' AND intent_id = ?",
            (intent_id,),
        ).fetchall()
    return [kind for (kind,) in rows]


def test_a_card_that_succeeds_pays_the_order_and_the_webhook_changes_nothing(
    shop: Shop, localstripe: str
) -> None:
    js = StripeJs(localstripe)
    client, intent, confirmed = _pay(shop, js, "succeeds")
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["order"]["status"] == "paid"
    assert js.intent(intent["intent_id"])["status"] == "succeeded"
    # localstripe's own signed payment_intent.succeeded arrives a second later, is verified
    # and recorded once, and changes nothing: the order was paid by the confirm.
    assert _eventually(lambda: _received(shop, intent["intent_id"])) == ["payment_succeeded"]
    order = client.get(f"/api/orders/{intent['order_id']}").json()["order"]
    assert order["status"] == "paid"
    assert order["amount_captured"] == order["total"]


def test_a_3ds_card_answers_202_then_the_emulators_webhook_pays_the_order(
    shop: Shop, localstripe: str
) -> None:
    js = StripeJs(localstripe)
    client, intent, confirmed = _pay(shop, js, "needs_3ds")
    assert confirmed.status_code == 202, confirmed.text
    assert confirmed.json()["client_secret"] == intent["client_secret"]
    js.pass_3ds(intent["intent_id"], intent["client_secret"])

    def paid() -> bool:
        order = client.get(f"/api/orders/{intent['order_id']}").json()["order"]
        return bool(order["status"] == "paid")

    # Only localstripe's signed payment_intent.succeeded can have told the shop.
    assert _eventually(paid), "the emulator's webhook did not pay the order"


def test_a_declining_card_is_402_and_the_stock_goes_back(shop: Shop, localstripe: str) -> None:
    js = StripeJs(localstripe)
    client, intent, confirmed = _pay(shop, js, "declines")
    _problem(confirmed, 402, "payment_declined")
    order = client.get(f"/api/orders/{intent['order_id']}").json()["order"]
    assert order["status"] == "payment_failed"


def test_an_admin_refund_shows_on_the_emulator(shop: Shop, localstripe: str) -> None:
    js = StripeJs(localstripe)
    _, intent, confirmed = _pay(shop, js, "succeeds")
    assert confirmed.status_code == 201, confirmed.text
    admin = Client(shop)
    assert admin.post("/api/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).ok
    refunded = admin.post(
        "/api/payments/refund", {"order_id": intent["order_id"], "amount": 100}, key="refund-1"
    )
    assert refunded.status_code == 201, refunded.text
    listed = requests.get(f"{localstripe}/v1/refunds", auth=(SECRET_KEY, ""), timeout=5).json()[
        "data"
    ]
    mine = [r for r in listed if r["payment_intent"] == intent["intent_id"]]
    assert [r["amount"] for r in mine] == [100]
