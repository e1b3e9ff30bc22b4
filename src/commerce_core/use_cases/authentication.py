"""Registering, logging in and out, and resolving a session token to its user.

Unknown email, wrong password and disabled account fail alike, and do the same work: for an
unknown email a dummy hash is verified, so response time does not tell which emails exist.
Not built yet: lockout and rate limits. Nothing here limits how often anyone may try.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import attrs

from commerce_core.domain.accounts import (
    Role,
    Session,
    SessionPolicy,
    User,
    hash_token,
    new_token,
    normalise_email,
    validate_email,
    validate_name,
    validate_new_password,
)
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.errors import AuthenticationFailed, FieldError, InvalidInput
from commerce_core.ports import Clock, EventSink, PasswordHasher, UnitOfWork
from commerce_core.use_cases._publishing import publish_committed

__all__ = [
    "LogIn",
    "Register",
    "SignedIn",
    "create_staff_user",
    "log_in",
    "log_out",
    "register",
    "resolve_session",
]


@attrs.frozen
class Register:
    email: str
    password: str
    name: str
    role: Role = Role.CUSTOMER
    # The browser's current session, ended with the new one's start: a new id at every login.
    previous_session_token: str | None = None


@attrs.frozen
class LogIn:
    email: str
    password: str
    previous_session_token: str | None = None


@attrs.frozen
class SignedIn:
    user: User
    session_token: str


DEFAULT_SESSION_POLICY = SessionPolicy()


# A real hash of a random password per hasher, verified for unknown emails so that they cost the
# same work as a wrong password. Weakly keyed: a new hasher never inherits another one's hash.
_DUMMY_HASHES: weakref.WeakKeyDictionary[PasswordHasher, str] = weakref.WeakKeyDictionary()


def _dummy_hash(hasher: PasswordHasher) -> str:
    try:
        return _DUMMY_HASHES[hasher]
    except KeyError:
        dummy = _DUMMY_HASHES[hasher] = hasher.hash(new_token())
        return dummy
    except TypeError:  # a hasher that cannot be weakly referenced: pay for a fresh hash each time
        return hasher.hash(new_token())


def register(
    command: Register,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
) -> SignedIn:
    errors: list[FieldError] = []

    def collect(check: Callable[[str], str], value: str) -> str:
        try:
            return check(value)
        except InvalidInput as exc:
            errors.extend(exc.errors)
            return ""

    email = collect(validate_email, command.email)
    name = collect(validate_name, command.name)
    collect(validate_new_password, command.password)
    if errors:
        raise InvalidInput(errors=errors)
    now = clock.now()
    user = User(
        id=new_id("usr"),
        email=email,
        name=name,
        password_hash=hasher.hash(command.password),
        role=command.role,
        is_active=True,
        created_at=now,
    )
    token = new_token()
    with uow:
        uow.users.add(user)
        if command.previous_session_token:
            uow.sessions.delete(hash_token(command.previous_session_token))
        uow.sessions.add(Session(hash_token(token), user.id, now, now))
        uow.announce(DomainEvent.of("auth.registered", now, user_id=user.id, role=user.role.value))
        uow.commit()
    publish_committed(uow, events, clock)
    return SignedIn(user, token)


def log_in(
    command: LogIn,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
) -> SignedIn:
    email = normalise_email(command.email)
    with uow:
        user = uow.users.get_by_email(email) if email else None
    if user is None:
        hasher.verify(_dummy_hash(hasher), command.password)
        events.emit("auth.login_failed", reason="unknown_email")
        raise AuthenticationFailed()
    if not hasher.verify(user.password_hash, command.password):
        events.emit("auth.login_failed", reason="wrong_password", user_id=user.id)
        raise AuthenticationFailed()
    if not user.is_active:
        events.emit("auth.login_failed", reason="inactive", user_id=user.id)
        raise AuthenticationFailed()
    now = clock.now()
    token = new_token()
    rehashed = hasher.hash(command.password) if hasher.needs_rehash(user.password_hash) else None
    with uow:
        fresh = uow.users.get(user.id) if rehashed else None
        # Re-read: a role change or disable that landed during the slow verify must not be
        # written back over; only the hash changes, and only if nobody changed it meanwhile.
        if fresh is not None and rehashed and fresh.password_hash == user.password_hash:
            fresh.password_hash = rehashed
            uow.users.save(fresh)
            user = fresh
        if command.previous_session_token:
            uow.sessions.delete(hash_token(command.previous_session_token))
        uow.sessions.add(Session(hash_token(token), user.id, now, now))
        uow.announce(DomainEvent.of("auth.logged_in", now, user_id=user.id))
        uow.commit()
    publish_committed(uow, events, clock)
    return SignedIn(user, token)


def resolve_session(
    token: str, *, uow: UnitOfWork, clock: Clock, policy: SessionPolicy = DEFAULT_SESSION_POLICY
) -> User | None:
    """The active user behind a live session token, or ``None``. Expired sessions are deleted."""
    if not token or len(token) > 200:
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


def log_out(token: str, *, uow: UnitOfWork) -> None:
    with uow:
        uow.sessions.delete(hash_token(token))
        uow.commit()


def create_staff_user(
    command: Register,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
) -> User:
    """Create (or promote and re-password) a staff account; used by ``commerce users create-admin``."""
    email = validate_email(command.email)
    validate_new_password(command.password)
    with uow:
        existing = uow.users.get_by_email(email)
        if existing is not None:
            existing.role = command.role
            existing.password_hash = hasher.hash(command.password)
            existing.is_active = True
            uow.users.save(existing)
            uow.sessions.delete_for_user(existing.id)
            uow.announce(
                DomainEvent.of(
                    "auth.staff_updated",
                    clock.now(),
                    user_id=existing.id,
                    role=command.role.value,
                )
            )
            uow.commit()
    if existing is not None:
        publish_committed(uow, events, clock)
        return existing
    signed_in = register(command, uow=uow, hasher=hasher, clock=clock, events=events)
    log_out(signed_in.session_token, uow=uow)
    return signed_in.user
