"""Users, roles and server-side sessions.

A session is an opaque 256-bit random token held by the browser; the server stores only its
SHA-256, so a leaked database does not leak live sessions. Sessions end after 15 minutes idle or 8
hours in all, and on logout; a new token is issued at every login.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from datetime import datetime, timedelta

import attrs

from commerce_core.errors import FieldError, InvalidInput

__all__ = [
    "Role",
    "Session",
    "SessionPolicy",
    "User",
    "hash_token",
    "new_token",
    "normalise_email",
    "validate_email",
    "validate_name",
    "validate_new_password",
]

MIN_PASSWORD_LENGTH = 12  # ASVS 2.1.1
MAX_PASSWORD_LENGTH = 128  # ASVS 2.1.2
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    SUPPORT = "support"
    ADMIN = "admin"


def normalise_email(email: str) -> str:
    """Trim and lower-case; the one form used for lookups, uniqueness and lockout counters."""
    return email.strip().lower()


def validate_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput.for_field("email", "must be an email address")
    return email


def validate_new_password(password: str) -> str:
    if not (MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH):
        raise InvalidInput.for_field(
            "password", f"must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return password


def validate_name(name: str) -> str:
    name = name.strip()
    if not (1 <= len(name) <= 100):
        raise InvalidInput(errors=[FieldError("name", "must be 1 to 100 characters")])
    return name


def new_token() -> str:
    """An opaque 256-bit random token, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.define
class User:
    id: str
    email: str
    name: str
    password_hash: str
    role: Role
    is_active: bool
    created_at: datetime

    def to_primitive(self) -> dict[str, object]:
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role.value}


@attrs.frozen
class SessionPolicy:
    idle_timeout: timedelta = timedelta(minutes=15)
    absolute_timeout: timedelta = timedelta(hours=8)
    # Writing last_seen on every request would make every GET a write; a minute's slack is fine.
    touch_interval: timedelta = timedelta(minutes=1)


@attrs.define
class Session:
    token_hash: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    # The refresh-token family this session belongs to: revoking the family ends it too.
    family_id: str | None = None

    def is_live(self, now: datetime, policy: SessionPolicy) -> bool:
        return (
            now - self.last_seen_at <= policy.idle_timeout
            and now - self.created_at <= policy.absolute_timeout
        )

    def needs_touch(self, now: datetime, policy: SessionPolicy) -> bool:
        return now - self.last_seen_at >= policy.touch_interval
