"""A state-changing request that the browser says another site sent is refused (403
``cross_site_request``), even with a valid CSRF token; the payment webhooks, which gateways post
from their servers, are not."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import func, select

from adapters.payments.stripe_wire import sign_payload
from adapters.sql.tables import orders
from commerce_core import Money, NewProduct, configure_shipping, get_product, stock_catalog
from tests.security.web_app import running_app
from tests.support.shipping import FREE_DOMESTIC, shipped
from tests.webapp.browser import Shopper, assert_problem
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.origins import parse_origin

WEBHOOK_SECRET = "whsec_" + "cross-site-tests-0123456789abcdef"
PUBLIC_URL = "https://shop.example.com"
CART = "/api/checkout/intent"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret=WEBHOOK_SECRET,
        public_url=PUBLIC_URL,
    )


@pytest.fixture
def shop(settings: Settings) -> Iterator[tuple[Flask, Container]]:
    with running_app(settings) as running:
        yield running


@pytest.fixture
def app(shop: tuple[Flask, Container]) -> Flask:
    return shop[0]


@pytest.fixture
def container(shop: tuple[Flask, Container]) -> Container:
    return shop[1]


@pytest.fixture
def mug(container: Container) -> str:
    configure_shipping(container.new_uow(), FREE_DOMESTIC)
    stock_catalog(
        container.new_uow(),
        container.clock,
        [NewProduct("mug", "Mug", "A mug.", Money(1800, "USD"), "/static/m.svg", 50)],
    )
    return get_product(container.new_uow(), "mug").id


@pytest.fixture
def shopper(app: Flask) -> Shopper:
    browser = Shopper(app.test_client())
    browser.register()
    return browser


def _orders(container: Container) -> int:
    assert container.engine is not None
    with container.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(orders)).scalar_one())


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "Cross-Site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://shop.example.com.evil.example"},
        {"Origin": "http://shop.example.com"},  # our host, but over plain http
        {"Origin": "https://shop.example.com:8443"},
        {"Origin": "https://user@shop.example.com"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": PUBLIC_URL},
    ],
    ids=lambda headers: " + ".join(f"{k}: {v}" for k, v in headers.items()),
)
def test_a_cross_site_checkout_is_refused_even_with_a_valid_csrf_token(
    shopper: Shopper, mug: str, container: Container, headers: dict[str, str]
) -> None:
    response = shopper.post(
        CART, shipped({"items": [{"product_id": mug, "quantity": 1}]}), headers=headers
    )

    assert_problem(response, 403, "cross_site_request")
    assert _orders(container) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, a server, an old browser: left to the CSRF token
        {"Sec-Fetch-Site": "same-origin", "Origin": PUBLIC_URL},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "HTTPS://SHOP.EXAMPLE.COM:443"},  # the same origin, spelled differently
        {"Origin": "http://localhost"},  # the host this request was addressed to
    ],
    ids=lambda headers: " + ".join(f"{k}: {v}" for k, v in headers.items()) or "no headers",
)
def test_a_same_site_checkout_goes_through(
    shopper: Shopper, mug: str, container: Container, headers: dict[str, str]
) -> None:
    response = shopper.post(
        CART, shipped({"items": [{"product_id": mug, "quantity": 1}]}), headers=headers
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert _orders(container) == 1


def test_reads_are_not_refused(shopper: Shopper) -> None:
    response = shopper.get(
        "/api/auth/me", headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    )

    assert response.status_code == 200


def test_put_patch_and_delete_are_refused_too(app: Flask) -> None:
    app.add_url_rule(
        "/api/test/thing", "thing", lambda: Response(status=204), methods=["PUT", "PATCH", "DELETE"]
    )
    client = app.test_client()

    for method in ("PUT", "PATCH", "DELETE"):
        response = client.open(
            "/api/test/thing", method=method, headers={"Origin": "https://evil.example"}
        )
        assert_problem(response, 403, "cross_site_request")


def test_a_cross_site_login_is_refused_before_the_csrf_check(app: Flask) -> None:
    response = app.test_client().post(
        "/api/auth/login",
        json={"email": "ada@example.com", "password": "x"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )

    assert_problem(response, 403, "cross_site_request")


def test_a_cross_site_post_to_a_page_is_refused_with_an_html_page(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]

    response = client.post(
        "/login",
        data={"csrf_token": token, "email": "ada@example.com", "password": "x" * 12},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Cross-site request refused" in response.get_data(as_text=True)
    assert client.get_cookie("session") is None


def _ignored_event() -> bytes:
    """A signed event of a type the shop does not act on: answered 200 ``ignored``."""
    return json.dumps(
        {
            "id": "evt_cross_site_1",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "data": {"object": {"object": "customer", "id": "cus_1"}},
        }
    ).encode()


@pytest.mark.parametrize("path", ["/api/payments/webhook", "/api/payments/webhook/fake"])
def test_gateway_webhooks_are_exempt(app_client: FlaskClient, path: str) -> None:
    payload = _ignored_event()

    response = app_client.post(
        path,
        data=payload,
        headers={
            "Stripe-Signature": sign_payload(payload, WEBHOOK_SECRET, int(time.time())),
            "Content-Type": "application/json",
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ignored"}  # verified and parsed


@pytest.fixture
def app_client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://shop.example.com", ("https", "shop.example.com", 443)),
        ("HTTP://Shop.Example.com:80", ("http", "shop.example.com", 80)),
        ("http://127.0.0.1:8000", ("http", "127.0.0.1", 8000)),
        ("http://[::1]:8000", ("http", "::1", 8000)),
        ("null", None),
        ("https://shop.example.com/", None),
        ("https://shop.example.com/path", None),
        ("https://shop.example.com?q", None),
        ("https://a@shop.example.com", None),
        ("https://shop.example.com:99999", None),
        ("https://shop.example.com:port", None),
        ("ftp://shop.example.com", None),
        ("shop.example.com", None),
        ("", None),
        ("https://" + "a" * 400 + ".example", None),
    ],
)
def test_origins_are_parsed_strictly(value: str, origin: tuple[str, str, int] | None) -> None:
    assert parse_origin(value) == origin


def test_the_api_document_names_the_refusal(app_client: FlaskClient) -> None:
    spec = app_client.get("/api/openapi.json").get_json()
    checkout = spec["paths"]["/api/checkout/intent"]["post"]["responses"]

    assert "cross_site_request" in checkout["403"]["description"]
    assert "cross_site_request" in spec["info"]["description"]
