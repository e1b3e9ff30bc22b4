"""Resetting a forgotten password by email.

``request_password_reset`` answers alike whether or not the email has an account - it returns
nothing - and does the same work in both cases up to the database: it mints a 256-bit token
and hashes it either way (``mint`` is injectable so tests count it). Only for an active account
is the token stored (hashed; older unused ones superseded) and the email queued - in the same
transaction, sent after commit by the outbox, so the answer's timing never waits on a mail
server and an unknown email is not told apart by a slower or faster answer.

``reset_password`` takes the token and a new password (the registration rules and hasher):
the token must be unused, unexpired and not superseded - one ``PasswordResetTokenInvalid``
for every way it is not - and is used with one conditional update, so it works once even
under concurrent tries. It sets the password, ends every session and refresh-token family of
the account, clears the email's login lockout (the owner proved they read its mail), and
audits it.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from commerce_core.domain.accounts import (
    User,
    hash_token,
    new_token,
    normalise_email,
    validate_email,
    validate_new_password,
)
from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.ids import new_id
from commerce_core.domain.lockout import email_digest, email_key
from commerce_core.domain.message_templates import password_reset
from commerce_core.domain.password_resets import RESET_TOKEN_LIFETIME, PasswordResetToken
from commerce_core.errors import InvalidInput, PasswordResetTokenInvalid
from commerce_core.ports import AttemptStore, Clock, EventSink, PasswordHasher, UnitOfWork
from commerce_core.use_cases._publishing import publish_committed
from commerce_core.use_cases.notifications import queue_message
from commerce_core.use_cases.sessions import MAX_TOKEN_LENGTH, end_all_sessions

__all__ = [
    "RequestPasswordReset",
    "ResetPassword",
    "request_password_reset",
    "reset_password",
]


@attrs.frozen
class RequestPasswordReset:
    email: str
    # Where the emailed link points; the token is appended as ``?token=...``.
    link_base: str
    ip: str | None = None


@attrs.frozen
class ResetPassword:
    token: str
    new_password: str
    ip: str | None = None


def request_password_reset(
    command: RequestPasswordReset,
    *,
    uow: UnitOfWork,
    clock: Clock,
    events: EventSink,
    hasher: PasswordHasher | None = None,
    attempts: AttemptStore | None = None,
    mint: Callable[[], str] = new_token,
) -> None:
    """Email a single-use reset link valid ``RESET_TOKEN_LIFETIME`` if the email has an active
    account; answer the same (nothing) either way. ``InvalidInput`` if it is no email address
    at all. ``hasher`` and ``attempts`` are accepted so ``**account_ports`` can be passed."""
    del hasher, attempts
    try:
        email = validate_email(command.email)
    except InvalidInput:
        raise InvalidInput.for_field("email", "must be an email address") from None
    token = mint()  # the same work for every email, known or not
    token_hash = hash_token(token)
    now = clock.now()
    with uow:
        user = uow.users.get_by_email(email)
        if user is None or not user.is_active:
            events.emit(
                "auth.password_reset_requested",
                known=False,
                ip=command.ip,
                email_digest=email_digest(email),
            )
            return
        uow.password_resets.supersede_for_user(user.id, now)
        uow.password_resets.add(
            PasswordResetToken(token_hash, user.id, now, now + RESET_TOKEN_LIFETIME)
        )
        reset_id = new_id("prt")
        message = password_reset(
            to=user.email,
            link=f"{command.link_base}?token={token}",
            reset_id=reset_id,
            valid_minutes=int(RESET_TOKEN_LIFETIME.total_seconds() // 60),
        )
        queue_message(uow, message, now)
        uow.announce(
            DomainEvent.of(
                "auth.password_reset_requested",
                now,
                known=True,
                user_id=user.id,
                reset_id=reset_id,
                ip=command.ip,
            )
        )
        uow.commit()
    publish_committed(uow, events, clock)


def reset_password(
    command: ResetPassword,
    *,
    uow: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    events: EventSink,
    attempts: AttemptStore | None = None,
) -> User:
    """Set the account's password with a reset token; every session of the account ends.
    ``InvalidInput`` (field ``password``) for a password the rules refuse,
    ``PasswordResetTokenInvalid`` for an unknown, expired, used or superseded token."""
    validate_new_password(command.new_password)
    token = command.token
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise PasswordResetTokenInvalid()
    token_hash = hash_token(token)
    with uow:
        stored = uow.password_resets.get(token_hash)
    if stored is None or not stored.is_usable(clock.now()):
        events.emit("auth.password_reset_refused", ip=command.ip)
        raise PasswordResetTokenInvalid()
    new_hash = hasher.hash(command.new_password)  # slow: outside any transaction
    now = clock.now()
    with uow:
        user = uow.users.get(stored.user_id)
        # ``use`` is the conditional update: of two concurrent resets with one token, one wins.
        if user is None or not user.is_active or not uow.password_resets.use(token_hash, now):
            events.emit("auth.password_reset_refused", ip=command.ip)
            raise PasswordResetTokenInvalid()
        user.password_hash = new_hash
        uow.users.save(user)
        uow.password_resets.supersede_for_user(user.id, now)
        ended = end_all_sessions(uow, user.id, clock)
        uow.audit.append(
            AuditEntry(
                id=new_id("aud"),
                at=now,
                actor=user.id,
                action="auth.password_reset",
                target=f"user:{user.id}",
                ip=command.ip,
                details={"sessions_ended": ended},
            )
        )
        uow.announce(
            DomainEvent.kept(
                "auth.password_reset", now, user_id=user.id, sessions_ended=ended, ip=command.ip
            )
        )
        uow.commit()
    if attempts is not None:
        attempts.clear(email_key(normalise_email(user.email)))
    publish_committed(uow, events, clock)
    return user
