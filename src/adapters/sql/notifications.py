"""The message outbox, password-reset tokens and sign-in addresses in SQL.

``SqlMessageOutbox.claim`` is one conditional ``UPDATE`` (still pending, due, and unclaimed or
its lease run out): on PostgreSQL a second sender's update waits for the first one's row lock
and then finds the row claimed, so of two senders exactly one gets each message - on SQLite the
database lock serialises them alike. ``add`` is ``INSERT ... ON CONFLICT DO NOTHING`` on the
message id, so queueing a message twice (a replayed webhook) leaves one, and never aborts the
transaction it runs in.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, or_, select, update
from sqlalchemy.engine import Connection

from adapters.sql.conflicts import insert_on_conflict
from adapters.sql.tables import outgoing_messages as messages
from adapters.sql.tables import password_reset_tokens as resets
from adapters.sql.tables import sign_in_addresses as addresses
from commerce_core import MessageStatus, OutgoingMessage, PasswordResetToken, QueuedMessage

__all__ = ["SqlMessageOutbox", "SqlPasswordResetRepository", "SqlSignInAddressRepository"]

_PENDING = MessageStatus.PENDING.value


@functools.cache
def _insert_message(dialect: str) -> Any:
    """Built once per dialect; the row comes as the execution's parameters."""
    return (
        insert_on_conflict(dialect, messages)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(messages.c.id)
    )


@functools.cache
def _insert_address(dialect: str) -> Any:
    return insert_on_conflict(dialect, addresses).on_conflict_do_nothing(
        index_elements=["user_id", "address_digest"]
    )


def _queued(row: RowMapping) -> QueuedMessage:
    return QueuedMessage(
        message=OutgoingMessage(
            id=row["id"],
            kind=row["kind"],
            to=row["recipient"],
            subject=row["subject"],
            text=row["text_body"],
            html=row["html_body"],
            sensitive=row["sensitive"],
        ),
        status=MessageStatus(row["status"]),
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        attempts=row["attempts"],
        claimed_by=row["claimed_by"],
        claimed_until=row["claimed_until"],
        last_error=row["last_error"],
        sent_at=row["sent_at"],
    )


def _due(now: datetime) -> Any:
    return and_(
        messages.c.status == _PENDING,
        messages.c.next_attempt_at <= now,
        or_(messages.c.claimed_until.is_(None), messages.c.claimed_until <= now),
    )


class SqlMessageOutbox:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, message: OutgoingMessage, now: datetime) -> bool:
        # RETURNING, not rowcount: psycopg reports no rowcount for ON CONFLICT DO NOTHING.
        inserted = self._connection.execute(
            _insert_message(self._connection.dialect.name),
            {
                "id": message.id,
                "kind": message.kind,
                "recipient": message.to,
                "subject": message.subject,
                "text_body": message.text,
                "html_body": message.html,
                "sensitive": message.sensitive,
                "status": _PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            },
        )
        return inserted.first() is not None

    def get(self, message_id: str) -> QueuedMessage | None:
        row = (
            self._connection.execute(select(messages).where(messages.c.id == message_id))
            .mappings()
            .first()
        )
        return None if row is None else _queued(row)

    def due(self, now: datetime, limit: int) -> list[QueuedMessage]:
        rows = self._connection.execute(
            select(messages)
            .where(_due(now))
            .order_by(messages.c.next_attempt_at, messages.c.created_at, messages.c.id)
            .limit(limit)
        ).mappings()
        return [_queued(row) for row in rows]

    def claim(self, message_id: str, holder: str, now: datetime, until: datetime) -> bool:
        claimed = self._connection.execute(
            update(messages)
            .where(messages.c.id == message_id, _due(now))
            .values(claimed_by=holder, claimed_until=until, attempts=messages.c.attempts + 1)
        )
        return claimed.rowcount == 1

    def mark_sent(self, message_id: str, at: datetime, *, forget_body: bool) -> None:
        values: dict[str, Any] = {
            "status": MessageStatus.SENT.value,
            "sent_at": at,
            "claimed_by": None,
            "claimed_until": None,
        }
        if forget_body:
            values.update(text_body="", html_body="")
        self._connection.execute(
            update(messages).where(messages.c.id == message_id).values(**values)
        )

    def mark_failed(
        self, message_id: str, holder: str, *, retry_at: datetime | None, error: str
    ) -> None:
        values: dict[str, Any] = {
            "last_error": error,
            "claimed_by": None,
            "claimed_until": None,
        }
        if retry_at is None:
            values["status"] = MessageStatus.FAILED.value
        else:
            values["next_attempt_at"] = retry_at
        self._connection.execute(
            update(messages)
            .where(
                messages.c.id == message_id,
                messages.c.claimed_by == holder,
                messages.c.status == _PENDING,
            )
            .values(**values)
        )


def _token(row: RowMapping) -> PasswordResetToken:
    return PasswordResetToken(
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
    )


class SqlPasswordResetRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, token: PasswordResetToken) -> None:
        self._connection.execute(
            resets.insert().values(
                token_hash=token.token_hash,
                user_id=token.user_id,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
            )
        )

    def get(self, token_hash: str) -> PasswordResetToken | None:
        row = (
            self._connection.execute(select(resets).where(resets.c.token_hash == token_hash))
            .mappings()
            .first()
        )
        return None if row is None else _token(row)

    def use(self, token_hash: str, now: datetime) -> bool:
        used = self._connection.execute(
            update(resets)
            .where(
                resets.c.token_hash == token_hash,
                resets.c.used_at.is_(None),
                resets.c.expires_at > now,
            )
            .values(used_at=now)
        )
        return used.rowcount == 1

    def supersede_for_user(self, user_id: str, now: datetime) -> int:
        superseded = self._connection.execute(
            update(resets)
            .where(resets.c.user_id == user_id, resets.c.used_at.is_(None))
            .values(used_at=now)
        )
        return superseded.rowcount


class SqlSignInAddressRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def remember(self, user_id: str, digest: str, now: datetime) -> bool:
        inserted = self._connection.execute(
            _insert_address(self._connection.dialect.name)
            .values(user_id=user_id, address_digest=digest, first_seen_at=now)
            .returning(addresses.c.user_id)
        )
        return inserted.first() is not None

    def knows_any(self, user_id: str) -> bool:
        found = self._connection.execute(
            select(addresses.c.user_id).where(addresses.c.user_id == user_id).limit(1)
        ).first()
        return found is not None
