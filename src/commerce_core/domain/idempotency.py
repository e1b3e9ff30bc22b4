"""Idempotency records: the first response to a money-moving request, kept to be replayed.

A key is scoped per (user, scope) - ``scope`` names the operation, e.g. ``"confirm"`` - and bound to
a fingerprint of the request. Same key + same request -> the stored first result; same key +
another request -> ``IdempotencyKeyReused``; a duplicate that arrives while the first is still
running -> ``IdempotencyRequestInProgress`` (retry later), unless the first looks abandoned (its
lease is older than ``IDEMPOTENCY_LEASE``), in which case the newcomer takes it over: every step
it repeats is itself idempotent (gateway calls carry keys derived from the record, domain
transitions are idempotent), so a takeover cannot double-charge.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from commerce_core.errors import InvalidInput

__all__ = [
    "IDEMPOTENCY_LEASE",
    "IDEMPOTENCY_RETENTION",
    "IdempotencyRecord",
    "IdempotencyState",
    "fingerprint",
    "validate_key",
]

IDEMPOTENCY_LEASE = timedelta(seconds=30)
IDEMPOTENCY_RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


def fingerprint(scope: str, request: Mapping[str, Any]) -> str:
    """A stable hash of a request's meaning (canonical JSON of its fields)."""
    canonical = json.dumps(
        {"scope": scope, "request": request}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.for_field(
            "Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    return key


@attrs.define
class IdempotencyRecord:
    user_id: str
    scope: str
    key: str
    fingerprint: str
    state: IdempotencyState
    created_at: datetime
    locked_at: datetime
    # What the first request produced, as JSON-ready primitives: an outcome name and a body.
    outcome: str | None = None
    response: dict[str, Any] | None = None
    # The id of what the request is creating (a refund id), so a takeover resumes the same one.
    resource_id: str | None = None

    @property
    def completed(self) -> bool:
        return self.state is IdempotencyState.COMPLETED

    def is_abandoned(self, now: datetime) -> bool:
        return not self.completed and now - self.locked_at > IDEMPOTENCY_LEASE

    def complete(self, outcome: str, response: dict[str, Any]) -> None:
        self.state = IdempotencyState.COMPLETED
        self.outcome = outcome
        self.response = response

    def derived_key(self, step: str) -> str:
        """A key for a downstream call (the gateway's Idempotency-Key) tied to this record.

        The request's fingerprint is part of it: gateway keys live per provider account, which
        several shops (staging beside production, a database reset in development) may share,
        and the same user key there must not replay another shop's answer.
        """
        raw = f"{self.user_id}\x1f{self.scope}\x1f{self.key}\x1f{self.fingerprint}\x1f{step}"
        return f"{step}-{hashlib.sha256(raw.encode()).hexdigest()[:40]}"
