"""The contract every route shares: problem details, media types, request ids, request logs."""

from __future__ import annotations

import io
import json
from typing import Any

import attrs
from flask import Flask, got_request_exception
from flask.testing import FlaskClient
from sqlalchemy import event

from adapters.observability import configure_logging
from adapters.sql import SqlUnitOfWork
from commerce_core import UnitOfWork
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from tests.webapp.conftest import Catalog
from webapp.app import create_app
from webapp.bootstrap import Container
from webapp.config import Settings


def test_a_text_plain_body_is_415_even_with_a_valid_csrf_token(
    shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()

    response = shopper.client.post(
        "/api/checkout/intent",
        data=f'{{"items": [{{"product_id": "{catalog.mug}", "quantity": 1}}]}}',
        headers={"Content-Type": "text/plain", "X-CSRF-Token": shopper.csrf()},
    )

    assert_problem(response, 415, "unsupported_media_type")
    assert shopper.get("/api/orders").get_json()["total"] == 0


def test_malformed_json_is_400(shopper: Shopper) -> None:
    response = shopper.client.post(
        "/api/auth/login",
        data='{"email": "a@example.com", ',
        headers={"Content-Type": "application/json", "X-CSRF-Token": shopper.csrf()},
    )

    assert_problem(response, 400, "malformed_json")


def test_json_that_is_not_an_object_is_422(shopper: Shopper) -> None:
    response = shopper.post("/api/auth/login", ["a@example.com", PASSWORD])

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"] == [{"field": "body", "message": "must be a JSON object"}]


def test_nan_is_not_json(shopper: Shopper) -> None:
    response = shopper.client.post(
        "/api/auth/login",
        data='{"email": NaN, "password": "x"}',
        headers={"Content-Type": "application/json", "X-CSRF-Token": shopper.csrf()},
    )

    assert_problem(response, 400, "malformed_json")


def test_a_body_over_64_kib_is_413(shopper: Shopper) -> None:
    response = shopper.post("/api/auth/login", {"email": "a@example.com", "password": "x" * 70_000})

    assert_problem(response, 413, "payload_too_large")


def test_an_unknown_route_is_a_404_problem_not_html(app_client: FlaskClient) -> None:
    assert_problem(app_client.get("/api/nope"), 404, "not_found")


def test_a_wrong_method_is_405_with_allow(app_client: FlaskClient) -> None:
    response = app_client.get("/api/checkout/intent")

    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_exception_is_a_500_problem_with_an_error_id_and_no_traceback(
    settings: Settings, container: Container
) -> None:
    def exploding_uow() -> UnitOfWork:
        raise RuntimeError("connection string postgres://secret@db leaked?")

    app = create_app(settings, container=attrs.evolve(container, new_uow=exploding_uow))
    buffer = io.StringIO()
    configure_logging(json=True, level="INFO", stream=buffer)
    signalled: list[BaseException] = []

    def monitor(_sender: Flask, exception: BaseException, **_: Any) -> None:
        signalled.append(exception)  # what Sentry's Flask integration listens to

    with got_request_exception.connected_to(monitor, app):
        response = app.test_client().get("/api/products")

    problem = assert_problem(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "secret" not in text
    assert "RuntimeError" not in text
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    (logged,) = [line for line in lines if line["event"] == "unhandled_exception"]
    assert logged["error_id"] == problem["error_id"]
    assert logged["request_id"] == response.headers["X-Request-ID"]
    (exception,) = logged["exception"]  # the traceback, as structured data, in the log only
    assert exception["exc_type"] == "RuntimeError"
    assert exception["frames"]
    assert [type(e) for e in signalled] == [RuntimeError]


def test_every_response_carries_a_request_id_and_a_good_incoming_one_is_kept(
    app_client: FlaskClient,
) -> None:
    kept = app_client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c2e-0001"})
    fresh = app_client.get("/api/nope")
    junk = app_client.get("/healthz", headers={"X-Request-ID": "x" * 500})

    assert kept.headers["X-Request-ID"] == "lb-7f3a9c2e-0001"
    assert len(fresh.headers["X-Request-ID"]) == 32
    assert junk.headers["X-Request-ID"] != "x" * 500


def test_each_request_logs_one_json_line_without_secrets(shopper: Shopper, log_lines: Any) -> None:
    shopper.csrf()
    response = shopper.post(
        "/api/auth/register",
        {"email": "private.person@example.com", "password": PASSWORD, "name": "Pat"},
    )
    me = shopper.get("/api/auth/me?token=QUERY-SECRET")

    logs = log_lines()
    requests = [entry for entry in logs if entry["event"] == "request"]
    assert [entry["path"] for entry in requests] == [
        "/api/auth/csrf",
        "/api/auth/register",
        "/api/auth/me",
    ]
    _, register_line, me_line = requests
    assert register_line["request_id"] == response.headers["X-Request-ID"]
    assert register_line["method"] == "POST"
    assert register_line["status"] == 201
    assert register_line["duration_ms"] >= 0
    assert register_line["user_id"] == me_line["user_id"] == me.get_json()["user"]["id"]
    everything = repr(logs)
    session = shopper.client.get_cookie("session")
    assert session is not None
    for secret in (
        PASSWORD,
        "private.person@example.com",
        session.value,
        shopper.csrf(),
        "QUERY-SECRET",
    ):
        assert secret not in everything


def test_api_answers_are_not_cached_unless_the_catalog_says_so(
    shopper: Shopper, catalog: Catalog
) -> None:
    shopper.register()

    assert shopper.get("/api/auth/me").headers["Cache-Control"] == "no-store"
    assert "public" in shopper.get("/api/products").headers["Cache-Control"]
    assert shopper.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"


def test_liveness_touches_nothing_and_readiness_pings_the_database(
    settings: Settings, container: Container, app: Flask
) -> None:
    def database_down() -> None:
        raise ConnectionError("no route to database")

    broken = create_app(settings, container=attrs.evolve(container, ping=database_down))

    assert app.test_client().get("/readyz").get_json()["status"] == "ready"
    assert broken.test_client().get("/healthz").status_code == 200
    response = broken.test_client().get("/readyz")
    assert_problem(response, 503, "not_ready")
    assert "no route" not in response.get_data(as_text=True)


def test_product_images_are_served_as_static_files(app_client: FlaskClient) -> None:
    response = app_client.get("/static/products/ceramic-mug.svg")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    response.close()


def test_every_request_gives_its_database_connection_back_even_when_it_fails(
    settings: Settings, container: Container, catalog: Catalog
) -> None:
    """A request's unit of work keeps one pooled connection across its transactions; the
    request's end returns it - after a success, a refusal and an unexpected error alike."""
    assert container.engine is not None
    engine = container.engine

    class FailingAfterItsFirstTransaction(SqlUnitOfWork):
        def __exit__(self, *exc: Any) -> None:
            super().__exit__(*exc)
            raise RuntimeError("boom")  # the connection stays checked out, the view fails

    made = [0]

    def failing_after_use() -> UnitOfWork:
        made[0] += 1
        return FailingAfterItsFirstTransaction(engine) if made[0] == 3 else container.new_uow()

    app = create_app(settings, container=attrs.evolve(container, new_uow=failing_after_use))
    pool: Any = engine.pool
    shopper = Shopper(app.test_client())
    checkouts = [0]
    event.listen(engine, "checkout", lambda *_: checkouts.__setitem__(0, checkouts[0] + 1))

    shopper.register()
    assert pool.checkedout() == 0
    before = checkouts[0]
    shopper.intent(catalog.mug)  # session lookup, hold, intent: three transactions
    assert pool.checkedout() == 0
    # One checkout (one pre-ping on PostgreSQL) for the request's unit of work, whatever its
    # number of transactions, and one for the fake gateway's own transaction.
    assert checkouts[0] - before == 2
    assert_problem(shopper.get("/api/orders/ord_nope"), 500, "internal_error")
    assert pool.checkedout() == 0
    assert_problem(shopper.get("/api/products/nope?x=1"), 404, "not_found")
    assert pool.checkedout() == 0
