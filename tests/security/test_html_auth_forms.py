"""The HTML sign-in, sign-up and sign-out pages: Flask-WTF's CSRF on every post (and only on
pages - the API keeps its own), the API's server-side session and cookies, the core's refusals
shown generically, no state change on GET, and accessible, script-free markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from commerce_core import AuthenticationFailed, InvalidInput, LoginLocked
from tests.security.web_app import running_app
from tests.webapp.browser import PASSWORD, Shopper
from webapp.bootstrap import Container
from webapp.config import Settings
from webapp.pages.auth import WRONG_CREDENTIALS, Refusal, _refusal

EMAIL = "ada@example.com"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


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


class PageBrowser:
    """A browser on the HTML pages: it reads the form's token and posts it back."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, page: str = "/login") -> str:
        match = _TOKEN.search(self.client.get(page).get_data(as_text=True))
        assert match is not None, "the page has no CSRF token"
        return match.group(1)

    def post(self, path: str, form: dict[str, str], *, token: bool = True) -> TestResponse:
        data = {"csrf_token": self.token(path), **form} if token else form
        return self.client.post(path, data=data)

    def log_in(self, email: str = EMAIL, password: str = PASSWORD, **extra: str) -> TestResponse:
        return self.post("/login", {"email": email, "password": password, **extra})

    def register(self, email: str = EMAIL, **extra: str) -> TestResponse:
        return self.post(
            "/register", {"name": "Ada", "email": email, "password": PASSWORD, **extra}
        )

    def me(self) -> TestResponse:
        return self.client.get("/api/auth/me")


@pytest.fixture
def browser(app: Flask) -> PageBrowser:
    return PageBrowser(app.test_client())


@pytest.fixture
def member(app: Flask) -> None:
    """An account, made through the API."""
    Shopper(app.test_client()).register(EMAIL)


def _html(response: TestResponse) -> str:
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# -- the forms themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/login", {"email": "username", "password": "current-password"}),
        ("/register", {"name": "name", "email": "email", "password": "new-password"}),
    ],
)
def test_each_input_has_a_label_and_an_autocomplete_hint(
    browser: PageBrowser, path: str, fields: dict[str, str]
) -> None:
    html = _html(browser.client.get(path))

    for field, autocomplete in fields.items():
        assert f'<label for="{field}">' in html
        tag = re.search(rf'<input id="{field}"[^>]*>', html, re.S)
        assert tag is not None
        assert f'autocomplete="{autocomplete}"' in tag.group(0)
    assert 'name="csrf_token"' in html


@pytest.mark.parametrize("path", ["/login", "/register", "/logout"])
def test_pages_have_no_inline_script_or_style(browser: PageBrowser, path: str) -> None:
    html = _html(browser.client.get(path)).lower()

    assert "<script" not in html
    assert "style=" not in html
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no onclick= and the like


def test_an_invalid_field_is_marked_and_its_message_linked(browser: PageBrowser) -> None:
    response = browser.register(password="too short")

    html = _html(response)
    assert response.status_code == 422
    tag = re.search(r'<input id="password"[^>]*>', html, re.S)
    assert tag is not None
    assert 'aria-invalid="true"' in tag.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', tag.group(0))
    assert described is not None
    error_id = next(i for i in described.group(1).split() if i.endswith("-error"))
    assert re.search(rf'<p class="field-error" id="{error_id}">[^<]*12', html)
    assert browser.me().status_code == 401


def test_what_the_visitor_typed_comes_back_escaped(browser: PageBrowser) -> None:
    response = browser.register(password="short", name="<script>alert(1)</script>")

    html = _html(response)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    password = re.search(r'<input id="password"[^>]*>', html, re.S)
    assert password is not None
    assert "value=" not in password.group(0)  # a password is never sent back


# -- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/register", "/logout"])
def test_a_post_without_the_form_token_is_refused_with_an_html_page(
    browser: PageBrowser, member: None, path: str
) -> None:
    response = browser.post(path, {"email": EMAIL, "password": PASSWORD, "name": "A"}, token=False)

    assert response.status_code == 400
    assert "CSRF" in _html(response)
    assert browser.client.get_cookie("session") is None


def test_a_token_from_another_browser_is_refused(app: Flask, member: None) -> None:
    other = PageBrowser(app.test_client()).token()
    browser = PageBrowser(app.test_client())
    browser.token()  # this browser's own form session

    response = browser.post("/login", {"csrf_token": other, "email": EMAIL, "password": PASSWORD})

    assert response.status_code == 400
    assert browser.me().status_code == 401


def test_the_form_token_is_also_accepted_in_the_api_header(
    browser: PageBrowser, member: None
) -> None:
    token = browser.token()

    response = browser.client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD}, headers={"X-CSRF-Token": token}
    )

    assert response.status_code == 303


def test_the_json_api_is_not_subject_to_the_form_token(app: Flask, member: None) -> None:
    response = Shopper(app.test_client()).log_in(EMAIL)  # the API's own token, no form token

    assert response.status_code == 200


# -- signing in, up and out ----------------------------------------------------------------------


def test_signing_in_gives_the_apis_server_side_session(browser: PageBrowser, member: None) -> None:
    browser.token()
    before = browser.client.get_cookie("flask")

    response = browser.log_in()

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    session = browser.client.get_cookie("session")
    assert session is not None
    assert session.http_only
    assert session.same_site == "Strict"
    assert browser.client.get_cookie("csrf_token") is not None
    assert browser.me().get_json()["user"]["email"] == EMAIL
    assert before is not None
    after = browser.client.get_cookie("flask")
    assert after is None or after.value != before.value  # a new form token with the session


def test_signing_up_creates_the_account_and_signs_in(browser: PageBrowser) -> None:
    response = browser.register(next="/orders")

    assert response.status_code == 303
    assert response.headers["Location"] == "/orders"
    assert browser.me().get_json()["user"]["name"] == "Ada"


@pytest.mark.parametrize(
    ("email", "password"),
    [(EMAIL, "not the password at all"), ("nobody@example.com", PASSWORD)],
    ids=["wrong password", "unknown email"],
)
def test_a_failed_sign_in_says_the_same_whatever_was_wrong(
    browser: PageBrowser, member: None, email: str, password: str
) -> None:
    response = browser.log_in(email, password)

    html = _html(response)
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in html
    assert 'role="alert"' in html
    assert browser.me().status_code == 401


def test_repeated_failures_end_in_a_too_many_attempts_page(
    browser: PageBrowser, member: None
) -> None:
    response = browser.log_in(password="wrong, again and again")
    for _ in range(30):  # more than any lockout threshold; stops at the first lock
        if response.status_code == 429:
            break
        assert response.status_code == 422
        response = browser.log_in(password="wrong, again and again")

    html = _html(response)
    assert response.status_code == 429
    minutes = re.search(r"Too many attempts\. Try again in (\d+) minutes?\.", html)
    assert minutes is not None
    retry_after = int(response.headers["Retry-After"])
    assert int(minutes.group(1)) * 60 >= retry_after > 0
    assert browser.log_in().status_code == 429  # the right password does not get past a lock


def test_get_logout_only_asks(browser: PageBrowser, member: None) -> None:
    browser.log_in()

    page = browser.client.get("/logout")

    assert 'method="post"' in _html(page)
    assert browser.me().status_code == 200


def test_post_logout_ends_the_session_on_the_server(browser: PageBrowser, member: None) -> None:
    browser.log_in()
    session = browser.client.get_cookie("session")
    assert session is not None

    response = browser.post("/logout", {}, token=True)

    assert response.status_code == 303
    assert browser.client.get_cookie("session") is None
    # The captured cookie, replayed, is worth nothing: the server ended the session.
    replay = browser.client.application.test_client()
    replay.set_cookie("session", session.value)
    assert replay.get("/api/auth/me").status_code == 401


# -- the core's refusals, read generically ------------------------------------------------------


def test_refusals_are_read_by_kind() -> None:
    assert _refusal(AuthenticationFailed()) == Refusal(422, WRONG_CREDENTIALS)
    assert _refusal(LoginLocked(61)) == Refusal(
        429, "Too many attempts. Try again in 2 minutes.", retry_after=61
    )
    assert _refusal(LoginLocked(60)) == Refusal(
        429, "Too many attempts. Try again in 1 minute.", retry_after=60
    )
    invalid = _refusal(InvalidInput.for_field("email", "is not an email address"))
    assert invalid == Refusal(422, None, (("email", "is not an email address"),))
