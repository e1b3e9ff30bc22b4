"""The composition root: the one module that knows every concrete adapter.

``build_container(settings)`` is called once per app instance (by ``create_app`` or a CLI command),
never at import time. The container holds long-lived, thread-safe things (the engine and its
connection pool, the gateway, the hasher) and a *factory* of units of work: each request, thread
or command gets its own ``UnitOfWork``, never a shared one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol, runtime_checkable

import attrs
from sqlalchemy.engine import Engine, make_url

from adapters.login_attempts import FallbackAttemptStore, RedisAttemptStore
from adapters.mail import ConsoleNotifier, SmtpNotifier
from adapters.media_store import FileSystemImageStore
from adapters.observability import StructlogEventSink, configure_logging, init_sentry
from adapters.passwords import Argon2PasswordHasher
from adapters.payments.fake_gateway import FakeStripeGateway
from adapters.pillow_images import PillowImageDecoder
from adapters.rate_limits import LimitsRateLimiter
from adapters.sql import SqlUnitOfWork, make_engine, normalise_url, ping, upgrade
from adapters.sql.attempts import SqlAttemptStore
from commerce_core import (
    DEFAULT_HOLD,
    DEFAULT_HOLD_LIMITS,
    SHOP_RATE_LIMITS,
    AccountPorts,
    AttemptStore,
    Clock,
    EventSink,
    GatewayEventParser,
    GatewayRegistry,
    HoldLimits,
    ImageDecoder,
    ImageStore,
    MonitoringEventSink,
    Notifier,
    PasswordHasher,
    PaymentGateway,
    PaymentPorts,
    RateLimiter,
    RateLimitPolicy,
    SystemClock,
    UnitOfWork,
)
from webapp.config import Settings
from webapp.dev_secrets import fake_gateway_webhook_secret

__all__ = [
    "Container",
    "build_attempt_store",
    "build_container",
    "build_gateways",
    "build_notifier",
    "configure_process",
    "migrate_database",
    "preload_database_driver",
    "release_uow",
    "start_background_work",
]


@attrs.frozen(kw_only=True)
class Container:
    """Everything the drivers need, wired. Tests build one from ``commerce_core.testing`` fakes."""

    new_uow: Callable[[], UnitOfWork]
    # Every configured gateway by name: new checkouts go to the default, each order's refunds,
    # cancellations and webhooks to the gateway that took its payment.
    gateways: GatewayRegistry
    # The webhook verifier of each gateway, by the same names.
    event_parsers: Mapping[str, GatewayEventParser]
    hasher: PasswordHasher
    clock: Clock
    events: EventSink
    # Login-failure counters, shared by every process (the database, or Redis when configured).
    attempts: AttemptStore
    # Readiness probe: raises if the database cannot be reached.
    ping: Callable[[], None]
    hold_for: timedelta = DEFAULT_HOLD
    # Whether catalog prices include tax (settings.prices_include_tax).
    prices_include_tax: bool = False
    # The caps on unpaid holds per account and per address.
    hold_limits: HoldLimits = DEFAULT_HOLD_LIMITS
    engine: Engine | None = None
    # Request rate limits (webapp.rate_limiting): the counters, and the table they enforce.
    rate_limiter: RateLimiter = attrs.field(factory=lambda: LimitsRateLimiter.from_uri("memory://"))
    rate_limits: RateLimitPolicy = SHOP_RATE_LIMITS
    # Where the outbox's emails go (``send_due_messages``): SMTP, or the console by default.
    notifier: Notifier = attrs.field(factory=ConsoleNotifier)
    # Product images: where they are kept (MEDIA_DIR), and what checks and cleans an upload.
    images: ImageStore = attrs.field(factory=lambda: FileSystemImageStore(Settings().media_dir))
    image_decoder: ImageDecoder = attrs.field(factory=PillowImageDecoder)

    def payment_ports(self, uow: UnitOfWork | None = None) -> PaymentPorts:
        """The ports of the payment use cases, over ``uow`` (default: a new unit of work)."""
        return PaymentPorts(
            uow=uow or self.new_uow(), gateways=self.gateways, clock=self.clock, events=self.events
        )

    def account_ports(self, uow: UnitOfWork | None = None) -> AccountPorts:
        """The ports of the account use cases, over ``uow`` (default: a new unit of work)."""
        return AccountPorts(
            uow=uow or self.new_uow(),
            hasher=self.hasher,
            clock=self.clock,
            events=self.events,
            attempts=self.attempts,
        )

    def close(self) -> None:
        """Release pooled connections (tests and CLI commands end with this)."""
        if self.engine is not None:
            self.engine.dispose()
        if isinstance(self.rate_limiter, _Closable):
            self.rate_limiter.close()

    @contextmanager
    def closing_uows(self) -> Iterator[Container]:
        """This container, except that every unit of work it makes is closed when the block
        ends (a CLI command's)."""
        made: list[UnitOfWork] = []

        def new_uow() -> UnitOfWork:
            uow = self.new_uow()
            made.append(uow)
            return uow

        try:
            yield attrs.evolve(self, new_uow=new_uow)
        finally:
            for uow in made:
                release_uow(uow)


@runtime_checkable
class _Closable(Protocol):
    def close(self) -> None: ...


def release_uow(uow: UnitOfWork) -> None:
    """Give back what ``uow`` holds between its transactions (``SqlUnitOfWork`` keeps a pooled
    connection). The port has no ``close``: units of work that hold nothing need none."""
    if isinstance(uow, _Closable):
        uow.close()


def build_container(settings: Settings) -> Container:
    """Wire the real adapters for ``settings``."""
    engine = make_engine(settings.database_url)
    gateways = build_gateways(settings, engine)
    default = gateways[settings.payment_gateway]
    others = [gateway for name, gateway in gateways.items() if name != default.name]

    def new_uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    def ping_database() -> None:
        ping(engine)

    clock = SystemClock()
    attempts = build_attempt_store(settings, engine)
    # The suspicious activity monitor sees every event on its way to the logs; it counts in
    # the lockout's shared store and stores its alerts with the others (each unit of work it
    # makes goes back to the pool when dropped).
    events = MonitoringEventSink(
        StructlogEventSink(), attempts=attempts, new_uow=new_uow, clock=clock
    )
    return Container(
        new_uow=new_uow,
        gateways=GatewayRegistry(default, *others),
        event_parsers=gateways,
        hasher=Argon2PasswordHasher(),
        clock=clock,
        events=events,
        ping=ping_database,
        attempts=attempts,
        hold_for=timedelta(minutes=settings.hold_minutes),
        prices_include_tax=settings.prices_include_tax,
        hold_limits=DEFAULT_HOLD_LIMITS.scaled(settings.limits_scale),
        rate_limits=SHOP_RATE_LIMITS.scaled(settings.limits_scale),
        engine=engine,
        rate_limiter=LimitsRateLimiter.from_uri(
            settings.rate_limit_storage, key_prefix=settings.redis_key_prefix
        ),
        notifier=build_notifier(settings),
        images=FileSystemImageStore(settings.media_dir),
    )


def build_notifier(settings: Settings) -> Notifier:
    """SMTP when ``SMTP_URL`` is set (production requires it), else the console."""
    if settings.smtp_url is None:
        return ConsoleNotifier()
    return SmtpNotifier.from_url(settings.smtp_url, sender=settings.mail_from)


# Redis URLs redis-py opens directly; sentinel and cluster deployments keep the lockout counters
# in the database (they are few and small) while the rate limits use Redis.
_DIRECT_REDIS = {"redis": "redis", "rediss": "rediss", "redis+unix": "unix"}


def build_attempt_store(settings: Settings, engine: Engine) -> AttemptStore:
    """The lockout's counters: in Redis when ``RATE_LIMIT_STORAGE`` names one redis-py can open
    directly (with the database behind it for outages), else in the database."""
    in_database = SqlAttemptStore(engine)
    scheme, sep, rest = settings.rate_limit_storage.partition("://")
    if scheme not in _DIRECT_REDIS or not sep:
        return in_database
    url = f"{_DIRECT_REDIS[scheme]}://{rest}"
    redis_store = RedisAttemptStore.from_url(url, prefix=settings.redis_key_prefix)
    return FallbackAttemptStore(redis_store, in_database)


class _Gateway(PaymentGateway, GatewayEventParser, Protocol):
    """A payment provider's adapter: it moves money and verifies its own webhooks."""


def build_gateways(settings: Settings, engine: Engine) -> dict[str, _Gateway]:
    """Every gateway the settings configure, by name: the chosen one, any other real one whose
    credentials are set (orders taken through it still go to it), and outside production the
    fake one (orders taken with it while developing)."""
    gateways: dict[str, _Gateway] = {}
    if not settings.is_production:
        gateways["fake"] = FakeStripeGateway(
            engine,
            # STRIPE_WEBHOOK_SECRET if set, else one generated for this install, never a constant.
            webhook_secret=fake_gateway_webhook_secret(settings),
            webhook_url=f"{settings.public_url}/api/payments/webhook/fake",
        )
    # Each provider's SDK is imported only when the shop uses it: together they cost about
    # 0.6 s and 60 MiB per process, which a shop on one gateway should not pay for the others.
    if settings.stripe_secret_key is not None:  # Settings checked the rest comes with it
        from adapters.payments.stripe_gateway import StripeGateway

        gateways["stripe"] = StripeGateway(
            secret_key=settings.stripe_secret_key,
            webhook_secret=settings.stripe_webhook_secret or "",
            api_base=settings.stripe_api_base,
        )
    if settings.paypal_client_id is not None:  # the adapter refuses a missing secret or id
        from adapters.payments.paypal import PayPalGateway

        gateways["paypal"] = PayPalGateway(
            client_id=settings.paypal_client_id,
            client_secret=settings.paypal_client_secret or "",
            webhook_id=settings.paypal_webhook_id or "",
            environment=settings.paypal_environment,
            base_url=settings.paypal_api_base,
        )
    if settings.razorpay_key_id is not None:  # the adapter refuses a missing secret
        from adapters.payments.razorpay import RazorpayGateway

        gateways["razorpay"] = RazorpayGateway(
            key_id=settings.razorpay_key_id,
            key_secret=settings.razorpay_key_secret or "",
            webhook_secret=settings.razorpay_webhook_secret or "",
            base_url=settings.razorpay_api_base,
        )
    return gateways


def configure_process(settings: Settings) -> None:
    """Process-wide set-up: structured logging and, when configured, Sentry (no PII, no
    request bodies, no local variables, every event scrubbed)."""
    configure_logging(json=settings.log_json, level=settings.log_level)
    if settings.sentry_dsn:
        init_sentry(settings.sentry_dsn, environment=settings.app_env)


def preload_database_driver(settings: Settings) -> None:
    """Import the DB-API driver (psycopg takes ~0.6 s) without connecting: a pre-fork server
    calls this in its master so that workers boot, and answer, at once."""
    make_url(normalise_url(settings.database_url)).get_dialect().import_dbapi()


def start_background_work(container: Container) -> None:
    """Threads a serving process runs besides requests (not tests, not CLI commands).

    The fake gateway keeps its webhooks in an outbox; delivering them from every worker, as
    Stripe would, exercises the real webhook path. Two workers may deliver an event twice;
    the webhook handler dedupes by event id, exactly as it must for Stripe.
    """
    for gateway in map(container.gateways.get, container.gateways.names):
        if isinstance(gateway, FakeStripeGateway) and gateway.webhook_url:
            gateway.start_delivery_thread()


def migrate_database(settings: Settings) -> None:
    """Bring the schema up to date (Alembic migrations, in one transaction)."""
    upgrade(settings.database_url)
