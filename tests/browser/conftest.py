"""Browser tests: a real shop server in this process, driven by Playwright in Debian's Chromium.

``live_shop`` migrates a SQLite file database, seeds the demo shop (``commerce seed --demo``'s
data), creates an admin, and serves the app from a threaded WSGI server on a free port with the
fake gateway (its webhooks come back to the same server), emails going to an in-process SMTP
server and the job schedulers running as under ``commerce serve``. ``page`` is a fresh browser
context per test. ``shot(page, step)`` saves a screenshot under
``test-artifacts/screenshots/<test>/`` (kept by CI); ``axe(page)`` runs axe-core in the page and
answers its serious and critical violations.

Without Chromium (``/usr/bin/chromium``), Playwright or axe-core (``make browser-tools``) the
tests are skipped - except in CI (``CI=true``), where that is an error: a green CI run must have
driven the browser.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from commerce_core import (
    Register,
    Role,
    configure_catalog,
    configure_shipping,
    create_staff_user,
    stock_catalog,
)
from tests.support.smtp_server import Inbox, free_port, running_smtp_server
from webapp.app import create_app
from webapp.bootstrap import Container, build_container, migrate_database
from webapp.config import Settings
from webapp.demo_shop import load_demo_shop
from webapp.scheduler import JobScheduler, start_job_schedulers

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
PASSWORD = "a long enough passphrase"
BLOCKING = ("serious", "critical")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    if not AXE_SCRIPT.exists():
        return "axe-core is not installed (make browser-tools)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_tools() -> None:
    missing = _missing()
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI: {missing}")
    pytest.skip(missing)


class Mail:
    """What the shop sent, as the in-process SMTP server received it."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    def messages(self) -> list[EmailMessage]:
        return list(self._inbox.messages)

    def to(self, recipient: str) -> list[EmailMessage]:
        return self._inbox.to(recipient)


class LiveShop:
    def __init__(self, url: str, container: Container, mail: Mail) -> None:
        self.url = url
        self.container = container
        self.mail = mail
        self.admin_email = ADMIN_EMAIL
        self.admin_password = ADMIN_PASSWORD
        self.password = PASSWORD

    def new_email(self) -> str:
        return f"shopper-{secrets.token_hex(4)}@example.com"


def _seed(container: Container) -> None:
    shop = load_demo_shop()
    stock_catalog(container.new_uow(), container.clock, list(shop.products))
    configure_shipping(container.new_uow(), shop.shipping)
    configure_catalog(container.new_uow(), shop.catalog)
    create_staff_user(
        Register(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, name="Ada Admin", role=Role.ADMIN),
        uow=container.new_uow(),
        hasher=container.hasher,
        clock=container.clock,
        events=container.events,
    )


@pytest.fixture(scope="session")
def live_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveShop]:
    tmp = tmp_path_factory.mktemp("live-shop")
    port = free_port()
    with running_smtp_server() as inbox:
        settings = Settings(
            app_env="development",
            database_url=f"sqlite:///{tmp / 'shop.db'}",
            media_dir=str(tmp / "media"),
            public_url=f"http://127.0.0.1:{port}",
            smtp_url=inbox.url,
            notify_interval_seconds=1,
            log_level="WARNING",
        )
        migrate_database(settings)
        container = build_container(settings)
        _seed(container)
        app = create_app(settings, container=container)
        server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-shop", daemon=True)
        thread.start()
        schedulers: list[JobScheduler] = start_job_schedulers(container, settings)
        try:
            yield LiveShop(settings.public_url, container, Mail(inbox))
        finally:
            for scheduler in schedulers:
                scheduler.stop()
            server.shutdown()
            thread.join(timeout=10)
            container.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, live_shop: LiveShop) -> Iterator[Any]:
    context = browser.new_context(base_url=live_shop.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, "step")``: a full-page screenshot, numbered in the order taken."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    taken = [0]

    def take(page: Any, step: str) -> Path:
        taken[0] += 1
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{taken[0]:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe() -> Callable[[Any], list[dict[str, Any]]]:
    """``axe(page)``: the page's serious and critical axe-core violations (WCAG 2.x A and AA)."""
    source = AXE_SCRIPT.read_text(encoding="utf-8")

    def check(page: Any) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated, not a <script> tag: the page's CSP allows no foreign script.
            page.evaluate(source)
        results = page.evaluate(
            """() => axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
            })"""
        )
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in results["violations"]
            if v["impact"] in BLOCKING
        ]

    return check
