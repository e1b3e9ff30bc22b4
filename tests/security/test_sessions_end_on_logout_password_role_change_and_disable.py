"""Sessions end on the server: after logout, a password change, a role change or an account
being disabled, a captured session cookie - and a captured refresh cookie - replayed by someone
else gets 401. A new session id at every login, and the pre-login id is worth nothing after.
Through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from flask import Flask

from adapters.passwords import Argon2PasswordHasher
from commerce_core import RateLimitPolicy, Register, Role, create_staff_user
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        request.getfixturevalue("pg_engine")  # an emptied, migrated database
        url = request.getfixturevalue("pg_url")
    return Settings(app_env="test", database_url=url, stripe_webhook_secret="whsec_" + "s" * 32)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    migrate_database(settings)
    built = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        rate_limits=RateLimitPolicy({}),  # many sign-ins from one address here, on purpose
    )
    yield built
    built.close()


@pytest.fixture
def app(settings: Settings, container: Container) -> Flask:
    return create_app(settings, container=container)


@attrs.frozen
class Captured:
    """What a thief copied from the victim's browser."""

    session: str
    refresh: str


def _capture(browser: Shopper, cookie_name: str = "session") -> Captured:
    session = browser.client.get_cookie(cookie_name)
    refresh = browser.client.get_cookie("refresh", path="/api/auth")
    assert session is not None
    assert refresh is not None
    return Captured(session.value, refresh.value)


def _replay(app: Flask, captured: Captured) -> tuple[int, int]:
    """The thief's answers: ``/me`` with the session cookie, and a refresh with the refresh
    cookie (from another browser, so that the first replay cannot disturb the second)."""
    with_session = Shopper(app.test_client())
    with_session.client.set_cookie("session", captured.session)
    me = with_session.get("/api/auth/me").status_code
    with_refresh = Shopper(app.test_client())
    with_refresh.client.set_cookie("refresh", captured.refresh, path="/api/auth")
    return me, with_refresh.post("/api/auth/refresh").status_code


def _victim(app: Flask) -> tuple[Shopper, str, Captured]:
    browser = Shopper(app.test_client())
    email = f"victim-{secrets.token_hex(4)}@example.com"
    user_id = browser.register(email)["id"]
    captured = _capture(browser)
    spy = Shopper(app.test_client())
    spy.client.set_cookie("session", captured.session)
    assert spy.get("/api/auth/me").status_code == 200  # the copy works while the session lives
    return browser, user_id, captured


@pytest.fixture
def admin(app: Flask, container: Container) -> Shopper:
    email = f"admin-{secrets.token_hex(4)}@example.com"
    create_staff_user(
        Register(email=email, password=PASSWORD, name="Ada", role=Role.ADMIN),
        **container.account_ports(),
    )
    browser = Shopper(app.test_client())
    assert browser.log_in(email).status_code == 200
    return browser


def _logout(app: Flask, victim: Shopper, user_id: str, admin: Shopper) -> None:
    assert victim.post("/api/auth/logout").status_code == 204


def _change_password(app: Flask, victim: Shopper, user_id: str, admin: Shopper) -> None:
    changed = victim.post(
        "/api/auth/password",
        {"current_password": PASSWORD, "new_password": "a different passphrase"},
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert victim.get("/api/auth/me").status_code == 200  # the changer stays signed in


def _change_role(app: Flask, victim: Shopper, user_id: str, admin: Shopper) -> None:
    changed = admin.post(f"/api/admin/users/{user_id}/role", {"role": "support"})
    assert changed.status_code == 200, changed.get_data(as_text=True)


def _disable(app: Flask, victim: Shopper, user_id: str, admin: Shopper) -> None:
    disabled = admin.post(f"/api/admin/users/{user_id}/disable")
    assert disabled.status_code == 200, disabled.get_data(as_text=True)


ENDINGS: dict[str, Callable[[Flask, Shopper, str, Shopper], None]] = {
    "logout": _logout,
    "password change": _change_password,
    "role change": _change_role,
    "account disabled": _disable,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_captured_cookie_replayed_afterwards_gets_401(
    app: Flask, admin: Shopper, ending: str
) -> None:
    victim, user_id, captured = _victim(app)

    ENDINGS[ending](app, victim, user_id, admin)

    assert _replay(app, captured) == (401, 401)


def test_logout_also_ends_the_refresh_family_whose_session_is_already_gone(app: Flask) -> None:
    victim, _, captured = _victim(app)
    # The thief, holding both cookies, refreshes first: the victim's session is replaced.
    thief = Shopper(app.test_client())
    thief.client.set_cookie("session", captured.session)
    thief.client.set_cookie("refresh", captured.refresh, path="/api/auth")
    assert thief.post("/api/auth/refresh").status_code == 200
    # The victim notices and logs out: their browser still sends its refresh cookie.
    assert victim.post("/api/auth/logout").status_code == 204
    assert thief.get("/api/auth/me").status_code == 401
    assert thief.post("/api/auth/refresh").status_code == 401


def test_a_password_change_ends_the_other_devices_too(app: Flask) -> None:
    email = f"two-devices-{secrets.token_hex(4)}@example.com"
    laptop = Shopper(app.test_client())
    laptop.register(email)
    phone = Shopper(app.test_client())
    assert phone.log_in(email).status_code == 200
    changed = laptop.post(
        "/api/auth/password",
        {"current_password": PASSWORD, "new_password": "a different passphrase"},
    )
    assert changed.status_code == 200
    assert phone.get("/api/auth/me").status_code == 401
    assert laptop.get("/api/auth/me").status_code == 200
    assert phone.log_in(email).status_code == 401
    assert phone.log_in(email, "a different passphrase").status_code == 200


def test_a_wrong_current_password_changes_nothing(app: Flask) -> None:
    browser = Shopper(app.test_client())
    email = f"careful-{secrets.token_hex(4)}@example.com"
    browser.register(email)
    refused = browser.post(
        "/api/auth/password",
        {"current_password": "not my password!", "new_password": "a different passphrase"},
    )
    assert_problem(refused, 401, "invalid_credentials")
    assert browser.get("/api/auth/me").status_code == 200
    assert Shopper(app.test_client()).log_in(email).status_code == 200


def test_a_new_session_id_at_every_login_and_the_old_one_is_dead(app: Flask) -> None:
    browser = Shopper(app.test_client())
    browser.csrf()  # the visitor's pre-login id
    pre_login = browser.client.get_cookie("session")
    assert pre_login is not None
    email = f"fixation-{secrets.token_hex(4)}@example.com"
    browser.register(email)
    first = _capture(browser)
    assert browser.log_in(email).status_code == 200
    second = _capture(browser)

    assert len({pre_login.value, first.session, second.session}) == 3
    assert _replay(app, attrs.evolve(first, refresh="none"))[0] == 401  # replaced at login
    thief = Shopper(app.test_client())
    thief.client.set_cookie("session", pre_login.value)
    assert thief.get("/api/auth/me").status_code == 401  # a planted id never becomes a session


def test_staff_cannot_demote_or_disable_themselves(app: Flask, admin: Shopper) -> None:
    me = admin.get("/api/auth/me").get_json()["user"]["id"]
    assert_problem(admin.post(f"/api/admin/users/{me}/role", {"role": "customer"}), 409, "conflict")
    assert_problem(admin.post(f"/api/admin/users/{me}/disable"), 409, "conflict")
    assert admin.get("/api/auth/me").status_code == 200


def test_role_changes_are_audited_and_an_unknown_role_is_422(
    app: Flask, admin: Shopper, container: Container
) -> None:
    _, user_id, _ = _victim(app)
    assert_problem(
        admin.post(f"/api/admin/users/{user_id}/role", {"role": "root"}), 422, "validation_error"
    )
    assert admin.post(f"/api/admin/users/{user_id}/role", {"role": "support"}).status_code == 200
    with container.new_uow() as uow:
        entries, _ = uow.audit.list(0, 10)
    [entry] = [e for e in entries if e.action == "user.role_changed"]
    assert entry.target == f"user:{user_id}"
    assert entry.details["before"] == "customer"
    assert entry.details["after"] == "support"
