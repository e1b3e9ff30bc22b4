"""A real shop server process for end-to-end tests: `commerce db upgrade`, `commerce seed --demo`,
then `commerce serve` (gunicorn) on a free port, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

WEBHOOK_SECRET = "whsec_e2e_" + "x" * 24
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
COMMERCE = str(Path(sys.executable).with_name("commerce"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Shop:
    def __init__(self, base_url: str, env: dict[str, str]) -> None:
        self.base_url = base_url
        self.env = env

    def url(self, path: str) -> str:
        return self.base_url + path

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [COMMERCE, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def free_port() -> int:
    return _free_port()


def start_shop(
    database_url: str, tmp: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Shop]:
    """Migrate, seed, create the admin and serve; stop it and check its log afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    shop = Shop(f"http://127.0.0.1:{port}", env)
    for args, stdin in (
        (("db", "upgrade"), None),
        (("seed", "--demo"), None),
        (("users", "create-admin", ADMIN_EMAIL), ADMIN_PASSWORD + "\n"),
    ):
        done = shop.cli(*args, stdin=stdin)
        assert done.returncode == 0, (
            f"commerce {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        )
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        [COMMERCE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(shop.url("/readyz"), timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not up yet, or a worker still booting
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + (tmp / "server.log").read_text())
            time.sleep(0.2)
        yield shop
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    # The module's requests are over: none may have logged an error (an unhandled exception
    # is logged at error level with its error_id), even where the client saw a clean answer.
    text = (tmp / "server.log").read_text()
    failures = [
        line
        for line in text.splitlines()
        if '"level": "error"' in line or '"level": "critical"' in line or "Traceback" in line
    ]
    assert not failures, "the server logged failures:\n" + "\n".join(failures[:20])


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shop]:
    tmp = tmp_path_factory.mktemp(f"shop-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'shop.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    yield from start_shop(url, tmp)
