"""The sign-in lockout, a password reset through the emailed link, the account page's address
book and the API docs page, in Chromium against the live shop, a screenshot at each step and
axe-core on the account, forgotten-password and reset pages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commerce_core import Register, register
from tests.browser.conftest import PASSWORD, LiveShop
from tests.browser.helpers import register as register_through_the_page
from tests.browser.helpers import sign_in
from tests.support.smtp_server import text_of

Shot = Callable[[Any, str], Path]
NEW_PASSWORD = "a brand new passphrase"
MAIL_WAIT_SECONDS = 20


def _account(live_shop: LiveShop, name: str = "Sam Shopper") -> str:
    """A new customer account, made through the core (no browser needed); its email."""
    email = live_shop.new_email()
    shop = live_shop.container
    register(Register(email=email, password=PASSWORD, name=name), **shop.account_ports())
    return email


def _reset_link(live_shop: LiveShop, email: str) -> str:
    """The link of the reset email to ``email``, once the shop's mail job has sent it."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in reversed(live_shop.mail.to(email)):
            found = re.search(r"\S+/reset-password\?token=\S+", text_of(message))
            if found is not None:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no reset email reached {email} in {MAIL_WAIT_SECONDS} s")


def _watch_csp(page: Any) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    return refused


def test_repeated_wrong_passwords_lock_the_sign_in_with_a_message(
    page: Any, live_shop: LiveShop, shot: Shot, axe: Any
) -> None:
    email = _account(live_shop)
    page.goto("/login")
    shot(page, "sign-in")
    messages = []
    for attempt in range(1, 7):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(f"wrong guess number {attempt}")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        messages.append(page.get_by_role("alert").inner_text())
        shot(page, f"wrong-password-{attempt}")
        if "Too many attempts" in messages[-1]:
            break

    assert messages[0] == "The email or password is wrong."
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ minutes?\.", messages[-1])
    # Locked: even the right password is refused now, with the same message.
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    shot(page, "locked-even-with-the-right-password")
    assert "Too many attempts" in page.get_by_role("alert").inner_text()
    assert page.request.get(f"{live_shop.url}/api/auth/me").status == 401
    assert axe(page) == []


def test_a_password_reset_through_the_emailed_link_then_signing_in_with_it(
    page: Any, live_shop: LiveShop, shot: Shot, axe: Any
) -> None:
    refused = _watch_csp(page)
    email = _account(live_shop)
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_load_state()
    assert page.url.endswith("/forgot-password")
    shot(page, "forgot-password")
    assert axe(page) == []

    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    page.wait_for_load_state()
    notice = page.get_by_role("status").inner_text()
    shot(page, "link-sent")
    assert notice.startswith("If an account exists for that email, we sent it a link")
    assert axe(page) == []

    link = _reset_link(live_shop, email)
    assert link.startswith(f"{live_shop.url}/reset-password?token=")
    page.goto(link)
    shot(page, "reset-form")
    assert page.get_by_role("heading", level=1).inner_text() == "Set a new password"
    assert axe(page) == []

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill("not the same passphrase")
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_load_state()
    shot(page, "reset-passwords-differ")
    assert "not the same" in page.locator(".field-error").inner_text()
    assert axe(page) == []

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_load_state()
    shot(page, "reset-done-sign-in")
    assert page.url.endswith("/login")
    assert "Your password was reset" in page.get_by_role("status").inner_text()

    sign_in(page, email, NEW_PASSWORD)
    page.goto("/account")
    shot(page, "signed-in-with-the-new-password")
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    assert email in page.locator(".account-details").inner_text()

    page.goto(link)  # the link worked once
    page.get_by_label("New password", exact=True).fill("yet another passphrase")
    page.get_by_label("New password, again").fill("yet another passphrase")
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_load_state()
    shot(page, "used-link-refused")
    assert page.get_by_role("heading", level=1).inner_text() == "This link does not work"
    assert page.get_by_role("link", name="Ask for a new link").is_visible()
    assert axe(page) == []
    assert refused == []


def test_the_account_page_shows_the_addresses_added_through_its_form(
    page: Any, live_shop: LiveShop, shot: Shot, axe: Any
) -> None:
    refused = _watch_csp(page)
    email = register_through_the_page(page, live_shop, name="Robin Buyer")
    page.goto("/account")
    shot(page, "account-empty")
    assert email in page.locator(".account-details").inner_text()
    assert page.get_by_text("You have no saved addresses yet.").is_visible()
    assert axe(page) == []

    form = page.locator("form", has=page.get_by_role("button", name="Save address"))
    form.get_by_label("Label (optional)").fill("Home")
    form.get_by_label("Full name").fill("Robin Buyer")
    form.get_by_label("Address line 1").fill("221B Baker Street")
    form.get_by_label("City or town").fill("London")
    form.get_by_label("Postal code").fill("not a code")
    form.get_by_label("Country").select_option("GB")
    form.get_by_role("button", name="Save address").click()
    page.wait_for_load_state()
    shot(page, "address-refused")
    assert "Postal code is not a postal code of GB." in page.locator(".field-error").inner_text()
    assert axe(page) == []

    form.get_by_label("Postal code").fill("NW1 6XE")
    form.get_by_role("button", name="Save address").click()
    page.wait_for_load_state()
    shot(page, "address-saved")
    assert page.get_by_role("status").inner_text() == "Address saved."
    card = page.locator(".address-card")
    assert card.count() == 1
    assert "221B Baker Street" in card.inner_text()
    assert "NW1 6XE" in card.inner_text()

    form.get_by_label("Label (optional)").fill("Office")
    form.get_by_label("Full name").fill("Robin Buyer")
    form.get_by_label("Address line 1").fill("1 Broadway")
    form.get_by_label("City or town").fill("New York")
    form.get_by_label("State, province or region (optional)").fill("NY")
    form.get_by_label("Postal code").fill("10004")
    form.get_by_label("Country").select_option("US")
    form.get_by_role("button", name="Save address").click()
    page.wait_for_load_state()
    shot(page, "two-addresses")
    assert [h.strip() for h in page.locator(".address-card h3").all_inner_texts()] == [
        "Home",
        "Office",
    ]
    assert axe(page) == []

    page.get_by_role("button", name=re.compile(r"^Delete the address Home")).click()
    page.wait_for_load_state()
    shot(page, "address-deleted")
    assert page.get_by_role("status").inner_text() == "Address deleted."
    assert page.locator(".address-card h3").all_inner_texts() == ["Office"]
    assert refused == []


def test_the_api_docs_render_from_the_shop_alone_and_try_it_out_carries_the_csrf_token(
    page: Any, live_shop: LiveShop, shot: Shot
) -> None:
    refused = _watch_csp(page)
    elsewhere: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(live_shop.url) else elsewhere.append(r.url)
    )
    register_through_the_page(page, live_shop)
    page.goto("/api/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    shot(page, "api-docs")
    assert page.get_by_role("heading", level=1).inner_text() == "Commerce API documentation"
    assert page.get_by_role("heading", level=1).count() == 1  # the viewer's own is hidden

    logout = page.locator(".opblock", has=page.locator("[data-path='/api/auth/logout']"))
    logout.locator(".opblock-summary").click()
    logout.get_by_role("button", name="Try it out").click()
    logout.get_by_role("button", name="Execute").click()
    logout.locator(".live-responses-table tbody .response-col_status").first.wait_for()
    shot(page, "api-docs-tried-logout")

    assert (
        logout.locator(".live-responses-table tbody .response-col_status").first.inner_text()
        == "204"
    )
    assert page.request.get(f"{live_shop.url}/api/auth/me").status == 401
    assert refused == []
    assert elsewhere == []
