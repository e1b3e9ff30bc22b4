"""The in-memory message outbox, password-reset tokens and sign-in addresses of
``InMemoryUnitOfWork`` (each over one dict of the store's transaction copy)."""

from __future__ import annotations

import copy
from datetime import datetime

import attrs

from commerce_core.domain.notifications import MessageStatus, OutgoingMessage, QueuedMessage
from commerce_core.domain.password_resets import PasswordResetToken
from commerce_core.errors import Conflict

__all__ = ["InMemoryMessageOutbox", "InMemoryPasswordResets", "InMemorySignInAddresses"]


class InMemoryMessageOutbox:
    def __init__(self, messages: dict[str, QueuedMessage]) -> None:
        self._messages = messages

    def add(self, message: OutgoingMessage, now: datetime) -> bool:
        if message.id in self._messages:
            return False
        self._messages[message.id] = QueuedMessage(
            message=message, status=MessageStatus.PENDING, created_at=now, next_attempt_at=now
        )
        return True

    def get(self, message_id: str) -> QueuedMessage | None:
        return copy.deepcopy(self._messages.get(message_id))

    def due(self, now: datetime, limit: int) -> list[QueuedMessage]:
        due = sorted(
            (m for m in self._messages.values() if m.is_due(now)),
            key=lambda m: (m.next_attempt_at, m.created_at, m.id),
        )
        return copy.deepcopy(due[:limit])

    def claim(self, message_id: str, holder: str, now: datetime, until: datetime) -> bool:
        queued = self._messages.get(message_id)
        if queued is None or not queued.is_due(now):
            return False
        queued.claimed_by, queued.claimed_until = holder, until
        queued.attempts += 1
        return True

    def mark_sent(self, message_id: str, at: datetime, *, forget_body: bool) -> None:
        queued = self._messages.get(message_id)
        if queued is None:
            return
        queued.status, queued.sent_at = MessageStatus.SENT, at
        queued.claimed_by = queued.claimed_until = None
        if forget_body:
            queued.message = attrs.evolve(queued.message, text="", html="")

    def mark_failed(
        self, message_id: str, holder: str, *, retry_at: datetime | None, error: str
    ) -> None:
        queued = self._messages.get(message_id)
        if (
            queued is None
            or queued.claimed_by != holder
            or queued.status is not MessageStatus.PENDING
        ):
            return
        queued.last_error = error
        queued.claimed_by = queued.claimed_until = None
        if retry_at is None:
            queued.status = MessageStatus.FAILED
        else:
            queued.next_attempt_at = retry_at


class InMemoryPasswordResets:
    def __init__(self, tokens: dict[str, PasswordResetToken]) -> None:
        self._tokens = tokens

    def add(self, token: PasswordResetToken) -> None:
        if token.token_hash in self._tokens:
            raise Conflict("password-reset token already stored")
        self._tokens[token.token_hash] = copy.deepcopy(token)

    def get(self, token_hash: str) -> PasswordResetToken | None:
        return copy.deepcopy(self._tokens.get(token_hash))

    def use(self, token_hash: str, now: datetime) -> bool:
        token = self._tokens.get(token_hash)
        if token is None or not token.is_usable(now):
            return False
        token.used_at = now
        return True

    def supersede_for_user(self, user_id: str, now: datetime) -> int:
        superseded = 0
        for token in self._tokens.values():
            if token.user_id == user_id and token.used_at is None:
                token.used_at = now
                superseded += 1
        return superseded


class InMemorySignInAddresses:
    def __init__(self, addresses: dict[tuple[str, str], datetime]) -> None:
        self._addresses = addresses

    def remember(self, user_id: str, digest: str, now: datetime) -> bool:
        if (user_id, digest) in self._addresses:
            return False
        self._addresses[(user_id, digest)] = now
        return True

    def knows_any(self, user_id: str) -> bool:
        return any(known == user_id for known, _ in self._addresses)
