"""Settings: 12-factor configuration from environment variables.

Every variable ``NAME`` may instead be given as ``NAME_FILE``, the path of a file holding the value
(Docker and Kubernetes secrets); the file's contents are stripped. Setting both is an error, since
silently preferring one would hide a misconfiguration.

``APP_ENV=production`` refuses to start with a missing, default, short or predictable secret,
the ``fake`` gateway, SQLite, a webhook secret not in its provider's format, a plain-http
``PUBLIC_URL`` or debug logging, and the error names every setting that is wrong, so an operator
fixes them in one go.

``STRIPE_WEBHOOK_SECRET`` has no default: outside production the fake gateway, when it is not
given one, signs with a secret generated for this install (``webapp.dev_secrets``), never with
a constant anyone could read here and use to sign a "paid" event.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs

from adapters.mail import parse_smtp_url
from webapp.secret_strength import (
    GENERATE_HINT,
    paypal_webhook_id_problem,
    secret_problem,
    stripe_webhook_secret_problem,
)

__all__ = [
    "DEV_SECRET_KEY",
    "ConfigError",
    "Settings",
]

# Public on purpose: only fit for a laptop, and production refuses it by value.
DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"  # noqa: S105
# A sender no mail server would deliver for: production must name its own.
DEV_MAIL_FROM = "Commerce <shop@localhost>"

APP_ENVS = ("development", "production", "test")
GATEWAYS = ("fake", "stripe", "paypal", "razorpay")
PAYPAL_ENVIRONMENTS = ("sandbox", "live")
# Per gateway, the settings it cannot work without, and the prefixes its live keys carry.
REQUIRED = {
    "stripe": ("stripe_secret_key", "stripe_webhook_secret", "stripe_publishable_key"),
    "paypal": ("paypal_client_id", "paypal_client_secret", "paypal_webhook_id"),
    "razorpay": ("razorpay_key_id", "razorpay_key_secret", "razorpay_webhook_secret"),
}
LIVE_PREFIXES = {
    "stripe_secret_key": ("sk_live_", "rk_live_"),
    "stripe_publishable_key": ("pk_live_",),
    "razorpay_key_id": ("rzp_live_",),
}
# Settings that point an SDK at another host than the provider's (local fakes, localstripe).
API_BASES = ("stripe_api_base", "paypal_api_base", "razorpay_api_base")
# Storages of the `limits` library that support the moving-window strategy; the URI is passed
# through to it unchanged (adapters.rate_limits).
RATE_LIMIT_SCHEMES = (
    "memory",
    "redis",
    "rediss",
    "redis+unix",
    "redis+sentinel",
    "redis+cluster",
)
OPTIONAL_FIELDS = (
    "stripe_webhook_secret",
    "stripe_secret_key",
    "stripe_publishable_key",
    "stripe_api_base",
    "paypal_client_id",
    "paypal_client_secret",
    "paypal_webhook_id",
    "paypal_api_base",
    "razorpay_key_id",
    "razorpay_key_secret",
    "razorpay_webhook_secret",
    "razorpay_api_base",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConfigError(Exception):
    """The configuration is unusable; ``settings`` names the variables at fault."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        self.settings = tuple(self.problems)
        lines = "; ".join(f"{name}: {message}" for name, message in self.problems.items())
        super().__init__(f"invalid configuration - {lines}")


_INTEGER_FIELDS = (
    "trusted_proxies",
    "hold_minutes",
    "web_concurrency",
    "job_interval_seconds",
    "notify_interval_seconds",
    "limits_scale",
)
_FLAG_FIELDS = ("log_json", "prices_include_tax")


def _typed(
    raw: Mapping[str, str], variables: Mapping[str, str], problems: dict[str, str]
) -> dict[str, Any]:
    """The whole-number and true/false settings of ``raw`` as Python values; what cannot be
    read goes to ``problems`` under its variable's name."""
    values: dict[str, Any] = {}
    for field in _INTEGER_FIELDS:
        if field in raw:
            try:
                values[field] = int(raw[field])
            except ValueError:
                problems[variables[field]] = f"must be a whole number, not {raw[field]!r}"
    for field in _FLAG_FIELDS:
        if field in raw:
            flag = raw[field].lower()
            if flag not in _TRUE + _FALSE:
                problems[variables[field]] = "must be true or false"
            values[field] = flag in _TRUE
    return values


@attrs.frozen(kw_only=True)
class Settings:
    """Everything the app reads from its environment, validated once at start-up."""

    app_env: str = "development"
    database_url: str = "sqlite:///./var/commerce.db"
    # Where uploaded product images are kept, one file per content hash (served at /media/).
    media_dir: str = "./var/media"
    secret_key: str = DEV_SECRET_KEY
    payment_gateway: str = "fake"
    stripe_webhook_secret: str | None = None
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_api_base: str | None = None
    paypal_client_id: str | None = None
    paypal_client_secret: str | None = None
    paypal_webhook_id: str | None = None
    paypal_environment: str = "sandbox"
    paypal_api_base: str | None = None
    razorpay_key_id: str | None = None
    razorpay_key_secret: str | None = None
    razorpay_webhook_secret: str | None = None
    razorpay_api_base: str | None = None
    rate_limit_storage: str = "memory://"
    # Every key the shop writes to Redis starts with this (tests give each test its own).
    redis_key_prefix: str = "commerce:"
    # How many processes serve the app (gunicorn's workers; `commerce serve --workers`).
    web_concurrency: int = 1
    sentry_dsn: str | None = None
    trusted_proxies: int = 0
    public_url: str = "http://127.0.0.1:8000"
    hold_minutes: int = 15
    # Multiplies every request rate limit and every cap on unpaid holds: for load tests, whose
    # shoppers all come from one or two addresses. Production refuses anything but 1.
    limits_scale: int = 1
    # Whether catalog prices already contain tax (EU style) or tax is added at checkout (US).
    prices_include_tax: bool = False
    # How often each serving process's scheduler runs the periodic jobs (one process per
    # round, by lease); 0 leaves them to `commerce jobs ...` from an external scheduler.
    job_interval_seconds: int = 60
    # Where emails go: an SMTP server (smtp://user:pass@host:587?starttls=1, smtps://...), or
    # when unset the console (development only); who they come from; how often the
    # `notifications` job sends what is due (no in-process jobs at all if JOB_INTERVAL_SECONDS=0).
    smtp_url: str | None = None
    mail_from: str = DEV_MAIL_FROM
    notify_interval_seconds: int = 5
    log_level: str = "INFO"
    log_json: bool = True

    # Variable name for each field, used by ``from_env`` and in error messages.
    VARIABLES: ClassVar[dict[str, str]] = {
        "app_env": "APP_ENV",
        "database_url": "DATABASE_URL",
        "media_dir": "MEDIA_DIR",
        "secret_key": "SECRET_KEY",
        "payment_gateway": "PAYMENT_GATEWAY",
        "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
        "stripe_secret_key": "STRIPE_SECRET_KEY",
        "stripe_publishable_key": "STRIPE_PUBLISHABLE_KEY",
        "stripe_api_base": "STRIPE_API_BASE",
        "paypal_client_id": "PAYPAL_CLIENT_ID",
        "paypal_client_secret": "PAYPAL_CLIENT_SECRET",
        "paypal_webhook_id": "PAYPAL_WEBHOOK_ID",
        "paypal_environment": "PAYPAL_ENVIRONMENT",
        "paypal_api_base": "PAYPAL_API_BASE",
        "razorpay_key_id": "RAZORPAY_KEY_ID",
        "razorpay_key_secret": "RAZORPAY_KEY_SECRET",
        "razorpay_webhook_secret": "RAZORPAY_WEBHOOK_SECRET",
        "razorpay_api_base": "RAZORPAY_API_BASE",
        "rate_limit_storage": "RATE_LIMIT_STORAGE",
        "redis_key_prefix": "REDIS_KEY_PREFIX",
        "web_concurrency": "WEB_CONCURRENCY",
        "sentry_dsn": "SENTRY_DSN",
        "trusted_proxies": "TRUSTED_PROXIES",
        "public_url": "PUBLIC_URL",
        "hold_minutes": "HOLD_MINUTES",
        "prices_include_tax": "PRICES_INCLUDE_TAX",
        "limits_scale": "LIMITS_SCALE",
        "job_interval_seconds": "JOB_INTERVAL_SECONDS",
        "smtp_url": "SMTP_URL",
        "mail_from": "MAIL_FROM",
        "notify_interval_seconds": "NOTIFY_INTERVAL_SECONDS",
        "log_level": "LOG_LEVEL",
        "log_json": "LOG_JSON",
    }

    def __attrs_post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ConfigError(problems)

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        raw: dict[str, str] = {}
        problems: dict[str, str] = {}
        for field, name in cls.VARIABLES.items():
            try:
                value = _read_variable(env, name)
            except ConfigError as exc:
                problems.update(exc.problems)
                continue
            if value is not None:
                raw[field] = value
        values: dict[str, Any] = dict(raw)
        values.update(_typed(raw, cls.VARIABLES, problems))
        if "log_level" in raw:
            values["log_level"] = raw["log_level"].upper()
        for field in (*OPTIONAL_FIELDS, "sentry_dsn", "smtp_url"):
            if values.get(field) == "":
                values[field] = None  # an empty optional variable means "not set"
        if problems:
            raise ConfigError(problems)
        return cls(**values)

    def _problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if self.app_env not in APP_ENVS:
            problems["APP_ENV"] = f"must be one of {', '.join(APP_ENVS)}"
        problems.update(self._gateway_problems())
        if not self.database_url.strip():
            problems["DATABASE_URL"] = "must not be empty"
        if not self.media_dir.strip():
            problems["MEDIA_DIR"] = "must not be empty"
        if urlsplit(self.rate_limit_storage).scheme not in RATE_LIMIT_SCHEMES:
            problems["RATE_LIMIT_STORAGE"] = (
                f"must be a URI with one of the schemes {', '.join(RATE_LIMIT_SCHEMES)}"
            )
        if not 0 <= self.trusted_proxies <= 10:
            problems["TRUSTED_PROXIES"] = "must be 0 to 10 hops"
        if not 1 <= self.hold_minutes <= 24 * 60:
            problems["HOLD_MINUTES"] = "must be 1 to 1440 minutes"
        if not 1 <= self.limits_scale <= 10**6:
            problems["LIMITS_SCALE"] = "must be 1 to 1000000"
        if self.job_interval_seconds != 0 and not 5 <= self.job_interval_seconds <= 3600:
            problems["JOB_INTERVAL_SECONDS"] = "must be 0 (off) or 5 to 3600 seconds"
        problems.update(self._mail_problems())
        if self.log_level not in LOG_LEVELS:
            problems["LOG_LEVEL"] = f"must be one of {', '.join(LOG_LEVELS)}"
        public = urlsplit(self.public_url)
        if public.scheme not in ("http", "https") or not public.netloc:
            problems["PUBLIC_URL"] = "must be an absolute http(s) URL"
        if not self.secret_key:
            problems["SECRET_KEY"] = "must not be empty"  # noqa: S105 - a message, not a secret
        if self.is_production:
            problems.update(self._production_problems())
        problems.update(self._rate_limit_problems())
        return problems

    def _mail_problems(self) -> dict[str, str]:
        """SMTP_URL and MAIL_FROM. Production sends mail over an encrypted SMTP connection
        only (a password-reset link and the server's credentials travel in it), and never to
        the console, whose output is the logs (reset links would be readable there)."""
        problems: dict[str, str] = {}
        if not 1 <= self.notify_interval_seconds <= 3600:
            problems["NOTIFY_INTERVAL_SECONDS"] = "must be 1 to 3600 seconds"
        address = parseaddr(self.mail_from)[1]
        if "@" not in address or not self.mail_from.isprintable() or len(self.mail_from) > 254:
            problems["MAIL_FROM"] = "must be an email address, optionally with a name"
        smtp = None
        if self.smtp_url is not None:
            try:
                smtp = parse_smtp_url(self.smtp_url)
            except ValueError as exc:
                problems["SMTP_URL"] = str(exc)
        if self.is_production:
            if self.smtp_url is None:
                problems["SMTP_URL"] = (
                    "production needs a mail server; without one emails (password-reset "
                    "links) would be written to the logs"
                )
            elif smtp is not None and not smtp.encrypted:
                problems["SMTP_URL"] = (
                    "production needs TLS to the mail server: smtps://, or smtp:// with ?starttls=1"
                )
            if self.mail_from == DEV_MAIL_FROM:
                problems["MAIL_FROM"] = "is the development default; name the shop's sender"
        return problems

    def _rate_limit_problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if not 1 <= self.web_concurrency <= 64:
            problems["WEB_CONCURRENCY"] = "must be 1 to 64 processes"
        prefix = self.redis_key_prefix
        if not 1 <= len(prefix) <= 64 or not prefix.isprintable() or " " in prefix:
            problems["REDIS_KEY_PREFIX"] = "must be 1 to 64 printable characters without spaces"
        memory = urlsplit(self.rate_limit_storage).scheme == "memory"
        if self.is_production and memory and self.web_concurrency > 1:
            # Each process would count alone: N workers would allow N times every limit.
            problems["RATE_LIMIT_STORAGE"] = (
                f"memory:// counts per process, and {self.web_concurrency} processes serve "
                "(WEB_CONCURRENCY / --workers); production needs a shared store (redis://...) "
                "or a single process"
            )
        return problems

    @property
    def configured_gateways(self) -> tuple[str, ...]:
        """The real gateways whose credentials are set: the chosen one and any other, so that
        orders taken through a gateway are still refunded through it after a switch."""
        return tuple(
            name for name, fields in REQUIRED.items() if getattr(self, fields[0]) is not None
        )

    def _gateway_problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if self.payment_gateway not in GATEWAYS:
            return {"PAYMENT_GATEWAY": f"must be one of {', '.join(GATEWAYS)}"}
        chosen = {self.payment_gateway} - {"fake"}
        for gateway in chosen | set(self.configured_gateways):
            for field in REQUIRED[gateway]:
                if not getattr(self, field):
                    problems[self.VARIABLES[field]] = f"required for the {gateway} gateway"
        if self.paypal_environment not in PAYPAL_ENVIRONMENTS:
            problems["PAYPAL_ENVIRONMENT"] = f"must be one of {', '.join(PAYPAL_ENVIRONMENTS)}"
        for field in API_BASES:
            base = getattr(self, field)
            if base is not None:
                parsed = urlsplit(base)
                if parsed.scheme not in ("http", "https") or not parsed.netloc:
                    problems[self.VARIABLES[field]] = "must be an absolute http(s) URL"
        return problems

    def _production_problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        problems.update(self._weak_setting_problems())
        if self.limits_scale != 1:
            problems["LIMITS_SCALE"] = "is for load tests; production keeps the shop's own limits"
        if self.payment_gateway == "fake":
            problems["PAYMENT_GATEWAY"] = (
                "the fake gateway takes no money; production needs a real one"
            )
        for gateway in self.configured_gateways:
            for field in REQUIRED[gateway]:
                value = getattr(self, field) or ""
                live = LIVE_PREFIXES.get(field)
                if live and not value.startswith(live):
                    problems[self.VARIABLES[field]] = (
                        f"production needs a live key (starting {' or '.join(live)}), "
                        "not a test-mode one"
                    )
        if "paypal" in self.configured_gateways and self.paypal_environment != "live":
            problems["PAYPAL_ENVIRONMENT"] = "production needs PayPal's live environment"
        for field in API_BASES:
            if getattr(self, field):
                problems[self.VARIABLES[field]] = (
                    "points the payment SDK away from the provider (for tests only); unset it"
                )
        if self.is_sqlite:
            problems["DATABASE_URL"] = "production needs PostgreSQL, not SQLite"
        return problems

    def _weak_setting_problems(self) -> dict[str, str]:
        """Production: secrets that are guessable or not what their provider issues, and
        settings that would leak (plain http, debug logs)."""
        problems: dict[str, str] = {}
        weak = "is the development default" if self.secret_key == DEV_SECRET_KEY else None
        weak = weak or secret_problem(self.secret_key)
        if weak:
            problems["SECRET_KEY"] = f"{weak}; production needs a random secret ({GENERATE_HINT})"
        configured = self.configured_gateways
        if "stripe" in configured and self.stripe_webhook_secret:
            wrong = stripe_webhook_secret_problem(self.stripe_webhook_secret)
            if wrong:
                problems["STRIPE_WEBHOOK_SECRET"] = wrong
        if "paypal" in configured and self.paypal_webhook_id:
            wrong = paypal_webhook_id_problem(self.paypal_webhook_id)
            if wrong:
                problems["PAYPAL_WEBHOOK_ID"] = wrong
        if "razorpay" in configured and self.razorpay_webhook_secret:
            wrong = secret_problem(self.razorpay_webhook_secret)
            if wrong:
                problems["RAZORPAY_WEBHOOK_SECRET"] = (
                    f"{wrong}; type a random secret into Razorpay's webhook settings "
                    f"and here ({GENERATE_HINT})"
                )
        if urlsplit(self.public_url).scheme != "https":
            problems["PUBLIC_URL"] = (
                "production needs an https URL: cookies are Secure-only and HSTS is sent"
            )
        if self.log_level == "DEBUG":
            problems["LOG_LEVEL"] = (
                "DEBUG makes libraries log request details (the payment SDKs their API "
                "calls); use INFO or above in production"
            )
        return problems


def _read_variable(env: Mapping[str, str], name: str) -> str | None:
    direct = env.get(name)
    path = env.get(f"{name}_FILE")
    if direct is not None and path is not None:
        raise ConfigError({name: f"set either {name} or {name}_FILE, not both"})
    if path is None:
        return None if direct is None else direct.strip()
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError({f"{name}_FILE": f"cannot read {path}: {exc.strerror}"}) from None
