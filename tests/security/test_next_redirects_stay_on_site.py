"""After signing in or up, ``next`` only ever sends the browser to a path on this site; every
known way out - scheme-relative, backslashes, stripped tabs and newlines, encoded slashes, other
schemes, absolute URLs (even to our own host, by decision) - lands on ``/`` instead."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.security.web_app import running_app
from tests.webapp.browser import PASSWORD, Shopper
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.pages.redirects import DEFAULT_NEXT, safe_next

EMAIL = "ada@example.com"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

BYPASSES = [
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/%0a/evil.example",
    "/\r\n/evil.example",
    "/\n/evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%252F%252Fevil.example",  # encoded twice
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "https:evil.example",
    "https:/evil.example",
    "http://evil.example",
    "https://evil.example/login",
    "HTTPS://EVIL.EXAMPLE",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
    " /orders",
    "/orders\x00",
    "/orders\x7f",
    "/\u3000/evil.example",  # an ideographic space
    "http://localhost/orders",  # our own host, absolute: refused by decision
    "//localhost/orders",
    "/" + "a" * 2001,
]
SAME_SITE = [
    "/",
    "/orders",
    "/orders/ord_123?tab=refunds#latest",
    "/search?q=blue%20mug",
    "/caf%C3%A9",
    "/products/mug;v=1",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_a_way_off_site_falls_back_to_the_home_page(target: str) -> None:
    assert safe_next(target) == DEFAULT_NEXT


@pytest.mark.parametrize("target", SAME_SITE)
def test_a_path_on_this_site_is_kept(target: str) -> None:
    assert safe_next(target) == target


def test_nothing_given_means_the_default() -> None:
    assert safe_next(None) == DEFAULT_NEXT
    assert safe_next(None, default="") == ""


# -- through the pages ---------------------------------------------------------------------------


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
def browser(app: Flask) -> FlaskClient:
    Shopper(app.test_client()).register(EMAIL)
    return app.test_client()


def _log_in(browser: FlaskClient, target: str) -> str:
    page = browser.get("/login").get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match is not None
    response = browser.post(
        "/login",
        data={"csrf_token": match.group(1), "email": EMAIL, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


@pytest.mark.parametrize("target", BYPASSES)
def test_signing_in_with_a_way_off_site_lands_at_home(browser: FlaskClient, target: str) -> None:
    assert _log_in(browser, target) == "/"


@pytest.mark.parametrize("target", SAME_SITE)
def test_signing_in_goes_where_next_says_on_this_site(browser: FlaskClient, target: str) -> None:
    assert _log_in(browser, target) == target


def test_a_non_ascii_path_is_sent_as_an_uri(browser: FlaskClient) -> None:
    assert _log_in(browser, "/café") == "/caf%C3%A9"


@pytest.mark.parametrize("target", ["//evil.example", "javascript:alert(1)"])
def test_the_login_page_does_not_carry_an_unsafe_next(browser: FlaskClient, target: str) -> None:
    page = browser.get("/login", query_string={"next": target}).get_data(as_text=True)

    assert "evil.example" not in page
    assert "javascript" not in page.lower()


def test_the_login_page_carries_a_safe_next_into_its_form(browser: FlaskClient) -> None:
    page = browser.get("/login", query_string={"next": "/orders/ord_1"}).get_data(as_text=True)

    assert '<input type="hidden" name="next" value="/orders/ord_1">' in page
