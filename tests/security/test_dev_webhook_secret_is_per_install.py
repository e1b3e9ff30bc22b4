"""Outside production the fake gateway's webhook secret is generated per install - kept in the
install's var directory, mode 0600, shared by all its processes - never a constant anyone could
read in the source and use to sign a "paid" event."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

import webapp.config
from adapters.payments.fake_tables import fake_gateway_events
from tests.e2e.conftest import Shop, start_shop
from tests.support.shipping import shipped
from webapp.config import ConfigError, Settings
from webapp.dev_secrets import (
    SECRET_FILE_NAME,
    fake_gateway_webhook_secret,
    read_or_create_secret,
    var_directory,
)


def _development(database_url: str, **overrides: str) -> Settings:
    return Settings(app_env="development", database_url=database_url, **overrides)


def test_there_is_no_public_default_secret() -> None:
    assert not hasattr(webapp.config, "DEV_WEBHOOK_SECRET")
    assert Settings().stripe_webhook_secret is None
    assert Settings.from_env({}).stripe_webhook_secret is None


def test_the_first_run_generates_a_private_secret_and_later_runs_read_it(tmp_path: Path) -> None:
    settings = _development(f"sqlite:///{tmp_path / 'var' / 'commerce.db'}")

    first = fake_gateway_webhook_secret(settings)
    again = fake_gateway_webhook_secret(settings)

    stored = tmp_path / "var" / SECRET_FILE_NAME
    assert stored.read_text(encoding="utf-8").strip() == first == again
    assert first.startswith("whsec_")
    assert len(first) >= 6 + 64
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert [p.name for p in stored.parent.iterdir() if p.name.startswith(".")] == []


def test_two_installs_get_two_secrets(tmp_path: Path) -> None:
    one = fake_gateway_webhook_secret(_development(f"sqlite:///{tmp_path / 'a' / 'shop.db'}"))
    other = fake_gateway_webhook_secret(_development(f"sqlite:///{tmp_path / 'b' / 'shop.db'}"))

    assert one != other


def test_a_given_secret_wins_and_nothing_is_written(tmp_path: Path) -> None:
    given = "whsec_" + "given-by-the-test-0123456789abcdef"
    settings = _development(f"sqlite:///{tmp_path / 'shop.db'}", stripe_webhook_secret=given)

    assert fake_gateway_webhook_secret(settings) == given
    assert not (tmp_path / SECRET_FILE_NAME).exists()


def test_the_test_environment_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(app_env="test", database_url=f"sqlite:///{tmp_path / 'shop.db'}")

    assert fake_gateway_webhook_secret(settings) != fake_gateway_webhook_secret(settings)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "directory"),
    [
        ("sqlite:///./var/commerce.db", Path("var")),
        ("sqlite:////srv/shop/data/shop.db", Path("/srv/shop/data")),
        ("postgresql+psycopg://shop@db/shop", Path("var")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
    ],
)
def test_the_var_directory_is_the_databases_or_var(url: str, directory: Path | None) -> None:
    assert var_directory(url) == directory


def test_a_damaged_secret_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE_NAME).write_text("\n", encoding="utf-8")

    with pytest.raises(ConfigError) as refused:
        fake_gateway_webhook_secret(_development(f"sqlite:///{tmp_path / 'shop.db'}"))

    assert refused.value.settings == ("STRIPE_WEBHOOK_SECRET",)


_READ_OR_CREATE = (
    "import sys; from pathlib import Path; "
    "from webapp.dev_secrets import read_or_create_secret; "
    "sys.stdin.read(); print(read_or_create_secret(Path(sys.argv[1])))"
)


def test_processes_starting_at_once_on_a_clean_install_agree_on_one_secret(
    tmp_path: Path,
) -> None:
    path = tmp_path / "var" / SECRET_FILE_NAME
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _READ_OR_CREATE, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    # Each process has imported everything and waits on stdin: release them together.
    outputs = [process.communicate("go", timeout=60)[0].strip() for process in processes]

    assert all(process.returncode == 0 for process in processes)
    assert len(set(outputs)) == 1
    assert outputs[0] == read_or_create_secret(path)


@pytest.fixture(scope="module")
def shop_without_a_given_secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    tmp = tmp_path_factory.mktemp("per-install-secret")
    # An empty STRIPE_WEBHOOK_SECRET is "not set": the install generates its own, as on a
    # clean checkout; the CLI's `seed` creates it, the two server workers read it.
    yield from start_shop(
        f"sqlite:///{tmp / 'shop.db'}",
        tmp,
        {"STRIPE_WEBHOOK_SECRET": "", "APP_ENV": "development"},
    )


@pytest.mark.e2e
def test_a_served_shop_verifies_the_webhooks_its_fake_gateway_signs(
    shop_without_a_given_secret: Shop,
) -> None:
    shop = shop_without_a_given_secret
    http = requests.Session()
    csrf = http.get(shop.url("/api/auth/csrf"), timeout=10).json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    registered = http.post(
        shop.url("/api/auth/register"),
        json={"email": "sam@example.com", "password": "a long passphrase", "name": "Sam"},
        headers=headers,
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    headers["X-CSRF-Token"] = http.cookies["csrf_token"]
    product = http.get(shop.url("/api/products"), timeout=10).json()["items"][0]
    intent = http.post(
        shop.url("/api/checkout/intent"),
        json=shipped({"items": [{"product_id": product["id"], "quantity": 1}]}),
        headers=headers,
        timeout=10,
    ).json()
    paid = http.post(
        shop.url("/api/checkout/confirm"),
        json={"intent_id": intent["intent_id"], "payment_method": "pm_card_visa"},
        headers={**headers, "Idempotency-Key": "per-install-secret-1"},
        timeout=10,
    )
    assert paid.status_code == 201, paid.text

    database = shop.env["DATABASE_URL"]
    secret_file = Path(database.removeprefix("sqlite:///")).parent / SECRET_FILE_NAME
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    # The workers' delivery threads post the gateway's event to the shop; it counts as
    # delivered only once the shop answered 2xx - that is, verified its signature.
    engine = create_engine(database)
    try:
        delivered_at, attempts = _payment_event_delivery(engine)
    finally:
        engine.dispose()
    assert delivered_at is not None, f"not delivered after {attempts} attempt(s)"


def _payment_event_delivery(engine: Engine) -> tuple[datetime | None, int]:
    """When the gateway's payment event was delivered (``None``: not yet, or refused) and in
    how many attempts, once the first attempt has been made."""
    query = select(fake_gateway_events.c.delivered_at, fake_gateway_events.c.attempts).where(
        fake_gateway_events.c.type == "payment_intent.succeeded"
    )
    row = None
    for _ in range(600):  # a bound on waiting for the first attempt, not a measure of speed
        with engine.connect() as connection:
            row = connection.execute(query).first()
        if row is not None and row.attempts > 0:
            return row.delivered_at, row.attempts
        time.sleep(0.05)
    return None, 0 if row is None else row.attempts
