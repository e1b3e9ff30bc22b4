"""Steps the browser tests share: signing up and signing in through the pages."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PASSWORD, LiveShop


def register(page: Any, live_shop: LiveShop, *, name: str = "Sam Shopper") -> str:
    """Create an account through ``/register`` (signed in afterwards); returns its email."""
    email = live_shop.new_email()
    page.goto("/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    return email


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through ``/login``."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
