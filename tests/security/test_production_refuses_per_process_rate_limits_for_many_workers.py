"""With ``memory://`` every process counts alone, so N workers would allow N times every limit.
Production refuses that: more than one serving process needs the shared store (Redis). Asked
of the settings (``WEB_CONCURRENCY``, as gunicorn reads it) and of ``commerce serve --workers``.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from webapp.cli import cli
from webapp.config import ConfigError, Settings

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-0123456789",
    "DATABASE_URL": "postgresql+psycopg://shop@db/shop",
    "PUBLIC_URL": "https://shop.example.com",
    "PAYMENT_GATEWAY": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "p" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
    "SMTP_URL": "smtps://shop:mail-password@smtp.example.com",
    "MAIL_FROM": "Shop <orders@shop.example.com>",
}


def test_production_refuses_memory_rate_limits_for_several_workers() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**PRODUCTION, "WEB_CONCURRENCY": "4"})
    assert error.value.settings == ("RATE_LIMIT_STORAGE",)
    assert "4 processes" in str(error.value)


@pytest.mark.parametrize(
    "storage",
    [
        "redis://cache:6379/0",
        "rediss://:secret@cache:6380/1",
        "redis+sentinel://sentinel-1:26379,sentinel-2:26379/shop",
        "redis+cluster://node-1:7000,node-2:7000",
    ],
)
def test_production_takes_a_shared_store_for_any_number_of_workers(storage: str) -> None:
    settings = Settings.from_env(
        {**PRODUCTION, "WEB_CONCURRENCY": "16", "RATE_LIMIT_STORAGE": storage}
    )
    assert settings.rate_limit_storage == storage


def test_one_process_may_count_in_its_own_memory() -> None:
    assert Settings.from_env({**PRODUCTION, "WEB_CONCURRENCY": "1"}).web_concurrency == 1
    assert Settings.from_env(PRODUCTION).web_concurrency == 1  # gunicorn's own default


def test_outside_production_memory_serves_any_number_of_workers() -> None:
    assert Settings.from_env({"WEB_CONCURRENCY": "8"}).rate_limit_storage == "memory://"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEB_CONCURRENCY", "0"),
        ("WEB_CONCURRENCY", "65"),
        ("WEB_CONCURRENCY", "many"),
        ("REDIS_KEY_PREFIX", ""),
        ("REDIS_KEY_PREFIX", "shop keys:"),
        ("REDIS_KEY_PREFIX", "x" * 65),
    ],
)
def test_bad_worker_counts_and_key_prefixes_are_named(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({variable: value})
    assert error.value.settings == (variable,)


def test_serve_refuses_several_workers_on_memory_in_production() -> None:
    result = CliRunner().invoke(
        cli,
        ["serve", "--workers", "2", "--host", "256.256.256.256", "--port", "1"],
        env={**PRODUCTION, "RATE_LIMIT_STORAGE": "memory://", "WEB_CONCURRENCY": None},
    )
    assert result.exit_code != 0
    assert "RATE_LIMIT_STORAGE" in result.output
    assert "Serving on" not in result.output
