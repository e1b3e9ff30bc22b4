"""A real app (SQLite file, migrations, the fake gateway, Argon2 at test cost) for the rate-limit
tests, with the limiter, the policy and the proxy settings each test chooses; and a browser
that speaks from a client address of its choosing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from flask import Flask
from werkzeug.test import TestResponse

from adapters.passwords import Argon2PasswordHasher
from commerce_core import (
    SHOP_RATE_LIMITS,
    LimitedOperation,
    RateKeyKind,
    RateLimit,
    RateLimiter,
    RateLimitPolicy,
)
from tests.webapp.browser import PASSWORD, Shopper
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings

RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def shop_limit(operation: LimitedOperation, kind: RateKeyKind) -> RateLimit:
    """One of the shop's own limits (the tests reach the real numbers where they can)."""
    found = SHOP_RATE_LIMITS.limit(operation, kind)
    assert found is not None, (operation, kind)
    return found


class CountingHasher:
    """The ``PasswordHasher`` port around Argon2 (test cost), counting verifications: a login
    refused before the view runs must cost none."""

    def __init__(self) -> None:
        self._inner = Argon2PasswordHasher.fast_for_tests()
        self.verified = 0

    def hash(self, password: str) -> str:
        return self._inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return self._inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._inner.needs_rehash(password_hash)


@contextmanager
def rate_limited_shop(
    tmp_path: Path,
    *,
    rate_limiter: RateLimiter | None = None,
    policy: RateLimitPolicy | None = None,
    **settings: Any,
) -> Iterator[tuple[Flask, Container]]:
    """The app over ``Settings(**settings)``; the container's limiter and policy replaced when
    given, its hasher a ``CountingHasher``."""
    config = Settings(app_env="test", database_url=f"sqlite:///{tmp_path / 'shop.db'}", **settings)
    migrate_database(config)
    container = build_container(config)
    changes: dict[str, Any] = {"hasher": CountingHasher()}
    if rate_limiter is not None:
        changes["rate_limiter"] = rate_limiter
    if policy is not None:
        changes["rate_limits"] = policy
    container = attrs.evolve(container, **changes)
    try:
        yield create_app(config, container=container), container
    finally:
        container.close()


class Visitor(Shopper):
    """A browser whose requests come from ``address`` (the peer the server sees), through a
    proxy that writes ``forwarded_for`` into ``X-Forwarded-For`` when given."""

    def __init__(self, app: Flask, address: str = "198.51.100.7") -> None:
        super().__init__(app.test_client())
        self.client.environ_base["REMOTE_ADDR"] = address

    def log_in_as_nobody(self, headers: dict[str, str] | None = None) -> TestResponse:
        """A login for an email nobody has (a new one each time, so no lockout counter fills)."""
        email = f"nobody-{secrets.token_hex(6)}@example.com"
        return self.post("/api/auth/login", {"email": email, "password": PASSWORD}, headers=headers)


def rate_limit_headers(response: TestResponse) -> dict[str, int]:
    return {name: int(response.headers[name]) for name in RATE_LIMIT_HEADERS}
