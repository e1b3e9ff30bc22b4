"""``SqlUserRepository``, ``SqlSessionRepository`` and ``SqlRefreshTokenRepository``: accounts,
server-side sessions and the refresh-token families that renew them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql.conflicts import violates
from adapters.sql.tables import refresh_tokens, sessions, users
from commerce_core import (
    Conflict,
    EmailAlreadyRegistered,
    NotFound,
    RefreshToken,
    Role,
    Session,
    User,
    UserFilter,
)

__all__ = ["SqlRefreshTokenRepository", "SqlSessionRepository", "SqlUserRepository"]

# Built once: every checkout intent runs it.
_LOCK_USER = select(users.c.id).where(users.c.id == bindparam("user_id")).with_for_update()


# The statements of every signed-in request, built once (SQLAlchemy then only looks up their
# compiled form) rather than per call.
_USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_USER_BY_EMAIL = select(users).where(users.c.email == bindparam("email"))
_SESSION_BY_HASH = select(sessions).where(sessions.c.token_hash == bindparam("token_hash"))
_SESSION_WITH_USER = (
    select(
        sessions.c.token_hash,
        sessions.c.user_id,
        sessions.c.created_at.label("session_created_at"),
        sessions.c.last_seen_at,
        sessions.c.family_id,
        users,
    )
    .join_from(sessions, users, users.c.id == sessions.c.user_id)
    .where(sessions.c.token_hash == bindparam("token_hash"))
)
_TOUCH_SESSION = (
    sessions.update()
    .where(sessions.c.token_hash == bindparam("hash"))
    .values(last_seen_at=bindparam("last_seen_at"))
)


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "password_hash": user.password_hash,
        "role": user.role.value,
        "is_active": user.is_active,
        "created_at": user.created_at,
    }


def _user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        password_hash=row["password_hash"],
        role=Role(row["role"]),
        is_active=bool(row["is_active"]),
        created_at=row["created_at"],
    )


class SqlUserRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, user: User) -> None:
        """Raises ``EmailAlreadyRegistered`` if the email is taken.

        The ``SELECT`` answers the common case; the unique index settles the race of two sign-ups
        with one email. Its violation happens inside a SAVEPOINT, so on PostgreSQL the caller's
        transaction survives it (an error outside a savepoint would abort the whole transaction).
        """
        if self.get_by_email(user.email) is not None:
            raise EmailAlreadyRegistered(f"{user.email} is already registered")
        try:
            with self._connection.begin_nested():
                self._connection.execute(users.insert().values(_user_values(user)))
        except IntegrityError as exc:
            if violates(exc, users.c.email):
                raise EmailAlreadyRegistered(f"{user.email} is already registered") from exc
            if violates(exc, users.c.id):
                raise Conflict(f"user {user.id} already exists") from exc
            raise

    def get(self, user_id: str) -> User | None:
        row = self._connection.execute(_USER_BY_ID, {"user_id": user_id}).mappings().first()
        return None if row is None else _user(row)

    def get_by_email(self, email: str) -> User | None:
        row = self._connection.execute(_USER_BY_EMAIL, {"email": email}).mappings().first()
        return None if row is None else _user(row)

    def save(self, user: User) -> None:
        values = _user_values(user)
        del values["id"], values["created_at"]
        try:
            result = self._connection.execute(
                users.update().where(users.c.id == user.id).values(values)
            )
        except IntegrityError as exc:
            if violates(exc, users.c.email):
                raise EmailAlreadyRegistered(f"{user.email} is already registered") from exc
            raise
        if result.rowcount == 0:
            raise NotFound(f"no user {user.id} to save")

    def lock(self, user_id: str) -> None:
        # SQLite's BEGIN IMMEDIATE has serialised the transaction already; FOR UPDATE is a
        # no-op there and the row lock on PostgreSQL.
        self._connection.execute(_LOCK_USER, {"user_id": user_id}).first()

    def count_active_admins(self) -> int:
        # Locks the admins' rows on PostgreSQL, so two staff demoting each other at once
        # cannot both see the other as the remaining admin.
        rows = self._connection.execute(
            select(users.c.id)
            .where(users.c.role == Role.ADMIN.value, users.c.is_active.is_(True))
            .with_for_update()
        ).all()
        return len(rows)

    def search(self, where: UserFilter, offset: int, limit: int) -> tuple[list[User], int]:
        """Newest first. A part of an email cannot use the email's index: this scans the
        accounts, which staff search rarely and the shop has far fewer of than orders."""
        conditions: list[ColumnElement[bool]] = []
        if where.email is not None:
            # autoescape: a % or _ typed by staff is itself, not a wildcard.
            conditions.append(users.c.email.contains(where.email, autoescape=True))
        if where.role is not None:
            conditions.append(users.c.role == where.role.value)
        if where.active is not None:
            conditions.append(users.c.is_active.is_(where.active))
        rows = self._connection.execute(
            select(users)
            .where(*conditions)
            .order_by(users.c.created_at.desc(), users.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).mappings()
        found = [_user(row) for row in rows]
        total = self._connection.execute(
            select(func.count()).select_from(users).where(*conditions)
        ).scalar_one()
        return found, total


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "token_hash": session.token_hash,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "last_seen_at": session.last_seen_at,
        "family_id": session.family_id,
    }


def _session(row: RowMapping, *, created_at: str = "created_at") -> Session:
    """``created_at`` names the column: joined with ``users``, the session's is relabelled."""
    return Session(
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        created_at=row[created_at],
        last_seen_at=row["last_seen_at"],
        family_id=row["family_id"],
    )


class SqlSessionRepository:
    """Sessions by the SHA-256 of their token; the token itself is never stored."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, session: Session) -> None:
        self._connection.execute(sessions.insert().values(_session_values(session)))

    def get(self, token_hash: str) -> Session | None:
        row = (
            self._connection.execute(_SESSION_BY_HASH, {"token_hash": token_hash})
            .mappings()
            .first()
        )
        return None if row is None else _session(row)

    def get_with_user(self, token_hash: str) -> tuple[Session, User] | None:
        """One indexed join (the session's primary key, then the user's)."""
        row = (
            self._connection.execute(_SESSION_WITH_USER, {"token_hash": token_hash})
            .mappings()
            .first()
        )
        if row is None:
            return None
        return _session(row, created_at="session_created_at"), _user(row)

    def save(self, session: Session) -> None:
        # Only last_seen_at ever moves; a session that was deleted (logged out) stays deleted.
        self._connection.execute(
            _TOUCH_SESSION, {"hash": session.token_hash, "last_seen_at": session.last_seen_at}
        )

    def delete(self, token_hash: str) -> None:
        self._connection.execute(sessions.delete().where(sessions.c.token_hash == token_hash))

    def delete_for_user(self, user_id: str) -> int:
        """End every session of a user (password or role change, account disabled)."""
        return self._connection.execute(
            sessions.delete().where(sessions.c.user_id == user_id)
        ).rowcount

    def delete_family(self, family_id: str) -> int:
        return self._connection.execute(
            sessions.delete().where(sessions.c.family_id == family_id)
        ).rowcount


_ROTATE = (
    refresh_tokens.update()
    .where(
        refresh_tokens.c.token_hash == bindparam("hash"),
        refresh_tokens.c.rotated_at.is_(None),
        refresh_tokens.c.revoked_at.is_(None),
    )
    .values(rotated_at=bindparam("now"))
)


def _refresh_token(row: RowMapping) -> RefreshToken:
    return RefreshToken(
        token_hash=row["token_hash"],
        family_id=row["family_id"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        rotated_at=row["rotated_at"],
        revoked_at=row["revoked_at"],
    )


class SqlRefreshTokenRepository:
    """Refresh tokens by the SHA-256 of the token; rotation is one conditional UPDATE, so two
    concurrent refreshes of one token cannot both rotate it."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, token: RefreshToken) -> None:
        self._connection.execute(
            refresh_tokens.insert().values(
                token_hash=token.token_hash,
                family_id=token.family_id,
                user_id=token.user_id,
                created_at=token.created_at,
                expires_at=token.expires_at,
                rotated_at=token.rotated_at,
                revoked_at=token.revoked_at,
            )
        )

    def get(self, token_hash: str) -> RefreshToken | None:
        row = (
            self._connection.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
            )
            .mappings()
            .first()
        )
        return None if row is None else _refresh_token(row)

    def rotate(self, token_hash: str, now: datetime) -> bool:
        return self._connection.execute(_ROTATE, {"hash": token_hash, "now": now}).rowcount == 1

    def revoke_family(self, family_id: str, now: datetime) -> int:
        return self._connection.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount

    def revoke_for_user(self, user_id: str, now: datetime) -> int:
        return self._connection.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount

    def delete_expired(self, now: datetime) -> int:
        return self._connection.execute(
            refresh_tokens.delete().where(refresh_tokens.c.expires_at <= now)
        ).rowcount
