"""Refresh tokens: rotated with one atomic conditional update, the same successor for two tabs
within 20 s, the whole family revoked (with a stored security alert) when an older rotated token
comes back, an absolute expiry 30 days after the login - in memory, on SQLite and PostgreSQL
(with real threads racing), and through the HTTP API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from adapters.passwords import Argon2PasswordHasher
from adapters.sql import SqlUnitOfWork
from adapters.sql.attempts import SqlAttemptStore
from commerce_core import (
    AccountPorts,
    LogIn,
    RateLimitPolicy,
    RefreshRejected,
    RefreshSession,
    Register,
    SignedIn,
    hash_token,
    log_in,
    refresh_session,
    register,
    resolve_session,
)
from commerce_core.testing import (
    FakeClock,
    FakePasswordHasher,
    InMemoryShop,
    RecordingEventSink,
)
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings

KEY = b"k" * 32
EMAIL = "tab@example.com"


@attrs.define
class Accounts:
    """The account ports over one store, memory or SQL, with a clock the test moves."""

    ports: AccountPorts
    new_ports: object  # () -> AccountPorts (a fresh unit of work: one per thread)
    clock: FakeClock
    events: RecordingEventSink

    def fresh(self) -> AccountPorts:
        return self.new_ports()  # type: ignore[operator, no-any-return]

    def refresh(self, token: str, **kwargs: object) -> SignedIn:
        return refresh_session(
            RefreshSession(token, rotation_key=KEY, **kwargs),  # type: ignore[arg-type]
            **self.fresh(),
        )

    def who(self, session_token: str) -> str | None:
        ports = self.fresh()
        user = resolve_session(session_token, uow=ports["uow"], clock=ports["clock"])
        return None if user is None else user.id


def _memory() -> Accounts:
    shop = InMemoryShop()
    return Accounts(shop.account_ports, lambda: shop.account_ports, shop.clock, shop.events)


def _sql(engine: Engine) -> Accounts:
    clock, events, hasher = FakeClock(), RecordingEventSink(), FakePasswordHasher()
    attempts = SqlAttemptStore(engine)

    def new_ports() -> AccountPorts:
        return AccountPorts(
            uow=SqlUnitOfWork(engine), hasher=hasher, clock=clock, events=events, attempts=attempts
        )

    return Accounts(new_ports(), new_ports, clock, events)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def accounts(request: pytest.FixtureRequest) -> Accounts:
    if request.param == "memory":
        return _memory()
    return _sql(
        request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'pg'}_engine")
    )


def _signed_up(accounts: Accounts) -> SignedIn:
    register(Register(EMAIL, PASSWORD, "Tab"), **accounts.fresh())
    return log_in(LogIn(EMAIL, PASSWORD), **accounts.fresh())


def test_a_refresh_rotates_the_token_and_starts_a_new_session(accounts: Accounts) -> None:
    first = _signed_up(accounts)
    accounts.clock.advance(timedelta(minutes=20))  # the session idled out
    assert accounts.who(first.session_token) is None

    renewed = accounts.refresh(first.refresh_token)

    assert renewed.refresh_token != first.refresh_token
    assert accounts.who(renewed.session_token) == first.user.id
    # The successor is good for the next refresh, and so on.
    accounts.clock.advance(timedelta(minutes=20))
    again = accounts.refresh(renewed.refresh_token)
    assert accounts.who(again.session_token) == first.user.id


def test_two_tabs_refreshing_within_the_grace_get_the_same_successor(accounts: Accounts) -> None:
    first = _signed_up(accounts)
    tab_one = accounts.refresh(first.refresh_token)
    accounts.clock.advance(timedelta(seconds=19))
    tab_two = accounts.refresh(first.refresh_token)

    assert tab_two.refresh_token == tab_one.refresh_token
    assert tab_two.session_token != tab_one.session_token
    assert {accounts.who(tab_one.session_token), accounts.who(tab_two.session_token)} == {
        first.user.id
    }
    assert accounts.events.of("alert.refresh_token_reused") == []


def test_an_older_rotated_token_revokes_the_whole_family_and_raises_an_alert(
    accounts: Accounts,
) -> None:
    victim = _signed_up(accounts)
    stolen = victim.refresh_token
    renewed = accounts.refresh(stolen)  # the victim's browser rotates it
    accounts.clock.advance(timedelta(seconds=21))

    with pytest.raises(RefreshRejected):
        accounts.refresh(stolen)  # the thief's copy comes back: two parties hold the family

    # Everything of the family is dead: the victim's current token and session too ...
    assert accounts.who(renewed.session_token) is None
    assert accounts.who(victim.session_token) is None
    with pytest.raises(RefreshRejected):
        accounts.refresh(renewed.refresh_token)
    # ... and the shop knows, durably.
    [alert] = accounts.events.of("alert.refresh_token_reused")
    assert alert["user_id"] == victim.user.id
    with accounts.fresh()["uow"] as uow:
        stored, _ = uow.outbox.alerts(0, 10)
    assert [e.name for e in stored] == ["alert.refresh_token_reused"]


def test_other_logins_of_the_same_user_survive_a_revoked_family(accounts: Accounts) -> None:
    phone = _signed_up(accounts)
    laptop = log_in(LogIn(EMAIL, PASSWORD), **accounts.fresh())
    accounts.refresh(phone.refresh_token)
    accounts.clock.advance(timedelta(minutes=1))
    with pytest.raises(RefreshRejected):
        accounts.refresh(phone.refresh_token)
    assert accounts.who(laptop.session_token) == phone.user.id
    assert accounts.refresh(laptop.refresh_token).user.id == phone.user.id


def test_a_family_expires_30_days_after_the_login_however_often_it_rotates(
    accounts: Accounts,
) -> None:
    token = _signed_up(accounts).refresh_token
    for _ in range(29):
        accounts.clock.advance(timedelta(days=1))
        token = accounts.refresh(token).refresh_token
    accounts.clock.advance(timedelta(days=1))
    with pytest.raises(RefreshRejected):
        accounts.refresh(token)


@pytest.mark.parametrize("token", ["", "x" * 201, "not-a-token", "\x00"])
def test_unknown_or_malformed_tokens_are_rejected(accounts: Accounts, token: str) -> None:
    _signed_up(accounts)
    with pytest.raises(RefreshRejected):
        accounts.refresh(token)


def test_only_hashes_are_stored(accounts: Accounts) -> None:
    signed_in = _signed_up(accounts)
    renewed = accounts.refresh(signed_in.refresh_token)
    with accounts.fresh()["uow"] as uow:
        assert uow.refresh_tokens.get(hash_token(renewed.refresh_token)) is not None
        assert uow.refresh_tokens.get(renewed.refresh_token) is None


def test_a_disabled_account_cannot_refresh(accounts: Accounts) -> None:
    signed_in = _signed_up(accounts)
    with accounts.fresh()["uow"] as uow:
        user = uow.users.get(signed_in.user.id)
        assert user is not None
        user.is_active = False
        uow.users.save(user)
        uow.commit()
    with pytest.raises(RefreshRejected):
        accounts.refresh(signed_in.refresh_token)


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_concurrent_refreshes_rotate_once_and_agree_on_the_successor(
    database: str, request: pytest.FixtureRequest
) -> None:
    accounts = _sql(request.getfixturevalue(f"{'sqlite' if database == 'sqlite' else 'pg'}_engine"))
    token = _signed_up(accounts).refresh_token
    barrier = threading.Barrier(6)
    results: list[SignedIn | BaseException] = []
    lock = threading.Lock()

    def tab() -> None:
        barrier.wait()
        try:
            outcome: SignedIn | BaseException = accounts.refresh(token)
        except BaseException as exc:  # collected and asserted on below
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=tab) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(isinstance(r, SignedIn) for r in results), results
    assert len({r.refresh_token for r in results if isinstance(r, SignedIn)}) == 1
    assert accounts.events.of("alert.refresh_token_reused") == []


# -- through the HTTP API ---------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret="whsec_" + "t" * 32,
    )


@pytest.fixture
def container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    migrate_database(settings)
    built = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        clock=clock,
        rate_limits=RateLimitPolicy({}),
    )
    yield built
    built.close()


@pytest.fixture
def app(settings: Settings, container: Container) -> Flask:
    return create_app(settings, container=container)


def _refresh_cookie(browser: Shopper) -> str | None:
    cookie = browser.client.get_cookie("refresh", path="/api/auth")
    return None if cookie is None else cookie.value


def test_the_refresh_cookie_is_httponly_strict_and_only_sent_to_auth(app: Flask) -> None:
    browser = Shopper(app.test_client())
    sent = browser.post("/api/auth/register", {"email": EMAIL, "password": PASSWORD, "name": "Tab"})
    [header] = [h for h in sent.headers.getlist("Set-Cookie") if h.startswith("refresh=")]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "Path=/api/auth" in header
    assert "SameSite=Strict" in header


def test_refreshing_over_http_renews_the_session_and_reuse_is_401_with_cookies_cleared(
    app: Flask, clock: FakeClock
) -> None:
    browser = Shopper(app.test_client())
    browser.register(EMAIL)
    stolen = _refresh_cookie(browser)
    assert stolen is not None
    clock.advance(timedelta(minutes=20))
    assert browser.get("/api/auth/me").status_code == 401  # idled out

    renewed = browser.post("/api/auth/refresh")
    assert renewed.status_code == 200, renewed.get_data(as_text=True)
    assert browser.get("/api/auth/me").status_code == 200
    assert _refresh_cookie(browser) not in (None, stolen)

    thief = Shopper(app.test_client())
    thief.client.set_cookie("refresh", stolen, path="/api/auth")
    clock.advance(timedelta(seconds=30))
    refused = thief.post("/api/auth/refresh")
    assert_problem(refused, 401, "refresh_rejected")
    assert any(h.startswith("refresh=;") for h in refused.headers.getlist("Set-Cookie"))
    # The victim's session died with the family: both must sign in again.
    assert browser.get("/api/auth/me").status_code == 401
    assert_problem(browser.post("/api/auth/refresh"), 401, "refresh_rejected")


def test_refresh_without_a_cookie_is_401(app: Flask) -> None:
    assert_problem(Shopper(app.test_client()).post("/api/auth/refresh"), 401, "refresh_rejected")
