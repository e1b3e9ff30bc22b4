"""What staff do to accounts: disable and enable them, change their role, unlock a locked login.

Each checks the actor's permission itself (``users:manage``; unlocking a login, which support
staff may do too, ``logins:unlock``), whatever the driver checked before; each is audited (actor, action, target, address, details) in the transaction that makes
the change; disabling and changing a role end every session and refresh family of the account,
so the change takes effect on the next request, not at the next login. Staff cannot disable
themselves or change their own role, and the last active admin cannot be demoted or disabled:
the shop must never be left without anyone able to manage it.
"""

from __future__ import annotations

import attrs

from commerce_core.domain.accounts import Role, User, normalise_email
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.lockout import email_key, pair_prefix
from commerce_core.domain.permissions import Permission
from commerce_core.errors import Conflict, InvalidInput, NotFound
from commerce_core.ports import AttemptStore, Clock, EventSink, PasswordHasher, UnitOfWork
from commerce_core.use_cases._publishing import publish_committed
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
from commerce_core.use_cases.sessions import end_all_sessions

__all__ = [
    "ChangeRole",
    "SetUserActive",
    "UnlockLogin",
    "change_role",
    "set_user_active",
    "unlock_login",
]


@attrs.frozen
class SetUserActive:
    actor_id: str
    user_id: str
    active: bool
    ip: str | None = None


@attrs.frozen
class ChangeRole:
    actor_id: str
    user_id: str
    role: str
    ip: str | None = None


@attrs.frozen
class UnlockLogin:
    """Unlock ``email``'s logins; or, with ``user_id`` instead, that account's email."""

    actor_id: str
    email: str = ""
    ip: str | None = None
    user_id: str | None = None


def _actor(
    uow: UnitOfWork, actor_id: str, permission: Permission = Permission.USERS_MANAGE
) -> User:
    return acting_staff(uow, actor_id, permission)


def _target(uow: UnitOfWork, actor: User, user_id: str) -> User:
    if user_id == actor.id:
        raise Conflict("staff cannot change their own account this way")
    user = uow.users.get(user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def _keeps_an_admin(uow: UnitOfWork, user: User) -> None:
    if user.role is Role.ADMIN and user.is_active and uow.users.count_active_admins() <= 1:
        raise Conflict("the shop's last active admin cannot be demoted or disabled")


def set_user_active(
    command: SetUserActive,
    *,
    uow: UnitOfWork,
    clock: Clock,
    events: EventSink,
    hasher: PasswordHasher | None = None,
    attempts: AttemptStore | None = None,
) -> User:
    """Disable (every session ends) or re-enable an account."""
    del hasher, attempts
    now = clock.now()
    with uow:
        actor = _actor(uow, command.actor_id)
        user = _target(uow, actor, command.user_id)
        if user.is_active == command.active:
            return user  # nothing to do, nothing to audit
        if not command.active:
            _keeps_an_admin(uow, user)
        user.is_active = command.active
        uow.users.save(user)
        ended = 0 if command.active else end_all_sessions(uow, user.id, clock)
        action = "user.enabled" if command.active else "user.disabled"
        audit_staff_action(
            uow, now, actor, action, f"user:{user.id}", command.ip, sessions_ended=ended
        )
        uow.announce(DomainEvent.kept(action, now, user_id=user.id, actor_id=actor.id))
        uow.commit()
    publish_committed(uow, events, clock)
    return user


def change_role(
    command: ChangeRole,
    *,
    uow: UnitOfWork,
    clock: Clock,
    events: EventSink,
    hasher: PasswordHasher | None = None,
    attempts: AttemptStore | None = None,
) -> User:
    """Give an account another role; its sessions end, so the new role holds from now on."""
    del hasher, attempts
    try:
        role = Role(command.role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InvalidInput.for_field("role", f"must be one of {roles}") from None
    now = clock.now()
    with uow:
        actor = _actor(uow, command.actor_id)
        user = _target(uow, actor, command.user_id)
        if user.role is role:
            return user
        if role is not Role.ADMIN:
            _keeps_an_admin(uow, user)
        before = user.role
        user.role = role
        uow.users.save(user)
        ended = end_all_sessions(uow, user.id, clock)
        audit_staff_action(
            uow,
            now,
            actor,
            "user.role_changed",
            f"user:{user.id}",
            command.ip,
            before=before.value,
            after=role.value,
            sessions_ended=ended,
        )
        uow.announce(
            DomainEvent.kept(
                "user.role_changed", now, user_id=user.id, actor_id=actor.id, role=role.value
            )
        )
        uow.commit()
    publish_committed(uow, events, clock)
    return user


def unlock_login(
    command: UnlockLogin,
    *,
    uow: UnitOfWork,
    clock: Clock,
    events: EventSink,
    attempts: AttemptStore,
    hasher: PasswordHasher | None = None,
) -> int:
    """Clear the lockout of an email, everywhere and from every address; how many counters
    were cleared. Works for any email (an attacker's target need not have an account)."""
    del hasher
    now = clock.now()
    with uow:
        actor = _actor(uow, command.actor_id, Permission.LOGINS_UNLOCK)
        if command.user_id is not None:
            account = uow.users.get(command.user_id)
            if account is None:
                raise NotFound("user not found")
            email = account.email
        else:
            email = normalise_email(command.email)
    if not email or len(email) > 320:
        raise InvalidInput.for_field("email", "must be an email address")
    cleared = attempts.clear_prefix(pair_prefix(email))
    attempts.clear(email_key(email))
    with uow:
        target = uow.users.get_by_email(email)
        where = f"user:{target.id}" if target is not None else f"email-hash:{email_key(email)}"
        audit_staff_action(
            uow, now, actor, "login.unlocked", where, command.ip, pair_counters=cleared
        )
        uow.announce(DomainEvent.kept("login.unlocked", now, actor_id=actor.id))
        uow.commit()
    publish_committed(uow, events, clock)
    return cleared
