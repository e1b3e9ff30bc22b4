"""Password reset through the HTTP API, with the email read from a real SMTP server: the
request answers alike for known and unknown emails and does the same token work; the link
works once, for 30 minutes, and only the newest one; using it ends every session and refresh
family of the account and is audited. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from flask import Flask

from adapters.passwords import Argon2PasswordHasher
from commerce_core import (
    RateLimitPolicy,
    Register,
    RequestPasswordReset,
    register,
    request_password_reset,
)
from commerce_core.testing import FakeClock, FakePasswordHasher
from tests.support.smtp_server import Inbox, running_smtp_server, text_of
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings
from webapp.scheduler import notification_job

RESET = "/api/auth/password-reset"
CONFIRM = "/api/auth/password-reset/confirm"
NEW_PASSWORD = "a brand new passphrase"
PUBLIC_URL = "http://shop.test:8000"


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    with running_smtp_server() as inbox:
        yield inbox


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, smtp_server: Inbox) -> Settings:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        request.getfixturevalue("pg_engine")
        url = request.getfixturevalue("pg_url")
    return Settings(
        app_env="test",
        database_url=url,
        smtp_url=smtp_server.url,
        mail_from="Shop <shop@shop.test>",
        public_url=PUBLIC_URL,
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    migrate_database(settings)
    built = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        clock=FakeClock(),
        rate_limits=RateLimitPolicy({}),
    )
    yield built
    built.close()


@pytest.fixture
def app(settings: Settings, container: Container) -> Flask:
    return create_app(settings, container=container)


def _browser(app: Flask) -> Shopper:
    return Shopper(app.test_client())


def _reset_link(inbox: Inbox, email: str, container: Container) -> str:
    """Run the sender (the scheduler's job) and read the newest reset link sent to ``email``."""
    notification_job(container)
    resets = [m for m in inbox.to(email) if m["Subject"] == "Reset your password"]
    assert resets, f"no reset email for {email}: {inbox.subjects(email)}"
    found = re.search(r"(\S+/reset-password\?token=\S+)", text_of(resets[-1]))
    assert found is not None
    return found.group(1)


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_a_reset_link_arrives_works_once_and_ends_every_session(
    app: Flask, container: Container, smtp_server: Inbox
) -> None:
    owner, thief, refresher = _browser(app), _browser(app), _browser(app)
    email = owner.register()["email"]
    session = owner.client.get_cookie("session")
    refresh = owner.client.get_cookie("refresh", path="/api/auth")
    assert session is not None
    assert refresh is not None
    thief.client.set_cookie("session", session.value)
    refresher.client.set_cookie("refresh", refresh.value, path="/api/auth")
    assert thief.get("/api/auth/me").status_code == 200  # a stolen cookie works ... for now

    asked = _browser(app).post(RESET, {"email": email})
    link = _reset_link(smtp_server, email, container)
    confirmed = _browser(app).post(CONFIRM, {"token": _token(link), "password": NEW_PASSWORD})
    again = _browser(app).post(CONFIRM, {"token": _token(link), "password": "yet another one!"})

    assert asked.status_code == 202
    assert link.startswith(f"{PUBLIC_URL}/reset-password?token=")
    assert len(_token(link)) >= 43  # 256 bits, URL-safe
    assert confirmed.status_code == 204, confirmed.get_data(as_text=True)
    assert_problem(again, 400, "reset_token_invalid")
    # Every session and refresh family of the account ended on the server.
    assert_problem(owner.get("/api/auth/me"), 401, "unauthenticated")
    assert_problem(thief.get("/api/auth/me"), 401, "unauthenticated")
    assert refresher.post("/api/auth/refresh").status_code == 401
    # The new password signs in; the old one does not.
    assert _browser(app).log_in(email, NEW_PASSWORD).status_code == 200
    assert _browser(app).log_in(email, PASSWORD).status_code == 401
    with container.new_uow() as uow:
        user = uow.users.get_by_email(email)
        assert user is not None
        trail = uow.audit.for_target(f"user:{user.id}")
        stored = uow.messages.due(container.clock.now() + timedelta(days=1), 100)
    assert [entry.action for entry in trail] == ["auth.password_reset"]
    assert stored == []


def test_a_known_and_an_unknown_email_get_the_same_answer_and_only_the_known_one_mail(
    app: Flask, container: Container, smtp_server: Inbox
) -> None:
    email = _browser(app).register()["email"]

    known = _browser(app).post(RESET, {"email": email})
    unknown = _browser(app).post(RESET, {"email": "nobody@example.com"})
    notification_job(container)

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.get_data() == unknown.get_data()
    assert smtp_server.subjects(email) == ["Reset your password"]
    assert smtp_server.to("nobody@example.com") == []


def test_a_known_and_an_unknown_email_cost_the_same_token_and_hashing_work(
    container: Container,
) -> None:
    """Counted, not timed: one token minted and hashed, no password hash, either way."""
    hasher = FakePasswordHasher()
    minted: list[str] = []

    def mint() -> str:
        minted.append("token")
        return "t" * 43

    register(
        Register(email="known@example.com", password=PASSWORD, name="Kim"),
        **{**container.account_ports(), "hasher": hasher},
    )
    hasher.hash_calls = hasher.verify_calls = 0
    work = []
    for email in ("known@example.com", "unknown@example.com"):
        minted.clear()
        request_password_reset(
            RequestPasswordReset(email=email, link_base=f"{PUBLIC_URL}/reset-password"),
            uow=container.new_uow(),
            clock=container.clock,
            events=container.events,
            hasher=hasher,
            mint=mint,
        )
        work.append((len(minted), hasher.hash_calls + hasher.verify_calls))

    assert work == [(1, 0), (1, 0)]


def test_a_link_expires_after_30_minutes(
    app: Flask, container: Container, smtp_server: Inbox
) -> None:
    email = _browser(app).register()["email"]
    _browser(app).post(RESET, {"email": email})
    token = _token(_reset_link(smtp_server, email, container))
    clock = container.clock
    assert isinstance(clock, FakeClock)

    clock.advance(timedelta(minutes=30))
    late = _browser(app).post(CONFIRM, {"token": token, "password": NEW_PASSWORD})

    assert_problem(late, 400, "reset_token_invalid")
    assert _browser(app).log_in(email, PASSWORD).status_code == 200


def test_a_newer_request_supersedes_the_older_link(
    app: Flask, container: Container, smtp_server: Inbox
) -> None:
    email = _browser(app).register()["email"]
    _browser(app).post(RESET, {"email": email})
    older = _token(_reset_link(smtp_server, email, container))
    _browser(app).post(RESET, {"email": email})
    newer = _token(_reset_link(smtp_server, email, container))

    stale = _browser(app).post(CONFIRM, {"token": older, "password": NEW_PASSWORD})
    fresh = _browser(app).post(CONFIRM, {"token": newer, "password": NEW_PASSWORD})

    assert older != newer
    assert_problem(stale, 400, "reset_token_invalid")
    assert fresh.status_code == 204


def test_unknown_used_and_malformed_tokens_get_one_answer_and_weak_passwords_a_422(
    app: Flask,
) -> None:
    browser = _browser(app)
    answers = [
        browser.post(CONFIRM, {"token": token, "password": NEW_PASSWORD})
        for token in ("", "x", "y" * 43, "z" * 200)
    ]
    short = browser.post(CONFIRM, {"token": "y" * 43, "password": "short"})
    missing = browser.post(CONFIRM, {})
    bad_email = browser.post(RESET, {"email": "not an email"})

    bodies: set[Any] = set()
    for answer in answers:
        problem = assert_problem(answer, 400, "reset_token_invalid")
        bodies.add(tuple(sorted(problem.items())))
    assert len(bodies) == 1
    assert {e["field"] for e in assert_problem(short, 422, "validation_error")["errors"]} == {
        "password"
    }
    assert {e["field"] for e in assert_problem(missing, 422, "validation_error")["errors"]} == {
        "token",
        "password",
    }
    assert_problem(bad_email, 422, "validation_error")


def test_the_reset_routes_refuse_a_request_without_the_csrf_token(app: Flask) -> None:
    client = app.test_client()
    client.get("/api/auth/csrf")

    asked = client.post(RESET, json={"email": "ada@example.com"})
    confirmed = client.post(CONFIRM, json={"token": "x" * 43, "password": NEW_PASSWORD})

    assert_problem(asked, 403, "csrf_failed")
    assert_problem(confirmed, 403, "csrf_failed")
