"""``SqlUserRepository`` and ``SqlSessionRepository``: accounts and server-side sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql.conflicts import violates
from adapters.sql.tables import sessions, users
from commerce_core import Conflict, EmailAlreadyRegistered, NotFound, Role, Session, User

__all__ = ["SqlSessionRepository", "SqlUserRepository"]


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


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "token_hash": session.token_hash,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "last_seen_at": session.last_seen_at,
    }


def _session(row: RowMapping, *, created_at: str = "created_at") -> Session:
    """``created_at`` names the column: joined with ``users``, the session's is relabelled."""
    return Session(
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        created_at=row[created_at],
        last_seen_at=row["last_seen_at"],
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
