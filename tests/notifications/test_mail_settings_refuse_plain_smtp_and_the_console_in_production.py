"""SMTP_URL, MAIL_FROM and NOTIFY_INTERVAL_SECONDS: validated at start-up; production mails
over TLS only and never to the console (whose output is the logs)."""

from __future__ import annotations

import pytest

from adapters.mail import ConsoleNotifier, SmtpNotifier
from tests.security.production import PRODUCTION_ENV
from webapp.bootstrap import build_notifier
from webapp.config import ConfigError, Settings


def test_without_smtp_url_development_mails_to_the_console() -> None:
    settings = Settings.from_env({})

    assert settings.smtp_url is None
    assert settings.notify_interval_seconds == 5
    assert isinstance(build_notifier(settings), ConsoleNotifier)


def test_an_smtp_url_builds_the_smtp_notifier() -> None:
    settings = Settings.from_env(
        {"SMTP_URL": "smtp://mail.example:587?starttls=1", "MAIL_FROM": "Shop <s@shop.example>"}
    )

    assert isinstance(build_notifier(settings), SmtpNotifier)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SMTP_URL", "http://mail.example"),
        ("SMTP_URL", "smtps://mail.example?starttls=1"),
        ("MAIL_FROM", "not an address"),
        ("MAIL_FROM", "Shop <s@shop.example>\r\nBcc: everyone@example.com"),
        ("NOTIFY_INTERVAL_SECONDS", "0"),
        ("NOTIFY_INTERVAL_SECONDS", "soon"),
    ],
)
def test_a_malformed_mail_setting_is_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({variable: value})

    assert error.value.settings == (variable,)


def test_the_error_for_a_bad_smtp_url_does_not_repeat_its_password() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"SMTP_URL": "smtp://user:hunter2hunter2@mail.example:x"})

    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    ("changes", "wrong"),
    [
        ({"SMTP_URL": ""}, "SMTP_URL"),  # the console: reset links in the logs
        ({"SMTP_URL": "smtp://user:pw@mail.example:25"}, "SMTP_URL"),  # no TLS
        ({"MAIL_FROM": ""}, "MAIL_FROM"),  # the development sender
    ],
)
def test_production_refuses_the_console_plain_smtp_and_the_default_sender(
    changes: dict[str, str], wrong: str
) -> None:
    env = {**PRODUCTION_ENV, **changes}
    env = {name: value for name, value in env.items() if value}

    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)

    assert error.value.settings == (wrong,)


@pytest.mark.parametrize(
    "url", ["smtps://user:pw@mail.example", "smtp://user:pw@mail.example:587?starttls=1"]
)
def test_production_accepts_smtp_over_tls(url: str) -> None:
    assert Settings.from_env({**PRODUCTION_ENV, "SMTP_URL": url}).smtp_url == url
