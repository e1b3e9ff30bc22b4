"""The harness itself: the live shop answers, Chromium renders its pages with their hashed
assets and no CSP violation, and axe-core runs in them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.conftest import LiveShop
from tests.browser.helpers import register


def test_a_page_renders_with_its_assets_and_axe_runs(
    page: Any, live_shop: LiveShop, shot: Callable[[Any, str], Path], axe: Any
) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto("/login")
    assert page.title().startswith("Sign in")
    css = page.evaluate(
        "() => [...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href)"
    )
    assert css
    assert all("/assets/" in href for href in css)
    assert page.evaluate("() => document.styleSheets.length") >= 1
    assert shot(page, "login").exists()
    assert axe(page) == []
    assert refused == []
    assert failed == []


def test_signing_up_through_the_page_signs_the_shopper_in(page: Any, live_shop: LiveShop) -> None:
    email = register(page, live_shop)
    response = page.request.get(f"{live_shop.url}/api/auth/me")
    assert response.ok
    assert response.json()["user"]["email"] == email
