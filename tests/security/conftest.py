"""A whole shop on a real database (SQLite and PostgreSQL), ready to be attacked.

``attack_shop`` holds a staff account signed in (its session and CSRF token), an anonymous visitor's
CSRF binding, a paid order, an open checkout intent, and knows, for every operation of the
served OpenAPI document, a request that would succeed - so that a test can change exactly one
place of it and see what that alone does. Rate limits are off here: these tests are about what
the routes do with what they read, and a 429 in front of every route would hide it (the limits
have tests of their own).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from flask import Flask
from sqlalchemy import MetaData, Table, func, select

from adapters.passwords import Argon2PasswordHasher
from adapters.payments.stripe_wire import sign_payload
from commerce_core import (
    Money,
    NewProduct,
    RateLimitPolicy,
    Register,
    Role,
    configure_shipping,
    create_staff_user,
    get_product,
    stock_catalog,
)
from tests.security.hostile import HostileRequest
from tests.security.openapi_operations import Operation, Target, resolve
from tests.support.shipping import FREE_DOMESTIC, METHOD, US_ADDRESS
from tests.webapp.browser import PASSWORD, Shopper
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings
from webapp.sessions import CookiePolicy

STAFF_EMAIL = "staff@example.com"
WEBHOOK_SECRET = "whsec_" + "hostile-input-tests" * 2
STOCK = 100_000
# What a refused request must leave as it was. Not the audit log or the login-failure
# counters: recording a refusal there is their purpose.
WATCHED_TABLES = (
    "products",
    "orders",
    "order_lines",
    "refunds",
    "idempotency_records",
    "processed_events",
)
COOKIES = CookiePolicy(secure=False)
SCHEMATHESIS_REQUESTS = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say how many requests schemathesis made, in every run's output (not only with -rA):
    a fuzzer that quietly sent nothing must not look like one that found nothing."""
    count = config.stash.get(SCHEMATHESIS_REQUESTS, None)
    if count is not None:
        terminalreporter.write_line(f"schemathesis: {count} requests against the OpenAPI document")


# Named apart from the webapp's ``settings``/``container``/``app``: other modules of this
# directory build their shops their own way.
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def attack_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        request.getfixturevalue("pg_engine")  # an emptied, migrated database
        url = request.getfixturevalue("pg_url")
    # A known secret, to sign webhooks as the gateway does and reach the parser behind them.
    return Settings(app_env="test", database_url=url, stripe_webhook_secret=WEBHOOK_SECRET)


@pytest.fixture
def database(attack_settings: Settings) -> str:
    return "postgres" if attack_settings.database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def attack_container(attack_settings: Settings) -> Iterator[Container]:
    migrate_database(attack_settings)
    container = attrs.evolve(
        build_container(attack_settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        rate_limits=RateLimitPolicy({}),
    )
    yield container
    container.close()


@pytest.fixture
def attack_app(attack_settings: Settings, attack_container: Container) -> Flask:
    return create_app(attack_settings, container=attack_container)


@attrs.define
class Identity:
    session: str
    csrf: str


@attrs.define
class SecurityShop:
    app: Flask
    container: Container
    settings: Settings
    mug: str
    staff_user_id: str
    staff: Identity
    anonymous: Identity
    paid_order_id: str
    open_intent_id: str
    _document: dict[str, Any] | None = None
    _watched: list[Table] | None = None

    def fresh_staff(self) -> Identity:
        """The staff account's session, signed in anew if a request ended it (a logout)."""
        probe = self.app.test_client(use_cookies=False)
        cookie = f"{COOKIES.session_name}={self.staff.session}"
        if probe.get("/api/auth/me", headers={"Cookie": cookie}).status_code != 200:
            browser = Shopper(self.app.test_client())
            signed_in = browser.log_in(STAFF_EMAIL)
            assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
            self.staff = _identity(browser.client)
        return self.staff

    def staff_browser(self) -> Shopper:
        """A browser of its own holding the staff account's session."""
        client = self.app.test_client()
        client.set_cookie(COOKIES.session_name, self.staff.session)
        client.set_cookie(COOKIES.csrf_name, self.staff.csrf)
        return Shopper(client)

    def document(self) -> dict[str, Any]:
        """The OpenAPI document as served."""
        if self._document is None:
            response = self.app.test_client().get("/api/openapi.json")
            assert response.status_code == 200
            self._document = cast(dict[str, Any], response.get_json())
        return self._document

    def known_values(self) -> dict[str, Any]:
        """Valid values by field name; a fresh email each time, so a registration can succeed
        and no account's failure counters fill up."""
        return {
            "email": f"visitor-{secrets.token_hex(6)}@example.com",
            "password": PASSWORD,
            "name": "Ada",
            "items": [{"product_id": self.mug, "quantity": 1}],
            "shipping_address": US_ADDRESS,
            "shipping_method": METHOD,
            "line1": US_ADDRESS["line1"],
            "city": US_ADDRESS["city"],
            "postal_code": US_ADDRESS["postal_code"],
            "region": US_ADDRESS["region"],
            "country": US_ADDRESS["country"],
            "product_id": self.mug,
            "quantity": 1,
            "intent_id": self.open_intent_id,
            "payment_method": "pm_card_visa",
            "order_id": self.paid_order_id,
            "amount": 1,
            "reason": "arrived broken",
            "currency": "USD",
            "slug": "mug",
            "gateway": "fake",
            "Idempotency-Key": f"key-{secrets.token_hex(8)}",
        }

    def baseline(self, operation: Operation) -> HostileRequest:
        """A request to ``operation`` that the shop would accept (the staff account's session
        where one is needed, an anonymous visitor's CSRF binding otherwise)."""
        known = self.known_values()
        request = HostileRequest(operation.method.upper(), operation.path)
        for parameter in operation.parameters:
            if parameter.required:
                value = known.get(parameter.name, "x")
                request.put(Target(parameter.location, parameter.name), value)
        identity = self.staff if operation.needs_session else self.anonymous
        request.cookies = {COOKIES.session_name: identity.session, COOKIES.csrf_name: identity.csrf}
        for header in operation.security_headers():
            request.headers.setdefault(header, identity.csrf)
        if operation.body_schema is not None:
            request.has_body = True
            request.body = self._value(operation.body_schema, known)
            if self.signature_header(operation) is not None:
                request.body = self.ignored_gateway_event()
        return request

    def _value(self, schema: Mapping[str, Any], known: Mapping[str, Any]) -> Any:
        schema = resolve(self.document(), schema)
        if "oneOf" in schema:
            return self._value(schema["oneOf"][0], known)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next(k for k in kind if k != "null")
        if kind == "object" or "properties" in schema:
            required = set(schema.get("required", ()))
            return {
                name: known[name] if name in known else self._value(sub, known)
                for name, sub in schema.get("properties", {}).items()
                if name in required or name in known
            }
        if kind == "array":
            return [self._value(schema.get("items", {}), known)]
        if kind == "integer":
            return max(1, int(schema.get("minimum", 1)))
        if kind == "boolean":
            return True
        return "x"

    def signature_header(self, operation: Operation) -> str | None:
        """The header a gateway signs its webhook with, if ``operation`` is a webhook."""
        headers = [h for h in operation.security_headers() if h.lower().endswith("signature")]
        return headers[0] if headers else None

    def ignored_gateway_event(self) -> dict[str, Any]:
        """A Stripe-shaped event of a type the shop does not act on (answered 200 ignored)."""
        return {
            "id": f"evt_{secrets.token_hex(8)}",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "data": {"object": {"object": "customer", "id": "cus_1"}},
        }

    def sign(self, operation: Operation, target: Target, request: HostileRequest) -> None:
        """Sign the body as the gateway would - unless the signature is what is attacked - so
        that a hostile body gets past the signature to the event parser."""
        header = self.signature_header(operation)
        if header is None or (target.location == "header" and target.name == header):
            return
        body = request.raw.data if request.raw is not None else request.body_bytes()
        request.headers[header] = sign_payload(body, WEBHOOK_SECRET, int(time.time()))

    def snapshot(self) -> dict[str, Any]:
        """The rows a refused request must not change, and how many accounts there are."""
        engine = self.container.engine
        assert engine is not None
        if self._watched is None:
            schema = MetaData()
            schema.reflect(engine, only=[*WATCHED_TABLES, "users"])
            self._watched = [schema.tables[name] for name in (*WATCHED_TABLES, "users")]
        state: dict[str, Any] = {}
        with engine.connect() as connection:
            for table in self._watched:
                if table.name == "users":
                    count = select(func.count()).select_from(table)
                    state["users"] = connection.execute(count).scalar()
                    continue
                rows = connection.execute(select(table)).all()
                state[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return state


def _identity(client: Any, csrf: str | None = None) -> Identity:
    session = client.get_cookie(COOKIES.session_name)
    token = csrf or client.get_cookie(COOKIES.csrf_name).value
    return Identity(session=session.value, csrf=token)


@pytest.fixture
def attack_shop(
    attack_app: Flask, attack_container: Container, attack_settings: Settings
) -> SecurityShop:
    app, container, settings = attack_app, attack_container, attack_settings
    configure_shipping(container.new_uow(), FREE_DOMESTIC)
    stock_catalog(
        container.new_uow(),
        container.clock,
        [NewProduct("mug", "Mug", "A mug.", Money(1800, "USD"), "/static/m.svg", STOCK)],
    )
    staff_user = create_staff_user(
        Register(email=STAFF_EMAIL, password=PASSWORD, name="Ada", role=Role.ADMIN),
        uow=container.new_uow(),
        hasher=container.hasher,
        clock=container.clock,
        events=container.events,
    )
    staff = Shopper(app.test_client())
    signed_in = staff.log_in(STAFF_EMAIL)
    assert signed_in.status_code == 200, signed_in.get_data(as_text=True)
    mug = get_product(container.new_uow(), "mug").id
    paid = staff.buy(mug, 2)
    open_intent = staff.intent(mug)
    visitor = app.test_client()
    token = visitor.get("/api/auth/csrf").get_json()["csrf_token"]
    return SecurityShop(
        app=app,
        container=container,
        settings=settings,
        mug=mug,
        staff_user_id=staff_user.id,
        staff=_identity(staff.client),
        anonymous=_identity(visitor, token),
        paid_order_id=paid["id"],
        open_intent_id=open_intent["intent_id"],
    )
