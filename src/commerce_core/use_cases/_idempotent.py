"""The mechanics of an idempotent use case, shared by intent, confirm and refund."""

from __future__ import annotations

import enum
from typing import Any, Generic, TypeVar

import attrs

from commerce_core.domain.idempotency import (
    IdempotencyRecord,
    IdempotencyState,
    fingerprint,
    validate_key,
)
from commerce_core.errors import CommerceError, IdempotencyKeyReused, IdempotencyRequestInProgress
from commerce_core.ports import Clock, UnitOfWork

__all__ = ["IdempotentRequest", "Result"]


OutcomeT = TypeVar("OutcomeT", bound=enum.StrEnum)


@attrs.frozen
class Result(Generic[OutcomeT]):
    """What a money-moving use case answers: its outcome (one enum per use case, so a driver
    can match every case and mypy proves it did), a JSON-ready body, and whether this answer is
    a replay of the first one."""

    outcome: OutcomeT
    body: dict[str, Any]
    replayed: bool = False


class IdempotentRequest(Generic[OutcomeT]):
    """Claim a key before acting, store the result in the same transaction as the effect.

    ``outcomes`` is the use case's outcome enum: a stored first answer is replayed as a member
    of it.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        outcomes: type[OutcomeT],
        *,
        user_id: str,
        scope: str,
        key: str,
        request: dict[str, Any],
    ) -> None:
        self._uow = uow
        self._outcomes = outcomes
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

    def begin(self) -> Result[OutcomeT] | None:
        """``None`` if this request now owns the key; else the first request's stored result."""
        with self._uow as uow:
            existing = uow.idempotency.claim(self.record)
            if existing is not None:
                if existing.fingerprint != self.record.fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with a different request"
                    )
                if existing.completed and existing.outcome and existing.response is not None:
                    outcome = self._outcomes(existing.outcome)
                    return Result(outcome, existing.response, replayed=True)
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

    def finish(self, uow: UnitOfWork, outcome: OutcomeT, body: dict[str, Any]) -> Result[OutcomeT]:
        """Store the result inside the caller's open transaction, atomically with the effect."""
        self.record.complete(outcome.value, body)
        uow.idempotency.save(self.record)
        return Result(outcome, body)

    def abandon(self) -> None:
        """Nothing happened (the request was refused before any effect): free the key."""
        with self._uow as uow:
            uow.idempotency.delete(self.record)
            uow.commit()

    def release_after(self, error: Exception) -> None:
        """Free the key after ``error`` ended the request before its effect.

        A refusal (``CommerceError``) always frees it. So does a crash - a database error, a
        bug - while the record names nothing this request created: every write of the effect
        commits together with the record's ``resource_id``, so nothing of it can have been
        stored. Once it names something, a crash (say in the commit itself) leaves unknown
        whether that was stored, and the key stays claimed until its lease runs out; a retry
        then takes it over and resumes the same resource, never a second one.
        """
        if isinstance(error, CommerceError) or self.record.resource_id is None:
            self.abandon()
