"""Login lockout, as the design's policy says: failures counted per (address, email) and per
email, unknown emails included; a pair locks after 5 failures in 15 minutes with a backoff that
doubles; an email locks after 20 failures in an hour for a fixed hour that further tries do not
extend; a success resets its pair; a lock is one 429 (with Retry-After) for known and unknown
emails alike and costs the same hashing work; staff can unlock. In memory, and through the HTTP
API with the counters in the database and in Redis."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import redis
from flask import Flask

from adapters.login_attempts import FallbackAttemptStore, RedisAttemptStore
from adapters.passwords import Argon2PasswordHasher
from adapters.sql.attempts import SqlAttemptStore
from commerce_core import (
    AuthenticationFailed,
    LogIn,
    LoginLocked,
    RateLimitPolicy,
    Register,
    Role,
    UnlockLogin,
    create_staff_user,
    log_in,
    register,
    unlock_login,
)
from commerce_core.testing import FakeClock, InMemoryShop
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings

EMAIL = "owner@example.com"
WRONG = "not the password at all"


def _try(
    shop: InMemoryShop, email: str = EMAIL, password: str = WRONG, ip: str = "10.0.0.1"
) -> Any:
    return log_in(LogIn(email, password, ip=ip), **shop.account_ports)


def _fail(shop: InMemoryShop, times: int, **kwargs: Any) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            _try(shop, **kwargs)


@pytest.fixture
def shop() -> InMemoryShop:
    shop = InMemoryShop()
    register(Register(EMAIL, PASSWORD, "Owner"), **shop.account_ports)
    return shop


def test_five_failures_from_one_address_lock_that_pair_only(shop: InMemoryShop) -> None:
    _fail(shop, 5)
    with pytest.raises(LoginLocked) as locked:
        _try(shop, password=PASSWORD)  # even the right password: the pair is locked
    assert locked.value.retry_after == 60
    # The owner at another address is not locked out by a guesser at this one.
    assert _try(shop, password=PASSWORD, ip="10.0.0.2").user.email == EMAIL


def test_the_pair_backoff_doubles_with_every_lock(shop: InMemoryShop) -> None:
    waits = []
    for _ in range(3):  # a fourth round would reach the email's 20 failures (its own lock)
        _fail(shop, 5)
        with pytest.raises(LoginLocked) as locked:
            _try(shop)
        waits.append(locked.value.retry_after)
        shop.clock.advance(timedelta(seconds=locked.value.retry_after))
    assert waits == [60, 120, 240]


def test_a_success_resets_the_pair(shop: InMemoryShop) -> None:
    _fail(shop, 4)
    _try(shop, password=PASSWORD)
    _fail(shop, 4)  # four more: not five in a row since the success
    assert _try(shop, password=PASSWORD).user.email == EMAIL


def test_failures_age_out_of_the_pair_window(shop: InMemoryShop) -> None:
    _fail(shop, 4)
    shop.clock.advance(timedelta(minutes=15))
    _fail(shop, 4)
    assert _try(shop, password=PASSWORD).user.email == EMAIL


def test_twenty_failures_from_many_addresses_lock_the_email_everywhere(
    shop: InMemoryShop,
) -> None:
    for n in range(20):
        _fail(shop, 1, ip=f"198.51.100.{n}")
    with pytest.raises(LoginLocked) as locked:
        _try(shop, password=PASSWORD, ip="203.0.113.7")  # the owner, from a fresh address
    assert locked.value.retry_after == 3600


def test_the_email_lock_is_not_extended_by_further_attempts(shop: InMemoryShop) -> None:
    for n in range(20):
        _fail(shop, 1, ip=f"198.51.100.{n}")
    for minute in range(59):  # the attacker keeps trying all hour, from new addresses
        shop.clock.advance(timedelta(minutes=1))
        with pytest.raises(LoginLocked):
            _try(shop, ip=f"192.0.2.{minute}")
    shop.clock.advance(timedelta(minutes=1))
    # One hour after the lock, not one hour after the last attempt: the owner gets in.
    assert _try(shop, password=PASSWORD, ip="203.0.113.7").user.email == EMAIL


def test_unknown_emails_are_counted_and_locked_alike(shop: InMemoryShop) -> None:
    def lock(email: str) -> tuple[type[BaseException], int]:
        _fail(shop, 5, email=email)
        with pytest.raises(LoginLocked) as locked:
            _try(shop, email=email)
        return type(locked.value), locked.value.retry_after

    assert lock(EMAIL) == lock("nobody@example.com")


def test_a_locked_attempt_costs_the_same_hashing_as_a_real_one(shop: InMemoryShop) -> None:
    _fail(shop, 1, email="warm@example.com")  # the dummy hash is made once per hasher
    before = shop.hasher.verify_calls, shop.hasher.hash_calls
    _fail(shop, 1)
    one_try = (shop.hasher.verify_calls - before[0], shop.hasher.hash_calls - before[1])
    _fail(shop, 4)
    before = shop.hasher.verify_calls, shop.hasher.hash_calls
    with pytest.raises(LoginLocked):
        _try(shop)
    locked = (shop.hasher.verify_calls - before[0], shop.hasher.hash_calls - before[1])
    assert one_try == locked == (1, 0)


def test_staff_unlock_clears_the_email_and_every_address(shop: InMemoryShop) -> None:
    staff = create_staff_user(
        Register("ops@example.com", PASSWORD, "Ops", role=Role.SUPPORT), **shop.account_ports
    )
    _fail(shop, 4)  # a pair about to lock
    for n in range(16):  # and the email's 20th failure: locked everywhere
        _fail(shop, 1, ip=f"198.51.100.{n}")
    with pytest.raises(LoginLocked):
        _try(shop, password=PASSWORD)
    unlock_login(UnlockLogin(staff.id, " OWNER@example.com "), **shop.account_ports)
    assert _try(shop, password=PASSWORD).user.email == EMAIL
    with shop.uow as uow:
        entries, _ = uow.audit.list(0, 10)
    assert [(e.action, e.actor) for e in entries] == [("login.unlocked", staff.id)]


# -- through the HTTP API, counters in the database and in Redis -----------------------------


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    settings = _settings(tmp_path)
    migrate_database(settings)
    # Request rate limits off: they would answer 429 before the lockout is reached (they
    # have tests of their own); this module is about the lockout.
    built = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        clock=FakeClock(),
        rate_limits=RateLimitPolicy({}),
    )
    assert built.engine is not None
    in_database = SqlAttemptStore(built.engine)
    client = None
    if request.param == "redis":
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
        prefix = request.getfixturevalue("redis_prefix")
        built = attrs.evolve(
            built,
            attempts=FallbackAttemptStore(RedisAttemptStore(client, prefix=prefix), in_database),
        )
    yield built
    built.close()
    if client is not None:
        client.close()


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret="whsec_" + "t" * 32,
    )


@pytest.fixture
def app(tmp_path: Path, container: Container) -> Flask:
    return create_app(_settings(tmp_path), container=container)


def _log_in(app: Flask, email: str, password: str) -> Any:
    return Shopper(app.test_client()).post(
        "/api/auth/login", {"email": email, "password": password}
    )


def test_over_http_a_lock_is_one_429_for_known_and_unknown_emails(app: Flask) -> None:
    known = f"known-{secrets.token_hex(4)}@example.com"
    Shopper(app.test_client()).register(known)
    bodies = []
    for email in (known, f"unknown-{secrets.token_hex(4)}@example.com"):
        failures = [_log_in(app, email, WRONG) for _ in range(5)]
        assert {f.status_code for f in failures} == {401}
        locked = _log_in(app, email, PASSWORD)
        body = assert_problem(locked, 429, "locked_out")
        assert locked.headers["Retry-After"] == "60"
        bodies.append({k: v for k, v in body.items() if k != "instance"})
    assert bodies[0] == bodies[1]


def test_over_http_every_failure_is_the_same_401(app: Flask, container: Container) -> None:
    email = f"kept-{secrets.token_hex(4)}@example.com"
    Shopper(app.test_client()).register(email)
    disabled = f"off-{secrets.token_hex(4)}@example.com"
    Shopper(app.test_client()).register(disabled)
    with container.new_uow() as uow:
        user = uow.users.get_by_email(disabled)
        assert user is not None
        user.is_active = False
        uow.users.save(user)
        uow.commit()
    answers = [
        _log_in(app, f"nobody-{secrets.token_hex(4)}@example.com", PASSWORD),
        _log_in(app, email, WRONG),
        _log_in(app, disabled, PASSWORD),
    ]
    bodies = [assert_problem(a, 401, "invalid_credentials") for a in answers]
    assert len({repr(sorted((k, v) for k, v in b.items() if k != "instance")) for b in bodies}) == 1


def test_over_http_support_staff_unlock_an_email(app: Flask, container: Container) -> None:
    email = f"locked-{secrets.token_hex(4)}@example.com"
    Shopper(app.test_client()).register(email)
    for _ in range(5):
        _log_in(app, email, WRONG)
    assert _log_in(app, email, PASSWORD).status_code == 429

    create_staff_user(
        Register("support@example.com", PASSWORD, "Sue", role=Role.SUPPORT),
        **container.account_ports(),
    )
    support = Shopper(app.test_client())
    assert support.log_in("support@example.com").status_code == 200
    unlocked = support.post("/api/admin/logins/unlock", {"email": email})
    assert unlocked.status_code == 200, unlocked.get_data(as_text=True)
    assert _log_in(app, email, PASSWORD).status_code == 200


def test_over_http_support_staff_unlock_an_account_by_its_id(
    app: Flask, container: Container
) -> None:
    email = f"locked-{secrets.token_hex(4)}@example.com"
    owner = Shopper(app.test_client())
    owner.register(email)
    user_id = owner.get("/api/auth/me").get_json()["user"]["id"]
    for _ in range(5):
        _log_in(app, email, WRONG)
    assert _log_in(app, email, PASSWORD).status_code == 429

    create_staff_user(
        Register("support2@example.com", PASSWORD, "Sid", role=Role.SUPPORT),
        **container.account_ports(),
    )
    support = Shopper(app.test_client())
    assert support.log_in("support2@example.com").status_code == 200
    assert_problem(support.post("/api/admin/users/no-such-user/unlock", {}), 404, "not_found")
    unlocked = support.post(f"/api/admin/users/{user_id}/unlock", {})
    assert unlocked.status_code == 200, unlocked.get_data(as_text=True)
    assert _log_in(app, email, PASSWORD).status_code == 200
