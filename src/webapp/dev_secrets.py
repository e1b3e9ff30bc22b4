"""The fake gateway's webhook signing secret outside production: one per install, never public.

The fake gateway signs its Stripe-shaped webhooks, and the webhook route accepts whatever that
secret signs - "this order is paid" included. A secret written in the source would let anyone who
can reach a developer's shop on a network mark orders paid. So, unless ``STRIPE_WEBHOOK_SECRET``
names one (tests that need a known secret, ``stripe listen``), the secret is:

- ``APP_ENV=test``, or a SQLite database in memory: a fresh random secret for this container.
  Such an app lives in one process, which both signs and verifies.
- otherwise: the file ``dev-webhook-secret`` in the install's var directory - beside its SQLite
  database (``./var/`` by default), or ``./var/`` for any other database - generated at first use
  with mode 0600 and read on every later run. Every process of the install (gunicorn's workers,
  the CLI, the next ``make run``) reads the same file, so events signed by one are accepted by
  all. Two processes starting at once on a clean checkout each write a complete candidate under a
  private name and hard-link it into place; the link fails for the second, and both then read the
  first one's secret.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from webapp.config import ConfigError, Settings

__all__ = [
    "DEFAULT_VAR_DIR",
    "SECRET_FILE_NAME",
    "fake_gateway_webhook_secret",
    "read_or_create_secret",
    "var_directory",
]

DEFAULT_VAR_DIR = Path("var")
SECRET_FILE_NAME = "dev-webhook-secret"  # noqa: S105 - a file name, not a secret
_VARIABLE = "STRIPE_WEBHOOK_SECRET"
# A stored secret shorter than this was not written by us: refuse it rather than sign with it.
_MIN_STORED_LENGTH = 32


def _new_secret() -> str:
    return "whsec_" + secrets.token_hex(32)


def fake_gateway_webhook_secret(settings: Settings) -> str:
    """The secret the fake gateway signs (and its webhook route verifies) with."""
    if settings.stripe_webhook_secret:
        return settings.stripe_webhook_secret
    directory = None if settings.app_env == "test" else var_directory(settings.database_url)
    if directory is None:
        return _new_secret()
    return read_or_create_secret(directory / SECRET_FILE_NAME)


def var_directory(database_url: str) -> Path | None:
    """Where this install keeps its local files: its SQLite database's directory, or
    ``./var`` for a server database; ``None`` for an in-memory database (nothing persists)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return DEFAULT_VAR_DIR
    database = url.database or ""
    if database.startswith("file:"):  # a SQLite URI filename: file:path?mode=...
        if "mode=memory" in database or url.query.get("mode") == "memory":
            return None
        database = urlsplit(database).path
    if database in ("", ":memory:"):
        return None
    return Path(database).parent


def read_or_create_secret(path: Path) -> str:
    """The secret stored at ``path``, generated and stored there first if there is none."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file readable and writable by its owner only.
        handle, candidate = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(_new_secret() + "\n")
            # If another process of this install was first, its secret is the one.
            with contextlib.suppress(FileExistsError):
                os.link(candidate, path)
        finally:
            os.unlink(candidate)
    except OSError as exc:
        raise ConfigError(
            {_VARIABLE: f"cannot store a generated secret in {path} ({exc.strerror}); set it"}
        ) from None
    return _read(path)


def _read(path: Path) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError({_VARIABLE: f"cannot read {path} ({exc.strerror})"}) from None
    if len(value) < _MIN_STORED_LENGTH:
        raise ConfigError({_VARIABLE: f"{path} is damaged; delete it to get a new secret"})
    return value
