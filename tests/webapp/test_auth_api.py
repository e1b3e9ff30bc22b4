"""Accounts and sessions over HTTP: cookies, new session ids, logout, identical login failures."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from commerce_core import UnitOfWork
from tests.webapp.browser import PASSWORD, Shopper, assert_problem
from webapp.bootstrap import Container


def _set_cookie_headers(response: Any) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_registering_signs_in_with_strict_httponly_session_and_readable_csrf_cookies(
    shopper: Shopper,
) -> None:
    shopper.csrf()
    response = shopper.post(
        "/api/auth/register",
        {"email": " Sam@Example.COM ", "password": PASSWORD, "name": "Sam", "role": "admin"},
    )

    assert response.status_code == 201
    user = response.get_json()["user"]
    assert user["email"] == "sam@example.com"
    assert user["role"] == "customer"  # a client cannot choose its role
    cookies = _set_cookie_headers(response)
    assert "HttpOnly" in cookies["session"]
    assert "SameSite=Strict" in cookies["session"]
    assert "Path=/" in cookies["session"]
    assert "HttpOnly" not in cookies["csrf_token"]
    assert "SameSite=Strict" in cookies["csrf_token"]
    assert shopper.get("/api/auth/me").get_json()["user"]["id"] == user["id"]


def test_every_login_issues_a_new_session_id_and_a_new_csrf_token(shopper: Shopper) -> None:
    email = shopper.register()["email"]
    first_session = shopper.client.get_cookie("session")
    assert first_session is not None
    first = first_session.value

    response = shopper.log_in(email)

    assert response.status_code == 200
    second_session = shopper.client.get_cookie("session")
    assert second_session is not None
    assert second_session.value != first
    cookies = _set_cookie_headers(response)
    assert "csrf_token" in cookies
    # The session the browser held before is over on the server too.
    stale = Shopper(shopper.client.application.test_client())
    stale.client.set_cookie("session", first)
    assert_problem(stale.get("/api/auth/me"), 401, "unauthenticated")


def test_a_session_cookie_replayed_after_logout_is_rejected(
    shopper: Shopper, app_client: FlaskClient
) -> None:
    shopper.register()
    cookie = shopper.client.get_cookie("session")
    assert cookie is not None
    stolen = cookie.value

    logout = shopper.post("/api/auth/logout")

    assert logout.status_code == 204
    assert shopper.client.get_cookie("session") is None
    assert shopper.client.get_cookie("csrf_token") is None
    app_client.set_cookie("session", stolen)
    assert_problem(app_client.get("/api/auth/me"), 401, "unauthenticated")


def test_unknown_email_wrong_password_and_disabled_account_fail_identically(
    shopper: Shopper, new_shopper: Any, container: Container
) -> None:
    active = shopper.register()["email"]
    disabled = new_shopper().register()["email"]
    uow: UnitOfWork = container.new_uow()
    with uow:
        user = uow.users.get_by_email(disabled)
        assert user is not None
        user.is_active = False
        uow.users.save(user)
        uow.commit()

    stranger = new_shopper()
    answers = [
        stranger.log_in("nobody@example.com"),
        stranger.log_in(active, "the wrong passphrase"),
        stranger.log_in(disabled),
    ]

    for answer in answers:
        assert_problem(answer, 401, "invalid_credentials")
    assert len({answer.get_data() for answer in answers}) == 1
    assert stranger.client.get_cookie("session").value.startswith("anon_")


def test_registering_a_taken_email_answers_as_a_new_one_and_signs_nobody_in(
    shopper: Shopper, new_shopper: Any
) -> None:
    email = shopper.register()["email"]
    other = new_shopper()

    response = other.post(
        "/api/auth/register", {"email": email, "password": PASSWORD, "name": "Other"}
    )

    # Shaped like any registration (tests/security has the byte-by-byte comparison) ...
    assert response.status_code == 201
    assert response.get_json()["user"]["email"] == email
    # ... but it signed nobody in, and the owner's account is untouched.
    assert other.get("/api/auth/me").status_code == 401
    assert shopper.get("/api/auth/me").get_json()["user"]["name"] != "Other"


def test_registration_input_is_validated_field_by_field(shopper: Shopper) -> None:
    response = shopper.post(
        "/api/auth/register", {"email": "not-an-email", "password": "short", "name": ""}
    )

    problem = assert_problem(response, 422, "validation_error")
    assert {e["field"] for e in problem["errors"]} == {"email", "password", "name"}
    assert all(e["message"] for e in problem["errors"])


def test_registration_fields_of_the_wrong_type_are_422(shopper: Shopper) -> None:
    response = shopper.post("/api/auth/register", {"email": ["a@b.co"], "password": 123456789012})

    problem = assert_problem(response, 422, "validation_error")
    assert {e["field"] for e in problem["errors"]} == {"email", "password", "name"}


def test_customer_routes_without_a_session_are_401(app_client: FlaskClient) -> None:
    for path in ("/api/auth/me", "/api/orders", "/api/orders/ord_x"):
        assert_problem(app_client.get(path), 401, "unauthenticated")


def test_the_csrf_endpoint_sets_a_pre_login_id_and_a_readable_token(
    app_client: FlaskClient,
) -> None:
    response = app_client.get("/api/auth/csrf")

    assert response.status_code == 200
    token = response.get_json()["csrf_token"]
    cookie = app_client.get_cookie("csrf_token")
    assert cookie is not None
    assert cookie.value == token
    session = app_client.get_cookie("session")
    assert session is not None
    assert session.value.startswith("anon_")
    assert response.headers["Cache-Control"] == "no-store"
