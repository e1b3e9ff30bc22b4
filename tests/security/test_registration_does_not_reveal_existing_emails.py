"""Registering an email that already has an account answers exactly as registering a new one
does - the same status, the same body shape, the same cookies - with the same hashing work,
creates nothing, and tells the owner out of band (an event for the mailer)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from flask import Flask

from adapters.passwords import Argon2PasswordHasher
from commerce_core import RateLimitPolicy, Register, register
from commerce_core.testing import InMemoryShop
from tests.webapp.browser import PASSWORD, Shopper
from webapp.app import create_app
from webapp.bootstrap import build_container, migrate_database
from webapp.config import Settings


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    settings = Settings(
        app_env="test",
        database_url=f"sqlite:///{tmp_path / 'shop.db'}",
        stripe_webhook_secret="whsec_" + "r" * 32,
    )
    migrate_database(settings)
    container = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        rate_limits=RateLimitPolicy({}),
    )
    yield create_app(settings, container=container)
    container.close()


@pytest.fixture
def shopper(app: Flask) -> Shopper:
    return Shopper(app.test_client())


@pytest.fixture
def new_shopper(app: Flask) -> Any:
    return lambda: Shopper(app.test_client())


def _shape(value: Any) -> Any:
    """A JSON value with every leaf replaced by its type: what an observer compares."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def _cookie_names(response: Any) -> list[str]:
    return sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie"))


def test_the_answer_for_a_taken_email_is_shaped_like_a_new_registration(
    shopper: Shopper, new_shopper: Any
) -> None:
    taken = shopper.register()["email"]
    fresh = f"fresh-{secrets.token_hex(4)}@example.com"

    answers = [
        new_shopper().post("/api/auth/register", {"email": e, "password": PASSWORD, "name": "X"})
        for e in (fresh, taken)
    ]

    assert [a.status_code for a in answers] == [201, 201]
    assert _shape(answers[0].get_json()) == _shape(answers[1].get_json())
    assert answers[1].get_json()["user"]["email"] == taken
    assert answers[1].get_json()["user"]["role"] == "customer"
    assert _cookie_names(answers[0]) == _cookie_names(answers[1])
    assert answers[0].headers.get("Content-Type") == answers[1].headers.get("Content-Type")


def test_nothing_is_created_and_the_owner_is_told() -> None:
    shop = InMemoryShop()
    owner = register(Register("owner@example.com", PASSWORD, "Owner"), **shop.account_ports)
    hashes_before = shop.hasher.hash_calls

    decoy = register(
        Register("OWNER@example.com ", "another passphrase", "Eve"), **shop.account_ports
    )

    assert shop.hasher.hash_calls - hashes_before == 1  # the same work as a real registration
    assert decoy.user.id != owner.user.id
    assert list(shop.store.data.users) == [owner.user.id]
    assert len(shop.store.data.sessions) == 1  # the owner's, from the first registration
    [told] = shop.events.of("auth.registration_for_existing_email")
    assert told["user_id"] == owner.user.id
    assert "email" not in told  # the event names the account, never the address


@pytest.mark.parametrize("name", ["", "x" * 101])
def test_invalid_input_is_refused_alike_for_taken_and_new_emails(
    shopper: Shopper, new_shopper: Any, name: str
) -> None:
    taken = shopper.register()["email"]
    answers = [
        new_shopper().post("/api/auth/register", {"email": e, "password": PASSWORD, "name": name})
        for e in (f"new-{secrets.token_hex(4)}@example.com", taken)
    ]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].get_json()["errors"] == answers[1].get_json()["errors"]
