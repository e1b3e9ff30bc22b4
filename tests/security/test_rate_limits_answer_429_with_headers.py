"""Past its limit, a limited route answers 429 problem JSON ``rate_limited`` with ``Retry-After``;
every answer of a limited route tells the client where it stands (``RateLimit-*``). Login,
registration, checkout and refunds are limited per client address and, where an account is
known, per account. The shop's own numbers are used where they are small enough to reach.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from commerce_core import (
    LimitedOperation,
    Money,
    NewProduct,
    RateKeyKind,
    RateLimit,
    RateLimitPolicy,
    Register,
    Role,
    configure_shipping,
    create_staff_user,
    get_product,
    stock_catalog,
)
from tests.support.rate_limited_shop import (
    RATE_LIMIT_HEADERS,
    CountingHasher,
    Visitor,
    rate_limit_headers,
    rate_limited_shop,
    shop_limit,
)
from tests.support.shipping import FREE_DOMESTIC, shipped
from tests.webapp.browser import PASSWORD, assert_problem
from webapp.bootstrap import Container
from webapp.rate_limiting import RATE_LIMITED_ATTRIBUTE

LOGIN_PER_ADDRESS = shop_limit(LimitedOperation.LOG_IN, RateKeyKind.CLIENT_ADDRESS)
LOGIN_PER_ACCOUNT = shop_limit(LimitedOperation.LOG_IN, RateKeyKind.ACCOUNT)
REGISTER_PER_ADDRESS = shop_limit(LimitedOperation.REGISTER, RateKeyKind.CLIENT_ADDRESS)
REFRESH_PER_ADDRESS = shop_limit(LimitedOperation.REFRESH, RateKeyKind.CLIENT_ADDRESS)

# Small numbers for the routes whose real limits take dozens of orders to reach: what is tested
# there is which keys each route counts, not the shop's numbers.
MINUTE = timedelta(minutes=1)
SMALL = RateLimitPolicy(
    {
        operation: {
            RateKeyKind.CLIENT_ADDRESS: RateLimit(f"{operation.value}.address", 4, MINUTE),
            RateKeyKind.ACCOUNT: RateLimit(f"{operation.value}.account", 2, MINUTE),
        }
        for operation in (
            LimitedOperation.CHECKOUT_INTENT,
            LimitedOperation.CHECKOUT_CONFIRM,
            LimitedOperation.REFUND,
        )
    }
)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Flask, Container]]:
    with rate_limited_shop(tmp_path) as built:
        yield built


@pytest.fixture
def app(shop: tuple[Flask, Container]) -> Flask:
    return shop[0]


def _assert_rate_limited(response: TestResponse, limit: int) -> int:
    body = assert_problem(response, 429, "rate_limited")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60 * 60
    assert body["retry_after"] == retry_after
    assert rate_limit_headers(response)["RateLimit-Limit"] == limit
    assert rate_limit_headers(response)["RateLimit-Remaining"] == 0
    return retry_after


def test_logins_past_the_address_limit_answer_429_with_retry_after(
    app: Flask, shop: tuple[Flask, Container]
) -> None:
    visitor = Visitor(app)
    limit = LOGIN_PER_ADDRESS.limit
    for n in range(limit):
        response = visitor.log_in_as_nobody()
        assert_problem(response, 401, "invalid_credentials")
        # The headers speak of the tighter limit: each new email's account has used one of
        # its own, the address one more of its own each time.
        headers = rate_limit_headers(response)
        account_left, address_left = LOGIN_PER_ACCOUNT.limit - 1, limit - n - 1
        assert headers["RateLimit-Remaining"] == min(account_left, address_left)
        assert headers["RateLimit-Limit"] == (
            limit if address_left <= account_left else LOGIN_PER_ACCOUNT.limit
        )
        assert 0 < headers["RateLimit-Reset"] <= LOGIN_PER_ADDRESS.window_seconds

    hasher = shop[1].hasher
    assert isinstance(hasher, CountingHasher)
    verified = hasher.verified
    refused = visitor.log_in_as_nobody()
    retry_after = _assert_rate_limited(refused, limit)
    assert retry_after <= LOGIN_PER_ADDRESS.window_seconds
    assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
    assert hasher.verified == verified  # refused before any password was hashed

    # Another address is not affected.
    assert_problem(Visitor(app, "198.51.100.8").log_in_as_nobody(), 401, "invalid_credentials")


def test_one_account_is_limited_across_addresses_whatever_the_spelling(app: Flask) -> None:
    spellings = ["sam@example.com", " Sam@Example.COM", "SAM@EXAMPLE.COM "]
    for n in range(LOGIN_PER_ACCOUNT.limit):
        visitor = Visitor(app, f"203.0.113.{n + 1}")
        response = visitor.log_in(spellings[n % len(spellings)])
        assert_problem(response, 401, "invalid_credentials")
    refused = Visitor(app, "203.0.113.200").log_in("sam@example.com")
    _assert_rate_limited(refused, LOGIN_PER_ACCOUNT.limit)
    # Another account from that same fresh address is not affected.
    assert_problem(
        Visitor(app, "203.0.113.200").log_in("kim@example.com"), 401, "invalid_credentials"
    )


def test_a_successful_login_carries_the_rate_limit_headers(app: Flask) -> None:
    visitor = Visitor(app)
    visitor.register("ada@example.com")
    response = Visitor(app, "198.51.100.99").log_in("ada@example.com")
    assert response.status_code == 200, response.get_data(as_text=True)
    # The tighter of the two limits: the account's (its first hit), not the address's.
    assert rate_limit_headers(response)["RateLimit-Limit"] == LOGIN_PER_ACCOUNT.limit
    assert rate_limit_headers(response)["RateLimit-Remaining"] == LOGIN_PER_ACCOUNT.limit - 1


def test_registrations_past_the_address_limit_answer_429(app: Flask) -> None:
    visitor = Visitor(app)
    for _ in range(REGISTER_PER_ADDRESS.limit):
        visitor.register()
    refused = visitor.post(
        "/api/auth/register",
        {"email": f"late-{secrets.token_hex(4)}@example.com", "password": PASSWORD, "name": "L"},
    )
    _assert_rate_limited(refused, REGISTER_PER_ADDRESS.limit)


def test_refreshes_past_the_address_limit_answer_429(app: Flask) -> None:
    # Guessing refresh tokens from one address: each wrong one is a 401, then the limit.
    visitor = Visitor(app)
    for n in range(REFRESH_PER_ADDRESS.limit):
        response = visitor.post("/api/auth/refresh", None)
        assert_problem(response, 401, "refresh_rejected")
        assert (
            rate_limit_headers(response)["RateLimit-Remaining"] == REFRESH_PER_ADDRESS.limit - n - 1
        )
    _assert_rate_limited(visitor.post("/api/auth/refresh", None), REFRESH_PER_ADDRESS.limit)
    assert_problem(
        Visitor(app, "198.51.100.8").post("/api/auth/refresh", None), 401, "refresh_rejected"
    )


def test_routes_without_limits_carry_no_rate_limit_headers(app: Flask) -> None:
    visitor = Visitor(app)
    for response in (visitor.get("/api/products"), visitor.get("/api/auth/csrf")):
        assert response.status_code == 200
        assert not set(RATE_LIMIT_HEADERS) & set(response.headers.keys())


@pytest.fixture
def small_shop(tmp_path: Path) -> Iterator[tuple[Flask, Container, str]]:
    with rate_limited_shop(tmp_path, policy=SMALL) as (app, container):
        configure_shipping(container.new_uow(), FREE_DOMESTIC)
        stock_catalog(
            container.new_uow(),
            container.clock,
            [NewProduct("mug", "Mug", "A mug.", Money(1800, "USD"), "/static/m.svg", 50)],
        )
        yield app, container, get_product(container.new_uow(), "mug").id


def test_checkout_intents_are_limited_per_account_and_per_address(
    small_shop: tuple[Flask, Container, str],
) -> None:
    app, _, mug = small_shop
    body = shipped({"items": [{"product_id": mug, "quantity": 1}]})
    sam = Visitor(app, "198.51.100.1")
    sam.register()
    for _ in range(2):
        assert sam.post("/api/checkout/intent", body).status_code == 201
    # Sam's third from another address is refused: the account's limit.
    sam.client.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    _assert_rate_limited(sam.post("/api/checkout/intent", body), 2)
    # Two other shoppers at Sam's first address: the address allows 4 (2 used by Sam).
    kim, lee = Visitor(app, "198.51.100.1"), Visitor(app, "198.51.100.1")
    kim.register()
    lee.register()
    assert kim.post("/api/checkout/intent", body).status_code == 201
    assert lee.post("/api/checkout/intent", body).status_code == 201
    _assert_rate_limited(lee.post("/api/checkout/intent", body), 4)


def test_confirmations_are_limited_per_account(small_shop: tuple[Flask, Container, str]) -> None:
    app, _, _ = small_shop
    sam = Visitor(app)
    sam.register()
    for _ in range(2):
        assert_problem(sam.confirm(f"pi_{secrets.token_hex(6)}", "pm_card_visa"), 404, "not_found")
    _assert_rate_limited(sam.confirm(f"pi_{secrets.token_hex(6)}", "pm_card_visa"), 2)


def test_refunds_are_limited_per_staff_account(small_shop: tuple[Flask, Container, str]) -> None:
    app, container, _ = small_shop
    create_staff_user(
        Register(email="ada@example.com", password=PASSWORD, name="Ada", role=Role.ADMIN),
        uow=container.new_uow(),
        hasher=container.hasher,
        clock=container.clock,
        events=container.events,
    )
    ada = Visitor(app)
    assert ada.log_in("ada@example.com").status_code == 200

    def refund() -> TestResponse:
        return ada.post(
            "/api/payments/refund", {"order_id": "ord_missing"}, key=secrets.token_hex(6)
        )

    for _ in range(2):
        assert_problem(refund(), 404, "not_found")
    _assert_rate_limited(refund(), 2)


def test_every_limited_route_documents_its_429_and_only_those(app: Flask) -> None:
    limited = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, RATE_LIMITED_ATTRIBUTE, None) is not None:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            limited |= {(path, m.lower()) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    spec = app.test_client().get("/api/openapi.json").get_json()
    documented = {
        (path, method)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "rate_limited" in operation["responses"].get("429", {}).get("description", "")
    }
    assert limited == documented
    assert {
        ("/api/auth/login", "post"),
        ("/api/auth/register", "post"),
        ("/api/checkout/intent", "post"),
        ("/api/checkout/confirm", "post"),
        ("/api/payments/refund", "post"),
    } <= limited
    for path, method in documented:
        responses = spec["paths"][path][method]["responses"]
        assert "Retry-After" in responses["429"]["headers"]
        for status, answer in responses.items():
            if status.startswith("2"):
                assert set(RATE_LIMIT_HEADERS) <= set(answer["headers"]), (path, status)
