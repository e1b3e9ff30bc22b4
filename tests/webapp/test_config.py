"""Settings from the environment: defaults for a laptop, secrets from files, production guards."""

from __future__ import annotations

import logging
from pathlib import Path

import attrs
import pytest
import structlog
from flask import request

from webapp.app import create_app
from webapp.bootstrap import Container, build_container, build_gateways, migrate_database
from webapp.config import DEV_SECRET_KEY, ConfigError, Settings

PRODUCTION_SECRET = "s" * 48


def test_an_empty_environment_gives_laptop_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.app_env == "development"
    assert settings.database_url == "sqlite:///./var/commerce.db"
    assert settings.payment_gateway == "fake"
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.stripe_webhook_secret is None  # the fake gateway's is per install
    assert settings.rate_limit_storage == "memory://"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert (settings.trusted_proxies, settings.hold_minutes) == (0, 15)
    assert settings.sentry_dsn is None


def test_every_variable_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("  from-a-docker-secret\n")

    settings = Settings.from_env({"SECRET_KEY_FILE": str(secret), "HOLD_MINUTES": "30"})

    assert settings.secret_key == "from-a-docker-secret"
    assert settings.hold_minutes == 30


def test_a_variable_set_twice_or_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as both:
        Settings.from_env({"SECRET_KEY": "a", "SECRET_KEY_FILE": str(tmp_path / "x")})
    with pytest.raises(ConfigError) as missing:
        Settings.from_env({"SECRET_KEY_FILE": str(tmp_path / "absent")})

    assert both.value.settings == ("SECRET_KEY",)
    assert missing.value.settings == ("SECRET_KEY_FILE",)


def test_malformed_values_are_named() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env(
            {
                "TRUSTED_PROXIES": "one",
                "LOG_JSON": "maybe",
                "RATE_LIMIT_STORAGE": "carrier-pigeon://loft",
            }
        )
    with pytest.raises(ConfigError) as more:
        Settings.from_env({"APP_ENV": "staging", "LOG_LEVEL": "loud", "PUBLIC_URL": "shop"})

    assert set(error.value.settings) == {"TRUSTED_PROXIES", "LOG_JSON"}
    assert set(more.value.settings) == {"APP_ENV", "LOG_LEVEL", "PUBLIC_URL"}
    with pytest.raises(ConfigError, match="RATE_LIMIT_STORAGE"):
        Settings.from_env({"RATE_LIMIT_STORAGE": "carrier-pigeon://loft"})
    assert Settings.from_env({"RATE_LIMIT_STORAGE": "redis://cache:6379/0"}).rate_limit_storage


LIVE_STRIPE = {
    "PAYMENT_GATEWAY": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "p" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
}
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-0123456789",
    "DATABASE_URL": "postgresql+psycopg://shop@db/shop",
    "PUBLIC_URL": "https://shop.example.com",
    "SMTP_URL": "smtps://shop:mail-password@smtp.example.com",
    "MAIL_FROM": "Shop <orders@shop.example.com>",
}


@pytest.mark.parametrize(
    ("gateway", "required"),
    [
        ("stripe", {"STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"}),
        ("paypal", {"PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"}),
        ("razorpay", {"RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET"}),
    ],
)
def test_a_real_gateway_names_every_setting_it_is_missing(gateway: str, required: set[str]) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"PAYMENT_GATEWAY": gateway})
    assert set(error.value.settings) == required


def test_an_unknown_gateway_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"PAYMENT_GATEWAY": "bitcoin"})
    assert error.value.settings == ("PAYMENT_GATEWAY",)


def test_production_settings_take_stripe_live_keys_and_postgresql() -> None:
    settings = Settings.from_env({**PRODUCTION, **LIVE_STRIPE})
    assert settings.payment_gateway == "stripe"
    assert settings.configured_gateways == ("stripe",)


@pytest.mark.postgres
def test_production_starts_and_serves_with_stripe_and_postgresql(pg_url: str) -> None:
    settings = Settings.from_env({**PRODUCTION, **LIVE_STRIPE, "DATABASE_URL": pg_url})
    migrate_database(settings)
    container = build_container(settings)
    app = create_app(settings, container=container)
    try:
        client = app.test_client()
        ready = client.get("/readyz")
        config = client.get("/api/payments/config")
        assert ready.status_code == 200, ready.get_data(as_text=True)
        assert config.get_json() == {
            "gateway": "stripe",
            "publishable_key": LIVE_STRIPE["STRIPE_PUBLISHABLE_KEY"],
        }
        # No fake gateway in production: its webhook route is not there.
        assert client.post("/api/payments/webhook/fake", data=b"{}").status_code == 404
    finally:
        container.close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STRIPE_SECRET_KEY", "sk_test_" + "k" * 24),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_" + "p" * 24),
        ("STRIPE_WEBHOOK_SECRET", "not-a-stripe-secret"),
        ("STRIPE_API_BASE", "http://127.0.0.1:12111"),
    ],
)
def test_production_refuses_test_mode_keys_and_an_api_base_by_name(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**PRODUCTION, **LIVE_STRIPE, variable: value})
    assert error.value.settings == (variable,)


def test_production_refuses_paypal_sandbox_and_razorpay_test_keys() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env(
            {
                **PRODUCTION,
                **LIVE_STRIPE,
                "PAYPAL_CLIENT_ID": "id",
                "PAYPAL_CLIENT_SECRET": "secret",
                "PAYPAL_WEBHOOK_ID": "8PT597110X687430LKGECATA",
                "RAZORPAY_KEY_ID": "rzp_test_123",
                "RAZORPAY_KEY_SECRET": "secret",
                "RAZORPAY_WEBHOOK_SECRET": "Vd2qK8xT0mPz4LwR7nYc1sHb6FgJ3aUe",
            }
        )
    assert set(error.value.settings) == {"PAYPAL_ENVIRONMENT", "RAZORPAY_KEY_ID"}


def test_production_builds_every_live_gateway_and_no_fake_one() -> None:
    settings = Settings.from_env(
        {
            **PRODUCTION,
            **LIVE_STRIPE,
            "PAYPAL_CLIENT_ID": "id",
            "PAYPAL_CLIENT_SECRET": "secret",
            "PAYPAL_WEBHOOK_ID": "8PT597110X687430LKGECATA",
            "PAYPAL_ENVIRONMENT": "live",
            "RAZORPAY_KEY_ID": "rzp_live_123",
            "RAZORPAY_KEY_SECRET": "secret",
            "RAZORPAY_WEBHOOK_SECRET": "Vd2qK8xT0mPz4LwR7nYc1sHb6FgJ3aUe",
        }
    )
    # Nothing is asked of the providers while building: no network, no engine needed.
    gateways = build_gateways(settings, engine=None)  # type: ignore[arg-type]
    assert {name: gateway.name for name, gateway in gateways.items()} == {
        "stripe": "stripe",
        "paypal": "paypal",
        "razorpay": "razorpay",
    }


def test_keys_can_be_read_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "stripe-key"
    secret.write_text("sk_live_" + "f" * 24 + "\n", encoding="utf-8")
    env = {**PRODUCTION, **LIVE_STRIPE}
    del env["STRIPE_SECRET_KEY"]
    settings = Settings.from_env({**env, "STRIPE_SECRET_KEY_FILE": str(secret)})
    assert settings.stripe_secret_key == "sk_live_" + "f" * 24


def test_production_refuses_default_secrets_the_fake_gateway_and_sqlite() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"APP_ENV": "production"})

    assert set(error.value.settings) == {
        "SECRET_KEY",
        "PAYMENT_GATEWAY",
        "DATABASE_URL",
        "PUBLIC_URL",
        "SMTP_URL",
        "MAIL_FROM",
    }
    assert "SECRET_KEY" in str(error.value)


def test_production_refuses_a_short_secret_key_by_name() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**PRODUCTION, **LIVE_STRIPE, "SECRET_KEY": "short"})

    assert set(error.value.settings) == {"SECRET_KEY"}


def test_trusted_proxies_take_the_client_address_from_the_right_of_x_forwarded_for(
    settings: Settings, container: Container
) -> None:
    app = create_app(attrs.evolve(settings, trusted_proxies=1), container=container)
    app.add_url_rule("/whoami", "whoami", lambda: request.remote_addr or "")

    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})

    assert response.get_data(as_text=True) == "203.0.113.7"


def test_creating_an_app_leaves_process_wide_logging_alone(
    settings: Settings, container: Container
) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    structlog_config = structlog.get_config()
    for _ in range(3):
        create_app(settings, container=container)
    assert (root.handlers, root.level) == (handlers, level)
    assert structlog.get_config() == structlog_config
