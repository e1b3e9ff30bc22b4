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
    """Call ``call``; return the ``error`` it raised. It raising nothing, or anything else (a
    ``GatewayError`` where ``GatewayUnavailable`` was due), fails the test with the reason."""
    try:
        call()
    except error as exc:
        return exc
    except Exception as other:
        raise AssertionError(
            f"expected {error.__name__}, got {type(other).__name__}: {other}"
        ) from other
    raise AssertionError(f"expected {error.__name__}, nothing was raised")


def new_key() -> str:
    return secrets.token_hex(8)
