"""Server-side sessions and the refresh-token families that renew them.

A sign-in (``start_session``) ends the browser's previous session and starts a new one - a new
id at every login - together with a new refresh-token family. ``resolve_session`` turns a
session token into its user on every request. ``refresh_session`` rotates a refresh token into
its successor and a fresh session (``commerce_core.domain.refresh_tokens`` has the rules: two
tabs within the grace get the same successor; an older rotated token revokes the family and
raises a security event). ``log_out`` ends the session and its family; ``end_all_sessions``
ends every session and family of a user (password change, role change, account disabled), so a
captured cookie or refresh token replayed afterwards is refused.
"""

from __future__ import annotations

import attrs

from commerce_core.domain.accounts import Session, SessionPolicy, User, hash_token, new_token
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.refresh_tokens import (
    RefreshPolicy,
    RefreshToken,
    RefreshVerdict,
    successor_of,
)
from commerce_core.errors import RefreshRejected
from commerce_core.ports import AttemptStore, Clock, EventSink, PasswordHasher, UnitOfWork
from commerce_core.use_cases._publishing import publish_committed

__all__ = [
    "DEFAULT_REFRESH_POLICY",
    "DEFAULT_SESSION_POLICY",
    "RefreshSession",
    "SignedIn",
    "end_all_sessions",
    "log_out",
    "refresh_session",
    "resolve_session",
    "start_session",
]

DEFAULT_SESSION_POLICY = SessionPolicy()
DEFAULT_REFRESH_POLICY = RefreshPolicy()
MAX_TOKEN_LENGTH = 200  # ours are 43 or 64 characters; anything far longer is not one


@attrs.frozen
class SignedIn:
    """A signed-in browser: its user, its session token and its refresh token (both secret,
    for the cookies only)."""

    user: User
    session_token: str
    refresh_token: str


@attrs.frozen
class RefreshSession:
    refresh_token: str
    # The server's key for deriving successors (``successor_of``); never sent to anyone.
    rotation_key: bytes
    previous_session_token: str | None = None
    ip: str | None = None


def start_session(
    uow: UnitOfWork,
    user: User,
    clock: Clock,
    *,
    previous_session_token: str | None,
    policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
) -> SignedIn:
    """Inside an open ``uow``: end the browser's previous session and start a new one with a
    new refresh-token family. The caller commits."""
    now = clock.now()
    if previous_session_token:
        uow.sessions.delete(hash_token(previous_session_token))
    family_id = new_id("rtf")
    session_token, refresh_token = new_token(), new_token()
    uow.sessions.add(Session(hash_token(session_token), user.id, now, now, family_id))
    uow.refresh_tokens.add(
        RefreshToken(hash_token(refresh_token), family_id, user.id, now, now + policy.lifetime)
    )
    return SignedIn(user, session_token, refresh_token)


def resolve_session(
    token: str, *, uow: UnitOfWork, clock: Clock, policy: SessionPolicy = DEFAULT_SESSION_POLICY
) -> User | None:
    """The active user behind a live session token, or ``None``. Expired sessions are deleted."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = clock.now()
    with uow:
        found = uow.sessions.get_with_user(hash_token(token))
        if found is None:
            return None
        session, user = found
        if not session.is_live(now, policy):
            uow.sessions.delete(session.token_hash)
            uow.commit()
            return None
        if not user.is_active:
            return None
        if session.needs_touch(now, policy):
            session.last_seen_at = now
            uow.sessions.save(session)
            uow.commit()
        return user


def refresh_session(
    command: RefreshSession,
    *,
    uow: UnitOfWork,
    clock: Clock,
    events: EventSink,
    hasher: PasswordHasher | None = None,
    attempts: AttemptStore | None = None,
    policy: RefreshPolicy = DEFAULT_REFRESH_POLICY,
) -> SignedIn:
    """A new session and the refresh token's successor, or ``RefreshRejected``.

    ``hasher`` and ``attempts`` are accepted so that ``**account_ports`` can be passed; a
    refresh needs neither."""
    del hasher, attempts
    token = command.refresh_token
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise RefreshRejected()
    now = clock.now()
    presented = hash_token(token)
    successor = successor_of(token, command.rotation_key)
    with uow:
        stored = uow.refresh_tokens.get(presented)
        if stored is None:
            raise RefreshRejected()
        user = uow.users.get(stored.user_id)
        verdict = stored.verdict(now, policy)
        if verdict is RefreshVerdict.ROTATE and not uow.refresh_tokens.rotate(presented, now):
            # Another request rotated it between our read and our update: it is the other
            # tab's rotation, just now - judge it as such.
            stored = uow.refresh_tokens.get(presented) or stored
            verdict = stored.verdict(now, policy)
            if verdict is RefreshVerdict.ROTATE:  # revoked meanwhile reads as DEAD; never here
                verdict = RefreshVerdict.DEAD
        if verdict is RefreshVerdict.REUSED:
            uow.refresh_tokens.revoke_family(stored.family_id, now)
            ended = uow.sessions.delete_family(stored.family_id)
            uow.announce(
                DomainEvent.alert(
                    "alert.refresh_token_reused",
                    now,
                    user_id=stored.user_id,
                    family_id=stored.family_id,
                    sessions_ended=ended,
                    ip=command.ip,
                )
            )
            uow.commit()
        if verdict in (RefreshVerdict.REUSED, RefreshVerdict.DEAD):
            publish_committed(uow, events, clock)
            raise RefreshRejected()
        if user is None or not user.is_active:
            raise RefreshRejected()
        if verdict is RefreshVerdict.ROTATE:
            uow.refresh_tokens.add(stored.successor(hash_token(successor), now))
        if command.previous_session_token:
            uow.sessions.delete(hash_token(command.previous_session_token))
        session_token = new_token()
        uow.sessions.add(Session(hash_token(session_token), user.id, now, now, stored.family_id))
        uow.announce(
            DomainEvent.of(
                "auth.refreshed",
                now,
                user_id=user.id,
                same_successor=verdict is not RefreshVerdict.ROTATE,
            )
        )
        uow.commit()
    publish_committed(uow, events, clock)
    return SignedIn(user, session_token, successor)


def log_out(
    token: str | None, *, uow: UnitOfWork, clock: Clock, refresh_token: str | None = None
) -> None:
    """End this session and its refresh-token family - the family of the session, and that of
    the refresh token the browser presents, should its session be gone already (expired, or
    replaced by a refresh elsewhere): after logout, neither cookie opens anything."""
    families: set[str] = set()
    now = clock.now()
    with uow:
        if token and len(token) <= MAX_TOKEN_LENGTH:
            session = uow.sessions.get(hash_token(token))
            if session is not None:
                uow.sessions.delete(session.token_hash)
                if session.family_id is not None:
                    families.add(session.family_id)
        if refresh_token and len(refresh_token) <= MAX_TOKEN_LENGTH:
            stored = uow.refresh_tokens.get(hash_token(refresh_token))
            if stored is not None:
                families.add(stored.family_id)
        for family_id in sorted(families):
            uow.refresh_tokens.revoke_family(family_id, now)
            uow.sessions.delete_family(family_id)
        uow.commit()


def end_all_sessions(uow: UnitOfWork, user_id: str, clock: Clock) -> int:
    """Inside an open ``uow``: end every session and refresh-token family of a user; how many
    sessions ended. The caller commits."""
    uow.refresh_tokens.revoke_for_user(user_id, clock.now())
    return uow.sessions.delete_for_user(user_id)
