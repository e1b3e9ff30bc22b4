"""Two real shop servers (gunicorn, two workers each) on one Redis count one client's requests
together: a client spreading its logins over every process of the shop meets one limit, not one
per process.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
import redis
import requests

from commerce_core import LimitedOperation, RateKeyKind
from tests.e2e.conftest import Shop, start_shop
from tests.support.rate_limited_shop import shop_limit

pytestmark = pytest.mark.e2e

LIMIT = shop_limit(LimitedOperation.LOG_IN, RateKeyKind.CLIENT_ADDRESS)


class Browser:
    """A browser on one of the shops: its cookies and the CSRF header."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.http = requests.Session()
        self.csrf = self.http.get(shop.url("/api/auth/csrf"), timeout=10).json()["csrf_token"]

    def log_in_as_nobody(self) -> requests.Response:
        email = f"nobody-{secrets.token_hex(6)}@example.com"
        return self.http.post(
            self.shop.url("/api/auth/login"),
            json={"email": email, "password": "a long enough passphrase"},
            headers={"X-CSRF-Token": self.csrf},
            timeout=10,
        )


@pytest.fixture(scope="module")
def redis_prefix_for_module(redis_url: str) -> Iterator[str]:
    prefix = f"commerce-test-{secrets.token_hex(6)}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def two_shops(
    redis_url: str, redis_prefix_for_module: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Shop, Shop]]:
    """Two servers, each with its own database: all they share is the rate limits' Redis."""
    env = {"RATE_LIMIT_STORAGE": redis_url, "REDIS_KEY_PREFIX": redis_prefix_for_module}
    with ExitStack() as stack:
        shops = [
            stack.enter_context(
                contextmanager(start_shop)(f"sqlite:///{tmp / 'shop.db'}", tmp, env)
            )
            for tmp in (tmp_path_factory.mktemp("shop-a"), tmp_path_factory.mktemp("shop-b"))
        ]
        yield shops[0], shops[1]


def test_logins_spread_over_two_servers_meet_one_limit(
    two_shops: tuple[Shop, Shop], redis_url: str, redis_prefix_for_module: str
) -> None:
    first, second = Browser(two_shops[0]), Browser(two_shops[1])
    alternating = [first, second] * LIMIT.limit
    # Each server (and each of its workers) sees only some of them; together they are the limit.
    statuses = [browser.log_in_as_nobody().status_code for browser in alternating[: LIMIT.limit]]
    assert statuses == [401] * LIMIT.limit
    for browser in (first, second):
        refused = browser.log_in_as_nobody()
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["RateLimit-Remaining"] == "0"
    client = redis.Redis.from_url(redis_url)
    try:
        assert list(client.scan_iter(match=f"{redis_prefix_for_module}ratelimit/login.address/*"))
    finally:
        client.close()
