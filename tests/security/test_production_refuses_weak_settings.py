"""Production refuses guessable secrets, webhook settings not in their provider's format, a
plain-http ``PUBLIC_URL`` and debug logging - naming the variable, never echoing the value -
while accepting every secret a random generator makes."""

from __future__ import annotations

import random
import secrets
import string

import pytest

from tests.security.production import PRODUCTION_ENV
from webapp.config import DEV_SECRET_KEY, ConfigError, Settings
from webapp.secret_strength import secret_problem

WEAK = {
    "SECRET_KEY": [
        "short-but-random-3f9a",
        DEV_SECRET_KEY,
        "a" * 48,
        "password" * 6,
        "passwordpassword123456password12",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "0123456789" * 4,
        "98127364509182736450918273645091",  # 32 digits: 106 bits at most
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefgh",
    ],
    "STRIPE_WEBHOOK_SECRET": [
        "whsec_short",
        "5f0c9e4b2a7d18e3c6b94f07a2d5e81c5f0c9e4b",  # no whsec_ prefix
        "whsec_ 5f0c9e4b2a7d18e3c6b94f07a2d5e81c",
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc4eC39HqLyj",  # the API key pasted instead
    ],
    "PAYPAL_WEBHOOK_ID": [
        "wh",
        "8pt597110x687430lkgecata",
        "WH-2WR32451HC0233532-67976317FL4543714",  # an event id, not the webhook's
        "https://shop.example.com/api/payments/webhook/paypal",
    ],
    "RAZORPAY_WEBHOOK_SECRET": ["whsecret", "razorpay" * 4, "my-webhook-secret"],
    "PUBLIC_URL": ["http://shop.example.com", "http://127.0.0.1:8000"],
    "LOG_LEVEL": ["DEBUG", "debug"],
    # Load tests' lifted limits never reach production.
    "LIMITS_SCALE": ["1000", "2"],
}
CASES = [(variable, value) for variable, values in WEAK.items() for value in values]


def test_the_reference_production_settings_pass() -> None:
    settings = Settings.from_env(PRODUCTION_ENV)

    assert settings.is_production
    assert set(settings.configured_gateways) == {"stripe", "paypal", "razorpay"}


@pytest.mark.parametrize(("variable", "value"), CASES)
def test_a_weak_value_is_refused_by_name_without_echoing_it(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**PRODUCTION_ENV, variable: value})

    assert refused.value.settings == (variable,)
    if len(value) >= 8:  # short values ("wh", "DEBUG") are words the message may contain
        assert value not in str(refused.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(
            {
                **PRODUCTION_ENV,
                "SECRET_KEY": "a" * 48,
                "STRIPE_WEBHOOK_SECRET": "whsec_short",
                "PAYPAL_WEBHOOK_ID": "wh",
                "RAZORPAY_WEBHOOK_SECRET": "whsecret",
                "PUBLIC_URL": "http://shop.example.com",
                "LOG_LEVEL": "DEBUG",
            }
        )

    assert set(refused.value.settings) == {
        "SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "PAYPAL_WEBHOOK_ID",
        "RAZORPAY_WEBHOOK_SECRET",
        "PUBLIC_URL",
        "LOG_LEVEL",
    }


def test_outside_production_the_same_values_are_fine() -> None:
    development = {k: v for k, v in PRODUCTION_ENV.items() if k != "APP_ENV"}
    settings = Settings.from_env(
        {**development, "SECRET_KEY": "a" * 48, "PUBLIC_URL": "http://x", "LOG_LEVEL": "DEBUG"}
    )

    assert settings.log_level == "DEBUG"


def _random_secrets(seed: int, count: int) -> list[str]:
    """What operators are told to use, and what password managers make: hex of 16 to 32 bytes,
    URL-safe base64 of 24 to 48 bytes, and 32 to 64 letters and digits. Deterministic (seeded),
    so a failure names its secret and is reproducible."""
    rng = random.Random(seed)
    urlsafe = string.ascii_letters + string.digits + "-_"
    alphanumeric = string.ascii_letters + string.digits
    made: list[str] = []
    for _ in range(count):
        made.append(rng.randbytes(rng.randint(16, 32)).hex())
        made.append("".join(rng.choice(urlsafe) for _ in range(rng.randint(32, 64))))
        made.append("".join(rng.choice(alphanumeric) for _ in range(rng.randint(32, 64))))
    return made


def test_random_secrets_are_never_refused() -> None:
    refused = [value for value in _random_secrets(seed=2024, count=3000) if secret_problem(value)]

    assert refused == []


def test_a_generated_secret_passes_the_whole_production_check() -> None:
    for _ in range(50):
        settings = Settings.from_env({**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(32)})
        assert settings.is_production
