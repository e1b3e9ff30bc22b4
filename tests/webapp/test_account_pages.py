"""The account page (orders, saved addresses, password change) and the forgotten-password pages,
through the test client on SQLite and PostgreSQL: every form through the core's use cases, its
refusals shown on the form (422/409), Flask-WTF's CSRF token required, another shopper's address
a 404, and the password reset end to end with the link read from the email the outbox sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapters.passwords import Argon2PasswordHasher
from commerce_core import Money
from commerce_core.testing import RecordingNotifier
from tests.webapp.browser import PASSWORD, Shopper
from tests.webapp.conftest import Catalog
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings
from webapp.pages import account as account_pages
from webapp.pages.money_format import format_price
from webapp.pages.password_reset import LINK_DOES_NOT_WORK, LINK_SENT, RESET_DONE
from webapp.scheduler import notification_job

PUBLIC_URL = "http://shop.test:8000"
NEW_PASSWORD = "a brand new passphrase"
AGAIN = "yet another passphrase"
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HOME = {
    "address-label": "Home",
    "address-name": "Sam Shopper",
    "address-line1": "1 Broadway",
    "address-line2": "Floor 3",
    "address-city": "New York",
    "address-region": "NY",
    "address-postal_code": "10004",
    "address-country": "us",
}


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return attrs.evolve(settings_on_both_databases, public_url=PUBLIC_URL)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def container(settings: Settings, notifier: RecordingNotifier) -> Iterator[Container]:
    migrate_database(settings)
    built = attrs.evolve(
        build_container(settings),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        notifier=notifier,
    )
    yield built
    built.close()


class PageBrowser(Shopper):
    """A browser on the pages: it reads a form's CSRF token from the page and posts it back
    (and, being a ``Shopper``, can also use the JSON API with the same cookies)."""

    def form_token(self, page: str = "/login") -> str:
        match = _FORM_TOKEN.search(self.client.get(page).get_data(as_text=True))
        assert match is not None, f"{page} has no CSRF token"
        return match.group(1)

    def submit(
        self, path: str, form: dict[str, str], *, token_from: str | None = None, token: bool = True
    ) -> TestResponse:
        data = {**form}
        if token:
            data["csrf_token"] = self.form_token(token_from or path)
        return self.client.post(path, data=data)

    def add_address(self, **fields: str) -> TestResponse:
        return self.submit("/account/addresses", {**HOME, **fields}, token_from="/account")


@pytest.fixture
def browser(app: Flask) -> PageBrowser:
    return PageBrowser(app.test_client())


@pytest.fixture
def member(browser: PageBrowser) -> dict[str, Any]:
    """``browser``, signed up (through the API: same sessions) as a new shopper."""
    return browser.register()


def _html(response: TestResponse) -> str:
    assert response.mimetype == "text/html", response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _input(html: str, input_id: str) -> str:
    tag = re.search(rf'<input id="{input_id}"[^>]*>', html, re.S)
    assert tag is not None, f"no input {input_id}"
    return tag.group(0)


def _error_of(html: str, input_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{input_id}-error">([^<]*)</p>', html)
    assert found is not None, f"no error shown for {input_id}"
    return found.group(1)


def _addresses(browser: Shopper) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = browser.get("/api/account/addresses").get_json()["items"]
    return items


# -- the page ------------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in_first(app_client: FlaskClient) -> None:
    response = app_client.get("/account")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/account"


def test_the_page_shows_who_is_signed_in_and_is_never_cached(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    response = browser.get("/account")

    html = _html(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert html.count("<h1") == 1
    assert f"<dd>{member['name']}</dd>" in html
    assert f"<dd>{member['email']}</dd>" in html
    assert "You have not placed an order yet." in html
    assert "You have no saved addresses yet." in html


def test_every_input_has_a_label_and_no_inline_script_or_style(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    html = _html(browser.get("/account"))

    controls = re.findall(r'<(?:input|select) id="([^"]+)"[^>]*>', html)
    assert {"address-name", "address-country", "password-current_password"} <= set(controls)
    for control_id in controls:
        if control_id == "site-search-q":
            continue
        assert f'<label for="{control_id}">' in html
        tag = re.search(rf'<(?:input|select) id="{control_id}"[^>]*>', html, re.S)
        assert tag is not None
        assert "autocomplete=" in tag.group(0)
    assert '<option value="DE">Germany</option>' in html
    lowered = html.lower()
    assert "<script" not in lowered
    assert "style=" not in lowered
    assert not re.search(r"\son[a-z]+=", lowered)


def test_orders_are_listed_newest_first_a_page_at_a_time_with_links_to_each(
    browser: PageBrowser,
    member: dict[str, Any],
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(account_pages, "ORDERS_PER_PAGE", 2)
    placed = [browser.buy(catalog.mug), browser.buy(catalog.lamp), browser.buy(catalog.mug)]
    newest_first = list(reversed(placed))

    first = _html(browser.get("/account"))
    second = _html(browser.get("/account?page=2"))

    def order_ids(html: str) -> list[str]:
        return re.findall(r'<th scope="row"><a href="/orders/([^"]+)">', html)

    assert order_ids(first) == [o["id"] for o in newest_first[:2]]
    assert order_ids(second) == [newest_first[2]["id"]]
    assert "Page 1 of 2" in first
    assert 'href="/account?page=2#orders" rel="next"' in first
    assert 'href="/account?page=1#orders" rel="prev"' in second
    order = newest_first[0]
    # Formatted by the app's ``price`` filter (whichever page module registered it first).
    price = browser.client.application.jinja_env.filters["price"]
    total = price(Money(order["total"]["amount"], order["total"]["currency"]))
    assert total.startswith("$")
    row = first[first.index(f"/orders/{order['id']}") :].split("</tr>")[0]
    assert f'<td class="money">{total}</td>' in row
    assert "Paid</span>" in row
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">\d{1,2} [A-Z][a-z]+ \d{4}</time>', row
    )


def test_a_page_past_the_last_is_a_404_page_and_a_bad_page_number_a_422_page(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    past = browser.get("/account?page=2")
    junk = browser.get("/account?page=two")

    assert past.status_code == 404
    assert junk.status_code == 422
    assert "<h1>" in _html(past)
    assert "<h1>" in _html(junk)


def test_money_is_shown_in_major_units_with_the_currency() -> None:
    assert format_price(Money(1800, "USD")) == "$18.00"
    assert format_price(Money(123456789, "USD")) == "$1,234,567.89"
    assert format_price(Money(500, "JPY")) == "¥500"
    assert format_price(Money(1005, "CHF")) == "CHF 10.05"


# -- saved addresses ---------------------------------------------------------------------------


def test_an_address_added_through_the_form_is_kept_and_shown(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    added = browser.add_address()
    again = browser.add_address()
    page = _html(browser.get("/account"))

    assert added.status_code == 303
    assert added.headers["Location"] == "/account#addresses"
    assert again.status_code == 303
    (kept,) = _addresses(browser)
    assert kept["label"] == "Home"
    assert kept["address"] == {
        "name": "Sam Shopper",
        "line1": "1 Broadway",
        "line2": "Floor 3",
        "city": "New York",
        "postal_code": "10004",
        "region": "NY",
        "country": "US",
    }
    assert "<h3>Home</h3>" in page
    assert "1 Broadway<br>" in page
    assert "New York, NY 10004<br>" in page
    assert "United States" in page.split('class="address-card"', 1)[1]
    assert "You already keep this address." in page  # the notice of the second, latest post


def test_the_notice_of_a_saved_address_is_shown_once(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    browser.add_address()

    first = _html(browser.get("/account"))
    second = _html(browser.get("/account"))

    assert '<p class="notice" role="status">Address saved.</p>' in first
    assert "Address saved." not in second


def test_missing_fields_come_back_marked_with_what_was_typed(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    response = browser.add_address(**{"address-name": "", "address-city": "  "})

    html = _html(response)
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "private, no-store"
    assert _error_of(html, "address-name") == "Full name is required."
    assert _error_of(html, "address-city") == "City or town is required."
    name = _input(html, "address-name")
    assert 'aria-invalid="true"' in name
    assert 'aria-describedby="address-name-error"' in name
    assert 'value="1 Broadway"' in _input(html, "address-line1")
    assert '<option value="US" selected>United States</option>' in html
    assert _addresses(browser) == []


@pytest.mark.parametrize(
    ("fields", "input_id", "message"),
    [
        ({"address-country": "ZZ"}, "address-country", "Country must be an ISO 3166-1 alpha-2"),
        (
            {"address-postal_code": "ABCDE"},
            "address-postal_code",
            "Postal code is not a postal code of US.",
        ),
        ({"address-postal_code": ""}, "address-postal_code", "Postal code is required for"),
        ({"address-line1": "x" * 201}, "address-line1", "must be at most 200 characters"),
        ({"address-label": "x" * 51}, "address-label", "Label must be at most 50 characters"),
        ({"address-name": "Sam\nShopper"}, "address-name", "must be printable text"),
    ],
)
def test_an_address_the_core_refuses_is_the_form_again_with_the_reason(
    browser: PageBrowser,
    member: dict[str, Any],
    fields: dict[str, str],
    input_id: str,
    message: str,
) -> None:
    response = browser.add_address(**fields)

    html = _html(response)
    assert response.status_code == 422
    assert message in _error_of(html, input_id)
    assert _addresses(browser) == []


def test_what_was_typed_comes_back_escaped(browser: PageBrowser, member: dict[str, Any]) -> None:
    response = browser.add_address(**{"address-name": '"><script>alert(1)</script>'})
    saved = browser.add_address(**{"address-label": "<b>Home</b>", "address-country": "GB"})
    page = _html(browser.get("/account"))

    assert response.status_code == 303  # a name may contain anything printable
    assert saved.status_code == 422  # 10004 is no British postal code
    assert "<script>alert(1)" not in page
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Home</b>" not in _html(saved)


def test_a_full_address_book_is_refused_on_the_form(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    for number in range(20):
        body = {
            "address": {
                "name": "Sam",
                "line1": f"{number} Main St",
                "city": "Springfield",
                "postal_code": "62701",
                "country": "US",
            }
        }
        assert browser.post("/api/account/addresses", body).status_code == 201

    response = browser.add_address()

    html = _html(response)
    assert response.status_code == 409
    assert 'id="address-form-errors" role="alert"' in html
    assert "at most 20 addresses" in html
    assert len(_addresses(browser)) == 20


def test_an_address_is_deleted_with_its_button(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    browser.add_address()
    (kept,) = _addresses(browser)
    page = _html(browser.get("/account"))
    action = f"/account/addresses/{kept['id']}/delete"
    assert f'action="{action}"' in page

    response = browser.submit(action, {}, token_from="/account")

    assert response.status_code == 303
    assert _addresses(browser) == []
    assert "Address deleted." in _html(browser.get("/account"))


def test_another_shoppers_address_is_a_404_and_stays(app: Flask) -> None:
    owner, other = PageBrowser(app.test_client()), PageBrowser(app.test_client())
    owner.register()
    other.register()
    owner.add_address()
    (kept,) = _addresses(owner)

    stolen = other.submit(f"/account/addresses/{kept['id']}/delete", {}, token_from="/account")
    unknown = owner.submit("/account/addresses/adr_nope/delete", {}, token_from="/account")

    assert stolen.status_code == 404
    assert "<h1>" in _html(stolen)
    assert unknown.status_code == 404
    assert [a["id"] for a in _addresses(owner)] == [kept["id"]]


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/account/addresses", HOME),
        ("/account/addresses/adr_x/delete", {}),
        ("/account/password", {"password-current_password": PASSWORD}),
    ],
)
def test_a_post_without_the_form_token_is_a_400_page_and_changes_nothing(
    browser: PageBrowser, member: dict[str, Any], path: str, form: dict[str, str]
) -> None:
    response = browser.submit(path, form, token=False)

    assert response.status_code == 400
    assert "<h1>" in _html(response)
    assert _addresses(browser) == []


def test_an_anonymous_post_is_sent_to_sign_in(browser: PageBrowser) -> None:
    response = browser.submit("/account/addresses", HOME, token_from="/login")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/account"


# -- changing the password ---------------------------------------------------------------------


def _change_password(
    browser: PageBrowser, current: str, new: str, confirm: str | None = None
) -> TestResponse:
    return browser.submit(
        "/account/password",
        {
            "password-current_password": current,
            "password-new_password": new,
            "password-confirm_password": new if confirm is None else confirm,
        },
        token_from="/account",
    )


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(
    app: Flask, browser: PageBrowser, member: dict[str, Any]
) -> None:
    elsewhere = Shopper(app.test_client())
    assert elsewhere.log_in(member["email"]).status_code == 200

    response = _change_password(browser, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 303
    assert response.headers["Location"] == "/account#password"
    assert browser.get("/api/auth/me").status_code == 200  # signed in afresh
    assert elsewhere.get("/api/auth/me").status_code == 401
    assert "Every other session of your account was signed out." in _html(browser.get("/account"))
    assert Shopper(app.test_client()).log_in(member["email"], NEW_PASSWORD).status_code == 200
    assert Shopper(app.test_client()).log_in(member["email"], PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("current", "new", "confirm", "input_id", "message"),
    [
        ("not my password at all", NEW_PASSWORD, None, "password-current_password", "is wrong"),
        (PASSWORD, NEW_PASSWORD, "something else entirely", "password-confirm_password", "same"),
        (PASSWORD, "short", None, "password-new_password", "New password must be 12 to"),
        (PASSWORD, "", None, "password-new_password", "required"),
    ],
)
def test_a_refused_password_change_is_the_form_again_and_changes_nothing(
    app: Flask,
    browser: PageBrowser,
    member: dict[str, Any],
    current: str,
    new: str,
    confirm: str | None,
    input_id: str,
    message: str,
) -> None:
    response = _change_password(browser, current, new, confirm)

    html = _html(response)
    assert response.status_code == 422
    assert message in _error_of(html, input_id)
    assert 'value="' not in _input(html, input_id)  # a password is never sent back
    assert Shopper(app.test_client()).log_in(member["email"]).status_code == 200


# -- forgotten password --------------------------------------------------------------------------


def _emailed_link(notifier: RecordingNotifier, container: Container, email: str) -> str:
    """Send what the outbox holds (the scheduler's job) and read the newest reset link."""
    notification_job(container)
    resets = [m for m in notifier.to(email) if m.kind == "password_reset"]
    assert resets, f"no reset email for {email}"
    found = re.search(r"(\S+/reset-password\?token=\S+)", resets[-1].text)
    assert found is not None
    return found.group(1)


def _path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _hidden_token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_sign_in_page_links_to_the_forgotten_password_page(browser: PageBrowser) -> None:
    html = _html(browser.get("/login"))

    assert '<a href="/forgot-password">Forgot your password?</a>' in html


def test_a_password_reset_through_the_pages_end_to_end(
    app: Flask,
    browser: PageBrowser,
    member: dict[str, Any],
    notifier: RecordingNotifier,
    container: Container,
) -> None:
    stranger = PageBrowser(app.test_client())
    asked = stranger.submit("/forgot-password", {"email": member["email"]})
    answer = _html(stranger.get("/forgot-password"))
    link = _emailed_link(notifier, container, member["email"])
    form = stranger.get(_path_of(link))
    mismatch = stranger.submit(
        "/reset-password",
        {"token": _hidden_token(_html(form)), "password": NEW_PASSWORD, "confirm": "no"},
        token_from=_path_of(link),
    )
    done = stranger.submit(
        "/reset-password",
        {"token": _hidden_token(_html(form)), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from=_path_of(link),
    )
    sign_in_page = _html(stranger.get("/login"))
    reused = stranger.submit(
        "/reset-password",
        {"token": _hidden_token(_html(form)), "password": AGAIN, "confirm": AGAIN},
        token_from=_path_of(link),
    )

    assert asked.status_code == 303
    assert asked.headers["Location"] == "/forgot-password"
    assert LINK_SENT in answer
    assert link.startswith(f"{PUBLIC_URL}/reset-password?token=")
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "private, no-store"
    assert mismatch.status_code == 422
    assert done.status_code == 303
    assert done.headers["Location"] == "/login"
    assert RESET_DONE in sign_in_page
    assert reused.status_code == 400
    assert LINK_DOES_NOT_WORK in _html(reused)
    assert 'href="/forgot-password"' in _html(reused)
    # Every session of the account ended; the new password signs in, the old one does not.
    assert browser.get("/api/auth/me").status_code == 401
    signed_in = PageBrowser(app.test_client())
    response = signed_in.submit("/login", {"email": member["email"], "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert signed_in.get("/account").status_code == 200
    assert Shopper(app.test_client()).log_in(member["email"], PASSWORD).status_code == 401


def test_the_apis_reset_email_links_to_this_page(
    app: Flask, member: dict[str, Any], notifier: RecordingNotifier, container: Container
) -> None:
    api = Shopper(app.test_client())
    assert api.post("/api/auth/password-reset", {"email": member["email"]}).status_code == 202
    link = _emailed_link(notifier, container, member["email"])
    page = PageBrowser(app.test_client())

    done = page.submit(
        "/reset-password",
        {
            "token": _hidden_token(_html(page.get(_path_of(link)))),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
        token_from=_path_of(link),
    )

    assert done.status_code == 303
    assert Shopper(app.test_client()).log_in(member["email"], NEW_PASSWORD).status_code == 200


def test_a_known_and_an_unknown_email_get_the_same_answer_and_only_the_known_one_mail(
    app: Flask,
    member: dict[str, Any],
    notifier: RecordingNotifier,
    container: Container,
) -> None:
    known, unknown = PageBrowser(app.test_client()), PageBrowser(app.test_client())

    for_known = known.submit("/forgot-password", {"email": member["email"]})
    for_unknown = unknown.submit("/forgot-password", {"email": "nobody@example.com"})
    notification_job(container)

    assert (for_known.status_code, for_known.headers["Location"]) == (
        for_unknown.status_code,
        for_unknown.headers["Location"],
    )

    def answer(browser: PageBrowser) -> str:
        return _FORM_TOKEN.sub("", _html(browser.get("/forgot-password")))

    for_known_page, for_unknown_page = answer(known), answer(unknown)
    assert LINK_SENT in for_known_page
    assert for_known_page == for_unknown_page
    assert [m.to for m in notifier.sent if m.kind == "password_reset"] == [member["email"]]


def test_a_malformed_email_is_marked_on_the_form(browser: PageBrowser) -> None:
    response = browser.submit("/forgot-password", {"email": "not an email"})

    html = _html(response)
    assert response.status_code == 422
    assert _error_of(html, "email") == "Email must be an email address."


def test_asking_too_often_is_limited_as_the_api_is(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    answers = [
        browser.submit("/forgot-password", {"email": member["email"].upper()}).status_code
        for _ in range(3)
    ]
    limited = browser.submit("/forgot-password", {"email": member["email"]})
    by_api = browser.post("/api/auth/password-reset", {"email": member["email"]})

    assert answers == [303, 303, 303]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many attempts. Try again in" in _html(limited)
    assert by_api.status_code == 429  # one count for the page and the API


@pytest.mark.parametrize("query", ["", "?token=", "?token=" + "x" * 201])
def test_a_reset_page_without_a_usable_token_says_so_and_offers_a_new_link(
    browser: PageBrowser, query: str
) -> None:
    response = browser.get(f"/reset-password{query}")

    html = _html(response)
    assert response.status_code == 400
    assert LINK_DOES_NOT_WORK in html
    assert '<a class="button button-link" href="/forgot-password">Ask for a new link</a>' in html
    assert "<form" not in html.split("<main", 1)[1]


def test_an_unknown_token_is_refused_with_the_same_message(
    browser: PageBrowser, member: dict[str, Any]
) -> None:
    response = browser.submit(
        "/reset-password",
        {"token": "made-up-token", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from="/reset-password?token=made-up-token",
    )

    assert response.status_code == 400
    assert LINK_DOES_NOT_WORK in _html(response)


def test_a_weak_new_password_is_the_form_again_with_the_token_kept(
    app: Flask, member: dict[str, Any], notifier: RecordingNotifier, container: Container
) -> None:
    page = PageBrowser(app.test_client())
    page.submit("/forgot-password", {"email": member["email"]})
    link = _emailed_link(notifier, container, member["email"])
    token = _hidden_token(_html(page.get(_path_of(link))))

    response = page.submit(
        "/reset-password",
        {"token": token, "password": "short", "confirm": "short"},
        token_from=_path_of(link),
    )

    html = _html(response)
    assert response.status_code == 422
    assert "New password must be 12 to" in _error_of(html, "password")
    assert _hidden_token(html) == token


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/forgot-password", {"email": "sam@example.com"}),
        ("/reset-password", {"token": "t", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ],
)
def test_the_reset_forms_refuse_a_post_without_the_form_token(
    browser: PageBrowser, notifier: RecordingNotifier, path: str, form: dict[str, str]
) -> None:
    response = browser.submit(path, form, token=False)

    assert response.status_code == 400
    assert "<h1>" in _html(response)
    assert notifier.sent == []
