"""What the contract suites share: a fixed instant, fresh keys, and ``raises`` without pytest."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

__all__ = ["T0", "new_key", "raises"]

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

E = TypeVar("E", bound=BaseException)


def raises(error: type[E], call: Callable[[], object]) -> E:
    """Call ``call``; return the ``error`` it raised, or fail the test if it raised none."""
    try:
        call()
    except error as exc:
        return exc
    raise AssertionError(f"expected {error.__name__}")


def new_key() -> str:
    return secrets.token_hex(8)
