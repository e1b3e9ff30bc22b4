"""Registering, logging in, changing one's password, and staff accounts for the CLI.

Nothing here tells an outsider which emails have accounts:

- a login for an unknown email, a wrong password and a disabled account fail alike
  (``AuthenticationFailed``) and do the same work - for an unknown email a dummy hash is
  verified - and they count towards the lockout alike (``commerce_core.domain.lockout``), so a
  lock (``LoginLocked``) falls on unknown emails as on real ones;
- registering an email that already has an account answers exactly as a new registration does
  (a decoy user and a session that leads nowhere), does the same hashing work, creates nothing,
  and tells the owner out of band (the event ``auth.registration_for_existing_email``, for the
  mailer to turn into an email).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime

import attrs

from commerce_core.domain.accounts import (
    Role,
    User,
    new_token,
    normalise_email,
    validate_email,
    validate_name,
    validate_new_password,
)
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.lockout import (
    AttemptState,
    LockoutPolicy,
    email_digest,
    email_key,
    pair_key,
)
from commerce_core.errors import (
    AuthenticationFailed,
    EmailAlreadyRegistered,
    FieldError,
    InvalidInput,
    LoginLocked,
)
from commerce_core.ports import AttemptStore, Clock, EventSink, PasswordHasher, UnitOfWork
from commerce_core.use_cases._publishing import publish_committed
from commerce_core.use_cases.notifications import remember_sign_in_address
from commerce_core.use_cases.sessions import SignedIn, end_all_sessions, start_session

__all__ = [
    "DEFAULT_LOCKOUT_POLICY",
    "ChangePassword",
    "LogIn",
    "Register",
    "change_password",
    "create_staff_user",
    "log_in",
    "register",
]

DEFAULT_LOCKOUT_POLICY = LockoutPolicy()


@attrs.frozen
class Register:
    email: str
    password: str
    name: str
    role: Role = Role.CUSTOMER
    # The browser's current session, ended with the new one's start: a new id at every login.
    previous_session_token: str | None = None
    # The client's address: the account's first known one (no new-address notice from it).
    ip: str | None = None


@attrs.frozen
class LogIn:
    email: str
    password: str
    previous_session_token: str | None = None
    # The client's address, as the driver trusts it: the lockout counts per (address, email).
    ip: str | None = None


@attrs.frozen
class ChangePassword:
    user_id: str
    current_password: str
    new_password: str
    # The browser changing it keeps a session (a new one); every other session ends.
    previous_session_token: str | None = None


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


def _validated(command: Register) -> tuple[str, str]:
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
    return email, name


def register(
    command: Register,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
    attempts: AttemptStore | None = None,
) -> SignedIn:
    """A new account, signed in. For an email that already has one: the same answer, shaped
    alike (a decoy user, tokens of the same form that open nothing), and nothing created.
    ``attempts`` is part of the account ports; registering does not use it."""
    del attempts
    email, name = _validated(command)
    now = clock.now()
    user = User(
        id=new_id("usr"),
        email=email,
        name=name,
        password_hash=hasher.hash(command.password),  # also for a taken email: the same work
        role=command.role,
        is_active=True,
        created_at=now,
    )
    with uow:
        try:
            uow.users.add(user)
        except EmailAlreadyRegistered:
            uow.rollback()
            owner = uow.users.get_by_email(email)
            events.emit(
                "auth.registration_for_existing_email",
                user_id=owner.id if owner else None,
            )
            return SignedIn(user, new_token(), new_token())
        signed_in = start_session(
            uow, user, clock, previous_session_token=command.previous_session_token
        )
        remember_sign_in_address(uow, user.id, user.email, command.ip, now, notify=False)
        uow.announce(DomainEvent.of("auth.registered", now, user_id=user.id, role=user.role.value))
        uow.commit()
    publish_committed(uow, events, clock)
    return signed_in


def log_in(
    command: LogIn,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
    attempts: AttemptStore,
    policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
) -> SignedIn:
    """Sign in, or ``AuthenticationFailed`` (unknown email, wrong password, disabled account:
    alike) or ``LoginLocked`` (too many failures for this email, from here or everywhere)."""
    email = normalise_email(command.email)
    pair, whole = pair_key(command.ip, email), email_key(email)
    now = clock.now()
    locked_until = policy.locked_until(attempts.get(pair), attempts.get(whole), now)
    if locked_until is not None:
        hasher.verify(_dummy_hash(hasher), command.password)  # a lock costs what a try costs
        events.emit("auth.login_refused_locked", ip=command.ip, email_digest=email_digest(email))
        raise LoginLocked(_seconds_until(locked_until, now))
    with uow:
        user = uow.users.get_by_email(email) if email else None
    password_hash = user.password_hash if user is not None else _dummy_hash(hasher)
    verified = hasher.verify(password_hash, command.password)
    if user is None or not verified or not user.is_active:
        reason = "unknown_email" if user is None else "wrong_password"
        if user is not None and verified:
            reason = "inactive"
        _count_failure(pair, whole, attempts, policy, now)
        events.emit(
            "auth.login_failed",
            reason=reason,
            user_id=user.id if user else None,
            ip=command.ip,
            email_digest=email_digest(email),
        )
        raise AuthenticationFailed()
    attempts.clear(pair)
    rehashed = hasher.hash(command.password) if hasher.needs_rehash(user.password_hash) else None
    with uow:
        fresh = uow.users.get(user.id) if rehashed else None
        # Re-read: a role change or disable that landed during the slow verify must not be
        # written back over; only the hash changes, and only if nobody changed it meanwhile.
        if fresh is not None and rehashed and fresh.password_hash == user.password_hash:
            fresh.password_hash = rehashed
            uow.users.save(fresh)
            user = fresh
        signed_in = start_session(
            uow, user, clock, previous_session_token=command.previous_session_token
        )
        # A sign-in from an address the account never used gets its owner a notice.
        remember_sign_in_address(uow, user.id, user.email, command.ip, now, notify=True)
        uow.announce(DomainEvent.of("auth.logged_in", now, user_id=user.id, ip=command.ip))
        uow.commit()
    publish_committed(uow, events, clock)
    return signed_in


def _count_failure(
    pair: str, whole: str, attempts: AttemptStore, policy: LockoutPolicy, now: datetime
) -> None:
    counted: AttemptState = attempts.add_failure(pair, now, policy.pair_window)
    if counted.failures >= policy.pair_threshold:
        until = now + policy.pair_lock(counted.lockouts)
        attempts.lock(pair, until, now, extend=True)
    counted = attempts.add_failure(whole, now, policy.email_window)
    if counted.failures >= policy.email_threshold:
        # Never extended: further failures are refused before they are counted anyway, and
        # an attacker must not be able to keep the owner out beyond one lock at a time.
        attempts.lock(whole, now + policy.email_lock, now, extend=False)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


def change_password(
    command: ChangePassword,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
    attempts: AttemptStore | None = None,
) -> SignedIn:
    """Check the current password, set the new one, end every session and refresh family of
    the account, and sign this browser in afresh. A wrong current password is
    ``AuthenticationFailed`` and changes nothing."""
    del attempts
    validate_new_password(command.new_password)
    with uow:
        user = uow.users.get(command.user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed()
    if not hasher.verify(user.password_hash, command.current_password):
        events.emit("auth.password_change_refused", user_id=user.id)
        raise AuthenticationFailed()
    new_hash = hasher.hash(command.new_password)
    now = clock.now()
    with uow:
        fresh = uow.users.get(user.id)
        if fresh is None or fresh.password_hash != user.password_hash:
            raise AuthenticationFailed()  # changed meanwhile by someone else: ask again
        fresh.password_hash = new_hash
        uow.users.save(fresh)
        ended = end_all_sessions(uow, fresh.id, clock)
        signed_in = start_session(uow, fresh, clock, previous_session_token=None)
        uow.announce(
            DomainEvent.kept("auth.password_changed", now, user_id=fresh.id, sessions_ended=ended)
        )
        uow.commit()
    publish_committed(uow, events, clock)
    return signed_in


def create_staff_user(
    command: Register,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
    attempts: AttemptStore | None = None,
) -> User:
    """Create (or promote and re-password) a staff account; used by ``commerce users create-admin``.
    Every session of an existing account ends."""
    del attempts
    email = validate_email(command.email)
    validate_new_password(command.password)
    password_hash = hasher.hash(command.password)
    now = clock.now()
    with uow:
        user = uow.users.get_by_email(email)
        if user is not None:
            user.role, user.password_hash, user.is_active = command.role, password_hash, True
            uow.users.save(user)
            end_all_sessions(uow, user.id, clock)
            event = "auth.staff_updated"
        else:
            user = User(
                id=new_id("usr"),
                email=email,
                name=validate_name(command.name),
                password_hash=password_hash,
                role=command.role,
                is_active=True,
                created_at=now,
            )
            uow.users.add(user)
            event = "auth.staff_created"
        uow.announce(DomainEvent.kept(event, now, user_id=user.id, role=command.role.value))
        uow.commit()
    publish_committed(uow, events, clock)
    return user
