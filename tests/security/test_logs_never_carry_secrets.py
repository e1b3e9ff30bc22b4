"""A failing SQL statement's values - the parameters, and the row PostgreSQL quotes back in its
``DETAIL`` - reach neither a log line (JSON or console, traceback included) nor a Sentry event,
on SQLite and PostgreSQL, through the real app, logging and Sentry client."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
import structlog
from flask import Flask, Response
from flask.testing import FlaskClient
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport
from sqlalchemy import insert, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.types import Integer

from adapters.observability import configure_logging, init_sentry
from adapters.sql.tables import users
from tests.security.web_app import running_app
from webapp.bootstrap import Container
from webapp.config import Settings

# Canaries: each appears in exactly one place of a failing statement.
KEY = "canary-key-7f3a9c2e51d04b8e"  # a primary key: PostgreSQL quotes it in DETAIL
HASH = "canary-hash-c0ffee5ba11ad"  # a bound parameter only
ROW = "canary-row-d15ea5e0b5e55"  # a column of the row PostgreSQL prints in DETAIL
INPUT = "canary-input-feedface42"  # an input PostgreSQL quotes in its primary message
CANARIES = (KEY, HASH, ROW, INPUT)
DSN = "https://public@sentry.example.invalid/1"


class RecordingTransport(Transport):
    """Sentry's transport, keeping every envelope in memory instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def payloads(self) -> str:
        return "\n".join(
            item.payload.get_bytes().decode("utf-8", "replace")
            for envelope in self.envelopes
            for item in envelope.items
        )

    def exception_types(self) -> set[str]:
        events = [envelope.get_event() for envelope in self.envelopes]
        return {
            value["type"]
            for event in events
            if event is not None
            for value in event.get("exception", {}).get("values", [])
        }


def _user_row(**values: Any) -> dict[str, Any]:
    return {
        "id": KEY,
        "email": "someone@example.com",
        "name": "Someone",
        "password_hash": HASH,
        "role": "customer",
        "is_active": True,
        "created_at": datetime.now(UTC),
        **values,
    }


def _duplicate_key(connection: Connection) -> None:
    connection.execute(insert(users).values(_user_row()))
    connection.execute(insert(users).values(_user_row(email="other@example.com")))


def _null_in_a_row(connection: Connection) -> None:
    connection.execute(insert(users).values(_user_row(email=ROW, name=None)))


def _input_of_the_wrong_type(connection: Connection) -> None:
    connection.execute(select(literal(INPUT).cast(Integer)))


STATEMENTS: dict[str, Callable[[Connection], None]] = {
    "unique violation": _duplicate_key,
    "not-null violation": _null_in_a_row,
    "invalid input": _input_of_the_wrong_type,
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def shop(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Flask, Container]]:
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        request.getfixturevalue("pg_engine")  # an emptied, migrated database
        url = request.getfixturevalue("pg_url")
    with running_app(Settings(app_env="test", database_url=url)) as running:
        yield running


@pytest.fixture
def client(shop: tuple[Flask, Container]) -> FlaskClient:
    app, container = shop
    engine = container.engine
    assert engine is not None  # the real engine, as make_engine configures it

    def run(kind: str) -> Response:
        with engine.begin() as connection:
            STATEMENTS[kind](connection)
        return Response(status=204)

    # The same failure in the API (problem JSON) and on a page (HTML error page).
    app.add_url_rule("/api/test/statement/<kind>", "api_statement", run)
    app.add_url_rule("/test/statement/<kind>", "page_statement", run)
    return app.test_client()


@pytest.fixture
def sentry() -> Iterator[RecordingTransport]:
    transport = RecordingTransport()
    init_sentry(DSN, "test", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # an inactive client: nothing is sent by later tests


@pytest.fixture
def logs() -> Iterator[Callable[[bool], io.StringIO]]:
    """``logs(json)``: the real logging configuration, writing into a buffer."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def configure(json_lines: bool) -> io.StringIO:
        buffer = io.StringIO()
        configure_logging(json=json_lines, level="INFO", stream=buffer)
        return buffer

    yield configure
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _fails_as_expected(database: str, kind: str) -> None:
    if kind == "invalid input" and database == "sqlite":
        pytest.skip("SQLite casts any text to an integer without an error")


@pytest.mark.parametrize("kind", STATEMENTS)
@pytest.mark.parametrize("prefix", ["/api", ""], ids=["api", "page"])
def test_a_failing_statement_leaves_no_value_in_logs_or_sentry(
    client: FlaskClient,
    sentry: RecordingTransport,
    logs: Callable[[bool], io.StringIO],
    database: str,
    kind: str,
    prefix: str,
) -> None:
    _fails_as_expected(database, kind)
    log = logs(True)

    response = client.get(f"{prefix}/test/statement/{kind}")
    sentry_sdk.flush()

    assert response.status_code == 500
    text = log.getvalue()
    reported = sentry.payloads()
    for canary in CANARIES:
        assert canary not in response.get_data(as_text=True)
        assert canary not in text, canary
        assert canary not in reported, canary
    # What was logged and reported is still useful: the exception, its class and the table.
    (line,) = [json.loads(line) for line in text.splitlines() if '"unhandled_exception"' in line]
    chain = line["exception"]
    assert {"IntegrityError", "DataError"} & {entry["exc_type"] for entry in chain}
    assert "[SQL: " in chain[0]["exc_value"]
    assert {"IntegrityError", "DataError"} & sentry.exception_types()


@pytest.mark.parametrize("kind", ["unique violation", "not-null violation"])
def test_the_console_traceback_withholds_them_too(
    client: FlaskClient, logs: Callable[[bool], io.StringIO], kind: str
) -> None:
    log = logs(False)

    client.get(f"/api/test/statement/{kind}")

    text = log.getvalue()
    assert "Traceback" in text
    assert "IntegrityError" in text
    for canary in CANARIES:
        assert canary not in text, canary
