"""The mechanics of an idempotent use case, shared by intent, confirm and refund."""

from __future__ import annotations

from typing import Any

import attrs

from commerce_core.domain.idempotency import (
    IdempotencyRecord,
    IdempotencyState,
    fingerprint,
    validate_key,
)
from commerce_core.errors import IdempotencyKeyReused, IdempotencyRequestInProgress
from commerce_core.ports import Clock, UnitOfWork

__all__ = ["IdempotentRequest", "Result"]


@attrs.frozen
class Result:
    """What an idempotent use case answers: an outcome name, a JSON-ready body, and whether this
    answer is a replay of the first one."""

    outcome: str
    body: dict[str, Any]
    replayed: bool = False


class IdempotentRequest:
    """Claim a key before acting, store the result in the same transaction as the effect."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        user_id: str,
        scope: str,
        key: str,
        request: dict[str, Any],
    ) -> None:
        self._uow = uow
        now = clock.now()
        self.record = IdempotencyRecord(
            user_id=user_id,
            scope=scope,
            key=validate_key(key),
            fingerprint=fingerprint(scope, request),
            state=IdempotencyState.IN_PROGRESS,
            created_at=now,
            locked_at=now,
        )
        self._now = now

    def begin(self) -> Result | None:
        """``None`` if this request now owns the key; else the first request's stored result."""
        with self._uow as uow:
            existing = uow.idempotency.claim(self.record)
            if existing is not None:
                if existing.fingerprint != self.record.fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with a different request"
                    )
                if existing.completed and existing.outcome and existing.response is not None:
                    return Result(existing.outcome, existing.response, replayed=True)
                if not existing.is_abandoned(self._now):
                    raise IdempotencyRequestInProgress(
                        "a request with this Idempotency-Key is still being processed; retry shortly"
                    )
                # The first attempt died mid-way: take it over and resume where it stood. Lock
                # and look again, so that of two late retries only one takes over.
                locked = uow.idempotency.get(
                    existing.user_id, existing.scope, existing.key, for_update=True
                )
                if locked is None or locked.completed or not locked.is_abandoned(self._now):
                    raise IdempotencyRequestInProgress(
                        "a request with this Idempotency-Key is still being processed; retry shortly"
                    )
                locked.locked_at = self._now
                uow.idempotency.save(locked)
                self.record = locked
            uow.commit()
        return None

    def finish(self, uow: UnitOfWork, outcome: str, body: dict[str, Any]) -> Result:
        """Store the result inside the caller's open transaction, atomically with the effect."""
        self.record.complete(outcome, body)
        uow.idempotency.save(self.record)
        return Result(outcome, body)

    def abandon(self) -> None:
        """Nothing happened (the request was refused before any effect): free the key."""
        with self._uow as uow:
            uow.idempotency.delete(self.record)
            uow.commit()
