"""Every response - page, JSON, static file, redirect, error, refusal, ``abort`` - carries the
security headers; HTML gets the page policy, everything else ``default-src 'none'``; HSTS is
sent in production only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, abort
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.security.production import PRODUCTION_ENV
from tests.security.web_app import running_app
from webapp.app import create_app
from webapp.bootstrap import Container
from webapp.config import Settings

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PAGE_DIRECTIVES = {
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
}
RESOURCE_DIRECTIVES = {"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"}
DENIED_FEATURES = ("camera=()", "microphone=()", "geolocation=()")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(app_env="test", database_url=f"sqlite:///{tmp_path / 'shop.db'}")


@pytest.fixture
def shop(settings: Settings) -> Iterator[tuple[Flask, Container]]:
    with running_app(settings) as running:
        yield running


@pytest.fixture
def app(shop: tuple[Flask, Container]) -> Flask:
    return shop[0]


@pytest.fixture
def container(shop: tuple[Flask, Container]) -> Container:
    return shop[1]


def _explode() -> Response:
    raise RuntimeError("an unexpected failure")


def _abort_with_status() -> Response:
    abort(409)


def _abort_with_response() -> Response:
    abort(Response("I'm a teapot", status=418, mimetype="text/plain"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    # Views that fail on purpose, as a bug or an abort() somewhere would.
    for path, view in (
        ("/api/test/explode", _explode),
        ("/test/explode", _explode),
        ("/api/test/abort", _abort_with_status),
        ("/test/abort", _abort_with_status),
        ("/test/abort-response", _abort_with_response),
    ):
        app.add_url_rule(path, path, view)
    return app.test_client()


Request = Callable[[FlaskClient], TestResponse]


def _csrf(client: FlaskClient) -> str:
    token: str = client.get("/api/auth/csrf").get_json()["csrf_token"]
    return token


PAGES: dict[str, Request] = {
    "login page": lambda c: c.get("/login"),
    "register page": lambda c: c.get("/register"),
    "logout confirmation": lambda c: c.get("/logout"),
    "unknown page 404": lambda c: c.get("/no-such-page"),
    "page 405": lambda c: c.put("/login"),
    "page form without its CSRF token": lambda c: c.post("/login", data={"email": "a@b.c"}),
    "page that fails unexpectedly": lambda c: c.get("/test/explode"),
    "page that aborts": lambda c: c.get("/test/abort"),
    "cross-site page post": lambda c: c.post("/login", headers={"Sec-Fetch-Site": "cross-site"}),
}
RESOURCES: dict[str, Request] = {
    "JSON": lambda c: c.get("/api/products"),
    "probe": lambda c: c.get("/healthz"),
    "OpenAPI document": lambda c: c.get("/api/openapi.json"),
    "stylesheet": lambda c: c.get("/static/css/site.css"),
    "API 404": lambda c: c.get("/api/nope"),
    "API 405": lambda c: c.get("/api/checkout/intent"),
    "API 413": lambda c: c.post(
        "/api/auth/login",
        data=b"x" * 100_000,
        content_type="application/json",
        headers={"X-CSRF-Token": _csrf(c)},
    ),
    "API 403 csrf_failed": lambda c: c.post("/api/auth/login", json={}),
    "API 403 cross_site_request": lambda c: c.post(
        "/api/auth/login", json={}, headers={"Origin": "https://evil.example"}
    ),
    "API 500": lambda c: c.get("/api/test/explode"),
    "API abort": lambda c: c.get("/api/test/abort"),
    "abort with a response": lambda c: c.get("/test/abort-response"),
}


def _directives(response: TestResponse) -> set[str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.strip() for part in policy.split(";")}


def _assert_common(response: TestResponse) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    permissions = response.headers["Permissions-Policy"]
    for feature in DENIED_FEATURES:
        assert feature in permissions
    assert "payment=(self)" in permissions
    assert "Strict-Transport-Security" not in response.headers  # not outside production


@pytest.mark.parametrize("name", PAGES)
def test_pages_get_the_page_policy_without_inline_script(client: FlaskClient, name: str) -> None:
    response = PAGES[name](client)

    assert response.mimetype == "text/html", (name, response.status_code)
    _assert_common(response)
    directives = _directives(response)
    assert directives >= PAGE_DIRECTIVES
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name", RESOURCES)
def test_everything_else_gets_default_src_none(client: FlaskClient, name: str) -> None:
    response = RESOURCES[name](client)

    assert response.mimetype != "text/html", (name, response.status_code)
    _assert_common(response)
    assert _directives(response) >= RESOURCE_DIRECTIVES
    response.close()


def test_the_failures_above_really_are_failures(client: FlaskClient) -> None:
    """The cases are what their names say (a 404 is a 404 ...), so the headers were checked on
    the responses meant."""
    assert PAGES["unknown page 404"](client).status_code == 404
    assert PAGES["page 405"](client).status_code == 405
    assert PAGES["page form without its CSRF token"](client).status_code == 400
    assert PAGES["page that fails unexpectedly"](client).status_code == 500
    assert PAGES["cross-site page post"](client).status_code == 403
    assert RESOURCES["API 413"](client).status_code == 413
    assert RESOURCES["API 500"](client).status_code == 500
    assert RESOURCES["API 403 csrf_failed"](client).get_json()["code"] == "csrf_failed"
    assert RESOURCES["abort with a response"](client).status_code == 418


def test_a_view_cannot_weaken_the_policy(app: Flask) -> None:
    def lax() -> Response:
        response = Response("<p>hi</p>", mimetype="text/html")
        response.headers["Content-Security-Policy"] = "script-src * 'unsafe-inline'"
        response.headers["X-Frame-Options"] = "ALLOWALL"
        return response

    app.add_url_rule("/test/lax", "lax", lax)

    response = app.test_client().get("/test/lax")

    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]


def test_production_adds_hsts_to_every_response(container: Container) -> None:
    settings = Settings.from_env(PRODUCTION_ENV)
    # The production settings with the test's database: nothing here needs PostgreSQL.
    client = create_app(settings, container=container).test_client()

    for response in (client.get("/healthz"), client.get("/login"), client.get("/api/nope")):
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=63072000; includeSubDomains"
        )
